//! Django's schema naming, so a model rename produces the constraint names
//! `manage.py migrate` would.
//!
//! From `django/db/backends/base/schema.py` (Django 5.2):
//! `_create_index_name(table_name, column_names, suffix)` builds
//! `table_col1_col2_<digest><suffix>` where digest is the first 8 hex digits
//! of the MD5 of the table name and column names concatenated
//! (`django/db/backends/utils.py`, `names_digest`); if that is longer than
//! the backend's `max_name_length()` (63 on PostgreSQL, 200 on SQLite) the
//! digest+suffix part is cut to a third of the maximum, table and columns to
//! `(max - len(part)) // 2 - 1` each, and a name starting with `_` or a
//! digit gets a `D` prefix (dropping its last character). Foreign keys use
//! the suffix `_fk_<to_table>_<to_column>` (`_fk_constraint_name`), with
//! `to_table` stripped of any schema (`split_identifier`).

use md5::{Digest, Md5};

use crate::frame::lexer::Dialect;
use crate::decide::plan::Plan;

/// PostgreSQL's `max_name_length()` (NAMEDATALEN - 1).
pub const PG_MAX_NAME: usize = 63;
/// SQLite's `max_name_length()` as Django sets it.
pub const SQLITE_MAX_NAME: usize = 200;

/// `names_digest(*args, length=8)`.
pub fn names_digest(args: &[&str]) -> String {
    let mut h = Md5::new();
    for a in args {
        h.update(a.as_bytes());
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    hex[..8].to_string()
}

/// Django's `split_identifier`: the name without a `"schema".` qualifier.
fn unqualified(table: &str) -> &str {
    match table.split_once("\".\"") {
        Some((_, name)) => name.trim_matches('"'),
        None => table.trim_matches('"'),
    }
}

/// `BaseDatabaseSchemaEditor._create_index_name`.
pub fn create_index_name(table: &str, columns: &[&str], suffix: &str, max_len: usize) -> String {
    let table = unqualified(table);
    let mut args = vec![table];
    args.extend_from_slice(columns);
    let mut hash_suffix = format!("{}{}", names_digest(&args), suffix);
    let cols = columns.join("_");
    let name = format!("{table}_{cols}_{hash_suffix}");
    if name.chars().count() <= max_len {
        return name;
    }
    if hash_suffix.chars().count() > max_len / 3 {
        hash_suffix = hash_suffix.chars().take(max_len / 3).collect();
    }
    let other = (max_len - hash_suffix.chars().count()) / 2 - 1;
    let cut = |s: &str| s.chars().take(other).collect::<String>();
    let mut name = format!("{}_{}_{}", cut(table), cut(&cols), hash_suffix);
    if name.starts_with('_') || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.pop();
        name.insert(0, 'D');
    }
    name
}

/// True when `name` is the name `_create_index_name` gives some table's
/// index on `columns` with `suffix`, uncut: `<table>_<columns>_<digest><suffix>`
/// whose digest is `names_digest(table, *columns)`. The table is read
/// off the name, so an index Django named under an earlier table name
/// (kept by an `AlterModelTable`, which only renames) is recognised too;
/// the digest makes it exact.
pub fn is_generated_index_name(name: &str, columns: &[&str], suffix: &str) -> bool {
    let table_of = || {
        let rest = name.strip_suffix(suffix)?;
        let at = rest.len().checked_sub(8)?;
        let (head, digest) = (rest.get(..at)?, rest.get(at..)?);
        Some((
            head.strip_suffix(&format!("_{}_", columns.join("_")))?,
            digest,
        ))
    };
    table_of().is_some_and(|(table, digest)| {
        let mut args = vec![table];
        args.extend_from_slice(columns);
        !table.is_empty() && names_digest(&args) == digest
    })
}

