//! The rule model: which tables are renamed and which column values are
//! rewritten. Rules are dialect-neutral; readers resolve names against them.

use crate::error::{Error, Result};

/// Renames one table, `old` → `new`, optionally only in one schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRename {
    /// Schema the table lives in; `None` means the dialect's default
    /// (`public` for PostgreSQL, `main` for SQLite).
    pub schema: Option<Vec<u8>>,
    /// Name in the input dump.
    pub old: Vec<u8>,
    /// Name in the output dump.
    pub new: Vec<u8>,
}

/// Rewrites values of one column, with the seed migration's semantics:
/// a value that starts with `from` gets every occurrence of `from` replaced
/// by `to` (Python's `str.startswith` then `str.replace`). NULLs and other
/// values are untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRewrite {
    /// Table as named in the input (resolved from old or new name).
    pub table: Vec<u8>,
    /// Column name.
    pub column: Vec<u8>,
    /// Prefix that selects a value, and the text replaced in it.
    pub from: Vec<u8>,
    /// Replacement text.
    pub to: Vec<u8>,
}

impl ValueRewrite {
    /// Applies the rewrite to one decoded value, returning the new value
    /// when it changes.
    pub fn apply(&self, value: &[u8]) -> Option<Vec<u8>> {
        if self.from.is_empty() || !value.starts_with(&self.from) {
            return None;
        }
        let mut out = Vec::with_capacity(value.len() + self.to.len());
        let mut rest = value;
        let finder = memchr::memmem::Finder::new(&self.from);
        while let Some(i) = finder.find(rest) {
            out.extend_from_slice(&rest[..i]);
            out.extend_from_slice(&self.to);
            rest = &rest[i + self.from.len()..];
        }
        out.extend_from_slice(rest);
        Some(out)
    }
}

impl ValueRewrite {
    /// The same rewrite backwards (`to` → `from`), on the same table name.
    pub fn reversed(&self) -> ValueRewrite {
        ValueRewrite { table: self.table.clone(), column: self.column.clone(), from: self.to.clone(), to: self.from.clone() }
    }
}

/// A complete set of rules for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    renames: Vec<TableRename>,
    rewrites: Vec<ValueRewrite>,
}

/// Table and column of the seed migration (`../shared/seed/module2-migration-guide.md`).
const CAPA_OLD: &str = "incident_safety_correctivepreventiveaction";
const CAPA_NEW: &str = "incident_safety_safetyactionplan";

/// Names of the built-in presets, for `--help` and error messages.
pub const PRESETS: &[&str] = &["capa-to-sap"];

impl Rules {
    /// An empty rule set (a dump rewritten with it is copied unchanged).
    pub fn new() -> Rules {
        Rules::default()
    }

    /// A built-in preset by name. `capa-to-sap` renames
    /// `incident_safety_correctivepreventiveaction` to
    /// `incident_safety_safetyactionplan` and rewrites its
    /// `reference_number` values `CAPA-` → `SAP-`.
    pub fn preset(name: &str) -> Result<Rules> {
        match name {
            "capa-to-sap" => {
                let mut r = Rules::new();
                r.add_rename(CAPA_OLD, CAPA_NEW)?;
                r.add_rewrite(CAPA_NEW, "reference_number", b"CAPA-", b"SAP-")?;
                Ok(r)
            }
            _ => Err(Error::Rule(format!(
                "unknown preset {name:?} (known: {})",
                PRESETS.join(", ")
            ))),
        }
    }

    /// Adds every rule of `other` to this set.
    pub fn extend(&mut self, other: Rules) -> Result<()> {
        for r in other.renames {
            self.push_rename(r)?;
        }
        for w in other.rewrites {
            self.push_rewrite(w)?;
        }
        Ok(())
    }

