//! The proof that matters: a dump rewritten by dumpsed, restored into the
//! real database, is the database the live migration produced. Each test
//! rewrites a fixture made by the real pg_dump / sqlite3, restores it with
//! the real client, dumps it again and compares with the dump taken after
//! running the migration live (fixtures/*/regen.sh). No difference is
//! allowed beyond pg_dump's random `\restrict` key.

mod common;

use std::process::Stdio;

use common::*;

fn rewrite_fixture(rel: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("out.sql");
    ok(dumpsed()
        .args([
            "rewrite",
            "--quiet",
            "--rules",
            "fixtures/plain-sql-rename.toml",
        ])
        .arg(fixture(rel))
        .arg("-o")
        .arg(&out));
    out
}

fn pg_round_trip(before: &str, after: &str, dump_opts: &[&str]) {
    let dir = scratch();
    let out = rewrite_fixture(before, dir.path());
    let db = PgDb::new("rt");
    db.restore(&out);
    let got = without_restrict_keys(&db.dump(dump_opts));
    let want = without_restrict_keys(&std::fs::read(fixture(after)).expect("fixture"));
    assert!(
        got == want,
        "{before}: restored dump differs from {after}: {}",
        first_difference(&got, &want)
    );
}

#[test]
fn pg_copy_dump_restores_to_the_live_result() {
    pg_round_trip("pg/before.sql", "pg/after-live.sql", &[]);
}

#[test]
fn pg_inserts_dump_restores_to_the_live_result() {
    pg_round_trip(
        "pg/before-inserts.sql",
        "pg/after-live-inserts.sql",
        &["--inserts"],
    );
}

#[test]
fn pg_column_inserts_dump_restores_to_the_live_result() {
    pg_round_trip(
        "pg/before-column-inserts.sql",
        "pg/after-live-column-inserts.sql",
        &["--column-inserts", "--rows-per-insert=3"],
    );
}

/// `cat before.sql | dumpsed rewrite --rules fixtures/plain-sql-rename.toml | psql` works.
#[test]
fn pg_pipeline_through_stdin_and_stdout() {
    let db = PgDb::new("pipe");
    let script = format!(
        "set -o pipefail; cat {} | {} rewrite --quiet --rules fixtures/plain-sql-rename.toml | psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d {}",
        fixture("pg/before.sql").display(),
        env!("CARGO_BIN_EXE_dumpsed"),
        db.name
    );
    ok(std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .stdout(Stdio::null()));
    let refs = db.query("SELECT string_agg(reference_number, ',' ORDER BY id) FROM incident_safety_safetyactionplan");
    assert!(
        refs.starts_with(
            "SAP-2026-001,SAP-2026-002,SAP-SAP-9,LEGACY-7,capa-2026-010,XCAPA-1,SAP-,"
        ),
        "{refs}"
    );
    let old = db.query("SELECT count(*) FROM pg_class WHERE relname = 'incident_safety_correctivepreventiveaction'");
    assert_eq!(old.trim(), "0");
}

/// gzip in and out, with the real gzip on both sides.
#[test]
fn pg_gzip_in_and_out_restores_to_the_live_result() {
    let dir = scratch();
    let gz_in = dir.path().join("before.sql.gz");
    let raw = std::fs::read(fixture("pg/before.sql")).expect("fixture");
    // Two members, as `cat a.gz b.gz` or pigz write: must read as one stream.
    let split = raw.len() / 2;
    let mut gz = Vec::new();
    for part in [&raw[..split], &raw[split..]] {
        let p = dir.path().join("part");
        std::fs::write(&p, part).expect("write part");
        gz.extend(ok(std::process::Command::new("gzip").arg("-c").arg(&p)));
    }
    std::fs::write(&gz_in, gz).expect("write gz");
    let gz_out = dir.path().join("after.sql.gz");
    ok(dumpsed()
        .args([
            "rewrite",
            "--quiet",
            "--rules",
            "fixtures/plain-sql-rename.toml",
            "-j",
            "2",
            "--chunk-size",
            "1",
        ])
        .arg(&gz_in)
        .arg("-o")
        .arg(&gz_out));
    let plain = ok(std::process::Command::new("gunzip").arg("-c").arg(&gz_out));
    let plain_path = dir.path().join("after.sql");
    std::fs::write(&plain_path, &plain).expect("write");
    let db = PgDb::new("gz");
    db.restore(&plain_path);
    let got = without_restrict_keys(&db.dump(&[]));
    let want =
        without_restrict_keys(&std::fs::read(fixture("pg/after-live.sql")).expect("fixture"));
    assert!(got == want, "{}", first_difference(&got, &want));
}