/// The name Django gives the foreign key `table.column` → `to_table.to_column`.
pub fn fk_constraint_name(
    table: &str,
    column: &str,
    to_table: &str,
    to_column: &str,
    max_len: usize,
) -> String {
    let suffix = format!("_fk_{}_{}", unqualified(to_table), to_column);
    create_index_name(table, &[column], &suffix, max_len)
}

/// `camel_case_to_spaces` (`django/utils/text.py`): the default
/// `verbose_name` of a model class name, e.g. `SafetyActionPlan` →
/// `safety action plan`.
pub fn verbose_name(class_name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = class_name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // re.sub("(((?<=[a-z])[A-Z])|([A-Z](?![A-Z]|$)))", " \\1", value)
        let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
        let next = chars.get(i + 1);
        let starts_word =
            c.is_ascii_uppercase() && (prev_lower || next.is_some_and(|n| !n.is_ascii_uppercase()));
        if starts_word {
            out.push(' ');
        }
        out.push(c);
    }
    out.trim().to_lowercase()
}

/// What the reader saw of a Django database, for [`appendix`].
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub content_types: bool,
    pub permissions: bool,
    pub migrations: bool,
    /// Tables Django's SQLite backend rebuilds or re-creates on the rename;
    /// their AUTOINCREMENT counters restart at max(id).
    pub rebuilt: Vec<Rebuilt>,
    /// The appendix was placed.
    pub generated: bool,
    /// Tables named by `--django-field` / `--django-table` rules, or kept
    /// by a `--django-model` (`Meta.db_table`), that the dump creates, with
    /// their columns (input names).
    pub targets: Vec<(Vec<u8>, Vec<Vec<u8>>)>,
}

/// A table Django's SQLite backend rebuilds (`_remake_table`) or re-creates
/// (a many-to-many table under a new name) during the run.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    /// Its input name.
    pub table: Vec<u8>,
    /// Its name at the last step that rebuilds it, when a later operation
    /// renames it again (that step's `names_at_step`); `None`: its final
    /// name. Django names the re-created indexes from it.
    pub name_then: Option<String>,
    /// The new order of its columns (column `order[i]` of the dump at place
    /// `i`), when the rebuild writes them in another order than the dump's.
    pub order: Option<std::sync::Arc<Vec<usize>>>,
}

impl Seen {
    /// True when the dump has Django's table `table` (one of
    /// [`tables_needed`]'s).
    pub fn has(&self, table: &str) -> bool {
        match table {
            "django_content_type" => self.content_types,
            "auth_permission" => self.permissions,
            "django_migrations" => self.migrations,
            _ => false,
        }
    }

    /// Notes a `CREATE TABLE`, `COPY` or `INSERT` of `name`.
    pub fn saw_table(&mut self, name: &[u8]) {
        match name {
            b"django_content_type" => self.content_types = true,
            b"auth_permission" => self.permissions = true,
            b"django_migrations" => self.migrations = true,
            _ => {}
        }
    }
}

/// The comment line that opens what [`appendix`] adds to a plain dump (at
/// its end) or an SQLite script (before its `COMMIT;`): `--reverse` finds a
/// forward run's additions by it and takes them out.
pub const APPENDIX_MARKER: &str =
    "-- dumpsed: what manage.py migrate does besides the schema (content types, permissions, migration records)";

/// True when `stmt` is a statement [`appendix`] writes, by its opening
/// words: what may follow [`APPENDIX_MARKER`] in a forward run's output.
pub fn is_appendix_statement(dialect: Dialect, stmt: &[u8]) -> bool {
    let q = |t: &str| match dialect {
        Dialect::Postgres => format!("public.{t}"),
        Dialect::Sqlite => t.to_string(),
    };
    let (ct, perm, mig) = (q("django_content_type"), q("auth_permission"), q("django_migrations"));
    let mut heads = vec![
        format!("UPDATE {ct} SET model = "),
        format!("UPDATE {perm} SET codename = "),
        format!("INSERT INTO {perm} (name, content_type_id, codename) SELECT "),
        format!("INSERT INTO {mig} (app, name, applied) VALUES ("),
    ];
    if dialect == Dialect::Sqlite {
        heads.push("UPDATE sqlite_sequence SET seq = (SELECT max(rowid) FROM ".into());
        heads.push("DELETE FROM sqlite_sequence WHERE name = ".into());
    }
    heads.iter().any(|h| stmt.starts_with(h.as_bytes()))
}

