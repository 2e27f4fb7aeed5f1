//! Rules compiled for one dialect: the decisions the reader and the
//! workers share, read-only, across threads.

use crate::codec::ident;
use crate::frame::lexer::Dialect;
use crate::rules::{DjangoModel, Rules, ValueRewrite};

/// A table rename with its schema resolved for the dialect.
#[derive(Debug, Clone)]
pub struct Rename {
    /// `public` (PostgreSQL) or `main` (SQLite) unless the rule named one.
    pub schema: Vec<u8>,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// The rules of one run, ready for a given dialect.
#[derive(Debug, Clone)]
pub struct Plan {
    pub dialect: Dialect,
    pub renames: Vec<Rename>,
    pub rewrites: Vec<ValueRewrite>,
    /// `rewrites[i]` backwards, to tell which values a later `--reverse`
    /// would not restore.
    pub undo: Vec<ValueRewrite>,
    /// Django model renames (their tables are in `renames` too).
    pub django: Vec<DjangoModel>,
    /// Column renames within one table (a Django M2M table's `<model>_id`,
    /// found in the dump's schema: `with_m2m`).
    pub columns: Vec<ColumnRename>,
    /// Everything else the rules ask of a Django database.
    pub rules: Rules,
    /// Gather a report (tables, mentions left alone) for `inspect` and
    /// `--dry-run`; costs a scan of all data.
    pub report: bool,
    /// Record every rewritten value (`--log-changes`).
    pub log_changes: bool,
    /// The searches of `may_mention` (kept in step with `renames` and
    /// `columns` by `new` and `with_m2m`).
    mentions: Vec<CaseFinder>,
}

/// A column renamed in one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRename {
    /// The table's schema (`public` / `main` unless the rule named one).
    pub schema: Vec<u8>,
    /// The table's input name.
    pub table: Vec<u8>,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

impl Plan {
    /// Compiles `rules` for `dialect`.
    pub fn new(rules: &Rules, dialect: Dialect) -> Plan {
        let default_schema = dialect.default_schema();
        let renames: Vec<Rename> = rules
            .renames()
            .iter()
            .map(|r| Rename {
                schema: r.schema.clone().unwrap_or_else(|| default_schema.to_vec()),
                old: r.old.clone(),
                new: r.new.clone(),
            })
            .collect();
        let mut rewrites = rules.rewrites().to_vec();
        for w in &mut rewrites {
            // Django's `startswith` is `LIKE 'x%'`, ASCII-case-insensitive
            // on SQLite (lang_expr.html#like) and case-sensitive on PostgreSQL.
            w.prefix_ignores_case = w.django_like && dialect == Dialect::Sqlite;
        }
        let columns: Vec<ColumnRename> = rules
            .column_renames()
            .iter()
            .map(|c| ColumnRename {
                schema: c.schema.clone().unwrap_or_else(|| default_schema.to_vec()),
                table: c.table.clone(),
                old: c.old.clone(),
                new: c.new.clone(),
            })
            .collect();
        // A value rule may name its column by its new name, as its table.
        for w in &mut rewrites {
            if let Some(c) = columns.iter().find(|c: &&ColumnRename| c.table == w.table && c.new == w.column) {
                w.column = c.old.clone();
            }
        }
        let undo = rewrites.iter().map(|w| w.reversed()).collect();
        let mentions = mention_finders(&renames, &columns);
        Plan {
            dialect,
            renames,
            rewrites,
            undo,
            django: rules.django_models().to_vec(),
            columns,
            rules: rules.clone(),
            report: false,
            log_changes: false,
            mentions,
        }
    }

    /// This plan with a Django many-to-many table found in the dump's
    /// schema: `table` renamed to `new_table` (if given), and its `columns`
    /// renamed (`(old, new)`); `None` when the plan has all that already
    /// (the pre-data read ahead found it, or a rule gives it). Renames are
    /// only appended, so a rule's index stays valid in every later plan.
    pub fn with_m2m(&self, schema: &[u8], table: &[u8], new_table: Option<&[u8]>, columns: &[(Vec<u8>, Vec<u8>)]) -> Option<Plan> {
        let mut p = self.clone();
        // Not twice (a second CREATE TABLE of the same table).
        if let Some(new_table) = new_table.filter(|_| self.rename_of(Some(schema), table).is_none()) {
            p.renames.push(Rename {
                schema: schema.to_vec(),
                old: table.to_vec(),
                new: new_table.to_vec(),
            });
        }
        for (old, new) in columns {
            if self.columns.iter().any(|c| c.table == table && c.old == *old) {
                continue;
            }
            p.columns.push(ColumnRename {
                schema: schema.to_vec(),
                table: table.to_vec(),
                old: old.clone(),
                new: new.clone(),
            });
        }
        if p.renames.len() == self.renames.len() && p.columns.len() == self.columns.len() {
            return None;
        }
        p.mentions = mention_finders(&p.renames, &p.columns);
        Some(p)
    }

