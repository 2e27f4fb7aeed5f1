//! `verify BEFORE AFTER`: exit 0 exactly when AFTER is BEFORE rewritten.

mod common;

use common::*;

const PLAIN: &[&str] = &["--rules", "fixtures/plain-sql-rename.toml"];

#[test]
fn verify_accepts_the_rewrite_and_rejects_any_change() {
    let dir = scratch();
    for rel in [
        "pg/before.sql",
        "pg/before-column-inserts.sql",
        "sqlite/before.sql",
    ] {
        let after = dir.path().join("after.sql.gz");
        ok(dumpsed()
            .args(["rewrite", "--quiet"])
            .args(PLAIN)
            .arg(fixture(rel))
            .arg("-o")
            .arg(&after));
        let res = run(dumpsed()
            .arg("verify")
            .args(PLAIN)
            .arg(fixture(rel))
            .arg(&after));
        assert!(
            res.status.success(),
            "{rel}: {}",
            String::from_utf8_lossy(&res.stdout)
        );

        let plain = ok(std::process::Command::new("gunzip").arg("-c").arg(&after));
        let text = String::from_utf8(plain).expect("utf8");
        let bad = dir.path().join("bad.sql");
        for (what, changed) in [
            ("value", text.replacen("SAP-2026-002", "SAP-2026-00X", 1)),
            (
                "missed rewrite",
                text.replacen("SAP-2026-002", "CAPA-2026-002", 1),
            ),
            ("truncated", text[..text.len() - 10].to_string()),
            ("extra", format!("{text}\n-- more\n")),
        ] {
            std::fs::write(&bad, &changed).expect("write");
            let res = run(dumpsed()
                .arg("verify")
                .args(PLAIN)
                .arg(fixture(rel))
                .arg(&bad));
            assert_eq!(res.status.code(), Some(1), "{rel}, {what}");
            let out = String::from_utf8_lossy(&res.stdout);
            assert!(
                out.contains("DIFFERENT") && out.contains("first difference at line"),
                "{rel}, {what}: {out}"
            );
        }
        // Rewriting with other rules is not what AFTER holds.
        let res = run(dumpsed()
            .args(["verify", "--rename-table", "auth_user=people"])
            .arg(fixture(rel))
            .arg(&after));
        assert_eq!(res.status.code(), Some(1), "{rel}");
    }
}

/// AFTER (and BEFORE) given as `<(cat FILE)`, a pipe that can be read only
/// once: `verify` opens each input once, so a custom archive's AFTER is no
/// longer opened a second time after its TOC was read (which hung on the
/// FIFO, its writer gone). Under a timeout, for a custom archive, a tar
/// archive and a plain dump.
#[test]
fn verify_reads_fifo_inputs_once() {
    let dir = scratch();
    for rel in ["archive/before.dump", "archive/before.tar", "pg/before.sql"] {
        let after = dir.path().join("after");
        ok(dumpsed().args(["rewrite", "--quiet"]).args(PLAIN).arg(fixture(rel)).arg("-o").arg(&after));
        // A named FIFO too, fed by a writer that gives up after a while:
        // reopened once its head was read, it waits for a writer forever.
        let fifo = dir.path().join("after.fifo");
        let _ = std::fs::remove_file(&fifo);
        ok(std::process::Command::new("mkfifo").arg(&fifo));
        for (before, after, feed) in [
            (fixture(rel).display().to_string(), format!("<(cat {})", after.display()), String::new()),
            (format!("<(cat {})", fixture(rel).display()), format!("<(cat {})", after.display()), String::new()),
            (
                fixture(rel).display().to_string(),
                fifo.display().to_string(),
                format!("(timeout 70 cat {} > {} &); ", after.display(), fifo.display()),
            ),
        ] {
            let script = format!(
                "{feed}exec timeout -k 5 60 {} verify --rules fixtures/plain-sql-rename.toml {before} {after}",
                env!("CARGO_BIN_EXE_dumpsed")
            );
            let res = run(std::process::Command::new("bash").arg("-c").arg(&script));
            let out = String::from_utf8_lossy(&res.stdout);
            assert_ne!(res.status.code(), Some(124), "{rel}: verify {before} {after} hung");
            assert!(
                res.status.success() && out.starts_with("OK:"),
                "{rel}: verify {before} {after}: {:?} {out} {}",
                res.status,
                String::from_utf8_lossy(&res.stderr)
            );
        }
    }
}

/// The verdict is the exit status: a reader that closes the pipe before
/// the report is written (`verify … | head -0`) does not change it, and
/// nothing panics (`println!` did: exit 101, "failed printing to stdout").
#[test]
fn a_closed_stdout_keeps_the_verdict() {
    use std::process::Stdio;
    let dir = scratch();
    let after = dir.path().join("after.sql");
    ok(dumpsed().args(["rewrite", "--quiet"]).args(PLAIN).arg(fixture("pg/before.sql")).arg("-o").arg(&after));
    let bad = dir.path().join("bad.sql");
    let text = std::fs::read_to_string(&after).expect("read");
    std::fs::write(&bad, text.replacen("SAP-2026-002", "SAP-2026-00X", 1)).expect("write");
    for (against, want) in [(&after, 0), (&bad, 1)] {
        let mut child = dumpsed()
            .arg("verify")
            .args(PLAIN)
            .arg(fixture("pg/before.sql"))
            .arg(against)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // The read end closed before verify writes a byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(want), "{}: {err}", against.display());
        assert!(!err.contains("panicked"), "{err}");
    }
}