/// `'text'` as an SQL string literal.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The SQL that finishes a Django model rename after the dump's own data
/// is restored: what `manage.py migrate` changes besides the schema.
///
/// * `RenameModel.database_forwards` renames the `django_content_type` row
///   in place (`contenttypes/management/__init__.py`, `RenameContentType`).
/// * `post_migrate` runs `create_permissions`
///   (`auth/management/__init__.py`), which adds `add/change/delete/view`
///   permissions for the new model name; Django 6.0's `RenamePermission`
///   renames the old ones instead (`--rename-permissions`).
/// * Each applied migration gets a `django_migrations` row.
/// * On SQLite, tables Django rebuilds restart their AUTOINCREMENT counter
///   at max(id), as `INSERT … SELECT` into a new table leaves it.
///
/// Ids come from the tables' own sequences, as they did live.
///
/// Fails, naming it, when a `--django-field` or `--django-table` rule names
/// a table or column the dump does not create.
pub fn appendix(plan: &Plan, seen: &Seen, now: &str) -> Result<Vec<u8>, String> {
    let pg = plan.dialect == Dialect::Postgres;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let same = |a: &[u8], b: &[u8]| crate::codec::ident::same_name(plan.dialect, a, b);
    let cols_of = |t: &[u8]| {
        seen.targets
            .iter()
            .find(|(n, _)| same(n, t))
            .map(|(_, c)| c)
    };
    // A model keeping its `Meta.db_table` renames no table, so the check
    // of renamed tables (job.rs) does not see it.
    for d in plan.django.iter().filter(|d| d.old_table == d.new_table) {
        if cols_of(d.old_table.as_bytes()).is_none() {
            return Err(format!(
                "Django model rename {}.{}: its table {} (Meta.db_table) is not in this dump",
                d.app, d.old_model, d.old_table
            ));
        }
    }
    // A RenameModel names the model's table `app_newmodel`, or keeps its
    // `Meta.db_table` (`RenameModel.state_forwards`); any other new name
    // is an AlterModelTable folded in, and Django names the keys and
    // indexes it re-creates from the tables' names between the two steps,
    // which a hand-written rule must say (their order is not in it).
    for d in plan.django.iter().filter(|d| d.names_at_step.is_empty()) {
        let default_old = format!("{}_{}", d.app, d.old_model.to_lowercase());
        let step = if d.old_table == default_old {
            format!("{}_{}", d.app, d.new_model.to_lowercase())
        } else {
            d.old_table.clone()
        };
        if d.new_table != step {
            return Err(format!(
                "Django model rename {}.{}={} with db_table {}={}: a RenameModel names its table {step}, so an \
                 AlterModelTable to {} follows it, and Django names the keys and indexes it re-creates from the \
                 tables' names between the two steps: say them with names_at_step = {{ \"{}\" = \"{step}\" }} \
                 (and each many-to-many table of the model, by its name then), as the rules helper \
                 dumpsed-django writes them",
                d.app, d.old_model, d.new_model, d.old_table, d.new_table, d.new_table, d.old_table
            ));
        }
    }
    for t in plan.rules.django_tables() {
        if cols_of(t).is_none() {
            return Err(format!(
                "Django table rename: table {} is not in this dump (a model with Meta.db_table: give its table)",
                text(t)
            ));
        }
    }
    for (t, _) in plan.rules.django_rebuilds() {
        if cols_of(t).is_none() {
            return Err(format!(
                "django_rebuild: table {} is not in this dump",
                text(t)
            ));
        }
    }
    for c in plan.rules.column_renames().iter().filter(|c| c.django) {
        match cols_of(&c.table) {
            None => {
                return Err(format!(
                    "Django field rename: table {} is not in this dump",
                    text(&c.table)
                ))
            }
            Some(cols) if !cols.iter().any(|x| same(x, &c.old)) => {
                return Err(format!(
                    "Django field rename: table {} has no column {} (a ForeignKey's column is FIELD_id)",
                    text(&c.table),
                    text(&c.old)
                ))
            }
            Some(_) => {}
        }
    }
    let q = |t: &str| {
        if pg {
            format!("public.{t}")
        } else {
            t.to_string()
        }
    };
    let (ct, perm, mig) = (
        q("django_content_type"),
        q("auth_permission"),
        q("django_migrations"),
    );
    let mut out = format!("\n{APPENDIX_MARKER}\n");
    let mut any = false;
    for d in &plan.django {
        let (old, new) = (d.old_model.to_lowercase(), d.new_model.to_lowercase());
        if seen.content_types {
            any = true;
            out += &format!(
                "UPDATE {ct} SET model = {} WHERE app_label = {} AND model = {};\n",
                lit(&new),
                lit(&d.app),
                lit(&old)
            );
        }
        if !(seen.content_types && seen.permissions) {
            continue;
        }
        let verbose = verbose_name(&d.new_model);
        let ct_id = format!(
            "SELECT id FROM {ct} WHERE app_label = {} AND model = {}",
            lit(&d.app),
            lit(&new)
        );
        // A [[django_permissions]] of the renamed model says what
        // post_migrate adds for it instead of the four defaults.
        let listed = plan
            .rules
            .django_permissions()
            .iter()
            .any(|p| p.app == d.app && p.model == new);
        for action in ["add", "change", "delete", "view"] {
            let name = format!("Can {action} {verbose}");
            let code = format!("{action}_{new}");
            if plan.rules.rename_permissions() {
                out += &format!(
                    "UPDATE {perm} SET codename = {}, name = {} WHERE codename = {} AND content_type_id = ({ct_id});\n",
                    lit(&code),
                    lit(&name),
                    lit(&format!("{action}_{old}"))
                );
            } else if !listed {
                out += &insert_permission(&ct, &perm, &d.app, &new, &code, &name);
            }
        }
    }
    if seen.content_types && seen.permissions {
        for p in plan.rules.django_permissions() {
            for (code, name) in &p.permissions {
                any = true;
                out += &insert_permission(&ct, &perm, &p.app, &p.model, code, name);
            }
        }
    }
    let marks = plan.rules.mark_applied();
    if !marks.is_empty() && !seen.migrations {
        return Err("migrations marked applied: the dump has no django_migrations table".into());
    }
    let at = plan.rules.applied_at().unwrap_or(now);
    for (app, name) in marks {
        any = true;
        out += &format!(
            "INSERT INTO {mig} (app, name, applied) VALUES ({}, {}, {});\n",
            lit(app),
            lit(name),
            lit(at)
        );
    }
    if !pg {
        for t in &seen.rebuilt {
            any = true;
            let name = String::from_utf8_lossy(plan.new_table_name(&t.table)).into_owned();
            let quoted = format!("\"{}\"", name.replace('"', "\"\""));
            out += &format!(
                "UPDATE sqlite_sequence SET seq = (SELECT max(rowid) FROM {quoted}) WHERE name = {};\n\
                 DELETE FROM sqlite_sequence WHERE name = {} AND seq IS NULL;\n",
                lit(&name),
                lit(&name)
            );
        }
    }
    Ok(if any { out.into_bytes() } else { Vec::new() })
}