    /// The new name of table `name` (input name), or the name itself.
    pub fn new_table_name<'a>(&'a self, name: &'a [u8]) -> &'a [u8] {
        match self.rename_of(None, name) {
            Some(i) => &self.renames[i].new,
            None => name,
        }
    }

    /// The new name of column `col` of table `table` (input names).
    pub fn new_column_name<'a>(&'a self, table: &[u8], col: &'a [u8]) -> &'a [u8] {
        self.columns
            .iter()
            .find(|c| {
                ident::same_name(self.dialect, &c.table, table)
                    && ident::same_name(self.dialect, &c.old, col)
            })
            .map_or(col, |c| c.new.as_slice())
    }

    /// Cheap test, before any tokenizing, of whether `text` may mention a
    /// renamed table: an ASCII-case-insensitive substring search.
    pub fn may_mention(&self, text: &[u8]) -> bool {
        self.mentions.iter().any(|f| f.is_in(text))
    }

    /// The rename that applies to a table called `name` (normalized with
    /// [`ident::name_of`]), qualified by `schema` if written.
    pub fn rename_of(&self, schema: Option<&[u8]>, name: &[u8]) -> Option<usize> {
        self.renames.iter().position(|r| {
            ident::same_name(self.dialect, name, &r.old)
                && schema.is_none_or(|s| ident::same_name(self.dialect, s, &r.schema))
        })
    }

    /// Index of the value rewrite that targets `table` (input name).
    pub fn rewrites_of<'a>(
        &'a self,
        schema: Option<&'a [u8]>,
        table: &'a [u8],
    ) -> impl Iterator<Item = usize> + 'a {
        self.rewrites.iter().enumerate().filter_map(move |(i, w)| {
            // A rule naming a schema applies there only (the dump's
            // unqualified names are in the default schema); a rewrite of a
            // renamed table is bound to that rename's schema.
            let default = self.dialect.default_schema();
            let schema_ok = match (&w.schema, self.renames.iter().find(|r| r.old == w.table)) {
                (Some(ws), _) => ident::same_name(self.dialect, schema.unwrap_or(default), ws),
                (None, Some(r)) => schema.is_none_or(|s| ident::same_name(self.dialect, s, &r.schema)),
                (None, None) => true,
            };
            (schema_ok && ident::same_name(self.dialect, table, &w.table)).then_some(i)
        })
    }

    /// The value rules for rows of `table`: its own, then those of its
    /// `ancestors` (nearest first: `Facts::ancestors`) on a column it has no
    /// rule of its own for. A live `UPDATE parent SET col = …` updates
    /// every partition's and child's rows, and pg_dump writes those under
    /// each child's own `COPY` / `INSERT` (`dumpTableData` in pg_dump.c).
    pub fn rewrites_inherited(&self, schema: Option<&[u8]>, table: &[u8], ancestors: &[(Vec<u8>, Vec<u8>)]) -> Vec<usize> {
        let mut out: Vec<usize> = self.rewrites_of(schema, table).collect();
        for (s, t) in ancestors {
            for i in self.rewrites_of(Some(s), t) {
                let col = &self.rewrites[i].column;
                if !out.iter().any(|&j| ident::same_name(self.dialect, &self.rewrites[j].column, col)) {
                    out.push(i);
                }
            }
        }
        out
    }

    /// True when a table of this name (in any schema) is a rewrite target,
    /// so its column list is worth remembering.
    pub fn is_rewrite_target(&self, table: &[u8]) -> bool {
        self.rewrites
            .iter()
            .any(|w| ident::same_name(self.dialect, table, &w.table))
    }
}

/// ASCII-case-insensitive substring search (names are matched as SQL does,
/// and unquoted identifiers may be written in any case).
pub fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    CaseFinder::new(needle).is_in(hay)
}

