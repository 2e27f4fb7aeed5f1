//! Rules compiled for one dialect: the decisions the reader and the
//! workers share, read-only, across threads.

use crate::ident;
use crate::lexer::Dialect;
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
    /// Column renames within one table (a Django M2M table's `<model>_id`),
    /// found while reading the dump.
    pub columns: Vec<ColumnRename>,
    /// Everything else the rules ask of a Django database.
    pub rules: Rules,
    /// Gather a report (tables, mentions left alone) for `inspect` and
    /// `--dry-run`; costs a scan of all data.
    pub report: bool,
    /// Record every rewritten value (`--log-changes`).
    pub log_changes: bool,
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
        let renames = rules
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
        }
    }

    /// This plan with a Django many-to-many table found in the dump:
    /// `table` renamed to `new_table`, and its `old_col` to `new_col`.
    pub fn with_m2m(
        &self,
        schema: &[u8],
        table: &[u8],
        new_table: &[u8],
        old_col: &[u8],
        new_col: &[u8],
    ) -> Plan {
        let mut p = self.clone();
        if self.rename_of(Some(schema), table).is_some() {
            return p; // a second CREATE TABLE of the same table
        }
        let schema = schema.to_vec();
        p.renames.push(Rename {
            schema,
            old: table.to_vec(),
            new: new_table.to_vec(),
        });
        p.columns.push(ColumnRename {
            schema: p.renames.last().map(|r| r.schema.clone()).unwrap_or_default(),
            table: table.to_vec(),
            old: old_col.to_vec(),
            new: new_col.to_vec(),
        });
        p
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
        self.renames
            .iter()
            .any(|r| contains_ignore_case(text, &r.old))
            || self
                .columns
                .iter()
                .any(|c| contains_ignore_case(text, &c.table))
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
    let Some(&first) = needle.first() else {
        return true;
    };
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        match memchr::memchr2(lo, up, &hay[i..=hay.len() - needle.len()]) {
            None => return false,
            Some(j) => {
                if hay[i + j..i + j + needle.len()].eq_ignore_ascii_case(needle) {
                    return true;
                }
                i += j + 1;
            }
        }
    }
    false
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
    }
}