/// The row `create_permissions` adds for content type `app`.`model` unless
/// it has permission `code` already (`auth/management/__init__.py`).
fn insert_permission(
    ct: &str,
    perm: &str,
    app: &str,
    model: &str,
    code: &str,
    name: &str,
) -> String {
    let (code, name) = (lit(code), lit(name));
    format!(
        "INSERT INTO {perm} (name, content_type_id, codename) SELECT {name}, c.id, {code} FROM {ct} c \
         WHERE c.app_label = {} AND c.model = {} AND NOT EXISTS \
         (SELECT 1 FROM {perm} p WHERE p.content_type_id = c.id AND p.codename = {code});\n",
        lit(app),
        lit(model)
    )
}

/// Which Django rules write to one of Django's own tables
/// ([`tables_needed`]); code compares these, messages say them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeededBy {
    /// A Django model rename (its content type and permissions).
    ModelRename,
    /// `[[django_permissions]]` without a model rename.
    Permissions,
    /// Migrations marked applied (their `django_migrations` rows).
    MarkApplied,
}

impl std::fmt::Display for NeededBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NeededBy::ModelRename => "Django model rename",
            NeededBy::Permissions => "[[django_permissions]]",
            NeededBy::MarkApplied => "migrations marked applied",
        })
    }
}

