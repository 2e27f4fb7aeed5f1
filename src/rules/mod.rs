//! The rule model: which tables are renamed and which column values are
//! rewritten. Rules are dialect-neutral; readers resolve names against them.

use crate::error::{Error, Result};
use crate::observe::problem::RuleKind;
use crate::observe::sample::{Sample, SampleBuilder};
use crate::codec::ident::is_python_identifier;

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

/// Renames one column of one table (`ALTER TABLE t RENAME COLUMN old TO new`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRenameRule {
    /// Schema of the table; `None`: the dialect's default.
    pub schema: Option<Vec<u8>>,
    /// The table, by its input name.
    pub table: Vec<u8>,
    /// Column name in the input dump.
    pub old: Vec<u8>,
    /// Column name in the output dump.
    pub new: Vec<u8>,
    /// A Django `RenameField` (`--django-field`): besides the column, the
    /// foreign key on it is re-created under the name Django's
    /// `_fk_constraint_name` gives the new column (PostgreSQL).
    pub django: bool,
}

/// Rewrites values of one column, with the seed migration's semantics:
/// a value that starts with `from` gets every occurrence of `from` replaced
/// by `to` (Python's `str.startswith` then `str.replace`). NULLs and other
/// values are untouched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRewrite {
    /// Schema of the table when the rule names one (`schema.table.column`);
    /// `None`: the table of that name in any schema.
    pub schema: Option<Vec<u8>>,
    /// Table as named in the input (resolved from old or new name).
    pub table: Vec<u8>,
    /// Column name.
    pub column: Vec<u8>,
    /// Prefix that selects a value, and the text replaced in it.
    pub from: Vec<u8>,
    /// Replacement text.
    pub to: Vec<u8>,
    /// Select values as Django's `startswith` lookup does (`LIKE 'FROM%'`),
    /// which on SQLite ignores ASCII case; the replacement stays
    /// case-sensitive, as Python's `str.replace`.
    pub django_like: bool,
    /// Set for the dialect by the plan: compare the prefix ignoring ASCII
    /// case.
    pub prefix_ignores_case: bool,
}

impl ValueRewrite {
    /// Applies the rewrite to one decoded value, returning the new value
    /// when it changes.
    pub fn apply(&self, value: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        self.apply_into(value, &mut out).then_some(out)
    }

    /// [`ValueRewrite::apply`] into a buffer the caller reuses (cleared
    /// first): true when the value changes, `out` then holding the new
    /// value. The worker calls this once per targeted field, so it must
    /// not allocate.
    pub fn apply_into(&self, value: &[u8], out: &mut Vec<u8>) -> bool {
        replace_selected(value, &self.from, &self.to, self.prefix_ignores_case, out)
    }

    /// Calls `f` with the offset in `value` of each `from` that
    /// [`ValueRewrite::apply_into`] replaces, in order (none when the rule
    /// does not select `value`): the new value is `value` with `to` at
    /// each of them, so a huge value can be written as its unchanged runs
    /// and `to` instead of as a copy (rewrite.rs).
    pub fn for_each_replaced(&self, value: &[u8], mut f: impl FnMut(usize)) {
        if self.from.is_empty() || !selects(value, &self.from, self.prefix_ignores_case) {
            return;
        }
        let mut at = 0;
        while let Some(i) = find(&value[at..], &self.from) {
            f(at + i);
            at += i + self.from.len();
        }
    }

    /// The [`Sample`] of what [`ValueRewrite::apply`] makes of `value`
    /// (`value` itself when it does not change), built without the new
    /// value: a message about a huge value needs only its start, end and
    /// length.
    pub fn apply_sample(&self, value: &[u8]) -> Sample {
        let mut b = SampleBuilder::default();
        let mut from = 0;
        self.for_each_replaced(value, |i| {
            b.push(&value[from..i]);
            b.push(&self.to);
            from = i + self.from.len();
        });
        b.push(&value[from..]);
        b.finish()
    }

    /// True when `--reverse` would give `value` back from `out`, the value
    /// after [`ValueRewrite::apply`] (`out == value` when unchanged).
    pub fn reversible(&self, value: &[u8], out: &[u8]) -> bool {
        let (from, to) = (&self.from[..], &self.to[..]);
        if !selects(out, to, self.prefix_ignores_case) {
            // The reverse leaves `out` as it is.
            return out == value;
        }
        // Common case, without allocating: the reverse swaps exactly the
        // prefix when neither text appears again after it.
        if let Some(out_rest) = out.strip_prefix(to) {
            if out == value && !self.prefix_ignores_case {
                // Unchanged, yet starting with TO: the reverse would
                // replace that TO (`SAP-1` already in the data), and
                // change it unless TO is FROM.
                return to.is_empty() || to == from;
            }
            if out != value
                && value.starts_with(from)
                && &value[from.len()..] == out_rest
                && absent_both(out_rest, to, from)
            {
                return true;
            }
        }
        let mut back = Vec::new();
        let changed = replace_selected(out, to, from, self.prefix_ignores_case, &mut back);
        (if changed { &back[..] } else { out }) == value
    }
}

/// What [`ValueRewrite::apply`] makes of a value, read as pieces of the
/// value and TO, never built whole: the checks of a huge value that is
/// written in place (rewrite.rs) cost no copy of it (issue 28, item 11).
/// Every method gives what the same method or function gives on the new
/// value built by `apply` (unit test `applied_agrees_with_apply`).
pub struct Applied<'a> {
    rule: &'a ValueRewrite,
    value: &'a [u8],
    changed: bool,
}

impl ValueRewrite {
    /// The new value of `value`, unbuilt ([`Applied`]).
    pub fn applied<'a>(&'a self, value: &'a [u8]) -> Applied<'a> {
        // Changed when FROM occurs (the first at 0 once selected, unless
        // the prefix matched ignoring case) and TO differs: the new value
        // then differs at the first occurrence.
        let found = !self.from.is_empty()
            && selects(value, &self.from, self.prefix_ignores_case)
            && find(value, &self.from).is_some();
        Applied { rule: self, value, changed: found && self.from != self.to }
    }
}

