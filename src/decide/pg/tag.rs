//! pg_dump's object tags: the `TAG` of a plain dump's
//! `-- Name: TAG; Type: DESC; Schema: NS; Owner: …` comments, which is the
//! archive TOC entry's `tag` (pg_backup_archiver.c, `_printTocEntry`).
//!
//! A tag is not SQL: its shape depends on the entry's type, as pg_dump.c
//! builds it. Relation entries (`TABLE`, `VIEW`, `TABLE DATA`, …) are the
//! bare name; an object of a table (`CONSTRAINT`, `FK CONSTRAINT`,
//! `DEFAULT`, `TRIGGER`, `POLICY`, `RULE`) is `table name` with both raw;
//! `COMMENT`, `ACL` and `SECURITY LABEL` tags are `TABLE t`, `COLUMN t.c`,
//! `CONSTRAINT c ON t` with names quoted by `fmtId`. A rename applies only
//! when the entry's schema is the rule's schema.

use crate::codec::ident;
use crate::decide::pg::resolve::Replacement;
use crate::decide::plan::Plan;

/// The fields of a `-- Name:` / `-- Data for Name:` header comment line.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    /// Offset of the tag in the line.
    pub tag_at: usize,
    /// The tag.
    pub tag: &'a [u8],
    /// `Type:`.
    pub desc: &'a [u8],
    /// `Schema:` (`-` for none).
    pub schema: &'a [u8],
}

/// Parses a header comment line (`_printTocEntry`: `"-- %sName: %s; Type:
/// %s; Schema: %s; Owner: %s"`).
pub fn parse_header(line: &[u8]) -> Option<Header<'_>> {
    let tag_at = if line.starts_with(b"-- Name: ") {
        9
    } else if line.starts_with(b"-- Data for Name: ") {
        18
    } else {
        return None;
    };
    let rest = &line[tag_at..];
    let ty = memchr::memmem::find(rest, b"; Type: ")?;
    let tag = &rest[..ty];
    let after = &rest[ty + 8..];
    let sc = memchr::memmem::find(after, b"; Schema: ")?;
    let desc = &after[..sc];
    let after = &after[sc + 10..];
    let end = memchr::memmem::find(after, b"; Owner: ")
        .or_else(|| memchr::memchr(b';', after))
        .unwrap_or(after.len());
    let schema = after[..end].strip_suffix(b"\n").unwrap_or(&after[..end]);
    Some(Header {
        tag_at,
        tag,
        desc,
        schema,
    })
}

/// The renames of a tag (offsets relative to the tag), for an entry of
/// type `desc` in schema `schema`; `extra` are names of this entry only
/// (Django's recomputed constraint names); `versions`, the dump's (names
/// are quoted as its pg_dump quotes them).
pub fn rename_tag(
    plan: &Plan,
    desc: &[u8],
    schema: &[u8],
    tag: &[u8],
    extra: &[(Vec<u8>, Vec<u8>)],
    versions: crate::decide::pg::grammar::DumpVersions,
) -> Vec<Replacement> {
    let mut out = Vec::new();
    let table_rule = |name: &[u8]| {
        plan.renames
            .iter()
            .position(|r| r.schema == schema && r.old == name)
    };
    let column_rule = |table: &[u8], col: &[u8]| {
        plan.columns
            .iter()
            .find(|c| c.schema == schema && c.table == table && c.old == col)
            .map(|c| c.new.clone())
    };
    let raw = |start: usize, end: usize, new: &[u8], rule: Option<usize>| Replacement {
        start,
        end,
        text: new.to_vec(),
        rule,
    };
    match desc {
        b"TABLE" | b"VIEW" | b"MATERIALIZED VIEW" | b"FOREIGN TABLE" | b"TABLE DATA"
        | b"TABLE ATTACH" | b"STATISTICS DATA" | b"ROW SECURITY" => {
            if let Some(i) = table_rule(tag) {
                out.push(raw(0, tag.len(), &plan.renames[i].new, Some(i)));
            }
        }
        b"CONSTRAINT" | b"FK CONSTRAINT" | b"CHECK CONSTRAINT" | b"DEFAULT" | b"TRIGGER"
        | b"POLICY" | b"RULE" => {
            // `table name`, both as stored (pg_dump.c builds these with "%s %s").
            let Some(sp) = memchr::memchr(b' ', tag) else {
                return out;
            };
            let (table, name) = (&tag[..sp], &tag[sp + 1..]);
            if let Some(i) = table_rule(table) {
                out.push(raw(0, sp, &plan.renames[i].new, Some(i)));
            }
            if desc == b"DEFAULT" {
                if let Some(new) = column_rule(table, name) {
                    out.push(raw(sp + 1, tag.len(), &new, None));
                }
            } else if let Some((_, new)) = extra.iter().find(|(o, _)| o.as_slice() == name) {
                out.push(raw(sp + 1, tag.len(), new, None));
            }
        }
        b"COMMENT" | b"ACL" | b"SECURITY LABEL" => fmt_id_tag(plan, schema, tag, versions.quoting(), &mut out),
        _ => {}
    }
    // Functions are tagged with their argument types, `f(public.item)`
    // (pg_dump.c `format_function_signature`), also inside COMMENT and
    // ACL tags: a row type there follows the table's rename.
    let function = matches!(desc, b"FUNCTION" | b"PROCEDURE" | b"AGGREGATE")
        || tag.starts_with(b"FUNCTION ")
        || tag.starts_with(b"PROCEDURE ")
        || tag.starts_with(b"AGGREGATE ");
    if function && !plan.renames.is_empty() {
        if let (Some(open), Some(close)) = (memchr::memchr(b'(', tag), memchr::memrchr(b')', tag)) {
            if open < close {
                let args = &tag[open + 1..close];
                out.extend(
                    crate::decide::pg::resolve::rename_in_arguments(plan, args, versions)
                        .into_iter()
                        .map(|mut r| {
                            r.start += open + 1;
                            r.end += open + 1;
                            r
                        }),
                );
            }
        }
    }
    out.sort_by_key(|r| r.start);
    out
}

