//! What `inspect` and `rewrite --dry-run` print: the report of a plain
//! dump's rewrite, or of an archive's, as text or JSON.

use std::process::ExitCode;

use serde_json::json;

use dumpsed::internals::archive::{self, plain::PlainEdit};
use dumpsed::internals::job::Summary;
use dumpsed::internals::lexer::Dialect;
use dumpsed::internals::output::StagingDir;
use dumpsed::Error;

use super::input::ArchiveInput;

/// The whole rewrite of an archive, written nowhere, and its report (for
/// `rewrite --dry-run` and `inspect`, which agree): the archive format,
/// version and compression from its header, and the archive's own size
/// beside that of the SQL text inside.
pub fn dry_run_archive(input: ArchiveInput, edit: &mut PlainEdit<'_>, json: bool) -> Result<ExitCode, Error> {
    let stats = match input {
        ArchiveInput::Custom(r) => archive::custom::rewrite(r, archive::Sink::Stream(&mut std::io::sink()), edit)?,
        ArchiveInput::Tar(r) => archive::tar::rewrite(r, &mut std::io::sink(), edit)?,
        ArchiveInput::Directory(dir) => {
            // Written to a staging directory in the temporary directory,
            // which signals and later runs clean up (output.rs).
            let stage = StagingDir::create(&std::env::temp_dir().join("dumpsed-dry-run"))?;
            archive::directory::rewrite(&dir, &stage.path().join("out"), edit)?
        }
    };
    match edit.merged() {
        Some(s) => report(&s, Some(&stats), json),
        None => eprintln!("dumpsed: nothing to report"),
    }
    for a in &edit.added {
        eprintln!("dumpsed: {a}");
    }
    for w in &edit.warnings {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

fn dialect_name(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "PostgreSQL plain dump",
        Dialect::Sqlite => "SQLite dump",
    }
}

/// Prints a plain dump's report to stdout, as text or JSON.
pub fn print_report(s: &Summary, as_json: bool) {
    report(s, None, as_json)
}

/// Prints a report to stdout, as text or JSON. For an archive (`archive`
/// is the rewrite's [`archive::Stats`]) the format, compression and size
/// are the archive's, and the SQL text's size is given beside.
fn report(s: &Summary, archive: Option<&archive::Stats>, as_json: bool) {
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
            "triggers": s.triggers.iter().map(|(t, n, e)| json!({"table": t, "trigger": n, "events": e})).collect::<Vec<_>>(),
            "warnings": s.trigger_warnings.iter().chain(&s.warnings).collect::<Vec<_>>(),
            "bytes": s.bytes_in,
            "tables": s.tables.iter().map(|(t, r, b)| json!({"table": t, "rows": r, "bytes": b})).collect::<Vec<_>>(),
            "renames": s.renames.iter().map(|(o, n, c)| json!({"old": o, "new": n, "references": c})).collect::<Vec<_>>(),
            "renamed_in": s.renamed_in.iter().map(|(k, c)| json!({"statement": k, "count": c})).collect::<Vec<_>>(),
            "rewrites": s.rewrites.iter().map(|w| json!({
                "column": w.column, "change": w.change, "values": w.rewritten,
                "examples": w.examples.iter().map(|(a, b)| (a.text(), b.text())).collect::<Vec<_>>(),
                "irreversible": w.irreversible,
                "irreversible_examples": w.irreversible_examples.iter()
                    .map(|(a, b, back)| (a.text(), b.text(), back.text())).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "left_alone": s.left_alone.iter().map(|(k, c)| json!({"where": k, "count": c})).collect::<Vec<_>>(),
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
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    match archive {
        Some(a) => println!("format:      {format}, archive version {}", a.version),
        None => println!("format:      {format}"),
    }
    println!("encoding:    {encoding}");
    println!("compression: {compression}");
    match archive {
        Some(a) => println!("size:        {} bytes (the archive; {} bytes of SQL text in it)", a.bytes_in, s.bytes_in),
        None => println!("size:        {} bytes", s.bytes_in),
    }
    if let Some(v) = &s.versions {
        println!("dumped by:   {v}");
    }
    println!("\ntables (rows, bytes of data):");
    for (t, rows, bytes) in &s.tables {
        println!("  {t:<60} {rows:>10} {bytes:>14}");
    }
    if !s.triggers.is_empty() {
        println!("\ntriggers (table, trigger, events):");
        for (t, n, e) in &s.triggers {
            println!("  {t:<40} {n:<30} {e}");
        }
    }
    for w in s.trigger_warnings.iter().chain(&s.warnings) {
        println!("\nwarning: {w}");
    }
    println!("\nrenames:");
    for (old, new, n) in &s.renames {
        println!("  {old} → {new}: {n} references");
    }
    for (kind, n) in &s.renamed_in {
        println!("    in {kind}: {n}");
    }
    println!("\nvalue rewrites:");
    for w in &s.rewrites {
        println!("  {} ({}): {} values", w.column, w.change, w.rewritten);
        for (a, b) in &w.examples {
            println!("    {} → {}", a.text(), b.text());
        }
        if w.irreversible > 0 {
            println!(
                "  warning: {} value(s) would not come back with --reverse, e.g.:",
                w.irreversible
            );
            for (a, b, back) in &w.irreversible_examples {
                if a == b {
                    println!("    {a} (kept) → --reverse would give {back}");
                } else {
                    println!("    {a} → {b} → --reverse would give {back}");
                }
            }
        }
    }
    println!("\nleft alone (mention an old name or a FROM text; no rule rewrites them):");
    if s.left_alone.is_empty() {
        println!("  nothing");
    }
    for (what, n) in &s.left_alone {
        println!("  {what}: {n}");
    }
}
