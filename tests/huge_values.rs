//! A huge value (100 MiB) in the rewritten column, in dumps made by the real
//! pg_dump (plain COPY, `--inserts`, custom archive) and the real sqlite3
//! `.dump` from real databases: the rewrite, `verify` and `inspect` peak at
//! most 64 MiB plus twice the largest record (issue 28, item 11: 10 MiB
//! took 158 MiB, 100 MiB 620 MB), measured as the child's peak RSS
//! (`wait4`'s `ru_maxrss`, from a small python3 that forks it), not timed. A failing pre-write check on such a
//! value leaves no output file, and its message shows the value's start,
//! end and length, not the value (it used to quote it whole, twice).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

const MIB: u64 = 1 << 20;
/// The huge value's run of `x`.
const HUGE: usize = 100 << 20;
/// 4-byte characters in the varchar(10485760) column: the most
/// PostgreSQL allows with the 9 bytes of `CAPA-…-END` (10485759
/// characters); `SAPXXX-` makes it 10485761, one too many.
const EMOJI: usize = 10_485_750;

/// What a measured run left: exit code, stdout, the start of stderr and
/// its length, and the child's peak RSS in bytes.
struct Measured {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stderr_len: u64,
    peak: u64,
}

/// Forks and execs `argv[2:]`, waits for it with `wait4`, and writes its
/// wait status and `ru_maxrss` (KiB on Linux, getrusage(2)) to `argv[1]`.
/// The test cannot `wait4` a child of its own: std spawns with vfork
/// (`CLONE_VM`), and exec records the shared mm's high-water mark as the
/// child's (`setmax_mm_hiwater_rss` in the kernel's fs/exec.c), so the
/// child's figure would be at least this test process's peak (a 100 MiB
/// dump held by another test made a 209 MiB run read 342 MiB). Forked from
/// a small python3, the figure is the child's own.
const MEASURE: &str = "import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], 'w') as f:
    f.write(f'{status} {usage.ru_maxrss}')
";

/// Runs `cmd` with stdout and stderr in files of `dir`, through `MEASURE`.
fn measured(cmd: &mut Command, dir: &Path) -> Measured {
    let (out_path, err_path, usage_path) = (dir.join("stdout"), dir.join("stderr"), dir.join("usage"));
    let mut wrap = Command::new("python3");
    wrap.arg("-c").arg(MEASURE).arg(&usage_path).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrap.env(k, v),
            None => wrap.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        wrap.current_dir(d);
    }
    let done = wrap
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} under python3: {e}"));
    let stderr_all = std::fs::read(&err_path).expect("stderr");
    assert!(done.success(), "measuring {cmd:?} failed: {}", String::from_utf8_lossy(&stderr_all));
    let usage = std::fs::read_to_string(&usage_path).expect("usage file");
    let (status, kib) = usage.split_once(' ').expect("status and maxrss");
    let status: libc::c_int = status.parse().expect("status");
    let kib: u64 = kib.trim().parse().expect("maxrss");
    Measured {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout: std::fs::read(&out_path).expect("stdout"),
        stderr_len: stderr_all.len() as u64,
        stderr: stderr_all[..stderr_all.len().min(4096)].to_vec(),
        peak: kib * 1024,
    }
}

/// The longest line of a dump's SQL text: its largest record (every
/// record of these dumps is one line, the values having no newline).
fn largest_record(sql: &[u8]) -> u64 {
    sql.split(|&b| b == b'\n').map(|l| l.len() as u64 + 1).max().unwrap_or(0)
}

/// The bound of issue 28, item 11, with what was measured, for messages.
fn assert_bounded(what: &str, m: &Measured, record: u64) {
    let bound = 64 * MIB + 2 * record;
    assert!(
        m.peak <= bound,
        "{what}: peak RSS {} MiB > 64 MiB + 2 × the {} MiB record = {} MiB\n{}",
        m.peak / MIB,
        record / MIB,
        bound / MIB,
        String::from_utf8_lossy(&m.stderr)
    );
    eprintln!("{what}: peak RSS {} MiB (bound {} MiB)", m.peak / MIB, bound / MIB);
}