/// Django's own tables that the Django rules write to.
pub const DJANGO_TABLES: [&str; 3] = ["django_content_type", "auth_permission", "django_migrations"];

/// The tables of [`tables_needed`] a dump lacks that are an error, each with
/// the rule that needs it; `has` says whether the dump (or the archive's
/// TOC) has one of [`DJANGO_TABLES`]. A dump with none of them is not of a
/// Django database (the preset on any dump of the renamed tables): a model
/// rename then adds nothing and needs none. A Django database's dump
/// without one of them (`pg_dump -t/-T`) is refused, and marked migrations
/// need their table in any dump. Plain dumps and archives ask here alike.
pub fn tables_missing(rules: &crate::rules::Rules, has: impl Fn(&str) -> bool) -> Vec<(&'static str, NeededBy)> {
    let django_db = DJANGO_TABLES.iter().any(|t| has(t));
    tables_needed(rules)
        .into_iter()
        .filter(|&(table, rule)| !has(table) && (django_db || rule == NeededBy::MarkApplied))
        .collect()
}

/// Django's own tables that the Django rules write to, and the rules that
/// need each: `(table, rule)`. A model rename renames its content type
/// (`RenameContentType`) and `post_migrate` adds its permissions
/// (`create_permissions`); migrations marked applied add `django_migrations` rows.
pub fn tables_needed(rules: &crate::rules::Rules) -> Vec<(&'static str, NeededBy)> {
    let mut v = Vec::new();
    let perms = !rules.django_models().is_empty() || !rules.django_permissions().is_empty();
    if perms {
        let why = if rules.django_models().is_empty() { NeededBy::Permissions } else { NeededBy::ModelRename };
        v.push(("django_content_type", why));
        v.push(("auth_permission", why));
    }
    if !rules.mark_applied().is_empty() {
        v.push(("django_migrations", NeededBy::MarkApplied));
    }
    v
}

