//! What `inspect` and `rewrite --dry-run` print: the report of a plain
//! dump's rewrite, or of an archive's, as text or JSON.

use std::io::Write as _;

use serde_json::json;

use dumpsed::{ArchiveSummary, Dialect, Error, Summary};

/// Appends a line to the report's text (a `String`, which cannot fail to
/// take it).
macro_rules! say {
    ($o:expr, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($o, $($t)*);
    }};
}

/// Writes the report to stdout. A closed pipe (`inspect … | head -1`) is
/// an error the caller ends on quietly (main.rs, exit 141), where
/// `println!` would panic.
pub(crate) fn emit(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing the report to stdout", e))
}

/// Prints the report of an archive's whole rewrite, written nowhere (for
/// `rewrite --dry-run` and `inspect`, which agree): the archive format,
/// version and compression from its header, and the archive's own size
/// beside that of the SQL text inside.
pub fn print_archive_report(a: &ArchiveSummary, json: bool) -> Result<(), Error> {
    match &a.report {
        Some(s) => emit(&report(s, Some(a), json))?,
        None => eprintln!("dumpsed: nothing to report"),
    }
    for added in &a.added {
        eprintln!("dumpsed: {added}");
    }
    for w in &a.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL plain dump",
        Dialect::Sqlite => "SQLite dump",
    }
}

/// Prints a plain dump's report to stdout, as text or JSON.
pub fn print_report(s: &Summary, as_json: bool) -> Result<(), Error> {
    emit(&report(s, None, as_json))
}

/// A report's text or JSON, to print. For an archive (`archive`
/// is the rewrite's summary) the format, compression and size are the
/// archive's, and the SQL text's size is given beside.
fn report(s: &Summary, archive: Option<&ArchiveSummary>, as_json: bool) -> String {
    let mut o = String::new();
    let format = match archive {
        Some(a) => format!("pg_dump {} archive", a.format),
        None => dialect_name(s.dialect).to_string(),
    };
    let compression = match archive {
        Some(a) => a.compression.clone(),
        None => s.compression.to_string(),
    };
    let encoding = s.encoding.clone().unwrap_or_else(|| match s.dialect {
        Dialect::Sqlite => "UTF-8 (SQLite dumps are UTF-8)".into(),
        Dialect::Postgres => "not declared".into(),
    });
    if as_json {
        let v = json!({
            "format": format,
            "encoding": encoding,
            "compression": compression,
            "versions": s.versions,
            "triggers": s.triggers.iter().map(|t| json!({"table": t.table, "trigger": t.name, "events": t.events})).collect::<Vec<_>>(),
            "warnings": s.trigger_warnings.iter().chain(&s.warnings).map(ToString::to_string).collect::<Vec<_>>(),
            "bytes": s.bytes_in,
            "tables": s.tables.iter().map(|t| json!({"table": t.table, "rows": t.rows, "bytes": t.bytes})).collect::<Vec<_>>(),
            "renames": s.renames.iter().map(|r| json!({"old": r.old, "new": r.new, "references": r.references})).collect::<Vec<_>>(),
            "renamed_in": s.renamed_in.iter().map(|c| json!({"statement": c.what, "count": c.count})).collect::<Vec<_>>(),
            "rewrites": s.rewrites.iter().map(|w| json!({
                "column": w.column, "change": w.change, "values": w.rewritten,
                // As pairs and triples (the JSON of the tuples they were).
                "examples": w.examples.iter().map(|e| json!([e.old.text(), e.new.text()])).collect::<Vec<_>>(),
                "irreversible": w.irreversible,
                "irreversible_examples": w.irreversible_examples.iter()
                    .map(|e| json!([e.input.text(), e.output.text(), e.reversed.text()])).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "left_alone": s.left_alone.iter().map(|c| json!({"where": c.what, "count": c.count})).collect::<Vec<_>>(),
            // Django's applied migrations, for dumpsed-django --applied-from;
            // null: the dump has no django_migrations table.
            "django_migrations": s.django_migrations.as_ref().map(|rows| rows.iter().map(|r| {
                let text = |v: &Option<Vec<u8>>| v.as_deref().map(|b| String::from_utf8_lossy(b).into_owned());
                json!({"app": text(&r.app), "name": text(&r.name), "applied": text(&r.applied)})
            }).collect::<Vec<_>>()),
        });
        let v = match (archive, v) {
            (Some(a), serde_json::Value::Object(mut m)) => {
                m.insert("archive_version".into(), json!(a.version));
                m.insert("bytes".into(), json!(a.bytes_in));
                m.insert("text_bytes".into(), json!(s.bytes_in));
                serde_json::Value::Object(m)
            }
            (_, v) => v,
        };
        say!(o, "{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return o;
    }
    match archive {
        Some(a) => say!(o, "format:      {format}, archive version {}", a.version),
        None => say!(o, "format:      {format}"),
    }
    say!(o, "encoding:    {encoding}");
    say!(o, "compression: {compression}");
    match archive {
        Some(a) => say!(o, "size:        {} bytes (the archive; {} bytes of SQL text in it)", a.bytes_in, s.bytes_in),
        None => say!(o, "size:        {} bytes", s.bytes_in),
    }
    if let Some(v) = &s.versions {
        say!(o, "dumped by:   {v}");
    }
    say!(o, "\ntables (rows, bytes of data):");
    for t in &s.tables {
        say!(o, "  {:<60} {:>10} {:>14}", t.table, t.rows, t.bytes);
    }
    if !s.triggers.is_empty() {
        say!(o, "\ntriggers (table, trigger, events):");
        for t in &s.triggers {
            say!(o, "  {:<40} {:<30} {}", t.table, t.name, t.events);
        }
    }
    for w in s.trigger_warnings.iter().chain(&s.warnings) {
        say!(o, "\nwarning: {w}");
    }
    say!(o, "\nrenames:");
    for r in &s.renames {
        say!(o, "  {} → {}: {} references", r.old, r.new, r.references);
    }
    for c in &s.renamed_in {
        say!(o, "    in {}: {}", c.what, c.count);
    }
    say!(o, "\nvalue rewrites:");
    for w in &s.rewrites {
        say!(o, "  {} ({}): {} values", w.column, w.change, w.rewritten);
        for e in &w.examples {
            say!(o, "    {} → {}", e.old.text(), e.new.text());
        }
        if w.irreversible > 0 {
            say!(o, 
                "  warning: {} value(s) would not come back with --reverse, e.g.:",
                w.irreversible
            );
            for e in &w.irreversible_examples {
                let (a, b, back) = (&e.input, &e.output, &e.reversed);
                if a == b {
                    say!(o, "    {a} (kept) → --reverse would give {back}");
                } else {
                    say!(o, "    {a} → {b} → --reverse would give {back}");
                }
            }
        }
    }
    say!(o, "\nleft alone (mention an old name or a FROM text; no rule rewrites them):");
    if s.left_alone.is_empty() {
        say!(o, "  nothing");
    }
    for c in &s.left_alone {
        say!(o, "  {}: {}", c.what, c.count);
    }
    o
}