impl Applied<'_> {
    /// True when the new value differs from the old one.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Calls `f` with the pieces of the new value, in order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8])) {
        if !self.changed {
            return f(self.value);
        }
        let (r, v) = (self.rule, self.value);
        let mut from = 0;
        r.for_each_replaced(v, |i| {
            f(&v[from..i]);
            f(&r.to);
            from = i + r.from.len();
        });
        f(&v[from..]);
    }

    /// The [`Sample`] of the new value.
    pub fn sample(&self) -> Sample {
        let mut b = SampleBuilder::default();
        self.for_each(|p| b.push(p));
        b.finish()
    }

    /// The first `n` bytes of the new value (fewer when it is shorter).
    fn head(&self, n: usize) -> Vec<u8> {
        let mut head = Vec::with_capacity(n);
        self.for_each(|p| {
            let room = n - head.len();
            head.extend_from_slice(&p[..room.min(p.len())]);
        });
        head
    }

    /// True when the new value starts with `prefix`.
    pub fn starts_with(&self, prefix: &[u8]) -> bool {
        self.head(prefix.len()) == prefix
    }

    /// True when the new value holds `needle` (not empty), searched in
    /// windows as [`StreamReplace`] does.
    pub fn contains(&self, needle: &[u8]) -> bool {
        let mut window: Vec<u8> = Vec::new();
        let mut found = false;
        self.for_each(|p| {
            for sub in p.chunks(StreamReplace::WINDOW) {
                if found {
                    return;
                }
                window.extend_from_slice(sub);
                found = find(&window, needle).is_some();
                let keep = needle.len().saturating_sub(1).min(window.len());
                window.drain(..window.len() - keep);
            }
        });
        found
    }

    /// [`ValueRewrite::reversible`] of the value and its new value.
    pub fn reversible(&self) -> bool {
        let (r, value) = (self.rule, self.value);
        let (from, to) = (&r.from[..], &r.to[..]);
        let head = self.head(to.len());
        if !selects(&head, to, r.prefix_ignores_case) {
            return !self.changed;
        }
        if head == to {
            if !self.changed && !r.prefix_ignores_case {
                return to.is_empty() || to == from;
            }
            // Changed with FROM at 0 and none after it: the rest is the
            // old value's rest (`reversible`'s common case).
            if self.changed && value.starts_with(from) && absent_both(&value[from.len()..], to, from) {
                return true;
            }
        }
        if to.is_empty() {
            return !self.changed;
        }
        // The reverse of the new value, compared with the value as it comes.
        let (mut pos, mut same) = (0usize, true);
        let mut compare = |p: &[u8]| {
            if same {
                same = value.get(pos..pos + p.len()) == Some(p);
                pos += p.len();
            }
        };
        let mut back = StreamReplace::new(to, from);
        self.for_each(|p| back.push(p, &mut compare));
        back.finish(&mut compare);
        same && pos == value.len()
    }

    /// [`ValueRewrite::apply_sample`] of `other` on the new value (the
    /// reversed rule's, in messages).
    pub fn sample_under(&self, other: &ValueRewrite) -> Sample {
        let head = self.head(other.from.len());
        if other.from.is_empty() || !selects(&head, &other.from, other.prefix_ignores_case) {
            return self.sample();
        }
        let mut b = SampleBuilder::default();
        let mut push = |p: &[u8]| b.push(p);
        let mut s = StreamReplace::new(&other.from, &other.to);
        self.for_each(|p| s.push(p, &mut push));
        s.finish(&mut push);
        b.finish()
    }
}

/// Every `from` replaced by `to` in a text that comes in pieces cut
/// anywhere, as [`replace_selected`]'s loop does on the whole text
/// (leftmost, not overlapping): a piece is searched with the bytes kept
/// back from the one before, which may start an occurrence; each window
/// is at most `WINDOW` bytes plus those.
struct StreamReplace<'r> {
    from: &'r [u8],
    to: &'r [u8],
    buf: Vec<u8>,
    /// `WINDOW`, smaller in tests.
    window: usize,
}

impl<'r> StreamReplace<'r> {
    const WINDOW: usize = 64 << 10;

    /// `from` must not be empty.
    fn new(from: &'r [u8], to: &'r [u8]) -> StreamReplace<'r> {
        StreamReplace { from, to, buf: Vec::new(), window: Self::WINDOW }
    }

    fn push(&mut self, piece: &[u8], out: &mut impl FnMut(&[u8])) {
        for sub in piece.chunks(self.window) {
            self.buf.extend_from_slice(sub);
            let mut at = 0;
            while let Some(i) = find(&self.buf[at..], self.from) {
                out(&self.buf[at..at + i]);
                out(self.to);
                at += i + self.from.len();
            }
            // An occurrence not yet whole starts in the last len - 1 bytes.
            let keep = (self.from.len() - 1).min(self.buf.len() - at);
            let done = self.buf.len() - keep;
            out(&self.buf[at..done]);
            self.buf.drain(..done);
        }
    }

    fn finish(self, out: &mut impl FnMut(&[u8])) {
        out(&self.buf);
    }
}

/// True when the rewrite `from` → … selects `value`: it starts with
/// `from` (in any ASCII case when `ignore_case`).
fn selects(value: &[u8], from: &[u8], ignore_case: bool) -> bool {
    match value.get(..from.len()) {
        Some(p) if ignore_case => p.eq_ignore_ascii_case(from),
        Some(p) => p == from,
        None => false,
    }
}

/// Writes to `out` (cleared first) `value` with every `from` replaced by
/// `to` when the rewrite selects it ([`selects`]); false when it is not
/// selected or does not change.
fn replace_selected(value: &[u8], from: &[u8], to: &[u8], ignore_case: bool, out: &mut Vec<u8>) -> bool {
    out.clear();
    if from.is_empty() || !selects(value, from, ignore_case) {
        return false;
    }
    let mut rest = value;
    while let Some(i) = find(rest, from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    // Selected but unchanged (`capa-1` under LIKE): nothing to write.
    out[..] != *value
}

/// True when neither `a` nor `b` occurs in `hay`. One search for either
/// first byte settles the common case (the rest of `SAP-2026-001` holds
/// no `S` and no `C`): a plain loop on short values, as in [`find`].
fn absent_both(hay: &[u8], a: &[u8], b: &[u8]) -> bool {
    let neither = |x: u8, y: u8| match hay.len() {
        0..=64 => !hay.iter().any(|&c| c == x || c == y),
        _ => memchr::memchr2(x, y, hay).is_none(),
    };
    match (a.first(), b.first()) {
        (Some(&x), Some(&y)) if neither(x, y) => true,
        _ => find(hay, a).is_none() && find(hay, b).is_none(),
    }
}

/// Position of `needle` in `hay`: a plain scan for the short values column
/// rewrites see, where building a SIMD searcher would cost more.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    if hay.len() > 64 {
        return memchr::memmem::find(hay, needle);
    }
    // Compared byte by byte: a memcmp call costs more than the few bytes
    // of a needle.
    let first = needle[0];
    (0..=hay.len() - needle.len())
        .find(|&i| hay[i] == first && hay[i + 1..i + needle.len()].iter().zip(&needle[1..]).all(|(h, n)| h == n))
}