/// Why `create` (the `CREATE TABLE` of Django's table `table`, as pg_dump
/// or sqlite3's `.dump` writes it) is not the shape the Django rules write
/// for (Django ≥ 1.8, as 5.2 leaves it), or `None` when it is. The older
/// shapes, from Django's own migrations:
/// - `django_content_type` with a `name` column: `contenttypes`
///   `0001_initial` (`name` CharField(max_length=100)), before
///   `0002_remove_content_type_name` removed it;
/// - `auth_permission.name` `varchar(50)`: `auth` `0001_initial`, before
///   `0002_alter_permission_name_max_length` made it 255 (permission names
///   of long verbose names do not fit).
///
/// Missing columns (a table of that name that is not Django's) too. The
/// columns are read as every other `CREATE TABLE` is (`statement`).
pub fn older_shape(dialect: Dialect, table: &str, create: &[u8]) -> Option<String> {
    let want: &[&str] = match table {
        "django_content_type" => &["id", "app_label", "model"],
        "auth_permission" => &["id", "name", "content_type_id", "codename"],
        "django_migrations" => &["id", "app", "name", "applied"],
        _ => return None,
    };
    let body_at = match crate::decide::statement::head(dialect, create) {
        crate::decide::statement::Head::CreateTable { body_at, .. } => Some(body_at),
        _ => None,
    };
    let columns = body_at.map(|at| crate::decide::statement::table_columns(dialect, create, at)).unwrap_or_default();
    let has = |c: &str| columns.iter().any(|x| crate::codec::ident::same_name(dialect, x, c.as_bytes()));
    let missing: Vec<&str> = want.iter().copied().filter(|w| !has(w)).collect();
    if !missing.is_empty() {
        return Some(format!(
            "table {table} has no column {} (not Django's {table}?)",
            missing.join(", ")
        ));
    }
    if table == "django_content_type" && has("name") {
        return Some(
            "django_content_type has a name column: an older Django's shape (contenttypes \
             0002_remove_content_type_name not applied); migrate the database with its Django first"
                .into(),
        );
    }
    let name_len = body_at.and_then(|at| crate::decide::statement::column_facts(dialect, create, at, b"name").max_len);
    if table == "auth_permission" && name_len == Some(50) {
        return Some(
            "auth_permission.name is varchar(50): an older Django's shape (auth \
             0002_alter_permission_name_max_length not applied); migrate the database with its Django first"
                .into(),
        );
    }
    None
}