    /// Adds a table rename. `old` may be schema-qualified (`public.t`);
    /// names are taken literally (no quotes, no case folding).
    pub fn add_rename(&mut self, old: &str, new: &str) -> Result<()> {
        let (schema, old) = split_qualified(old)?;
        let (new_schema, new) = split_qualified(new)?;
        if new_schema.is_some() && new_schema != schema {
            return Err(Error::Rule(format!(
                "renaming {old:?} cannot move it to another schema"
            )));
        }
        self.push_rename(TableRename {
            schema: schema.map(|s| s.as_bytes().to_vec()),
            old: old.as_bytes().to_vec(),
            new: new.as_bytes().to_vec(),
        })
    }

    fn push_rename(&mut self, r: TableRename) -> Result<()> {
        if r.old == r.new {
            return Err(Error::Rule(format!(
                "rename of {} to itself",
                String::from_utf8_lossy(&r.old)
            )));
        }
        if self.renames.iter().any(|x| x.old == r.old && x.schema == r.schema) {
            return Err(Error::Rule(format!(
                "table {} is renamed twice",
                String::from_utf8_lossy(&r.old)
            )));
        }
        self.renames.push(r);
        // A rewrite added earlier may name the table by its new name.
        let resolved: Vec<_> = self.rewrites.iter().map(|w| self.resolve_table(&w.table)).collect();
        for (w, t) in self.rewrites.iter_mut().zip(resolved) {
            w.table = t;
        }
        Ok(())
    }

    /// Adds a value rewrite of `table.column`. `table` may be given by its
    /// old or its new name.
    pub fn add_rewrite(&mut self, table: &str, column: &str, from: &[u8], to: &[u8]) -> Result<()> {
        let (_, table) = split_qualified(table)?;
        if column.is_empty() {
            return Err(Error::Rule("empty column name".into()));
        }
        self.push_rewrite(ValueRewrite {
            table: table.as_bytes().to_vec(),
            column: column.as_bytes().to_vec(),
            from: from.to_vec(),
            to: to.to_vec(),
        })
    }

    fn push_rewrite(&mut self, mut w: ValueRewrite) -> Result<()> {
        if w.from.is_empty() {
            return Err(Error::Rule("a value rewrite needs a non-empty FROM".into()));
        }
        w.table = self.resolve_table(&w.table);
        if self.rewrites.iter().any(|x| x.table == w.table && x.column == w.column) {
            return Err(Error::Rule(format!(
                "column {}.{} has two rewrites",
                String::from_utf8_lossy(&w.table),
                String::from_utf8_lossy(&w.column)
            )));
        }
        self.rewrites.push(w);
        Ok(())
    }

    /// Parses `OLD=NEW` as given to `--rename-table`.
    pub fn parse_rename(&mut self, spec: &str) -> Result<()> {
        let (old, new) = spec
            .split_once('=')
            .ok_or_else(|| Error::Rule(format!("{spec:?}: expected OLD=NEW")))?;
        self.add_rename(old.trim(), new.trim())
    }

    /// Parses `TABLE.COLUMN:FROM=TO` as given to `--rewrite`.
    pub fn parse_rewrite(&mut self, spec: &str) -> Result<()> {
        let bad = || Error::Rule(format!("{spec:?}: expected TABLE.COLUMN:FROM=TO"));
        let (target, change) = spec.split_once(':').ok_or_else(bad)?;
        let (from, to) = change.split_once('=').ok_or_else(bad)?;
        let (table, column) = target.rsplit_once('.').ok_or_else(bad)?;
        self.add_rewrite(table, column, from.as_bytes(), to.as_bytes())
    }

    /// The rules applied backwards, to undo a rewrite (the guide's
    /// rollback): tables renamed new → old, and values starting with `to`
    /// get every `to` replaced by `from`.
    pub fn reversed(&self) -> Rules {
        let renames: Vec<TableRename> = self
            .renames
            .iter()
            .map(|r| TableRename { schema: r.schema.clone(), old: r.new.clone(), new: r.old.clone() })
            .collect();
        let rewrites = self
            .rewrites
            .iter()
            .map(|w| ValueRewrite {
                table: self.renames.iter().find(|r| r.old == w.table).map_or_else(|| w.table.clone(), |r| r.new.clone()),
                ..w.reversed()
            })
            .collect();
        Rules { renames, rewrites }
    }