fn path_args(cmd: &mut Command, paths: &[&Path]) {
    for p in paths {
        cmd.arg(p);
    }
}

/// The rewrite of `input` under `rules` into `out`: measured.
fn rewrite(input: &Path, out: &Path, rules: &[&str], dir: &Path) -> Measured {
    let mut cmd = dumpsed();
    cmd.arg("rewrite").arg("--quiet").args(rules);
    path_args(&mut cmd, &[input]);
    cmd.arg("-o").arg(out);
    measured(&mut cmd, dir)
}

/// The failing check's message: small, exit 6, no output file, and the
/// value shown by its start, end and length.
fn assert_refused(what: &str, m: &Measured, out: &Path, start: &str, end: &str, len: usize) {
    let err = String::from_utf8_lossy(&m.stderr);
    assert_eq!(m.code, Some(6), "{what}: {err}");
    assert!(!out.exists(), "{what}: an output file was left");
    assert!(m.stderr_len < 4096, "{what}: {} bytes of stderr: {err}", m.stderr_len);
    assert!(
        err.contains(start) && err.contains(end) && err.contains(&format!("({len} bytes)")),
        "{what}: the message does not show the value's start {start:?}, end {end:?} and length {len}: {err}"
    );
}

/// PostgreSQL: one row with a 100 MiB `text` value and a 40 MiB
/// `varchar(10485760)` one, dumped as plain COPY, `--inserts` and a custom
/// archive.
#[test]
fn a_100_mib_value_in_a_pg_dump_costs_at_most_twice_its_record() {
    let db = PgDb::new("huge");
    db.query(&format!(
        "CREATE TABLE public.t (id integer PRIMARY KEY, code text, tag varchar(10485760));
         INSERT INTO public.t VALUES (1, 'CAPA-1', 'CAPA-1'),
           (2, 'CAPA-' || repeat('x', {HUGE}) || '-END', 'CAPA-' || repeat(U&'\\+01F600', {EMOJI}) || '-END');"
    ));
    let dir = scratch();
    let d = dir.path();
    let forms: [(&str, &[&str]); 3] = [("plain", &[]), ("inserts", &["--inserts"]), ("custom", &["-Fc"])];
    for (name, opts) in forms {
        let input = d.join(format!("{name}.dump"));
        let mut cmd = Command::new("pg_dump");
        cmd.args(opts).arg("-f").arg(&input).arg("-d").arg(&db.name);
        ok(&mut cmd);
        let sql = match name {
            "custom" => ok(Command::new("pg_restore").arg("-f").arg("-").arg(&input)),
            _ => std::fs::read(&input).expect("dump"),
        };
        let record = largest_record(&sql);
        drop(sql);
        assert!(record > HUGE as u64, "{name}: no huge record ({record} bytes)");

        // The rewrite, and the restored result.
        let out = d.join(format!("{name}-out.dump"));
        let m = rewrite(&input, &out, &["--rewrite", "t.code:CAPA-=SAP-"], d);
        assert_eq!(m.code, Some(0), "{name}: {}", String::from_utf8_lossy(&m.stderr));
        assert_bounded(&format!("{name}: rewrite"), &m, record);
        if name != "inserts" {
            let check = PgDb::new("huge_check");
            match name {
                "custom" => ok(Command::new("pg_restore").arg("-d").arg(&check.name).arg(&out)),
                _ => {
                    check.restore(&out);
                    Vec::new()
                }
            };
            assert_eq!(
                check.query(&format!(
                    "SELECT code = 'SAP-' || repeat('x', {HUGE}) || '-END', tag = 'CAPA-' || repeat(U&'\\+01F600', {EMOJI}) || '-END' FROM t WHERE id = 2"
                ))
                .trim(),
                "t|t",
                "{name}: the restored value is not the rewritten one"
            );
        }

        // verify and inspect read it within the same bound.
        let mut cmd = dumpsed();
        cmd.args(["verify", "--rewrite", "t.code:CAPA-=SAP-"]);
        path_args(&mut cmd, &[&input, &out]);
        let m = measured(&mut cmd, d);
        assert_eq!(m.code, Some(0), "{name}: verify: {}", String::from_utf8_lossy(&m.stdout));
        assert_bounded(&format!("{name}: verify"), &m, record);
        let mut cmd = dumpsed();
        cmd.args(["inspect", "--rewrite", "t.code:CAPA-=SAP-"]).arg(&input);
        let m = measured(&mut cmd, d);
        assert_eq!(m.code, Some(0), "{name}: inspect: {}", String::from_utf8_lossy(&m.stderr));
        assert_bounded(&format!("{name}: inspect"), &m, record);
        assert!(m.stdout.len() < 16 << 10, "{name}: inspect printed {} bytes", m.stdout.len());
        let report = String::from_utf8_lossy(&m.stdout);
        assert!(report.contains(&format!("({} bytes)", HUGE + 9)), "{name}: inspect: {report}");

        // A failing varchar(N) check on the row: refused, in bounds too.
        let refused = d.join(format!("{name}-refused.dump"));
        let m = rewrite(
            &input,
            &refused,
            &["--rewrite", "t.code:CAPA-=SAP-", "--rewrite", "t.tag:CAPA-=SAPXXX-"],
            d,
        );
        assert_refused(&format!("{name}: varchar check"), &m, &refused, "\"SAPXXX-😀😀", "😀-END\"", 7 + 4 * EMOJI + 4);
        assert_bounded(&format!("{name}: failed check"), &m, record);
        let _ = std::fs::remove_file(&out);
    }

    // The change log holds the values whole, without holding them in memory.
    let input = d.join("plain.dump");
    let log = d.join("changes.csv");
    let out = d.join("logged.sql");
    let mut cmd = dumpsed();
    cmd.args(["rewrite", "--quiet", "--rewrite", "t.code:CAPA-=SAP-", "--log-changes"]).arg(&log);
    path_args(&mut cmd, &[&input]);
    cmd.arg("-o").arg(&out);
    let m = measured(&mut cmd, d);
    assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
    let record = largest_record(&std::fs::read(&input).expect("dump"));
    assert_bounded("plain: rewrite --log-changes", &m, record);
    let csv = std::fs::read(&log).expect("log");
    let line = csv.split(|&b| b == b'\n').find(|l| l.len() > HUGE).expect("the huge value's line");
    let want: Vec<u8> = [&b",CAPA-"[..], &vec![b'x'; HUGE], b"-END,SAP-", &vec![b'x'; HUGE], b"-END"].concat();
    assert!(line.ends_with(&want), "the change log's line is not the old and new values");
}