impl ValueRewrite {
    /// The same rewrite backwards (`to` → `from`), on the same table name.
    pub fn reversed(&self) -> ValueRewrite {
        ValueRewrite {
            from: self.to.clone(),
            to: self.from.clone(),
            ..self.clone()
        }
    }
}

/// A Django model rename (`migrations.RenameModel`): the model's table,
/// its auto-created many-to-many tables and their `<model>_id` columns, the
/// names of foreign keys to it, and the `django_content_type` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DjangoModel {
    /// The app label, e.g. `incident_safety`.
    pub app: String,
    /// Model class names, e.g. `CorrectivePreventiveAction`.
    pub old_model: String,
    /// The new class name.
    pub new_model: String,
    /// `app_model` in lower case unless `db_table` says otherwise.
    pub old_table: String,
    /// The table after the rename.
    pub new_table: String,
    /// Tables (input name → name) whose name when Django runs this
    /// `RenameModel` is not their final one, because a later operation of
    /// the run renames them (an `AlterModelTable` after it): the foreign
    /// keys Django re-creates at this step are named from these names.
    /// Written by the rules helper, which knows the operations' order.
    pub names_at_step: Vec<(String, String)>,
}

/// `[[django_permissions]]`: the permissions `post_migrate`
/// (`create_permissions`, `auth/management/__init__.py`) adds for a model
/// where its content type lacks them: `Meta.default_permissions` named from
/// its `verbose_name`, then `Meta.permissions`. Written by the rules helper
/// from the migration state; for a model a `[[django_model]]` renames, they
/// replace the four defaults the appendix derives otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DjangoPermissions {
    /// The app label.
    pub app: String,
    /// The model's name after the run, lower case (`django_content_type.model`).
    pub model: String,
    /// `(codename, name)`, in the order Django adds them.
    pub permissions: Vec<(String, String)>,
}

/// A complete set of rules for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    renames: Vec<TableRename>,
    column_renames: Vec<ColumnRenameRule>,
    rewrites: Vec<ValueRewrite>,
    django: Vec<DjangoModel>,
    /// `(app, migration name)` rows to add to `django_migrations`.
    mark_applied: Vec<(String, String)>,
    /// Timestamp for those rows; the time of the run when unset.
    applied_at: Option<String>,
    /// Rename the model's permissions in place (Django 6.0's
    /// `RenamePermission`) instead of letting new ones be added (5.2).
    rename_permissions: bool,
    /// Input names of the tables of `--django-table` rules, which must be
    /// in the dump (a Django rule naming what the dump lacks is an error).
    django_tables: Vec<Vec<u8>>,
    /// `[[django_permissions]]`, in the order given.
    django_permissions: Vec<DjangoPermissions>,
    /// Made by [`Rules::reversed`]: undoing a forward run of the rules.
    reversed: bool,
    /// `[[django_rebuild]]`: `(table, columns)`, input names.
    django_rebuilds: Vec<(Vec<u8>, Vec<Vec<u8>>)>,
}

