//! Statement heads: what a statement is and which table it is about,
//! parsed with nom over the statement's bytes.
//!
//! Only the forms the dump writers emit need recognising:
//! * pg_dump (`src/bin/pg_dump/pg_dump.c`, `dumpTableData_copy` and
//!   `dumpTableData_insert`): `COPY s.t (a, b) FROM stdin;`,
//!   `INSERT INTO s.t [(a, b)] [OVERRIDING SYSTEM VALUE] VALUES …`,
//!   `CREATE [UNLOGGED] TABLE s.t (…)`.
//! * sqlite3 `.dump` (`src/shell.c.in`, `dump_callback`):
//!   `CREATE TABLE [IF NOT EXISTS] t(…)` as stored, `INSERT INTO t VALUES(…)`.
//!
//! Everything else is [`Head::Other`]: its identifiers are still renamed,
//! token by token, by the rewriter.

use std::borrow::Cow;

use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_until, take_while, take_while1};
use nom::character::complete::char as ch;
use nom::combinator::{map, not, opt, peek, recognize, value};
use nom::multi::{many0, separated_list1};
use nom::sequence::{delimited, pair, preceded, terminated, tuple};
use nom::IResult;

use crate::codec::ident;
use crate::frame::lexer::{Dialect, Token, TokenKind, Tokens};

/// A possibly schema-qualified name, normalized (case-folded, unquoted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualName<'a> {
    pub schema: Option<Cow<'a, [u8]>>,
    pub name: Cow<'a, [u8]>,
}

/// What a statement is, as far as dumpsed cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head<'a> {
    /// `COPY t [(cols)] FROM stdin [options];`: data rows follow, up to a
    /// line `\.` (psql's `handleCopyIn` ends the data there whatever the
    /// format).
    Copy {
        table: QualName<'a>,
        columns: Option<Vec<Cow<'a, [u8]>>>,
        /// Options after `stdin` (`WITH (FORMAT csv)`, `DELIMITER '|'`):
        /// the rows are not pg_dump's text format.
        options: bool,
    },
    /// `INSERT INTO t [(cols)] … VALUES`; `values_at` is just past `VALUES`.
    Insert {
        table: QualName<'a>,
        columns: Option<Vec<Cow<'a, [u8]>>>,
        values_at: usize,
    },
    /// `CREATE TABLE t (`; `body_at` is just past the `(`.
    CreateTable { table: QualName<'a>, body_at: usize },
    /// `SET standard_conforming_strings = on|off;`
    StdStrings(bool),
    /// Anything else.
    Other,
}

type In<'a> = &'a [u8];

// Framing needs it too (frame::dump); frame never imports decide.
pub(crate) use crate::frame::lexer::is_ident_byte;

/// Whitespace and comments.
fn sp(i: In) -> IResult<In, ()> {
    value(
        (),
        many0(alt((
            take_while1(|b: u8| b.is_ascii_whitespace()),
            recognize(pair(tag("--"), take_while(|b| b != b'\n'))),
            recognize(tuple((tag("/*"), take_until("*/"), tag("*/")))),
        ))),
    )(i)
}

/// A keyword, not followed by more identifier bytes.
fn kw<'a>(word: &'static str) -> impl FnMut(In<'a>) -> IResult<In<'a>, ()> {
    value(
        (),
        preceded(
            sp,
            terminated(tag_no_case(word), not(peek(take_while1(is_ident_byte)))),
        ),
    )
}

fn quoted(open: u8, close: u8) -> impl FnMut(In) -> IResult<In, In> {
    move |i: In| {
        let (mut rest, _) = ch(open as char)(i)?;
        loop {
            let (r, _) = take_while(|b| b != close)(rest)?;
            let (r, _) = ch(close as char)(r)?;
            if close != b']' && r.first() == Some(&close) {
                rest = &r[1..];
                continue;
            }
            return Ok((r, &i[..i.len() - r.len()]));
        }
    }
}

/// One identifier, bare or quoted, normalized.
fn ident<'a>(d: Dialect) -> impl FnMut(In<'a>) -> IResult<In<'a>, Cow<'a, [u8]>> {
    move |i: In<'a>| {
        let (i, _) = sp(i)?;
        let bare = |i: In<'a>| {
            let (r, w) = take_while1(is_ident_byte)(i)?;
            if w[0].is_ascii_digit() || w[0] == b'$' {
                return Err(nom::Err::Error(nom::error::Error::new(
                    i,
                    nom::error::ErrorKind::Alpha,
                )));
            }
            Ok((r, (TokenKind::Word, w)))
        };
        let q = |i| map(quoted(b'"', b'"'), |t| (TokenKind::QuotedIdent, t))(i);
        let (r, (kind, tok)) = match d {
            Dialect::Postgres => alt((q, bare))(i)?,
            Dialect::Sqlite => alt((
                q,
                map(quoted(b'[', b']'), |t| (TokenKind::QuotedIdent, t)),
                map(quoted(b'`', b'`'), |t| (TokenKind::QuotedIdent, t)),
                bare,
            ))(i)?,
        };
        Ok((r, ident::name_of(d, kind, tok)))
    }
}

