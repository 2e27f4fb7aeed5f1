//! Helpers shared by the integration tests: running the real binary and
//! the real database clients.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod django;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> PathBuf {
    root().join("fixtures").join(rel)
}

/// The `dumpsed` binary built for this test run.
pub fn dumpsed() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dumpsed"))
}

/// Runs a command, returning its output; panics if it cannot start.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Runs a command that must succeed; returns stdout.
pub fn ok(cmd: &mut Command) -> Vec<u8> {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A fresh scratch directory, removed when dropped.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("dumpsed-test-")
        .tempdir()
        .expect("scratch dir")
}

/// Fails loudly unless the PostgreSQL test cluster is running (started by
/// `bash tests/run.sh`, which exports `DUMPSED_PG=1` and `PGHOST`/`PGPORT`).
pub fn require_pg() {
    assert!(
        std::env::var_os("DUMPSED_PG").is_some(),
        "this test needs a real PostgreSQL: run the suite with `bash tests/run.sh`, \
         which installs and starts one (DUMPSED_PG is not set)"
    );
    let out = run(Command::new("psql").args(["-X", "-q", "-d", "postgres", "-c", "select 1"]));
    assert!(
        out.status.success(),
        "PostgreSQL is not reachable: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

static DB_SEQ: AtomicUsize = AtomicUsize::new(0);

/// A fresh empty database, dropped when the guard is dropped.
pub struct PgDb {
    pub name: String,
}

impl PgDb {
    pub fn new(tag: &str) -> PgDb {
        require_pg();
        let name = format!(
            "dumpsed_t_{}_{}_{}",
            tag,
            std::process::id(),
            DB_SEQ.fetch_add(1, Ordering::SeqCst)
        );
        ok(Command::new("createdb").arg(&name));
        PgDb { name }
    }

    /// Restores a plain dump the way a DBA does: stop at the first error,
    /// all or nothing.
    pub fn restore(&self, dump: &Path) {
        ok(Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-d",
            ])
            .arg(&self.name)
            .arg("-f")
            .arg(dump)
            .stdout(Stdio::null()));
    }

    pub fn dump(&self, opts: &[&str]) -> Vec<u8> {
        ok(Command::new("pg_dump").args(opts).arg("-d").arg(&self.name))
    }

    pub fn query(&self, sql: &str) -> String {
        String::from_utf8_lossy(&ok(Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-d"])
            .arg(&self.name)
            .arg("-c")
            .arg(sql)))
        .into_owned()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = Command::new("dropdb")
            .arg("--if-exists")
            .arg(&self.name)
            .output();
    }
}

/// A pg_dump output without its per-run `\restrict KEY` / `\unrestrict KEY`
/// lines (pg_dump ≥ 15.14 picks a random key each run). Nothing else is
/// normalised.
pub fn without_restrict_keys(dump: &[u8]) -> String {
    String::from_utf8_lossy(dump)
        .lines()
        .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Line-by-line difference summary, for assertion messages.
pub fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n  got:  {x}\n  want: {y}", i + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

/// Restores an SQLite dump into a new database file with the real sqlite3
/// CLI and returns that file's `.dump`, after checking foreign keys.
pub fn sqlite_restore_and_dump(dump: &Path, dir: &Path, name: &str) -> Vec<u8> {
    let db = dir.join(format!("{name}.db"));
    let input = std::fs::File::open(dump).expect("open dump");
    ok(Command::new("sqlite3").arg("-bail").arg(&db).stdin(input));
    let fk = ok(Command::new("sqlite3")
        .arg(&db)
        .arg("PRAGMA foreign_key_check;"));
    assert!(
        fk.is_empty(),
        "dangling foreign keys after restore: {}",
        String::from_utf8_lossy(&fk)
    );
    ok(Command::new("sqlite3").arg(&db).arg(".dump"))
}

/// A private server of one version: its own data directory and socket
/// directory (no TCP), stopped and removed when dropped.
pub struct Server {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

/// initdb and postgres refuse to run as root; as root (CI) the server runs as
/// the OS user postgres, as scripts/pg-cluster.sh does.
pub fn as_server_user(program: PathBuf) -> Command {
    let root = run(Command::new("id").arg("-u")).stdout.starts_with(b"0\n");
    if !root {
        return Command::new(program);
    }
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(program);
    c
}

impl Server {
    pub fn start(bin: &Path, port: u16) -> Server {
        let dir = scratch();
        if run(Command::new("id").arg("-u")).stdout.starts_with(b"0\n") {
            ok(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let data = dir.path().join("data");
        ok(as_server_user(bin.join("initdb"))
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync", "-D"])
            .arg(&data)
            .stdout(Stdio::null()));
        let opts = format!(
            "-k {} -c listen_addresses='' -p {port} -F -c max_connections=20",
            dir.path().display()
        );
        ok(as_server_user(bin.join("pg_ctl"))
            .args(["-w", "-s", "-D"])
            .arg(&data)
            .args(["-l"])
            .arg(dir.path().join("log"))
            .args(["-o", &opts, "start"]));
        Server { bin: bin.to_path_buf(), dir, port }
    }

    /// `cmd` pointed at this server.
    pub fn at<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("PGHOST", self.dir.path())
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", "postgres")
            .env_remove("PGDATABASE")
    }

    /// `psql` (of client `bin`) running `sql` in database `db`.
    pub fn sql(&self, bin: &Path, db: &str, sql: &str) {
        ok(self
            .at(&mut Command::new(bin.join("psql")))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql])
            .stdout(Stdio::null()));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = as_server_user(self.bin.join("pg_ctl"))
            .args(["-s", "-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"))
            .arg("stop")
            .output();
    }
}

/// `VERSION=BINDIR` pairs from `scripts/pg-matrix.sh`'s environment.
pub fn matrix_tools(var: &str) -> Vec<(String, PathBuf)> {
    std::env::var(var)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), PathBuf::from(v)))
        .collect()
}

pub fn matrix_find(var: &str, version: &str) -> Option<PathBuf> {
    matrix_tools(var).into_iter().find(|(k, _)| k == version).map(|(_, v)| v)
}

/// The bin directory of a tool set, or `None` after printing why it is
/// skipped; under CI a missing tool set is a failure.
pub fn matrix_need(var: &str, version: &str) -> Option<PathBuf> {
    if let Some(p) = matrix_find(var, version) {
        return Some(p);
    }
    let why = format!(
        "matrix: PostgreSQL {version} not available ({var} has no {version}=…; \
         `eval \"$(bash scripts/pg-matrix.sh)\"` installs it, tests/run.sh does)"
    );
    if std::env::var_os("CI").is_some() {
        panic!("{why}");
    }
    eprintln!("skipped: {why}");
    None
}
