//! The CLI's front door: completions and man page come from the same clap
//! definitions as the parser, so every option is in them.

mod common;

use common::*;

#[test]
fn completions_name_every_subcommand_and_option() {
    for shell in ["bash", "zsh", "fish"] {
        let out = String::from_utf8(ok(dumpsed().args(["completions", shell]))).expect("utf8");
        for word in ["rewrite", "inspect", "verify", "rename-column", "allow-missing", "allow-truncated"] {
            assert!(out.contains(word), "{shell} completions lack {word}");
        }
    }
    let o = run(dumpsed().args(["completions", "tcsh"]));
    assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error");
}

#[test]
fn man_page_has_a_section_per_subcommand() {
    let out = String::from_utf8(ok(dumpsed().arg("man"))).expect("utf8");
    for page in ["dumpsed 1", "dumpsed-rewrite 1", "dumpsed-inspect 1", "dumpsed-verify 1"] {
        assert!(out.contains(&format!(".TH {page}")), "no page {page}");
    }
    assert!(out.contains("rename\\-column"), "options missing from the man page");
}

/// `--no-sync` skips the fsync before the rename (checked with strace when
/// it is installed; the output is the same either way).
#[test]
fn no_sync_writes_the_same_output_without_fsync() {
    let dir = scratch();
    let (a, b) = (dir.path().join("a.sql"), dir.path().join("b.sql"));
    ok(dumpsed().args(["rewrite", "-q", "--preset", "capa-to-sap"]).arg(fixture("pg/before.sql")).arg("-o").arg(&a));
    ok(dumpsed().args(["rewrite", "-q", "--no-sync", "--preset", "capa-to-sap"]).arg(fixture("pg/before.sql")).arg("-o").arg(&b));
    assert!(std::fs::read(&a).expect("a") == std::fs::read(&b).expect("b"));
    if std::process::Command::new("strace").arg("-V").output().is_ok() {
        let count = |extra: &[&str]| {
            let o = run(std::process::Command::new("strace")
                .args(["-f", "-e", "trace=fsync,fdatasync", env!("CARGO_BIN_EXE_dumpsed"), "rewrite", "-q", "--preset", "capa-to-sap"])
                .args(extra)
                .arg(fixture("pg/before.sql"))
                .arg("-o")
                .arg(&b));
            String::from_utf8_lossy(&o.stderr).matches("fsync(").count()
        };
        assert!(count(&[]) > 0);
        assert_eq!(count(&["--no-sync"]), 0);
    }
}

/// `-o` naming a FIFO (or a device such as /dev/null) writes into it: a
/// temporary file renamed over it would replace the node itself.
#[cfg(unix)]
#[test]
fn output_to_a_fifo_writes_into_it_and_keeps_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = scratch();
    let fifo = dir.path().join("out.fifo");
    let st = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).expect("read the fifo"))
    };
    ok(dumpsed().args(["rewrite", "-q", "--preset", "capa-to-sap"]).arg(fixture("pg/before.sql")).arg("-o").arg(&fifo));
    let kind = std::fs::symlink_metadata(&fifo).expect("fifo").file_type();
    assert!(kind.is_fifo(), "-o replaced the FIFO with {kind:?}");
    let got = reader.join().expect("reader");
    let want = ok(dumpsed().args(["rewrite", "-q", "--preset", "capa-to-sap"]).arg(fixture("pg/before.sql")));
    assert!(!want.is_empty() && got == want, "the FIFO did not receive the rewritten dump");
}

/// `--max-record-size` out of its range is a usage error saying the range,
/// not a limit that wraps to 0 MiB (2^44 MiB) or silently becomes 1 MiB (0).
#[test]
fn max_record_size_out_of_range_is_refused() {
    for bad in ["0", "17592186044416", "1048577"] {
        let res = run(dumpsed()
            .args(["rewrite", "-q", "--rules", "fixtures/plain-sql-rename.toml", "--max-record-size", bad])
            .arg(fixture("pg/before.sql")));
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--max-record-size") && err.contains("1..=1048576"), "{bad}: {err}");
    }
    for good in ["1", "1048576"] {
        ok(dumpsed()
            .args(["rewrite", "-q", "--rules", "fixtures/plain-sql-rename.toml", "--max-record-size", good])
            .arg(fixture("pg/before.sql")));
    }
}