    /// The table renames, in the order given.
    pub fn renames(&self) -> &[TableRename] {
        &self.renames
    }

    /// The value rewrites, with tables resolved to their input names.
    pub fn rewrites(&self) -> &[ValueRewrite] {
        &self.rewrites
    }

    /// True when no rule would change anything.
    pub fn is_empty(&self) -> bool {
        self.renames.is_empty() && self.rewrites.is_empty()
    }

    /// Maps a table given by its new name to its input (old) name.
    fn resolve_table(&self, table: &[u8]) -> Vec<u8> {
        self.renames
            .iter()
            .find(|r| r.new == table)
            .map_or_else(|| table.to_vec(), |r| r.old.clone())
    }
}

/// Splits `schema.name` (or `name`) and checks both parts are non-empty.
fn split_qualified(s: &str) -> Result<(Option<&str>, &str)> {
    let (schema, name) = match s.split_once('.') {
        Some((a, b)) => (Some(a), b),
        None => (None, s),
    };
    if name.is_empty() || schema == Some("") || name.contains('.') {
        return Err(Error::Rule(format!("{s:?} is not a table name (expected NAME or SCHEMA.NAME)")));
    }
    Ok((schema, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(from: &str, to: &str) -> ValueRewrite {
        ValueRewrite { table: b"t".to_vec(), column: b"c".to_vec(), from: from.into(), to: to.into() }
    }

    #[test]
    fn rewrite_has_python_startswith_replace_semantics() {
        let r = rw("CAPA-", "SAP-");
        assert_eq!(r.apply(b"CAPA-2026-001").as_deref(), Some(&b"SAP-2026-001"[..]));
        assert_eq!(r.apply(b"CAPA-CAPA-9").as_deref(), Some(&b"SAP-SAP-9"[..]));
        assert_eq!(r.apply(b"CAPA-").as_deref(), Some(&b"SAP-"[..]));
        assert_eq!(r.apply(b"XCAPA-1"), None);
        assert_eq!(r.apply(b"capa-1"), None);
        assert_eq!(r.apply(b"LEGACY-7"), None);
        assert_eq!(r.apply(b""), None);
    }

    #[test]
    fn rewrite_table_may_be_named_by_new_name() {
        let mut r = Rules::new();
        r.parse_rewrite("new_t.col:A=B").unwrap();
        r.parse_rename("old_t=new_t").unwrap();
        assert_eq!(r.rewrites()[0].table, b"old_t");
        let p = Rules::preset("capa-to-sap").unwrap();
        assert_eq!(p.rewrites()[0].table, CAPA_OLD.as_bytes());
    }

    #[test]
    fn reversed_swaps_names_and_values() {
        let r = Rules::preset("capa-to-sap").unwrap().reversed();
        assert_eq!(r.renames()[0].old, CAPA_NEW.as_bytes());
        assert_eq!(r.renames()[0].new, CAPA_OLD.as_bytes());
        assert_eq!(r.rewrites()[0].table, CAPA_NEW.as_bytes());
        assert_eq!(r.rewrites()[0].apply(b"SAP-SAP-9").as_deref(), Some(&b"CAPA-CAPA-9"[..]));
        assert_eq!(r.reversed(), Rules::preset("capa-to-sap").unwrap());
    }

    #[test]
    fn bad_specs_are_refused() {
        let mut r = Rules::new();
        assert!(r.parse_rename("nope").is_err());
        assert!(r.parse_rename("a=a").is_err());
        assert!(r.parse_rewrite("t:A=B").is_err());
        assert!(r.parse_rewrite("t.c:=B").is_err());
        assert!(r.parse_rename(".a=b").is_err());
        assert!(Rules::preset("nope").is_err());
    }
}