/// Table of the seed migration (`../shared/seed/module2-migration-guide.md`).
#[cfg(test)]
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
    /// `reference_number` values `CAPA-` → `SAP-`, as the guide's migrations
    /// 0002 (a Django `RenameModel` of
    /// `incident_safety.CorrectivePreventiveAction` to `SafetyActionPlan`)
    /// and 0003 (the data migration) do.
    pub fn preset(name: &str) -> Result<Rules> {
        match name {
            "capa-to-sap" => {
                let mut r = Rules::new();
                r.add_django_model(
                    "incident_safety.CorrectivePreventiveAction=SafetyActionPlan",
                    None,
                )?;
                r.add_rewrite(CAPA_NEW, "reference_number", b"CAPA-", b"SAP-")?;
                r.rewrites[0].django_like = true;
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
        // Table renames that `add_django_model` below adds again (not those
        // of a model keeping its `Meta.db_table`: a plain rename of that
        // table is an `AlterModelTable` of its own).
        let renamed_by_django: Vec<Vec<u8>> = other
            .django
            .iter()
            .filter(|d| d.old_table != d.new_table)
            .map(|d| d.old_table.as_bytes().to_vec())
            .collect();
        for r in other.renames {
            if !renamed_by_django.contains(&r.old) {
                self.push_rename(r)?;
            }
        }
        for d in other.django {
            let spec = format!("{}.{}={}", d.app, d.old_model, d.new_model);
            self.add_django_model(&spec, Some(&format!("{}={}", d.old_table, d.new_table)))?;
            self.set_names_at_step(d.names_at_step)?;
        }
        for w in other.rewrites {
            self.push_rewrite(w)?;
        }
        for c in other.column_renames {
            if !self.column_renames.contains(&c) {
                self.column_renames.push(c);
            }
        }
        self.mark_applied.extend(other.mark_applied);
        self.django_tables.extend(other.django_tables);
        for p in other.django_permissions {
            self.add_django_permissions(&format!("{}.{}", p.app, p.model), p.permissions)?;
        }
        for (table, columns) in other.django_rebuilds {
            self.add_django_rebuild(&table, columns)?;
        }
        self.applied_at = other.applied_at.or(self.applied_at.take());
        self.rename_permissions |= other.rename_permissions;
        Ok(())
    }

    /// Adds a Django model rename, `APP.OldModel=NewModel`. The tables are
    /// `app_oldmodel` / `app_newmodel` unless `db_table` gives them as
    /// `OLD_TABLE=NEW_TABLE` (for a model with `Meta.db_table`).
    pub fn add_django_model(&mut self, spec: &str, db_table: Option<&str>) -> Result<()> {
        let bad = |why: &str| Error::InvalidRule { rule: RuleKind::DjangoModel, spec: spec.into(), why: why.into() };
        let (left, new_model) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected APP.OldModel=NewModel"))?;
        let (app, old_model) = left
            .split_once('.')
            .ok_or_else(|| bad("expected APP.OldModel=NewModel"))?;
        for (what, name) in [
            ("app label", app),
            ("model name", old_model),
            ("model name", new_model),
        ] {
            if !is_python_identifier(name) {
                return Err(bad(&format!(
                    "{what} {name:?} is not a valid Python identifier (letters, digits, _; not starting with a digit)"
                )));
            }
        }
        let (old_table, new_table) = match db_table {
            Some(t) => {
                let (o, n) = t.split_once('=').ok_or_else(|| Error::InvalidRule {
                    rule: RuleKind::DbTable,
                    spec: t.into(),
                    why: "expected OLD_TABLE=NEW_TABLE".into(),
                })?;
                (o.trim().to_string(), n.trim().to_string())
            }
            None => (
                format!("{app}_{}", old_model.to_lowercase()),
                format!("{app}_{}", new_model.to_lowercase()),
            ),
        };
        // A model with `Meta.db_table` keeps its table: Django's
        // `alter_db_table` does nothing, and neither does the rename here.
        if old_table != new_table {
            self.add_rename(&old_table, &new_table)?;
        }
        self.django.push(DjangoModel {
            app: app.into(),
            old_model: old_model.into(),
            new_model: new_model.into(),
            old_table,
            new_table,
            names_at_step: Vec::new(),
        });
        Ok(())
    }

    /// Sets [`DjangoModel::names_at_step`] of the last `--django-model`.
    pub fn set_names_at_step(&mut self, names: Vec<(String, String)>) -> Result<()> {
        match self.django.last_mut() {
            Some(d) => {
                d.names_at_step = names;
                Ok(())
            }
            None => Err(Error::Rule("names_at_step without a django_model".into())),
        }
    }

    /// Adds a `django_migrations` row for `APP.MIGRATION` (e.g.
    /// `incident_safety.0002_rename_capa_to_safety_action_plan`).
    pub fn add_mark_applied(&mut self, spec: &str) -> Result<()> {
        let (app, name) = spec
            .split_once('.')
            .filter(|(a, n)| {
                is_python_identifier(a) && !n.is_empty() && !n.contains(['\'', '\\'])
            })
            .ok_or_else(|| Error::InvalidRule {
                rule: RuleKind::MarkApplied,
                spec: spec.into(),
                why: "expected APP.MIGRATION_NAME".into(),
            })?;
        self.mark_applied.push((app.into(), name.into()));
        Ok(())
    }

    /// Sets the `applied` timestamp of marked migrations.
    pub fn set_applied_at(&mut self, at: &str) -> Result<()> {
        let ok = at.len() >= 10
            && at
                .bytes()
                .all(|b| b.is_ascii_digit() || b" -:.+TZ".contains(&b));
        if !ok {
            return Err(Error::InvalidRule {
                rule: RuleKind::AppliedAt,
                spec: at.into(),
                why: "expected a timestamp like 2026-11-26 06:35:05+00".into(),
            });
        }
        self.applied_at = Some(at.into());
        Ok(())
    }

    /// Adds the permissions `post_migrate` adds for model `APP.Model` (its
    /// name after the run), see [`DjangoPermissions`].
    pub fn add_django_permissions(
        &mut self,
        model: &str,
        permissions: Vec<(String, String)>,
    ) -> Result<()> {
        let bad = |why: &str| Error::Rule(format!("django_permissions {model:?}: {why}"));
        let (app, name) = model
            .split_once('.')
            .ok_or_else(|| bad("expected APP.Model"))?;
        if !crate::codec::ident::is_python_identifier(app) || !crate::codec::ident::is_python_identifier(name) {
            return Err(bad("expected APP.Model (Python identifiers)"));
        }
        if permissions.iter().any(|(code, _)| code.is_empty()) {
            return Err(bad("a permission with an empty codename"));
        }
        let model = name.to_lowercase();
        if self
            .django_permissions
            .iter()
            .any(|p| p.app == app && p.model == model)
        {
            return Err(bad("given twice"));
        }
        self.django_permissions.push(DjangoPermissions {
            app: app.to_string(),
            model,
            permissions,
        });
        Ok(())
    }

    /// Adds a `[[django_rebuild]]`: Django's SQLite schema editor rebuilds
    /// `table` (`_remake_table`, sqlite3/schema.py) during the run, the last
    /// time with `columns` in this order (the model state's field order
    /// then), both by their names in the dump. Written by the rules helper,
    /// which knows the state at each step; without one dumpsed derives the
    /// order from the dump and the `--django-field` rules.
    pub fn add_django_rebuild(&mut self, table: &[u8], columns: Vec<Vec<u8>>) -> Result<()> {
        let shown = String::from_utf8_lossy(table).into_owned();
        let bad = |why: &str| Error::Rule(format!("django_rebuild {shown:?}: {why}"));
        if table.is_empty() || columns.is_empty() || columns.iter().any(|c| c.is_empty()) {
            return Err(bad("needs a table and its columns"));
        }
        for (i, c) in columns.iter().enumerate() {
            if columns[..i].contains(c) {
                return Err(bad(&format!("column {:?} given twice", String::from_utf8_lossy(c))));
            }
        }
        if self.django_rebuilds.iter().any(|(t, _)| t == table) {
            return Err(bad("given twice"));
        }
        self.django_rebuilds.push((table.to_vec(), columns));
        Ok(())
    }

    /// The `[[django_rebuild]]` rules: `(table, columns)`, input names.
    pub fn django_rebuilds(&self) -> &[(Vec<u8>, Vec<Vec<u8>>)] {
        &self.django_rebuilds
    }

    /// The `[[django_permissions]]` rules.
    pub fn django_permissions(&self) -> &[DjangoPermissions] {
        &self.django_permissions
    }

    /// Renames the model's permissions in place (Django 6.0 behaviour).
    pub fn set_rename_permissions(&mut self, on: bool) {
        self.rename_permissions = on;
    }

    /// The Django model renames.
    pub fn django_models(&self) -> &[DjangoModel] {
        &self.django
    }

    /// Migrations to mark applied, as `(app, name)`.
    pub fn mark_applied(&self) -> &[(String, String)] {
        &self.mark_applied
    }

    /// The `applied` timestamp for marked migrations, if set.
    pub fn applied_at(&self) -> Option<&str> {
        self.applied_at.as_deref()
    }

    /// Whether permissions are renamed in place.
    pub fn rename_permissions(&self) -> bool {
        self.rename_permissions
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
        if self
            .renames
            .iter()
            .any(|x| x.old == r.old && x.schema == r.schema)
        {
            return Err(Error::Rule(format!(
                "table {} is renamed twice",
                String::from_utf8_lossy(&r.old)
            )));
        }
        self.renames.push(r);
        // A rewrite added earlier may name the table by its new name.
        let resolved: Vec<_> = self
            .rewrites
            .iter()
            .map(|w| self.resolve_table(&w.table))
            .collect();
        for (w, t) in self.rewrites.iter_mut().zip(resolved) {
            w.table = t;
        }
        Ok(())
    }

    /// Adds a value rewrite of `table.column`. `table` may be given by its
    /// old or its new name.
    pub fn add_rewrite(&mut self, table: &str, column: &str, from: &[u8], to: &[u8]) -> Result<()> {
        let (schema, table) = split_qualified(table)?;
        if column.is_empty() {
            return Err(Error::Rule("empty column name".into()));
        }
        self.push_rewrite(ValueRewrite {
            schema: schema.map(|s| s.as_bytes().to_vec()),
            table: table.as_bytes().to_vec(),
            column: column.as_bytes().to_vec(),
            from: from.to_vec(),
            to: to.to_vec(),
            django_like: false,
            prefix_ignores_case: false,
        })
    }

    fn push_rewrite(&mut self, mut w: ValueRewrite) -> Result<()> {
        if w.from.is_empty() {
            return Err(Error::Rule("a value rewrite needs a non-empty FROM".into()));
        }
        w.table = self.resolve_table(&w.table);
        if self
            .rewrites
            .iter()
            .any(|x| x.table == w.table && x.column == w.column && x.schema == w.schema)
        {
            return Err(Error::Rule(format!(
                "column {}.{} has two rewrites",
                String::from_utf8_lossy(&w.table),
                String::from_utf8_lossy(&w.column)
            )));
        }
        self.rewrites.push(w);
        Ok(())
    }

    /// Adds a column rename of `table` (`schema.table` or `table`, by its
    /// old or new name): `old` → `new`.
    pub fn add_column_rename(&mut self, table: &str, old: &str, new: &str) -> Result<()> {
        let (schema, table) = split_qualified(table)?;
        if old.is_empty() || new.is_empty() || old.contains('.') || new.contains('.') {
            return Err(Error::Rule(format!(
                "column rename {old:?} → {new:?}: expected plain column names"
            )));
        }
        if old == new {
            return Err(Error::Rule(format!("rename of column {old} to itself")));
        }
        let table = self.resolve_table(table.as_bytes());
        let schema = schema.map(|s| s.as_bytes().to_vec());
        if self
            .column_renames
            .iter()
            .any(|c| c.table == table && c.schema == schema && c.old == old.as_bytes())
        {
            return Err(Error::Rule(format!("column {old} is renamed twice")));
        }
        self.column_renames.push(ColumnRenameRule {
            schema,
            table,
            old: old.as_bytes().to_vec(),
            new: new.as_bytes().to_vec(),
            django: false,
        });
        Ok(())
    }

    /// Adds a Django `RenameField`: column `old` of `table` → `new` (the
    /// database column names, e.g. `owner_id` → `keeper_id` for a
    /// `ForeignKey`), as a column rename whose foreign key also gets the
    /// name Django gives it.
    pub fn add_django_field(&mut self, table: &str, old: &str, new: &str) -> Result<()> {
        self.add_column_rename(table, old, new)?;
        if let Some(c) = self.column_renames.last_mut() {
            c.django = true;
        }
        Ok(())
    }

    /// Parses `APP.Model.OLD=NEW` as given to `--django-field` (the table
    /// is `app_model`; OLD and NEW are column names). `table` overrides
    /// the table for a model with `Meta.db_table`.
    pub fn parse_django_field(&mut self, spec: &str, table: Option<&str>) -> Result<()> {
        let bad = |why: &str| Error::InvalidRule { rule: RuleKind::DjangoField, spec: spec.into(), why: why.into() };
        let (target, new) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected APP.Model.OLD_COLUMN=NEW_COLUMN"))?;
        let mut parts = target.trim().splitn(3, '.');
        let (Some(app), Some(model), Some(old)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected APP.Model.OLD_COLUMN=NEW_COLUMN"));
        };
        for (what, name) in [("app label", app), ("model name", model)] {
            if !is_python_identifier(name) {
                return Err(bad(&format!(
                    "{what} {name:?} is not a valid Python identifier"
                )));
            }
        }
        let default = format!("{app}_{}", model.to_lowercase());
        self.add_django_field(table.unwrap_or(&default), old, new.trim())
    }

    /// Parses `APP.Model=NEW_TABLE` as given to `--django-table` (Django's
    /// `AlterModelTable`): the model's table, `app_model` unless `old`
    /// names it (a model that already has `Meta.db_table`), is renamed.
    pub fn parse_django_table(&mut self, spec: &str, old: Option<&str>) -> Result<()> {
        let bad = |why: &str| Error::InvalidRule { rule: RuleKind::DjangoTable, spec: spec.into(), why: why.into() };
        let (target, new) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected APP.Model=NEW_TABLE"))?;
        let (app, model) = target
            .trim()
            .split_once('.')
            .filter(|(a, m)| is_python_identifier(a) && is_python_identifier(m))
            .ok_or_else(|| bad("expected APP.Model=NEW_TABLE (Python identifiers)"))?;
        let default = format!("{app}_{}", model.to_lowercase());
        self.add_rename(old.unwrap_or(&default), new.trim())?;
        if let Some(r) = self.renames.last() {
            self.django_tables.push(r.old.clone());
        }
        Ok(())
    }

    /// Input names of the tables `--django-table` renames.
    pub fn django_tables(&self) -> &[Vec<u8>] {
        &self.django_tables
    }

    /// True when a Django rule needs the dump checked and finished by the
    /// appendix (model renames, fields, tables, migration rows).
    pub fn has_django(&self) -> bool {
        !self.django.is_empty()
            || !self.mark_applied.is_empty()
            || !self.django_tables.is_empty()
            || !self.django_permissions.is_empty()
            || !self.django_rebuilds.is_empty()
            || self.column_renames.iter().any(|c| c.django)
    }

    /// Parses `TABLE.OLD=NEW` as given to `--rename-column` (`TABLE` may be
    /// `schema.table`).
    pub fn parse_column_rename(&mut self, spec: &str) -> Result<()> {
        let bad = || Error::Rule(format!("{spec:?}: expected TABLE.OLD=NEW"));
        let (target, new) = spec.split_once('=').ok_or_else(bad)?;
        let (table, old) = target.trim().rsplit_once('.').ok_or_else(bad)?;
        self.add_column_rename(table, old, new.trim())
    }

    /// The column renames, tables by their input names.
    pub fn column_renames(&self) -> &[ColumnRenameRule] {
        &self.column_renames
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
            .map(|r| TableRename {
                schema: r.schema.clone(),
                old: r.new.clone(),
                new: r.old.clone(),
            })
            .collect();
        let rewrites = self
            .rewrites
            .iter()
            .map(|w| ValueRewrite {
                table: self
                    .renames
                    .iter()
                    .find(|r| r.old == w.table)
                    .map_or_else(|| w.table.clone(), |r| r.new.clone()),
                ..w.reversed()
            })
            .collect();
        let django = self
            .django
            .iter()
            .map(|d| DjangoModel {
                app: d.app.clone(),
                old_model: d.new_model.clone(),
                new_model: d.old_model.clone(),
                old_table: d.new_table.clone(),
                new_table: d.old_table.clone(),
                // Backwards the steps run in the other order: not known here.
                names_at_step: Vec::new(),
            })
            .collect();
        let column_renames = self
            .column_renames
            .iter()
            .map(|c| ColumnRenameRule {
                schema: c.schema.clone(),
                table: self
                    .renames
                    .iter()
                    .find(|r| r.old == c.table && r.schema == c.schema)
                    .map_or_else(|| c.table.clone(), |r| r.new.clone()),
                old: c.new.clone(),
                new: c.old.clone(),
                django: c.django,
            })
            .collect();
        Rules {
            renames,
            column_renames,
            rewrites,
            django,
            mark_applied: Vec::new(),
            applied_at: None,
            rename_permissions: self.rename_permissions,
            django_tables: self
                .renames
                .iter()
                .filter(|r| self.django_tables.contains(&r.old))
                .map(|r| r.new.clone())
                .collect(),
            // post_migrate adds permissions, never removes them.
            django_permissions: Vec::new(),
            reversed: !self.reversed,
            // Backwards the steps run in the other order: not known here.
            django_rebuilds: Vec::new(),
        }
    }

    /// True for rules made by [`Rules::reversed`] (`--reverse`): they undo
    /// a forward run.
    pub fn is_reversed(&self) -> bool {
        self.reversed
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
        self.renames.is_empty()
            && self.column_renames.is_empty()
            && self.rewrites.is_empty()
            && self.mark_applied.is_empty()
            && self.django.is_empty()
            && self.django_permissions.is_empty()
            && self.django_rebuilds.is_empty()
    }

    /// Maps a table given by its new name to its input (old) name.
    fn resolve_table(&self, table: &[u8]) -> Vec<u8> {
        self.renames
            .iter()
            .find(|r| r.new == table)
            .map_or_else(|| table.to_vec(), |r| r.old.clone())
    }
}

/// The rules file (`--rules FILE.toml`): everything the command line can
/// say. See the README for an example.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    preset: Option<String>,
    #[serde(default)]
    rename_table: Vec<RenameEntry>,
    #[serde(default)]
    rename_column: Vec<ColumnEntry>,
    #[serde(default)]
    rewrite: Vec<RewriteEntry>,
    #[serde(default)]
    django_model: Vec<DjangoEntry>,
    #[serde(default)]
    django_field: Vec<DjangoFieldEntry>,
    #[serde(default)]
    django_table: Vec<DjangoTableEntry>,
    #[serde(default)]
    django_permissions: Vec<DjangoPermissionsEntry>,
    #[serde(default)]
    django_rebuild: Vec<DjangoRebuildEntry>,
    #[serde(default)]
    mark_applied: Vec<String>,
    applied_at: Option<String>,
    #[serde(default)]
    rename_permissions: bool,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameEntry {
    old: String,
    new: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnEntry {
    /// `TABLE.OLD` or `SCHEMA.TABLE.OLD`
    column: String,
    new: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RewriteEntry {
    /// `TABLE.COLUMN`
    column: String,
    from: String,
    to: String,
    #[serde(default)]
    django_like: bool,
}

/// `[[django_field]]`: a `RenameField`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DjangoFieldEntry {
    /// `APP.Model.OLD_COLUMN`
    field: String,
    /// `NEW_COLUMN`
    new: String,
    /// The model's table when it sets `Meta.db_table` (default `app_model`).
    table: Option<String>,
}

/// `[[django_table]]`: an `AlterModelTable`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DjangoTableEntry {
    /// `APP.Model`
    model: String,
    /// The new table name.
    new: String,
    /// The table before, when the model already set `Meta.db_table`.
    old: Option<String>,
}

/// `[[django_permissions]]`: what `post_migrate` adds for a model.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DjangoPermissionsEntry {
    /// `APP.Model` (its name after the run)
    model: String,
    /// `[["codename", "name"], ...]`
    permissions: Vec<(String, String)>,
}