/// SQLite: a UNIQUE column with `CAPA-X-END` and `SAP-X-END`, X 100 MiB.
/// CAPA- → SAPP- goes through; CAPA- → SAP- would make them equal.
#[test]
fn a_100_mib_value_in_an_sqlite_dump_costs_at_most_twice_its_record() {
    let dir = scratch();
    let d = dir.path();
    let db = d.join("huge.db");
    // hex(zeroblob(n)) is 2n zeros.
    let x = format!("replace(hex(zeroblob({})), '0', 'x')", HUGE / 2);
    ok(Command::new("sqlite3").arg(&db).arg(format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT UNIQUE);
         INSERT INTO t VALUES (1, 'CAPA-1'), (2, 'CAPA-' || {x} || '-END'), (3, 'SAP-' || {x} || '-END');"
    )));
    let input: PathBuf = d.join("huge.sql");
    let sql = ok(Command::new("sqlite3").arg(&db).arg(".dump"));
    std::fs::write(&input, &sql).expect("write dump");
    let record = largest_record(&sql);
    drop(sql);
    assert!(record > HUGE as u64, "no huge record ({record} bytes)");

    let out = d.join("out.sql");
    let m = rewrite(&input, &out, &["--rewrite", "t.code:CAPA-=SAPP-"], d);
    assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
    assert_bounded("sqlite: rewrite", &m, record);
    let restored = d.join("restored.db");
    ok(Command::new("sqlite3").arg(&restored).arg(format!(".read {}", out.display())));
    assert_eq!(
        String::from_utf8_lossy(&ok(Command::new("sqlite3").arg(&restored).arg(format!(
            "SELECT code = 'SAPP-' || {x} || '-END' FROM t WHERE id = 2"
        ))))
        .trim(),
        "1",
        "the restored value is not the rewritten one"
    );

    let mut cmd = dumpsed();
    cmd.args(["verify", "--rewrite", "t.code:CAPA-=SAPP-"]).arg(&input).arg(&out);
    let m = measured(&mut cmd, d);
    assert_eq!(m.code, Some(0), "verify: {}", String::from_utf8_lossy(&m.stdout));
    assert_bounded("sqlite: verify", &m, record);
    let mut cmd = dumpsed();
    cmd.args(["inspect", "--rewrite", "t.code:CAPA-=SAPP-"]).arg(&input);
    let m = measured(&mut cmd, d);
    assert_eq!(m.code, Some(0), "inspect: {}", String::from_utf8_lossy(&m.stderr));
    assert_bounded("sqlite: inspect", &m, record);
    assert!(m.stdout.len() < 16 << 10, "inspect printed {} bytes", m.stdout.len());

    // The UNIQUE check: SAP-X-END is already there, CAPA-X-END would
    // become it.
    let refused = d.join("refused.sql");
    let m = rewrite(&input, &refused, &["--rewrite", "t.code:CAPA-=SAP-"], d);
    assert_refused("sqlite: UNIQUE check", &m, &refused, "\"SAP-xxxx", "xxxx-END\"", 4 + HUGE + 4);
    let err = String::from_utf8_lossy(&m.stderr);
    assert!(err.contains("is UNIQUE") && err.contains(&format!("({} bytes)", 5 + HUGE + 4)), "{err}");
    assert_bounded("sqlite: failed check", &m, record);
}

