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

/// The name Django gives the foreign key `table.column` → `to_table.to_column`.
pub fn fk_constraint_name(table: &str, column: &str, to_table: &str, to_column: &str, max_len: usize) -> String {
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
        let starts_word = c.is_ascii_uppercase()
            && (prev_lower || next.is_some_and(|n| !n.is_ascii_uppercase()));
        if starts_word {
            out.push(' ');
        }
        out.push(c);
    }
    out.trim().to_lowercase()
}

/// True for a valid Python identifier made of ASCII (app labels and model
/// class names).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
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
        for file in ["fixtures/django/pg/django-names.tsv", "fixtures/django/sqlite/django-names.tsv"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
            let text = std::fs::read_to_string(&path).expect("names table");
            for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
                let f: Vec<&str> = line.split('\t').collect();
                let (table, columns, suffix, max, digest, want) = (f[1], f[2], f[3], f[4], f[5], f[6]);
                let cols: Vec<&str> = columns.split(',').collect();
                let max: usize = max.parse().expect("max length");
                let mut args = vec![unqualified(table)];
                args.extend(&cols);
                assert_eq!(names_digest(&args), digest, "{line}");
                assert_eq!(create_index_name(table, &cols, suffix, max), want, "{line}");
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} names checked");
    }

    #[test]
    fn verbose_names() {
        assert_eq!(verbose_name("SafetyActionPlan"), "safety action plan");
        assert_eq!(verbose_name("CorrectivePreventiveAction"), "corrective preventive action");
        assert_eq!(verbose_name("HTTPServer"), "http server");
        assert_eq!(verbose_name("RCA"), "rca");
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("incident_safety"));
        assert!(is_identifier("SafetyActionPlan"));
        assert!(!is_identifier("1abc"));
        assert!(!is_identifier("a-b"));
        assert!(!is_identifier(""));
    }
}