/// `[[django_rebuild]]`: the column order of Django's last SQLite rebuild
/// of a table in the run.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DjangoRebuildEntry {
    /// The table, by its name in the dump.
    table: String,
    /// Its columns, by their names in the dump, in the rebuilt order.
    columns: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DjangoEntry {
    /// `APP.OldModel`
    model: String,
    /// `NewModel`
    new: String,
    /// `OLD_TABLE=NEW_TABLE` for a model with `Meta.db_table`.
    db_table: Option<String>,
    /// `{ input_table = "name at this step" }` (see `DjangoModel`).
    #[serde(default)]
    names_at_step: std::collections::BTreeMap<String, String>,
}

impl Rules {
    /// Reads a rules file (TOML).
    pub fn from_toml(text: &str) -> Result<Rules> {
        let f: RulesFile =
            toml::from_str(text).map_err(|e| Error::Rule(format!("rules file: {e}")))?;
        let mut r = match &f.preset {
            Some(p) => Rules::preset(p)?,
            None => Rules::new(),
        };
        for e in &f.rename_table {
            r.add_rename(&e.old, &e.new)?;
        }
        for c in &f.rename_column {
            r.parse_column_rename(&format!("{}={}", c.column, c.new))?;
        }
        for d in &f.django_model {
            r.add_django_model(&format!("{}={}", d.model, d.new), d.db_table.as_deref())?;
            if !d.names_at_step.is_empty() {
                r.set_names_at_step(
                    d.names_at_step
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )?;
            }
        }
        for t in &f.django_table {
            r.parse_django_table(&format!("{}={}", t.model, t.new), t.old.as_deref())?;
        }
        for d in &f.django_field {
            r.parse_django_field(&format!("{}={}", d.field, d.new), d.table.as_deref())?;
        }
        for p in f.django_permissions {
            r.add_django_permissions(&p.model, p.permissions)?;
        }
        for b in f.django_rebuild {
            r.add_django_rebuild(
                b.table.as_bytes(),
                b.columns.into_iter().map(String::into_bytes).collect(),
            )?;
        }
        for w in &f.rewrite {
            let (table, column) = w.column.rsplit_once('.').ok_or_else(|| {
                Error::Rule(format!(
                    "rules file: rewrite column {:?} is not TABLE.COLUMN",
                    w.column
                ))
            })?;
            r.add_rewrite(table, column, w.from.as_bytes(), w.to.as_bytes())?;
            if let Some(last) = r.rewrites.last_mut() {
                last.django_like = w.django_like;
            }
        }
        for m in &f.mark_applied {
            r.add_mark_applied(m)?;
        }
        if let Some(at) = &f.applied_at {
            r.set_applied_at(at)?;
        }
        r.rename_permissions |= f.rename_permissions;
        Ok(r)
    }
}