/// A 100 MiB value made of COPY escapes (`\\`, `\t`, `\n`: 200 MiB as
/// pg_dump writes it) in the rewritten column of plain COPY and a custom
/// archive: rewritten in place as the field's own escaped bytes around
/// the replaced FROM (rewrite.rs, `copy_text::is_canonical`), within the
/// same bound (issue 28, item 11: it re-encoded a copy of the whole value,
/// about four times its size in all), and restored as the live `replace`
/// gives it.
#[test]
fn a_100_mib_value_of_copy_escapes_costs_at_most_twice_its_record() {
    let db = PgDb::new("huge_esc");
    // Three value bytes, six COPY bytes, per repetition.
    let body = format!("repeat(E'\\\\\\t\\n', {})", HUGE / 3);
    db.query(&format!(
        "CREATE TABLE public.t (id integer PRIMARY KEY, code text);
         INSERT INTO public.t VALUES (1, 'CAPA-1'), (2, 'CAPA-' || {body} || '-END');"
    ));
    let dir = scratch();
    let d = dir.path();
    for (name, opts) in [("plain", &[][..]), ("custom", &["-Fc"][..])] {
        let input = d.join(format!("esc-{name}.dump"));
        ok(Command::new("pg_dump").args(opts).arg("-f").arg(&input).arg("-d").arg(&db.name));
        let sql = match name {
            "custom" => ok(Command::new("pg_restore").arg("-f").arg("-").arg(&input)),
            _ => std::fs::read(&input).expect("dump"),
        };
        let record = largest_record(&sql);
        drop(sql);
        assert!(record > 2 * HUGE as u64 - 64, "{name}: the escaped record is {record} bytes");

        let out = d.join(format!("esc-{name}-out.dump"));
        let m = rewrite(&input, &out, &["--rewrite", "t.code:CAPA-=SAP-"], d);
        assert_eq!(m.code, Some(0), "{name}: {}", String::from_utf8_lossy(&m.stderr));
        assert_bounded(&format!("{name} (escapes): rewrite"), &m, record);
        let check = PgDb::new("huge_esc_check");
        match name {
            "custom" => {
                ok(Command::new("pg_restore").arg("-d").arg(&check.name).arg(&out));
            }
            _ => check.restore(&out),
        }
        // The live rewrite of the rows, as md5s (the values are 100 MiB).
        let live = db.query("SELECT string_agg(md5('SAP-' || substr(code, 6)), ',' ORDER BY id) FROM t");
        let restored = check.query("SELECT string_agg(md5(code), ',' ORDER BY id) FROM t");
        assert_eq!(restored.trim(), live.trim(), "{name}: the restored values are not the live rewrite's");

        let mut cmd = dumpsed();
        cmd.args(["verify", "--rewrite", "t.code:CAPA-=SAP-"]);
        path_args(&mut cmd, &[&input, &out]);
        let m = measured(&mut cmd, d);
        assert_eq!(m.code, Some(0), "{name}: verify: {}", String::from_utf8_lossy(&m.stdout));
        assert_bounded(&format!("{name} (escapes): verify"), &m, record);
        let mut cmd = dumpsed();
        cmd.args(["inspect", "--rewrite", "t.code:CAPA-=SAP-"]).arg(&input);
        let m = measured(&mut cmd, d);
        assert_eq!(m.code, Some(0), "{name}: inspect: {}", String::from_utf8_lossy(&m.stderr));
        assert_bounded(&format!("{name} (escapes): inspect"), &m, record);
        let _ = std::fs::remove_file(&out);
    }
}

