//! The version matrix (issue 11, item 7): for each PostgreSQL version
//! `scripts/pg-matrix.sh` installs, the fixture schema (`fixtures/pg/schema.sql`)
//! is loaded into a server of that version and dumped by a real pg_dump in
//! every format and compression that pg_dump writes; each dump is rewritten
//! with the test rules (`fixtures/plain-sql-rename.toml`), restored with the
//! same release's `pg_restore` / `psql` into a fresh database on that server,
//! dumped again, and compared with the dump of the live rename done on the
//! same server (`ALTER TABLE … RENAME`, the `UPDATE`, as `fixtures/pg/regen.sh`).
//!
//! One test per server version, iterating its cells and reporting every
//! failing cell at the end: starting a server is the cost, so its cells share
//! it, and one broken cell does not hide the others. Which pg_dump dumps which
//! server: each client its own release; the servers that come without client
//! programs (12, 13, 14, 17) are dumped by a newer pg_dump, as a DBA dumps an
//! old server with a new pg_dump, and restored into that same server version.
//! pg_dump 17 and later write `SET transaction_timeout = 0;`, which servers
//! before 17 reject (`pg_backup_archiver.c`, `_doSetFixedOutputState`), so
//! 12 and 13 are dumped by pg_dump 15 and 14 by pg_dump 16; 17 by pg_dump 18.
//!
//! A version whose tools are missing is skipped with the reason printed;
//! under CI (`CI` set) it fails instead, since `tests/run.sh` installs them.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

const RULES: &str = "fixtures/plain-sql-rename.toml";
const OLD: &str = "incident_safety_correctivepreventiveaction";
const NEW: &str = "incident_safety_safetyactionplan";

/// One way pg_dump writes the database.
#[derive(Clone, Copy)]
struct Cell {
    name: &'static str,
    /// pg_dump options.
    dump: &'static [&'static str],
    /// File name of the dump (a directory for `-Fd`).
    file: &'static str,
    plain: bool,
    /// pg_restore options beyond `--exit-on-error`.
    restore: &'static [&'static str],
    /// Compare the statistics too (pg 18 `--statistics`).
    stats: bool,
}