fn qualname<'a>(d: Dialect) -> impl FnMut(In<'a>) -> IResult<In<'a>, QualName<'a>> {
    move |i| {
        let (i, first) = ident(d)(i)?;
        let (i, second) = opt(preceded(preceded(sp, ch('.')), ident(d)))(i)?;
        Ok((
            i,
            match second {
                Some(name) => QualName {
                    schema: Some(first),
                    name,
                },
                None => QualName {
                    schema: None,
                    name: first,
                },
            },
        ))
    }
}

fn column_list<'a>(d: Dialect) -> impl FnMut(In<'a>) -> IResult<In<'a>, Vec<Cow<'a, [u8]>>> {
    move |i| {
        delimited(
            preceded(sp, ch('(')),
            separated_list1(preceded(sp, ch(',')), ident(d)),
            preceded(sp, ch(')')),
        )(i)
    }
}

fn copy_head<'a>(d: Dialect) -> impl FnMut(In<'a>) -> IResult<In<'a>, Head<'a>> {
    move |i| {
        let (i, (_, table, columns, _, _)) = tuple((
            kw("COPY"),
            qualname(d),
            opt(column_list(d)),
            kw("FROM"),
            kw("stdin"),
        ))(i)?;
        // The statement was delimited by the lexer: what is left up to its
        // `;` is options, or nothing (pg_dump writes none).
        let rest = i.strip_suffix(b";").unwrap_or(i);
        let options = !rest.iter().all(|b| b.is_ascii_whitespace());
        Ok((&i[i.len()..], Head::Copy { table, columns, options }))
    }
}

fn insert_head<'a>(d: Dialect, all: In<'a>) -> impl FnMut(In<'a>) -> IResult<In<'a>, Head<'a>> {
    move |i| {
        let (i, (_, _, table, columns, _, _)) = tuple((
            kw("INSERT"),
            kw("INTO"),
            qualname(d),
            opt(column_list(d)),
            opt(tuple((
                kw("OVERRIDING"),
                alt((kw("SYSTEM"), kw("USER"))),
                kw("VALUE"),
            ))),
            kw("VALUES"),
        ))(i)?;
        let values_at = all.len() - i.len();
        Ok((
            i,
            Head::Insert {
                table,
                columns,
                values_at,
            },
        ))
    }
}

fn create_table_head<'a>(
    d: Dialect,
    all: In<'a>,
) -> impl FnMut(In<'a>) -> IResult<In<'a>, Head<'a>> {
    move |i| {
        let (i, (_, _, _, _, _, table, _)) = tuple((
            kw("CREATE"),
            opt(alt((kw("GLOBAL"), kw("LOCAL")))),
            opt(alt((kw("TEMPORARY"), kw("TEMP"), kw("UNLOGGED")))),
            kw("TABLE"),
            opt(tuple((kw("IF"), kw("NOT"), kw("EXISTS")))),
            qualname(d),
            preceded(sp, ch('(')),
        ))(i)?;
        let body_at = all.len() - i.len();
        Ok((i, Head::CreateTable { table, body_at }))
    }
}

fn std_strings(i: In) -> IResult<In, Head> {
    let (i, (_, _, _, _, _, on)) = tuple((
        kw("SET"),
        kw("standard_conforming_strings"),
        sp,
        alt((tag("="), tag_no_case("TO"))),
        sp,
        alt((
            value(true, alt((tag_no_case("on"), tag_no_case("'on'")))),
            value(false, alt((tag_no_case("off"), tag_no_case("'off'")))),
        )),
    ))(i)?;
    Ok((i, Head::StdStrings(on)))
}