/// Rewrites, restores, verifies and inspects the `pg_dump` `opts` dump of
/// `db`, whose table `t` holds a 100 MiB value with few escapes in the
/// form `opts` writes: each run within the bound, and the restored values
/// the live rewrite's (as md5s).
fn few_escapes_in_pg(db: &PgDb, name: &str, opts: &[&str], d: &Path) {
    let input = d.join(format!("few-{name}.dump"));
    ok(Command::new("pg_dump").args(opts).arg("-f").arg(&input).arg("-d").arg(&db.name));
    let custom = opts.contains(&"-Fc");
    let sql = match custom {
        true => ok(Command::new("pg_restore").arg("-f").arg("-").arg(&input)),
        false => std::fs::read(&input).expect("dump"),
    };
    let record = largest_record(&sql);
    drop(sql);
    assert!(record > HUGE as u64, "{name}: no huge record ({record} bytes)");

    let out = d.join(format!("few-{name}-out.dump"));
    let m = rewrite(&input, &out, &["--rewrite", "t.code:CAPA-=SAP-"], d);
    assert_eq!(m.code, Some(0), "{name}: {}", String::from_utf8_lossy(&m.stderr));
    assert_bounded(&format!("{name} (few escapes): rewrite"), &m, record);
    let check = PgDb::new("huge_few_check");
    match custom {
        true => {
            ok(Command::new("pg_restore").arg("-d").arg(&check.name).arg(&out));
        }
        false => check.restore(&out),
    }
    let live = db.query("SELECT string_agg(md5('SAP-' || substr(code, 6)), ',' ORDER BY id) FROM t");
    let restored = check.query("SELECT string_agg(md5(code), ',' ORDER BY id) FROM t");
    assert_eq!(restored.trim(), live.trim(), "{name}: the restored values are not the live rewrite's");
    drop(check);

    let mut cmd = dumpsed();
    cmd.args(["verify", "--rewrite", "t.code:CAPA-=SAP-"]);
    path_args(&mut cmd, &[&input, &out]);
    let m = measured(&mut cmd, d);
    assert_eq!(m.code, Some(0), "{name}: verify: {}", String::from_utf8_lossy(&m.stdout));
    assert_bounded(&format!("{name} (few escapes): verify"), &m, record);
    let mut cmd = dumpsed();
    cmd.args(["inspect", "--rewrite", "t.code:CAPA-=SAP-"]).arg(&input);
    let m = measured(&mut cmd, d);
    assert_eq!(m.code, Some(0), "{name}: inspect: {}", String::from_utf8_lossy(&m.stderr));
    assert_bounded(&format!("{name} (few escapes): inspect"), &m, record);
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&input);
}