/// zstd and LZ4 output (`-o x.sql.zst`, `-o x.sql.lz4`, and `--compress`
/// on stdout): one frame per chunk, decompressed by the real `zstd` and
/// `lz4`, equal to the uncompressed output and restoring to the live
/// result; dumpsed reads its own frames back.
#[test]
fn pg_zstd_and_lz4_output_decompress_with_the_real_tools() {
    let dir = scratch();
    let rewrite = |extra: &[&str]| {
        let mut c = dumpsed();
        c.args(["rewrite", "--quiet", "--rules", "fixtures/plain-sql-rename.toml", "-j", "2", "--chunk-size", "1"]);
        c.args(extra).arg(fixture("pg/before.sql"));
        c
    };
    let plain = ok(&mut rewrite(&[]));
    for (suffix, tool, magic) in [("zst", "zstd", &[0x28u8, 0xb5, 0x2f, 0xfd][..]), ("lz4", "lz4", &[0x04, 0x22, 0x4d, 0x18][..])] {
        let out = dir.path().join(format!("after.sql.{suffix}"));
        ok(&mut rewrite(&["-o", out.to_str().expect("utf-8 path")]));
        let bytes = std::fs::read(&out).expect("output");
        assert!(bytes.starts_with(magic), "{suffix}: not {tool} output");
        // Several chunks, so several frames (the fixture is > 1 KiB).
        let frames = bytes.windows(4).filter(|w| *w == magic).count();
        assert!(frames > 1, "{suffix}: {frames} frame(s)");
        let got = ok(std::process::Command::new(tool).args(["-d", "-c"]).arg(&out));
        assert!(got == plain, "{tool} -dc of the output differs from the uncompressed output");
        let piped = ok(&mut rewrite(&["--compress", tool]));
        assert!(piped == bytes, "{suffix}: --compress to stdout differs from -o");
        // dumpsed reads its own frames as one stream: reversing the
        // compressed output gives what reversing the plain output gives.
        let plain_path = dir.path().join("after-plain.sql");
        std::fs::write(&plain_path, &plain).expect("write");
        let reverse = |input: &std::path::Path| {
            ok(dumpsed()
                .args(["rewrite", "--quiet", "--force", "--reverse", "--rules", "fixtures/plain-sql-rename.toml"])
                .arg(input))
        };
        assert!(reverse(&out) == reverse(&plain_path), "{suffix}: dumpsed reads its own output differently");
        if suffix == "zst" {
            let plain_path = dir.path().join("after.sql");
            std::fs::write(&plain_path, &got).expect("write");
            let db = PgDb::new("zst");
            db.restore(&plain_path);
            let got = without_restrict_keys(&db.dump(&[]));
            let want = without_restrict_keys(&std::fs::read(fixture("pg/after-live.sql")).expect("fixture"));
            assert!(got == want, "{}", first_difference(&got, &want));
        }
    }
    for bad in ["zstd:0", "zstd:20", "lz4:1", "gzip:10", "brotli", "none:1"] {
        let o = run(&mut rewrite(&["--compress", bad]));
        assert_eq!(o.status.code(), Some(2), "--compress {bad}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("--compress"), "--compress {bad}");
    }
}

#[test]
fn sqlite_dump_restores_to_the_live_result() {
    let dir = scratch();
    let out = rewrite_fixture("sqlite/before.sql", dir.path());
    let got = sqlite_restore_and_dump(&out, dir.path(), "rewritten");
    let want = std::fs::read(fixture("sqlite/after-live.sql")).expect("fixture");
    assert!(
        got == want,
        "{}",
        first_difference(
            &String::from_utf8_lossy(&got),
            &String::from_utf8_lossy(&want)
        )
    );
    // Beyond the re-dump: the rewritten file itself is what sqlite3 would
    // have dumped after the live migration.
    assert_eq!(std::fs::read(&out).expect("out"), want);
}

/// Plain dumps compressed with zstd or LZ4 (as pg_dump 16's `-Fp -Z zstd`
/// / `-Z lz4` write them: frames, detected by their magic numbers), here
/// compressed in two frames each, are read like gzip'd ones: the output is
/// what the uncompressed dump gives.
#[test]
fn zstd_and_lz4_plain_dumps_are_read() {
    let plain = std::fs::read(fixture("pg/before.sql")).expect("fixture");
    let dir = scratch();
    let want = ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules", "fixtures/plain-sql-rename.toml"])
        .arg(fixture("pg/before.sql")));
    let half = plain.len() / 2;
    let mut zst = zstd::encode_all(&plain[..half], 3).expect("zstd");
    zst.extend(zstd::encode_all(&plain[half..], 3).expect("zstd"));
    let mut lz = Vec::new();
    for part in [&plain[..half], &plain[half..]] {
        let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
        std::io::Write::write_all(&mut e, part).expect("lz4");
        lz.extend(e.finish().expect("lz4"));
    }
    for (name, bytes, label) in [("in.sql.zst", zst, "zstd"), ("in.sql.lz4", lz, "lz4")] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write");
        let o = run(dumpsed()
            .args(["rewrite", "--rules", "fixtures/plain-sql-rename.toml"])
            .arg(&path));
        assert!(o.status.success(), "{label}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stdout == want, "{label}: output differs from the uncompressed dump's");
        assert!(String::from_utf8_lossy(&o.stderr).contains(&format!("compression: {label}")));
    }
}