/// `ALTER TABLE [ONLY] t ADD CONSTRAINT n FOREIGN KEY (c) REFERENCES t2(c2)`,
/// as pg_dump writes single-column foreign keys (`dumpConstraint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey<'a> {
    pub table: QualName<'a>,
    pub name: Cow<'a, [u8]>,
    pub column: Cow<'a, [u8]>,
    pub ref_table: QualName<'a>,
    pub ref_column: Cow<'a, [u8]>,
}

/// `ALTER TABLE [ONLY] t ADD CONSTRAINT name`: the table and the name.
fn add_constraint<'a>(
    d: Dialect,
) -> impl FnMut(In<'a>) -> IResult<In<'a>, (QualName<'a>, Cow<'a, [u8]>)> {
    move |i| {
        let (i, (_, _, _, table, _, _, name)) = tuple((
            kw("ALTER"),
            kw("TABLE"),
            opt(kw("ONLY")),
            qualname(d),
            kw("ADD"),
            kw("CONSTRAINT"),
            ident(d),
        ))(i)?;
        Ok((i, (table, name)))
    }
}

/// Parses a single-column `ADD CONSTRAINT … FOREIGN KEY` statement.
pub fn foreign_key(d: Dialect, stmt: &[u8]) -> Option<ForeignKey<'_>> {
    let one = |i| delimited(preceded(sp, ch('(')), ident(d), preceded(sp, ch(')')))(i);
    let r: IResult<In, _> = tuple((
        add_constraint(d),
        kw("FOREIGN"),
        kw("KEY"),
        one,
        kw("REFERENCES"),
        qualname(d),
        one,
    ))(stmt);
    let (_, ((table, name), _, _, column, _, ref_table, ref_column)) = r.ok()?;
    Some(ForeignKey {
        table,
        name,
        column,
        ref_table,
        ref_column,
    })
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON t (c1, c2)` with plain
/// column names, as SQLite stores Django's indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index<'a> {
    pub unique: bool,
    pub name: Cow<'a, [u8]>,
    pub table: QualName<'a>,
    pub columns: Vec<Cow<'a, [u8]>>,
}

/// Parses a plain `CREATE INDEX` statement.
pub fn index(d: Dialect, stmt: &[u8]) -> Option<Index<'_>> {
    let r: IResult<In, _> = tuple((
        kw("CREATE"),
        opt(kw("UNIQUE")),
        kw("INDEX"),
        opt(tuple((kw("IF"), kw("NOT"), kw("EXISTS")))),
        ident(d),
        kw("ON"),
        qualname(d),
        opt(preceded(kw("USING"), ident(d))),
        column_list(d),
    ))(stmt);
    let (_, (_, unique, _, _, name, _, table, _, columns)) = r.ok()?;
    Some(Index {
        unique: unique.is_some(),
        name,
        table,
        columns,
    })
}

/// `ALTER TABLE [ONLY] t ADD CONSTRAINT c UNIQUE|PRIMARY KEY (cols)`, as
/// pg_dump writes them after the data: the table and its columns.
pub fn unique_constraint(d: Dialect, stmt: &[u8]) -> Option<(QualName<'_>, Vec<Cow<'_, [u8]>>)> {
    let r: IResult<In, _> = tuple((
        add_constraint(d),
        alt((kw("UNIQUE"), value((), pair(kw("PRIMARY"), kw("KEY"))))),
        column_list(d),
    ))(stmt);
    let (_, ((table, _), _, columns)) = r.ok()?;
    Some((table, columns))
}

/// What a `CREATE TABLE` says of one column: its `varchar(N)` /
/// `character varying(N)` length, and whether it is UNIQUE or the primary
/// key (by itself, or through a one-column table constraint).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ColumnFacts {
    pub max_len: Option<usize>,
    pub unique: bool,
}

/// The tokens of a `CREATE TABLE` body read from `body_at` (spaces and
/// comments left out), and the ranges (token indexes) of its top-level
/// elements: column definitions and table constraints.
fn body_elements(d: Dialect, body: &[u8]) -> (Vec<Token>, Vec<std::ops::Range<usize>>) {
    let toks: Vec<Token> = Tokens::new(d, body)
        .flatten()
        .filter(|t| !matches!(t.kind, TokenKind::Space | TokenKind::Comment))
        .collect();
    let (mut depth, mut start) = (0usize, 0usize);
    let mut elements = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.kind != TokenKind::Punct {
            continue;
        }
        match body[t.start] {
            b'(' => depth += 1,
            b')' if depth == 0 => {
                elements.push(start..i);
                break;
            }
            b')' => depth -= 1,
            b',' if depth == 0 => {
                elements.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
    }
    (toks, elements)
}

/// Reads [`ColumnFacts`] of `column` from a `CREATE TABLE` body.
pub fn column_facts(d: Dialect, stmt: &[u8], body_at: usize, column: &[u8]) -> ColumnFacts {
    let body = &stmt[body_at..];
    let (toks, elements) = body_elements(d, body);
    let text = |i: usize| &body[toks[i].start..toks[i].end];
    let word = |i: usize, w: &str| {
        toks.get(i).is_some_and(|t| {
            t.kind == TokenKind::Word && text(i).eq_ignore_ascii_case(w.as_bytes())
        })
    };
    let punct = |i: usize, c: u8| {
        toks.get(i)
            .is_some_and(|t| t.kind == TokenKind::Punct && text(i) == [c])
    };
    let mut facts = ColumnFacts::default();
    let is_col = |i: usize| {
        toks.get(i).is_some_and(|t| {
            matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent)
                && ident::same_name(d, &ident::name_of(d, t.kind, text(i)), column)
        })
    };
    for el in elements {
        if el.is_empty() {
            continue;
        }
        let first = el.start;
        if is_col(first) {
            for i in el.clone() {
                // `character varying(N)`, `varchar(N)`, and blank-padded
                // `character(N)` / `char(N)` / `bpchar(N)`: all refuse a
                // longer value (datatype-character.html).
                let fixed = (word(i, "character") || word(i, "char") || word(i, "bpchar"))
                    && !word(i + 1, "varying");
                if (word(i, "varchar") || word(i, "varying") || fixed)
                    && punct(i + 1, b'(')
                    && punct(i + 3, b')')
                {
                    facts.max_len = std::str::from_utf8(text(i + 2))
                        .ok()
                        .and_then(|n| n.parse().ok());
                }
                if word(i, "UNIQUE") || (word(i, "PRIMARY") && word(i + 1, "KEY")) {
                    facts.unique = true;
                }
            }
        } else {
            // Table constraint: [CONSTRAINT name] UNIQUE|PRIMARY KEY (col)
            let mut i = first;
            if word(i, "CONSTRAINT") {
                i += 2;
            }
            let key = if word(i, "UNIQUE") {
                i + 1
            } else if word(i, "PRIMARY") && word(i + 1, "KEY") {
                i + 2
            } else {
                continue;
            };
            if punct(key, b'(') && is_col(key + 1) && punct(key + 2, b')') {
                facts.unique = true;
            }
        }
    }
    facts
}

/// The columns of a `CREATE TABLE` body (from `body_at`) that are foreign
/// keys to `table`: a column definition with `REFERENCES table`, or the
/// columns of a `FOREIGN KEY (…) REFERENCES table` table constraint. The
/// referenced name may be schema-qualified; only its last part is compared.
pub fn referencing_columns(d: Dialect, stmt: &[u8], body_at: usize, table: &[u8]) -> Vec<Vec<u8>> {
    foreign_key_columns_to(d, stmt, body_at, Some(table))
}

/// The columns of a `CREATE TABLE` body (from `body_at`) that are foreign
/// keys to any table ([`referencing_columns`] of every table).
pub fn foreign_key_columns(d: Dialect, stmt: &[u8], body_at: usize) -> Vec<Vec<u8>> {
    foreign_key_columns_to(d, stmt, body_at, None)
}

fn foreign_key_columns_to(d: Dialect, stmt: &[u8], body_at: usize, table: Option<&[u8]>) -> Vec<Vec<u8>> {
    let body = &stmt[body_at..];
    let (toks, elements) = body_elements(d, body);
    let is = |i: usize, kind: TokenKind| toks.get(i).is_some_and(|t| t.kind == kind);
    let name = |i: usize| {
        let t = &toks[i];
        ident::name_of(d, t.kind, &body[t.start..t.end])
    };
    let is_name = |i: usize| is(i, TokenKind::Word) || is(i, TokenKind::QuotedIdent);
    let word = |i: usize, w: &[u8]| is(i, TokenKind::Word) && name(i).eq_ignore_ascii_case(w);
    let punct = |i: usize, c: u8| is(i, TokenKind::Punct) && body[toks[i].start] == c;
    let mut out = Vec::new();
    for el in elements.into_iter().filter(|e| !e.is_empty()) {
        let Some(at) = el.clone().find(|&i| word(i, b"REFERENCES")) else {
            continue;
        };
        // The referenced table: `t` or `s.t`.
        let mut t = at + 1;
        if !is_name(t) {
            continue;
        }
        if punct(t + 1, b'.') && is_name(t + 2) {
            t += 2;
        }
        if table.is_some_and(|table| !ident::same_name(d, &name(t), table)) {
            continue;
        }
        let mut i = el.start;
        if word(i, b"CONSTRAINT") {
            i += 2;
        }
        if word(i, b"FOREIGN") && word(i + 1, b"KEY") && punct(i + 2, b'(') {
            let mut j = i + 3;
            while j < at && is_name(j) {
                out.push(name(j).into_owned());
                if !punct(j + 1, b',') {
                    break;
                }
                j += 2;
            }
        } else if i == el.start && is_name(i) {
            out.push(name(i).into_owned());
        }
    }
    out
}

/// The `CREATE TABLE` statement `stmt` with its column definitions in a
/// new order: column `order[i]` (an index among the column definitions, as
/// [`table_columns`] lists them) goes to place `i`; table constraints
/// follow, as Django's `create_model` writes them (base/schema.py:
/// `", ".join(column_sqls + constraints)`, the separator used here).
/// `None` when `order` is not a permutation of the columns.
pub fn reorder_columns(d: Dialect, stmt: &[u8], body_at: usize, order: &[usize]) -> Option<Vec<u8>> {
    let body = &stmt[body_at..];
    let (toks, elements) = body_elements(d, body);
    let close = toks.get(elements.last()?.end)?.start;
    let text = |el: &std::ops::Range<usize>| {
        let first = toks.get(el.start)?;
        let last = toks.get(el.end.checked_sub(1)?)?;
        Some(&body[first.start..last.end])
    };
    let is_constraint = |el: &std::ops::Range<usize>| {
        toks.get(el.start).is_some_and(|t| {
            t.kind == TokenKind::Word
                && [&b"constraint"[..], b"primary", b"unique", b"check", b"foreign", b"exclude", b"like"]
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(&body[t.start..t.end]))
        })
    };
    let mut columns = Vec::new();
    let mut constraints = Vec::new();
    for el in elements.iter().filter(|e| !e.is_empty()) {
        if is_constraint(el) {
            constraints.push(text(el)?);
        } else {
            columns.push(text(el)?);
        }
    }
    let mut seen = vec![false; columns.len()];
    if order.len() != columns.len() || order.iter().any(|&i| i >= seen.len() || std::mem::replace(&mut seen[i], true)) {
        return None;
    }
    let mut out = stmt[..body_at].to_vec();
    let parts = order.iter().map(|&i| columns[i]).chain(constraints);
    for (n, part) in parts.enumerate() {
        if n > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(part);
    }
    out.extend_from_slice(&body[close..]);
    Some(out)
}

/// Classifies a complete statement (from its first token to its `;`).
pub fn head(d: Dialect, stmt: &[u8]) -> Head<'_> {
    let parsed = alt((
        copy_head(d),
        insert_head(d, stmt),
        create_table_head(d, stmt),
        std_strings,
    ))(stmt);
    match parsed {
        Ok((_, h)) => h,
        Err(_) => Head::Other,
    }
}

/// True when `stmt` has the bare word `word` (any case) as a token: not in
/// a string, a quoted identifier or a comment.
pub fn has_word(d: Dialect, stmt: &[u8], word: &[u8]) -> bool {
    Tokens::new(d, stmt)
        .flatten()
        .any(|t| t.kind == TokenKind::Word && stmt[t.start..t.end].eq_ignore_ascii_case(word))
}

/// Column names of a `CREATE TABLE` body, read from `body_at` (just past
/// the opening parenthesis): the first identifier of every top-level
/// element that is not a table constraint.
pub fn table_columns(d: Dialect, stmt: &[u8], body_at: usize) -> Vec<Vec<u8>> {
    const CONSTRAINTS: &[&[u8]] = &[
        b"constraint",
        b"primary",
        b"unique",
        b"check",
        b"foreign",
        b"exclude",
        b"like",
    ];
    let mut cols = Vec::new();
    let mut depth = 0usize;
    let mut expect_name = true;
    for t in Tokens::new(d, &stmt[body_at..]).flatten() {
        let text = &stmt[body_at + t.start..body_at + t.end];
        match t.kind {
            TokenKind::Space | TokenKind::Comment => {}
            TokenKind::Punct => {
                match text[0] {
                    b'(' => depth += 1,
                    b')' if depth == 0 => break,
                    b')' => depth -= 1,
                    b',' if depth == 0 => {
                        expect_name = true;
                        continue;
                    }
                    _ => {}
                }
                expect_name = false;
            }
            TokenKind::Word | TokenKind::QuotedIdent if expect_name && depth == 0 => {
                expect_name = false;
                let is_constraint = t.kind == TokenKind::Word
                    && CONSTRAINTS.iter().any(|c| c.eq_ignore_ascii_case(text));
                if !is_constraint {
                    cols.push(ident::name_of(d, t.kind, text).into_owned());
                }
            }
            _ => expect_name = false,
        }
    }
    cols
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(v: &[Cow<[u8]>]) -> Vec<String> {
        v.iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    #[test]
    fn columns_referencing_a_table() {
        let sq = Dialect::Sqlite;
        let stmt: &[u8] = b"CREATE TABLE \"m2m\" (\"id\" integer NOT NULL PRIMARY KEY, \
            \"drawer_id\" bigint NOT NULL REFERENCES \"drawer_v1\" (\"id\") DEFERRABLE INITIALLY DEFERRED, \
            \"entry_id\" bigint NOT NULL REFERENCES \"archive_entry\" (\"id\"), \
            x int CHECK (x > 0), CONSTRAINT fk FOREIGN KEY (a, \"B\") REFERENCES main.Drawer_V1 (p, q));";
        let body_at = stmt.iter().position(|&b| b == b'(').unwrap() + 1;
        let cols = referencing_columns(sq, stmt, body_at, b"drawer_v1");
        assert_eq!(cols, [&b"drawer_id"[..], b"a", b"B"]);
        assert_eq!(
            referencing_columns(sq, stmt, body_at, b"archive_entry"),
            [b"entry_id"]
        );
        assert!(referencing_columns(sq, stmt, body_at, b"id").is_empty());
        assert!(referencing_columns(sq, stmt, body_at, b"m2m").is_empty());
    }

    #[test]
    fn copy_heads() {
        let pg = Dialect::Postgres;
        match head(
            pg,
            b"COPY public.\"Odd\"\"T\" (id, \"Ref\", x$y) FROM stdin;",
        ) {
            Head::Copy { table, columns, .. } => {
                assert_eq!(table.schema.as_deref(), Some(&b"public"[..]));
                assert_eq!(&*table.name, b"Odd\"T");
                assert_eq!(owned(&columns.unwrap()), ["id", "Ref", "x$y"]);
            }
            h => panic!("{h:?}"),
        }
        assert_eq!(head(pg, b"COPY t TO stdout;"), Head::Other);
    }

    #[test]
    fn insert_heads() {
        let s = b"INSERT INTO public.t (a, b) OVERRIDING SYSTEM VALUE VALUES (1, 'x');";
        match head(Dialect::Postgres, s) {
            Head::Insert {
                table,
                columns,
                values_at,
            } => {
                assert_eq!(&*table.name, b"t");
                assert_eq!(owned(&columns.unwrap()), ["a", "b"]);
                assert_eq!(&s[values_at..values_at + 2], b" (");
            }
            h => panic!("{h:?}"),
        }
        let s = b"INSERT INTO [My T] VALUES(1,'x');";
        match head(Dialect::Sqlite, s) {
            Head::Insert {
                table,
                columns: None,
                values_at,
            } => {
                assert_eq!(&*table.name, b"My T");
                assert_eq!(s[values_at], b'(');
            }
            h => panic!("{h:?}"),
        }
    }

    #[test]
    fn create_table_columns() {
        let s = b"CREATE TABLE IF NOT EXISTS \"t\" (\"id\" integer NOT NULL PRIMARY KEY, ref varchar(20) CHECK (ref <> ','), \
                  CONSTRAINT c UNIQUE (ref), [x y] text DEFAULT 'a,b', PRIMARY KEY (id));";
        match head(Dialect::Sqlite, s) {
            Head::CreateTable { table, body_at } => {
                assert_eq!(&*table.name, b"t");
                let cols = table_columns(Dialect::Sqlite, s, body_at);
                assert_eq!(cols, vec![b"id".to_vec(), b"ref".to_vec(), b"x y".to_vec()]);
            }
            h => panic!("{h:?}"),
        }
    }

    #[test]
    fn foreign_keys_and_indexes() {
        let s = b"ALTER TABLE ONLY public.m2m\n    ADD CONSTRAINT fk_name FOREIGN KEY (capa_id) REFERENCES public.capa(id) DEFERRABLE INITIALLY DEFERRED;";
        let fk = foreign_key(Dialect::Postgres, s).unwrap();
        assert_eq!(
            (&*fk.table.name, &*fk.name, &*fk.column),
            (&b"m2m"[..], &b"fk_name"[..], &b"capa_id"[..])
        );
        assert_eq!(
            (&*fk.ref_table.name, &*fk.ref_column),
            (&b"capa"[..], &b"id"[..])
        );
        assert!(foreign_key(
            Dialect::Postgres,
            b"ALTER TABLE ONLY t ADD CONSTRAINT p PRIMARY KEY (id);"
        )
        .is_none());
        let ix = index(
            Dialect::Sqlite,
            b"CREATE UNIQUE INDEX \"u_1\" ON \"m2m\" (\"a_id\", \"user_id\");",
        )
        .unwrap();
        assert!(ix.unique);
        assert_eq!(&*ix.name, b"u_1");
        assert_eq!(owned(&ix.columns), ["a_id", "user_id"]);
    }

    #[test]
    fn column_facts_of_create_table() {
        let s = b"CREATE TABLE public.t (\n    id bigint NOT NULL,\n    ref character varying(20) NOT NULL,\n    note varchar(5) UNIQUE,\n    c text,\n    CONSTRAINT k PRIMARY KEY (c)\n);";
        let Head::CreateTable { body_at, .. } = head(Dialect::Postgres, s) else {
            panic!()
        };
        let f = |c: &str| column_facts(Dialect::Postgres, s, body_at, c.as_bytes());
        assert_eq!(
            f("ref"),
            ColumnFacts {
                max_len: Some(20),
                unique: false
            }
        );
        assert_eq!(
            f("note"),
            ColumnFacts {
                max_len: Some(5),
                unique: true
            }
        );
        assert_eq!(
            f("c"),
            ColumnFacts {
                max_len: None,
                unique: true
            }
        );
        let (t, cols) = unique_constraint(
            Dialect::Postgres,
            b"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_ref_key UNIQUE (ref);",
        )
        .unwrap();
        assert_eq!(
            (&*t.name, owned(&cols)),
            (&b"t"[..], vec!["ref".to_string()])
        );
        let ix = index(
            Dialect::Postgres,
            b"CREATE UNIQUE INDEX i ON public.t USING btree (ref);",
        )
        .unwrap();
        assert!(ix.unique);
    }

    #[test]
    fn std_strings_setting() {
        assert_eq!(
            head(Dialect::Postgres, b"SET standard_conforming_strings = off;"),
            Head::StdStrings(false)
        );
        assert_eq!(
            head(Dialect::Postgres, b"SET standard_conforming_strings = on;"),
            Head::StdStrings(true)
        );
    }

    #[test]
    fn reorder_columns_moves_definitions_and_keeps_constraints_last() {
        let d = Dialect::Sqlite;
        let stmt: &[u8] = b"CREATE TABLE \"t\" (\"id\" integer NOT NULL PRIMARY KEY, \"a\" varchar(2) CHECK (\"a\" <> ','), \"b_id\" bigint REFERENCES \"u\" (\"id\"), CONSTRAINT \"c\" UNIQUE (\"a\", \"b_id\")) STRICT;";
        let Head::CreateTable { body_at, .. } = head(d, stmt) else {
            panic!("not a CREATE TABLE")
        };
        let out = reorder_columns(d, stmt, body_at, &[0, 2, 1]).expect("a permutation");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "CREATE TABLE \"t\" (\"id\" integer NOT NULL PRIMARY KEY, \"b_id\" bigint REFERENCES \"u\" (\"id\"), \"a\" varchar(2) CHECK (\"a\" <> ','), CONSTRAINT \"c\" UNIQUE (\"a\", \"b_id\")) STRICT;"
        );
        assert_eq!(reorder_columns(d, stmt, body_at, &[0, 1]), None);
        assert_eq!(reorder_columns(d, stmt, body_at, &[0, 1, 1]), None);
        assert_eq!(foreign_key_columns(d, stmt, body_at), vec![b"b_id".to_vec()]);
    }
}