/// A 100 MiB value with few escapes, in every form pg_dump writes a value
/// in: a newline every 100 bytes (COPY writes `\n`) in plain COPY and a
/// custom archive; a quote every 100 bytes (doubled in a literal) in
/// `--inserts` and `--column-inserts`. Written in place around the
/// replaced FROM, its checks read from the new value's pieces (issue 28,
/// item 11: a decoded copy and a new one coexisted, about three times the
/// record: 300 MiB for 100 MiB against a bound of 266).
#[test]
fn a_100_mib_value_with_few_escapes_costs_at_most_twice_its_record() {
    let n = HUGE / 100;
    let dir = scratch();
    let d = dir.path();
    for (tag, unit, forms) in [
        ("huge_few_nl", "E'\\n'", &[("plain", &[][..]), ("custom", &["-Fc"][..])]),
        ("huge_few_q", "''''", &[("inserts", &["--inserts"][..]), ("column-inserts", &["--column-inserts"][..])]),
    ] {
        let db = PgDb::new(tag);
        db.query(&format!(
            "CREATE TABLE public.t (id integer PRIMARY KEY, code text);
             INSERT INTO public.t VALUES (1, 'CAPA-1'), (2, 'CAPA-' || repeat(repeat('x', 99) || {unit}, {n}) || '-END');"
        ));
        for (name, opts) in forms {
            few_escapes_in_pg(&db, name, opts, d);
        }
    }
}

/// The same in an sqlite3 `.dump`: two quotes every 100 bytes (`''''` in
/// the shell's literal), and a newline every 100 bytes (the shell's
/// `replace('…\n…','\n',char(10))`, `output_quoted_escaped_string` in
/// src/shell.c.in).
#[test]
fn a_100_mib_value_with_few_escapes_in_an_sqlite_dump_costs_at_most_twice_its_record() {
    let dir = scratch();
    let d = dir.path();
    for (name, unit) in [("quotes", "''''"), ("newlines", "' || char(10) || '")] {
        few_escapes_in_sqlite(name, unit, d);
    }
}

/// [`few_escapes_in_pg`] for an sqlite3 `.dump` whose huge value repeats
/// 99 `x` and `unit` (SQL inside a literal).
fn few_escapes_in_sqlite(name: &str, unit: &str, d: &Path) {
    let db = d.join(format!("few-{name}.db"));
    // hex(zeroblob(n)) is 2n zeros: each `00` becomes 99 x and the unit.
    let value = format!("'CAPA-' || replace(hex(zeroblob({})), '00', '{}{unit}') || '-END'", HUGE / 100, "x".repeat(99));
    ok(Command::new("sqlite3").arg(&db).arg(format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT);
         INSERT INTO t VALUES (1, 'CAPA-1'), (2, {value});"
    )));
    let input = d.join(format!("few-{name}.sql"));
    let sql = ok(Command::new("sqlite3").arg(&db).arg(".dump"));
    std::fs::write(&input, &sql).expect("write dump");
    let record = largest_record(&sql);
    drop(sql);
    assert!(record > HUGE as u64, "no huge record ({record} bytes)");

    let out = d.join(format!("few-{name}-out.sql"));
    let m = rewrite(&input, &out, &["--rewrite", "t.code:CAPA-=SAP-"], d);
    assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
    assert_bounded(&format!("sqlite ({name}): rewrite"), &m, record);
    let restored = d.join(format!("few-{name}-restored.db"));
    ok(Command::new("sqlite3").arg(&restored).arg(format!(".read {}", out.display())));
    let same = ok(Command::new("sqlite3").arg(&restored).arg(format!(
        "ATTACH '{}' AS live; SELECT count(*) FROM t JOIN live.t AS l USING (id) WHERE t.code = 'SAP-' || substr(l.code, 6);",
        db.display()
    )));
    assert_eq!(String::from_utf8_lossy(&same).trim(), "2", "the restored values are not the live rewrite's");

    let mut cmd = dumpsed();
    cmd.args(["verify", "--rewrite", "t.code:CAPA-=SAP-"]).arg(&input).arg(&out);
    let m = measured(&mut cmd, d);
    assert_eq!(m.code, Some(0), "verify: {}", String::from_utf8_lossy(&m.stdout));
    assert_bounded(&format!("sqlite ({name}): verify"), &m, record);
    let mut cmd = dumpsed();
    cmd.args(["inspect", "--rewrite", "t.code:CAPA-=SAP-"]).arg(&input);
    let m = measured(&mut cmd, d);
    assert_eq!(m.code, Some(0), "inspect: {}", String::from_utf8_lossy(&m.stderr));
    assert_bounded(&format!("sqlite ({name}): inspect"), &m, record);
    for f in [&input, &out, &restored, &db] {
        let _ = std::fs::remove_file(f);
    }
}