/// The searches `Plan::may_mention` makes: the old table names of the
/// renames and the tables of the column renames, without a name that
/// holds another (a Django M2M table's name starts with its model's
/// table): where the longer one is, the shorter one is too.
fn mention_finders(renames: &[Rename], columns: &[ColumnRename]) -> Vec<CaseFinder> {
    let names: Vec<&[u8]> = renames
        .iter()
        .map(|r| r.old.as_slice())
        .chain(columns.iter().map(|c| c.table.as_slice()))
        .collect();
    let mut out: Vec<CaseFinder> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        // Dropped when another name is inside it (for equal names, the first is kept).
        let covered = names.iter().enumerate().any(|(j, m)| {
            j != i && m.len() <= n.len() && contains_ignore_case_slow(n, m) && (m.len() < n.len() || j < i)
        });
        if !covered {
            out.push(CaseFinder::new(n));
        }
    }
    out
}

fn contains_ignore_case_slow(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// An ASCII-case-insensitive substring search that looks for the
/// needle's rarest byte (in dump text), in either case, and compares
/// around it: a table name's first letter is common in data, its `v` or
/// `q` seldom.
#[derive(Debug, Clone)]
pub struct CaseFinder {
    needle: Vec<u8>,
    /// Index of the rarest byte in `needle`.
    rare: usize,
}

impl CaseFinder {
    pub fn new(needle: &[u8]) -> CaseFinder {
        let rare = (0..needle.len()).min_by_key(|&i| byte_rank(needle[i])).unwrap_or(0);
        CaseFinder {
            needle: needle.to_vec(),
            rare,
        }
    }

    /// True when `hay` holds the needle, in any ASCII case.
    pub fn is_in(&self, hay: &[u8]) -> bool {
        let (needle, k) = (&self.needle[..], self.rare);
        let Some(&rare) = needle.get(k) else {
            return true;
        };
        let (lo, up) = (rare.to_ascii_lowercase(), rare.to_ascii_uppercase());
        // Candidates for the rare byte: from `k` to where the needle still fits.
        let last = hay.len().saturating_sub(needle.len() - k - 1);
        let mut i = k;
        while i < last {
            match memchr::memchr2(lo, up, &hay[i..last]) {
                None => return false,
                Some(j) => {
                    let at = i + j - k;
                    let cand = &hay[at..at + needle.len()];
                    // Ends first: most candidates differ there.
                    if cand[0].eq_ignore_ascii_case(&needle[0])
                        && cand[needle.len() - 1].eq_ignore_ascii_case(&needle[needle.len() - 1])
                        && cand.eq_ignore_ascii_case(needle)
                    {
                        return true;
                    }
                    i += j + 1;
                }
            }
        }
        false
    }
}

/// How common a byte is in dump text, lower is rarer: digits and
/// punctuation, then letters by English frequency (either case); `_` is
/// common in names and JSON keys.
fn byte_rank(b: u8) -> u8 {
    const LETTERS: &[u8; 26] = b"zqxjkvbpygfwmuclhdrsnioate";
    match b.to_ascii_lowercase() {
        c @ b'a'..=b'z' => 10 + LETTERS.iter().position(|&l| l == c).unwrap_or(0) as u8,
        b'_' => 20,
        b' ' => 255,
        _ => 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_ignore_case_finds_any_case() {
        assert!(contains_ignore_case(b"xx Public.T_old yy", b"t_old"));
        assert!(contains_ignore_case(b"t_old", b"t_old"));
        assert!(!contains_ignore_case(b"t_ol", b"t_old"));
        assert!(!contains_ignore_case(b"", b"t"));
        assert!(contains_ignore_case(b"_x_", b"_"));
        assert!(contains_ignore_case(b"ab_c", b"ab_c"));
        assert!(!contains_ignore_case(b"b_c", b"ab_c"));
        assert!(!contains_ignore_case(b"ab_", b"ab_c"));
        assert!(contains_ignore_case(b"xxAB_Cyy", b"ab_c"));
    }

    /// Agrees with a naive search, whichever byte of the needle is rarest.
    #[test]
    fn contains_ignore_case_agrees_with_naive() {
        let hays: &[&[u8]] = &[b"", b"a", b"q_q", b"xqzQZ_a_Q", b"incident_safety_CorrectivE", b"zz_zz_q"];
        let needles: &[&[u8]] = &[b"q", b"_", b"zq", b"q_q", b"Z_a", b"safety_c", b"e", b"zz_q", b"a_q"];
        for h in hays {
            for n in needles {
                let naive = contains_ignore_case_slow(h, n);
                assert_eq!(contains_ignore_case(h, n), naive, "{:?} in {:?}", n, h);
            }
        }
    }
}