/// `TABLE t`, `VIEW v`, `COLUMN t.c`, `CONSTRAINT c ON t`, `TRIGGER x ON t`,
/// `POLICY p ON t`, `RULE r ON t`: names written by `fmtId`.
fn fmt_id_tag(plan: &Plan, schema: &[u8], tag: &[u8], quoting: u32, out: &mut Vec<Replacement>) {
    let Some(sp) = memchr::memchr(b' ', tag) else {
        return;
    };
    let kind = &tag[..sp];
    let rest_at = sp + 1;
    let rest = &tag[rest_at..];
    let push_id = |out: &mut Vec<Replacement>, start: usize, end: usize, new: &[u8], rule| {
        let mut text = Vec::new();
        ident::push_pg(new, quoting, &mut text);
        out.push(Replacement {
            start,
            end,
            text,
            rule,
        });
    };
    let table_rule = |name: &[u8]| {
        plan.renames
            .iter()
            .position(|r| r.schema == schema && r.old == name)
    };
    match kind {
        b"TABLE" | b"VIEW" | b"FOREIGN" | b"MATERIALIZED" => {
            // `FOREIGN TABLE t`, `MATERIALIZED VIEW v`: the name is the last part.
            let name_at = match kind {
                b"FOREIGN" | b"MATERIALIZED" => match memchr::memchr(b' ', rest) {
                    Some(j) => rest_at + j + 1,
                    None => return,
                },
                _ => rest_at,
            };
            let Some((name, end)) = fmt_id_at(tag, name_at) else {
                return;
            };
            if end == tag.len() {
                if let Some(i) = table_rule(&name) {
                    push_id(out, name_at, end, &plan.renames[i].new.clone(), Some(i));
                }
            }
        }
        b"COLUMN" => {
            let Some((table, dot)) = fmt_id_at(tag, rest_at) else {
                return;
            };
            if tag.get(dot) != Some(&b'.') {
                return;
            }
            let Some((col, end)) = fmt_id_at(tag, dot + 1) else {
                return;
            };
            if end != tag.len() {
                return;
            }
            if let Some(i) = table_rule(&table) {
                push_id(out, rest_at, dot, &plan.renames[i].new.clone(), Some(i));
            }
            if let Some(c) = plan
                .columns
                .iter()
                .find(|c| c.schema == schema && c.table == table && c.old == col)
            {
                push_id(out, dot + 1, end, &c.new.clone(), None);
            }
        }
        b"CONSTRAINT" | b"TRIGGER" | b"POLICY" | b"RULE" => {
            let Some((_, end)) = fmt_id_at(tag, rest_at) else {
                return;
            };
            if !tag[end..].starts_with(b" ON ") {
                return;
            }
            let t_at = end + 4;
            let Some((table, t_end)) = fmt_id_at(tag, t_at) else {
                return;
            };
            if t_end == tag.len() {
                if let Some(i) = table_rule(&table) {
                    push_id(out, t_at, t_end, &plan.renames[i].new.clone(), Some(i));
                }
            }
        }
        _ => {}
    }
}