const fn cell(name: &'static str, dump: &'static [&'static str], file: &'static str) -> Cell {
    Cell { name, dump, file, plain: false, restore: &["--single-transaction"], stats: false }
}

const PLAIN: Cell = Cell { plain: true, ..cell("plain", &["-Fp"], "d.sql") };
const CUSTOM: Cell = cell("custom", &["-Fc"], "d.dump");
const CUSTOM_Z0: Cell = cell("custom -Z0", &["-Fc", "-Z0"], "d.dump");
const DIRECTORY: Cell = Cell { restore: &["-j", "4"], ..cell("directory", &["-Fd"], "d.dir") };
const TAR: Cell = cell("tar", &["-Ft"], "d.tar");
const EVERY_FORMAT: &[Cell] = &[PLAIN, CUSTOM, CUSTOM_Z0, DIRECTORY, TAR];
/// pg 18 `--statistics` in every container: a plain dump and the archives
/// give the same result (the rewritten column's statistics dropped, with a
/// warning).
const STATS: &[Cell] = &[
    Cell { stats: true, plain: true, ..cell("plain --statistics", &["-Fp", "--statistics"], "d.sql") },
    Cell { stats: true, ..cell("custom --statistics", &["-Fc", "--statistics"], "d.dump") },
    Cell { stats: true, restore: &["-j", "2"], ..cell("directory --statistics", &["-Fd", "--statistics"], "d.dir") },
    Cell { stats: true, ..cell("tar --statistics", &["-Ft", "--statistics"], "d.tar") },
];
/// What a pg_dump built with lz4 and zstd adds (tar is never compressed).
const LZ4_ZSTD: &[Cell] = &[
    cell("custom -Z lz4", &["-Fc", "-Z", "lz4"], "d.dump"),
    cell("custom -Z zstd", &["-Fc", "-Z", "zstd"], "d.dump"),
    cell("custom -Z zstd:9", &["-Fc", "-Z", "zstd:9"], "d.dump"),
    Cell { restore: &["-j", "4"], ..cell("directory -Z lz4", &["-Fd", "-Z", "lz4"], "d.dir") },
    Cell { restore: &["-j", "4"], ..cell("directory -Z zstd", &["-Fd", "-Z", "zstd"], "d.dir") },
    Cell { plain: true, ..cell("plain -Z zstd", &["-Fp", "-Z", "zstd"], "d.sql.zst") },
    Cell { plain: true, ..cell("plain -Z lz4", &["-Fp", "-Z", "lz4"], "d.sql.lz4") },
];

/// The pg 18 statistics of the rewritten column: dumpsed drops them (see the
/// README), in plain dumps as in archives, so they are left out of the live
/// side before comparing.
fn without_rewritten_column_stats(dump: &str) -> String {
    const HEAD: &str = "SELECT * FROM pg_catalog.pg_restore_attribute_stats(\n";
    let column = format!("\t'relname', '{NEW}',\n\t'attname', 'reference_number',\n");
    let mut out = String::new();
    let mut rest = dump;
    while let Some(at) = rest.find(HEAD) {
        out.push_str(&rest[..at]);
        let stmt_end = rest[at..].find("\n);\n").map_or(rest.len(), |e| at + e + 4);
        let stmt = &rest[at..stmt_end];
        if !stmt.contains(&column) {
            out.push_str(stmt);
        }
        rest = &rest[stmt_end..];
    }
    out.push_str(rest);
    out
}

/// Runs `cells` with pg_dump/pg_restore/psql of `client` against `server`,
/// returning the failures (cell name and what went wrong).
fn run_cells(server: &Server, client: &Path, label: &str, cells: &[Cell]) -> Vec<String> {
    let psql = |db: &str, sql: &str| server.sql(client, db, sql);
    let pg_dump = |db: &str, opts: &[&str]| -> Result<Vec<u8>, String> {
        let out = server
            .at(&mut Command::new(client.join("pg_dump")))
            .args(opts)
            .arg(db)
            .output()
            .map_err(|e| format!("pg_dump: {e}"))?;
        if !out.status.success() {
            return Err(format!("pg_dump {opts:?}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(out.stdout)
    };
    // The database before, and the live migration on a copy of it.
    // The schema grants to this role.
    psql(
        "postgres",
        "DO $$ BEGIN CREATE ROLE dumpsed_reader; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    );
    for db in ["before", "live"] {
        psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    }
    psql("postgres", "CREATE DATABASE before");
    ok(server
        .at(&mut Command::new(client.join("psql")))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "before", "-f"])
        .arg(fixture("pg/schema.sql"))
        .stdout(Stdio::null()));
    psql("before", "ANALYZE");
    psql("postgres", "CREATE DATABASE live TEMPLATE before");
    for stmt in [
        format!("ALTER TABLE {OLD} RENAME TO {NEW}"),
        format!(
            "UPDATE {NEW} SET reference_number = replace(reference_number, 'CAPA-', 'SAP-') \
             WHERE starts_with(reference_number, 'CAPA-')"
        ),
        // The UPDATE moved the tuples; pg_dump writes rows in physical order.
        format!("CLUSTER {NEW} USING {OLD}_pkey"),
        format!("ALTER TABLE {NEW} SET WITHOUT CLUSTER"),
        "ANALYZE".to_string(),
    ] {
        psql("live", &stmt);
    }
    let mut failures = Vec::new();
    let dir = scratch();
    for (n, c) in cells.iter().enumerate() {
        let name = format!("{label} {}", c.name);
        eprintln!("matrix: {name}");
        if let Err(e) = run_cell(server, client, c, &dir.path().join(n.to_string()), &pg_dump) {
            failures.push(format!("{name}: {e}"));
        }
    }
    failures
}

fn run_cell(
    server: &Server,
    client: &Path,
    c: &Cell,
    dir: &Path,
    pg_dump: &dyn Fn(&str, &[&str]) -> Result<Vec<u8>, String>,
) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let input = dir.join(c.file);
    let mut opts: Vec<&str> = c.dump.to_vec();
    let file_arg = format!("--file={}", input.display());
    opts.push(&file_arg);
    pg_dump("before", &opts)?;
    let out = dir.join(format!("out-{}", c.file.trim_end_matches(".zst").trim_end_matches(".lz4")));
    let quiet: &[&str] = if c.stats { &[] } else { &["--quiet"] };
    let r = run(dumpsed().arg("rewrite").args(quiet).args(["--rules", RULES]).arg(&input).arg("-o").arg(&out));
    if !r.status.success() {
        return Err(format!("dumpsed rewrite: {}", String::from_utf8_lossy(&r.stderr)));
    }
    // Dropping them is said, once, whatever the container.
    let said = format!("statistics of public.{OLD}.reference_number dropped");
    if c.stats && String::from_utf8_lossy(&r.stderr).matches(&said).count() != 1 {
        return Err(format!("no single warning '{said}': {}", String::from_utf8_lossy(&r.stderr)));
    }
    let db = "restored";
    server.sql(client, "postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    server.sql(client, "postgres", &format!("CREATE DATABASE {db}"));
    let restore = if c.plain {
        server
            .at(&mut Command::new(client.join("psql")))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", db, "-f"])
            .arg(&out)
            .stdout(Stdio::null())
            .output()
    } else {
        server
            .at(&mut Command::new(client.join("pg_restore")))
            .args(["--exit-on-error", "--no-password"])
            .args(c.restore)
            .args(["-d", db])
            .arg(&out)
            .output()
    }
    .map_err(|e| e.to_string())?;
    if !restore.status.success() {
        return Err(format!("restore: {}", String::from_utf8_lossy(&restore.stderr)));
    }
    let again: &[&str] = if c.stats { &["--statistics"] } else { &[] };
    let got = without_restrict_keys(&pg_dump(db, again)?);
    let mut want = without_restrict_keys(&pg_dump("live", again)?);
    if c.stats {
        want = without_rewritten_column_stats(&want);
        if !got.contains(&format!("'relname', '{NEW}',\n\t'attname', 'description',")) {
            return Err("no statistics of the renamed table's other columns after the restore".into());
        }
    }
    if got != want {
        return Err(format!("restored dump differs from the live rename: {}", first_difference(&got, &want)));
    }
    if c.name == "plain" || c.name == "custom" {
        reverse_gives_back(client, &input, &out, dir, c.plain)?;
    }
    Ok(())
}

/// `--reverse` of the output gives back the input (as a script: for an
/// archive, what its `pg_restore -f -` prints), but for the one value the
/// fixture holds that the rule cannot give back (it was `SAP-` already).
fn reverse_gives_back(client: &Path, input: &Path, out: &Path, dir: &Path, plain: bool) -> Result<(), String> {
    let back = dir.join(if plain { "back.sql" } else { "back.dump" });
    let r = run(dumpsed().args(["rewrite", "--quiet", "--reverse", "--rules", RULES]).arg(out).arg("-o").arg(&back));
    if !r.status.success() {
        return Err(format!("dumpsed rewrite --reverse: {}", String::from_utf8_lossy(&r.stderr)));
    }
    let text = |p: &Path| -> Result<String, String> {
        if plain {
            return fs::read(p).map(|b| String::from_utf8_lossy(&b).into_owned()).map_err(|e| e.to_string());
        }
        let o = Command::new(client.join("pg_restore")).args(["-f", "-"]).arg(p).output().map_err(|e| e.to_string())?;
        if !o.status.success() {
            return Err(format!("pg_restore -f -: {}", String::from_utf8_lossy(&o.stderr)));
        }
        Ok(without_restrict_keys(&o.stdout))
    };
    let got = text(&back)?;
    let want = text(input)?.replace("\tSAP-2026-050\t", "\tCAPA-2026-050\t");
    if got != want {
        return Err(format!("--reverse does not give back the input: {}", first_difference(&got, &want)));
    }
    Ok(())
}

/// Starts the server `version`, runs each `(client, cells)` against it, and
/// fails listing every failing cell.
fn matrix(version: &str, port: u16, runs: &[(&str, &[Cell])]) {
    let Some(server_bin) = matrix_need("DUMPSED_MATRIX_SERVERS", version) else { return };
    let mut clients = Vec::new();
    for (client, cells) in runs {
        let Some(bin) = matrix_need("DUMPSED_MATRIX_CLIENTS", client) else { return };
        clients.push((client, bin, cells));
    }
    let server = Server::start(&server_bin, port);
    let mut failures = Vec::new();
    for (client, bin, cells) in clients {
        failures.extend(run_cells(&server, &bin, &format!("pg_dump {client} → server {version}:"), cells));
    }
    assert!(failures.is_empty(), "{} failing cell(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn server_12() {
    matrix("12", 55412, &[("15", EVERY_FORMAT)]);
}

#[test]
fn server_13() {
    matrix("13", 55413, &[("15", EVERY_FORMAT)]);
}

#[test]
fn server_14() {
    matrix("14", 55414, &[("16", EVERY_FORMAT)]);
}

#[test]
fn server_15() {
    matrix("15", 55415, &[("15", EVERY_FORMAT)]);
}

#[test]
fn server_16() {
    matrix("16", 55416, &[("16", EVERY_FORMAT)]);
}

#[test]
fn server_17() {
    matrix("17", 55417, &[("18", EVERY_FORMAT)]);
}

#[test]
fn server_18() {
    matrix("18", 55418, &[("18", EVERY_FORMAT), ("18z", LZ4_ZSTD)]);
}

#[test]
fn server_18_statistics() {
    matrix("18", 55428, &[("18", STATS)]);
}