/// Splits `schema.name` (or `name`) and checks both parts are non-empty.
fn split_qualified(s: &str) -> Result<(Option<&str>, &str)> {
    let (schema, name) = match s.split_once('.') {
        Some((a, b)) => (Some(a), b),
        None => (None, s),
    };
    if name.is_empty() || schema == Some("") || name.contains('.') {
        return Err(Error::Rule(format!(
            "{s:?} is not a table name (expected NAME or SCHEMA.NAME)"
        )));
    }
    Ok((schema, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(from: &str, to: &str) -> ValueRewrite {
        ValueRewrite {
            schema: None,
            table: b"t".to_vec(),
            column: b"c".to_vec(),
            from: from.into(),
            to: to.into(),
            django_like: false,
            prefix_ignores_case: false,
        }
    }

    #[test]
    fn rewrite_has_python_startswith_replace_semantics() {
        let r = rw("CAPA-", "SAP-");
        assert_eq!(
            r.apply(b"CAPA-2026-001").as_deref(),
            Some(&b"SAP-2026-001"[..])
        );
        assert_eq!(r.apply(b"CAPA-CAPA-9").as_deref(), Some(&b"SAP-SAP-9"[..]));
        assert_eq!(r.apply(b"CAPA-").as_deref(), Some(&b"SAP-"[..]));
        assert_eq!(r.apply(b"XCAPA-1"), None);
        assert_eq!(r.apply(b"capa-1"), None);
        assert_eq!(r.apply(b"LEGACY-7"), None);
        assert_eq!(r.apply(b""), None);
    }

    proptest::proptest! {
        /// The shortcuts of `reversible` agree with applying the reverse,
        /// for values made of the rule's own letters in both cases.
        #[test]
        fn reversible_agrees_with_the_reverse(v in "[CAPSaps1-]{0,14}", ignore in proptest::bool::ANY, to in "(SAP-|S|CAPA-SAP-|sap-|CAPA-|)") {
            let mut r = rw("CAPA-", &to);
            r.prefix_ignores_case = ignore;
            let v = v.as_bytes();
            let out = r.apply(v).unwrap_or_else(|| v.to_vec());
            let back = r.reversed().apply(&out).unwrap_or_else(|| out.clone());
            proptest::prop_assert_eq!(r.reversible(v, &out), back == v);
        }
    }

    #[test]
    fn reversible_matches_applying_the_reverse() {
        let mut like = rw("CAPA-", "SAP-");
        like.prefix_ignores_case = true;
        for r in [rw("CAPA-", "SAP-"), like] {
            for v in [
                "CAPA-1",
                "CAPA-CAPA-9",
                "CAPA-SAP-1",
                "SAP-1",
                "LEGACY",
                "CAPA-",
                "XCAPA-1",
                "SAP-CAPA-2",
                "",
                "Capa-CAPA-5",
                "sap-1",
                "capa-1",
            ] {
                let v = v.as_bytes();
                let out = r.apply(v).unwrap_or_else(|| v.to_vec());
                let back = r.reversed().apply(&out).unwrap_or_else(|| out.clone());
                assert_eq!(
                    r.reversible(v, &out),
                    back == v,
                    "{}",
                    String::from_utf8_lossy(v)
                );
            }
        }
    }

    #[test]
    fn like_prefix_ignores_ascii_case_only_in_selection() {
        let mut r = rw("CAPA-", "SAP-");
        r.prefix_ignores_case = true;
        assert_eq!(r.apply(b"Capa-CAPA-5").as_deref(), Some(&b"Capa-SAP-5"[..]));
        assert_eq!(r.apply(b"capa-1"), None);
    }

    #[test]
    fn django_models_are_validated() {
        let mut r = Rules::new();
        assert!(r.add_django_model("app.Old=New", None).is_ok());
        assert_eq!(r.renames()[0].old, b"app_old");
        assert!(r.add_django_model("bad-app.Old=New", None).is_err());
        assert!(r.add_django_model("app.1Old=New", None).is_err());
        assert!(r.add_django_model("app.Old", None).is_err());
        assert!(r.add_mark_applied("app.0002_x").is_ok());
        assert!(r.add_mark_applied("app").is_err());
    }

    #[test]
    fn django_field_and_table_are_thin_rules() {
        let mut r = Rules::new();
        r.parse_django_field("shop.Shelf.owner_id=keeper_id", None)
            .unwrap();
        let c = &r.column_renames()[0];
        assert_eq!(
            (&c.table[..], &c.old[..], &c.new[..], c.django),
            (
                &b"shop_shelf"[..],
                &b"owner_id"[..],
                &b"keeper_id"[..],
                true
            )
        );
        r.parse_django_table("shop.Bolt=bolt_new", None).unwrap();
        assert_eq!(r.renames()[0].old, b"shop_bolt");
        r.parse_django_table("shop.Nut=nut_new", Some("nut_old"))
            .unwrap();
        assert_eq!(r.renames()[1].old, b"nut_old");
        assert!(r.parse_django_field("shop.Shelf=x", None).is_err());
        assert!(r.parse_django_field("sh-op.Shelf.a=b", None).is_err());
        assert!(r.parse_django_table("shop=bolt", None).is_err());
        let t = Rules::from_toml(
            "[[django_field]]\nfield = \"shop.Shelf.owner_id\"\nnew = \"keeper_id\"\ntable = \"legacy\"\n\
             [[django_table]]\nmodel = \"shop.Bolt\"\nnew = \"bolt_new\"\n",
        )
        .unwrap();
        assert_eq!(t.column_renames()[0].table, b"legacy");
        assert!(t.column_renames()[0].django);
        assert_eq!(t.renames()[0].new, b"bolt_new");
    }

    #[test]
    fn django_model_with_db_table_kept_renames_no_table() {
        let mut r = Rules::new();
        r.add_django_model("app.Old=New", Some("legacy=legacy"))
            .unwrap();
        assert!(r.renames().is_empty());
        assert_eq!(r.django_models()[0].new_table, "legacy");
        assert!(!r.is_empty());
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
        assert_eq!(
            r.rewrites()[0].apply(b"SAP-SAP-9").as_deref(),
            Some(&b"CAPA-CAPA-9"[..])
        );
        assert_eq!(r.reversed(), Rules::preset("capa-to-sap").unwrap());
    }

    #[test]
    fn rules_file_says_what_the_command_line_says() {
        let text = r#"
            mark_applied = ["incident_safety.0002_rename_capa_to_safety_action_plan"]
            [[django_model]]
            model = "incident_safety.CorrectivePreventiveAction"
            new = "SafetyActionPlan"
            [[rewrite]]
            column = "incident_safety_safetyactionplan.reference_number"
            from = "CAPA-"
            to = "SAP-"
            django_like = true
        "#;
        let mut from_file = Rules::from_toml(text).unwrap();
        let mut by_hand = Rules::preset("capa-to-sap").unwrap();
        by_hand
            .add_mark_applied("incident_safety.0002_rename_capa_to_safety_action_plan")
            .unwrap();
        assert_eq!(from_file, by_hand);
        assert!(Rules::from_toml("bogus = 1").is_err());
        from_file.set_rename_permissions(true);
        assert!(from_file.rename_permissions());
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

    proptest::proptest! {
        /// `Applied` gives what the built new value gives: the same pieces,
        /// sample, prefix, reversibility and reversed sample, over values
        /// where FROM and TO recur, overlap and differ in case.
        #[test]
        fn applied_agrees_with_apply(
            v in "(CAPA-|SAP-|capa-|CA|S|x|-){0,12}",
            from in "(CAPA-|CA|SAP-|S|)",
            to in "(SAP-|S|CAPA-SAP-|sap-|CAPA-|SAPSAP|)",
            ignore in proptest::bool::ANY,
        ) {
            let mut r = rw(&from, &to);
            r.prefix_ignores_case = ignore;
            let v = v.as_bytes();
            let out = r.apply(v);
            let new = out.clone().unwrap_or_else(|| v.to_vec());
            let lazy = r.applied(v);
            proptest::prop_assert_eq!(lazy.changed(), out.is_some());
            let mut pieces = Vec::new();
            lazy.for_each(|p| pieces.extend_from_slice(p));
            proptest::prop_assert_eq!(&pieces, &new);
            proptest::prop_assert_eq!(lazy.sample(), Sample::of(&new));
            proptest::prop_assert_eq!(lazy.starts_with(&r.to), new.starts_with(&r.to));
            for needle in [&b"SAP-"[..], b"-S", b"x", b"CAPA-SAP"] {
                proptest::prop_assert_eq!(lazy.contains(needle), find(&new, needle).is_some());
            }
            proptest::prop_assert_eq!(lazy.reversible(), r.reversible(v, &new));
            let undo = r.reversed();
            proptest::prop_assert_eq!(lazy.sample_under(&undo), undo.apply_sample(&new));
        }

        /// The streamed replacement, in windows of any size and pieces cut
        /// anywhere, is the whole text's.
        #[test]
        fn stream_replace_agrees_with_the_whole(
            text in "(ab|a|b|aab|c){0,20}",
            from in "(ab|a|aa|aab|bab)",
            to in "(x|ab|)",
            cuts in proptest::collection::vec(0usize..60, 0..5),
            window in 1usize..6,
        ) {
            let text = text.as_bytes();
            let mut want = Vec::new();
            // `replace_selected` replaces only in a text starting with FROM.
            proptest::prop_assume!(text.starts_with(from.as_bytes()));
            replace_selected(text, from.as_bytes(), to.as_bytes(), false, &mut want);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.sort_unstable();
            let mut s = StreamReplace::new(from.as_bytes(), to.as_bytes());
            s.window = window;
            let mut got = Vec::new();
            let mut out = |p: &[u8]| got.extend_from_slice(p);
            let mut at = 0;
            for c in cuts.into_iter().chain([text.len()]) {
                s.push(&text[at..c], &mut out);
                at = c;
            }
            s.finish(&mut out);
            proptest::prop_assert_eq!(got, want);
        }
    }
}