/// Reads one `fmtId` name at `at`: `"quoted"` (with `""`) or bare up to a
/// space or dot. Returns the name and the offset after it.
fn fmt_id_at(s: &[u8], at: usize) -> Option<(Vec<u8>, usize)> {
    let mut i = at;
    let mut name = Vec::new();
    if s.get(i) == Some(&b'"') {
        i += 1;
        loop {
            match s.get(i)? {
                b'"' if s.get(i + 1) == Some(&b'"') => {
                    name.push(b'"');
                    i += 2;
                }
                b'"' => return Some((name, i + 1)),
                &b => {
                    name.push(b);
                    i += 1;
                }
            }
        }
    }
    while let Some(&b) = s.get(i) {
        if b == b' ' || b == b'.' {
            break;
        }
        name.push(b);
        i += 1;
    }
    (!name.is_empty()).then_some((name, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::lexer::Dialect;
    use crate::rules::Rules;

    fn plan() -> Plan {
        let mut r = Rules::new();
        r.parse_rename("item=goods").unwrap();
        r.parse_column_rename("item.item=label").unwrap();
        Plan::new(&r, Dialect::Postgres)
    }

    fn apply(line: &str) -> String {
        let p = plan();
        let h = parse_header(line.as_bytes()).unwrap();
        let reps = rename_tag(&p, h.desc, h.schema, h.tag, &[], Default::default());
        let mut out = line.as_bytes().to_vec();
        for r in reps.iter().rev() {
            out.splice(h.tag_at + r.start..h.tag_at + r.end, r.text.iter().copied());
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn header_tags() {
        let l = b"-- Name: t t_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres";
        let h = parse_header(l).unwrap();
        assert_eq!(&l[h.tag_at..h.tag_at + h.tag.len()], b"t t_pkey");
        let l = b"-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: -";
        let h = parse_header(l).unwrap();
        assert_eq!(&l[h.tag_at..h.tag_at + h.tag.len()], b"t");
    }

    #[test]
    fn tags_follow_their_entry_type_and_schema() {
        assert_eq!(
            apply("-- Name: item; Type: TABLE; Schema: public; Owner: o"),
            "-- Name: goods; Type: TABLE; Schema: public; Owner: o"
        );
        // Another schema's table of the same name stays.
        assert_eq!(
            apply("-- Name: item; Type: TABLE; Schema: other; Owner: o"),
            "-- Name: item; Type: TABLE; Schema: other; Owner: o"
        );
        // An index keeps its name, even when it spells the table's.
        assert_eq!(
            apply("-- Name: item; Type: INDEX; Schema: public; Owner: o"),
            "-- Name: item; Type: INDEX; Schema: public; Owner: o"
        );
        assert_eq!(
            apply("-- Name: item item_pkey; Type: CONSTRAINT; Schema: public; Owner: o"),
            "-- Name: goods item_pkey; Type: CONSTRAINT; Schema: public; Owner: o"
        );
        assert_eq!(
            apply("-- Name: item item; Type: DEFAULT; Schema: public; Owner: o"),
            "-- Name: goods label; Type: DEFAULT; Schema: public; Owner: o"
        );
        assert_eq!(
            apply("-- Name: COLUMN item.item; Type: COMMENT; Schema: public; Owner: o"),
            "-- Name: COLUMN goods.label; Type: COMMENT; Schema: public; Owner: o"
        );
        assert_eq!(
            apply("-- Name: CONSTRAINT item ON item; Type: COMMENT; Schema: public; Owner: o"),
            "-- Name: CONSTRAINT item ON goods; Type: COMMENT; Schema: public; Owner: o"
        );
        assert_eq!(
            apply("-- Data for Name: item; Type: TABLE DATA; Schema: public; Owner: o"),
            "-- Data for Name: goods; Type: TABLE DATA; Schema: public; Owner: o"
        );
    }
}