/// The current UTC time as Django stores `applied` (`YYYY-MM-DD
/// HH:MM:SS.ffffff`, with `+00` on PostgreSQL).
pub fn now_utc(dialect: Dialect) -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let tz = if dialect == Dialect::Postgres {
        "+00"
    } else {
        ""
    };
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}{tz}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name in the table Django itself computed
    /// (`fixtures/django/*/django-names.tsv`, from `fixture_tools`'
    /// `django_names` command under real Django 5.2).
    #[test]
    fn matches_names_from_real_django() {
        let mut checked = 0;
        for file in [
            "fixtures/django/pg/django-names.tsv",
            "fixtures/django/sqlite/django-names.tsv",
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            let text = std::fs::read_to_string(&path).expect("names table");
            for line in text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            {
                let f: Vec<&str> = line.split('\t').collect();
                let (table, columns, suffix, max, digest, want) =
                    (f[1], f[2], f[3], f[4], f[5], f[6]);
                let cols: Vec<&str> = columns.split(',').collect();
                let max: usize = max.parse().expect("max length");
                let mut args = vec![unqualified(table)];
                args.extend(&cols);
                assert_eq!(names_digest(&args), digest, "{line}");
                assert_eq!(create_index_name(table, &cols, suffix, max), want, "{line}");
                // An uncut name is recognised as Django's from the name alone.
                let uncut =
                    want == format!("{}_{}_{digest}{suffix}", unqualified(table), cols.join("_"));
                assert_eq!(
                    is_generated_index_name(want, &cols, suffix),
                    uncut,
                    "{line}"
                );
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} names checked");
    }

    #[test]
    fn generated_index_names_only() {
        let name = create_index_name("drawer_v1_entries", &["drawer_id"], "", SQLITE_MAX_NAME);
        assert!(is_generated_index_name(&name, &["drawer_id"], ""));
        assert!(!is_generated_index_name(&name, &["entry_id"], ""));
        assert!(!is_generated_index_name(&name, &["drawer_id"], "_uniq"));
        // A digest that is not the table's and columns' own.
        let other = name.replace("drawer_v1_entries", "cabinet_v2_entries");
        assert!(!is_generated_index_name(&other, &["drawer_id"], ""));
        assert!(!is_generated_index_name("ix_drawer", &["drawer_id"], ""));
        assert!(!is_generated_index_name(
            "_drawer_id_12345678",
            &["drawer_id"],
            ""
        ));
        assert!(!is_generated_index_name("t_é_1234567", &["é"], ""));
    }

    #[test]
    fn verbose_names() {
        assert_eq!(verbose_name("SafetyActionPlan"), "safety action plan");
        assert_eq!(
            verbose_name("CorrectivePreventiveAction"),
            "corrective preventive action"
        );
        assert_eq!(verbose_name("HTTPServer"), "http server");
        assert_eq!(verbose_name("RCA"), "rca");
    }

    /// The shapes of Django's own migrations (contenttypes 0001/0002, auth
    /// 0001/0002), as pg_dump writes them.
    #[test]
    fn older_shapes() {
        let ct_now = b"CREATE TABLE public.django_content_type (\n    id integer NOT NULL,\n    app_label character varying(100) NOT NULL,\n    model character varying(100) NOT NULL\n);\n";
        let ct_old = b"CREATE TABLE public.django_content_type (\n    id integer NOT NULL,\n    name character varying(100) NOT NULL,\n    app_label character varying(100) NOT NULL,\n    model character varying(100) NOT NULL\n);\n";
        let perm = |n: u32| format!("CREATE TABLE public.auth_permission (\n    id integer NOT NULL,\n    name character varying({n}) NOT NULL,\n    content_type_id integer NOT NULL,\n    codename character varying(100) NOT NULL\n);\n");
        assert_eq!(older_shape(Dialect::Postgres, "django_content_type", ct_now), None);
        assert!(older_shape(Dialect::Postgres, "django_content_type", ct_old).is_some_and(|m| m.contains("0002_remove_content_type_name")));
        assert_eq!(older_shape(Dialect::Postgres, "auth_permission", perm(255).as_bytes()), None);
        assert!(older_shape(Dialect::Postgres, "auth_permission", perm(50).as_bytes()).is_some_and(|m| m.contains("0002_alter_permission_name_max_length")));
        assert!(older_shape(Dialect::Postgres, "django_migrations", b"CREATE TABLE public.django_migrations (\n    id integer NOT NULL,\n    app character varying(255) NOT NULL\n);\n")
            .is_some_and(|m| m.contains("no column name, applied")));
        // sqlite3's .dump of Django's SQLite tables (quoted names, `varchar(N)`).
        let sq_perm = |n: u32| format!("CREATE TABLE IF NOT EXISTS \"auth_permission\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, \"content_type_id\" integer NOT NULL REFERENCES \"django_content_type\" (\"id\") DEFERRABLE INITIALLY DEFERRED, \"codename\" varchar(100) NOT NULL, \"name\" varchar({n}) NOT NULL);");
        assert_eq!(older_shape(Dialect::Sqlite, "auth_permission", sq_perm(255).as_bytes()), None);
        assert!(older_shape(Dialect::Sqlite, "auth_permission", sq_perm(50).as_bytes()).is_some_and(|m| m.contains("varchar(50)")));
        let sq_ct = |extra: &str| format!("CREATE TABLE IF NOT EXISTS \"django_content_type\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, \"app_label\" varchar(100) NOT NULL, \"model\" varchar(100) NOT NULL{extra}, CONSTRAINT \"x\" UNIQUE (\"app_label\", \"model\"));");
        assert_eq!(older_shape(Dialect::Sqlite, "django_content_type", sq_ct("").as_bytes()), None);
        assert!(older_shape(Dialect::Sqlite, "django_content_type", sq_ct(", \"name\" varchar(100) NULL").as_bytes()).is_some_and(|m| m.contains("name column")));
    }

    #[test]
    fn now_is_a_timestamp() {
        let t = now_utc(Dialect::Postgres);
        assert_eq!(t.len(), "2026-11-26 06:35:05.371217+00".len(), "{t}");
        assert!(t.starts_with("20") && t.ends_with("+00"));
    }
}
