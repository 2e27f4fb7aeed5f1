//! Checks before anything is written: a rewritten value that would break a
//! UNIQUE column or a varchar(N) stops the run (exit 6) and leaves no
//! output file; `--force` goes on and says so.

mod common;

use common::*;

const PLAIN: &[&str] = &["--rules", "fixtures/plain-sql-rename.toml"];

fn edited_fixture(rel: &str, from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(std::fs::read(fixture(rel)).expect("fixture")).expect("utf8");
    assert!(text.contains(from), "{from:?} not in {rel}");
    text.replacen(from, to, 1).into_bytes()
}

fn run_on(input: &[u8], extra: &[&str]) -> (std::process::Output, bool) {
    let dir = scratch();
    let (inp, out) = (dir.path().join("in.sql"), dir.path().join("out.sql"));
    std::fs::write(&inp, input).expect("write");
    let res = run(dumpsed()
        .arg("rewrite")
        .args(PLAIN)
        .args(extra)
        .arg(&inp)
        .arg("-o")
        .arg(&out));
    (res, out.exists())
}

/// CAPA-2026-050 would become SAP-2026-050, which the table already has:
/// the live UPDATE would fail on the unique key (pg: ALTER TABLE … UNIQUE
/// after the data; SQLite: UNIQUE in CREATE TABLE).
#[test]
fn unique_collision_is_refused_in_both_dialects() {
    for (rel, from, to) in [
        (
            "pg/before.sql",
            "\n8\tCAPA-2026-003\t",
            "\n8\tCAPA-2026-050\t",
        ),
        (
            "pg/before-column-inserts.sql",
            "(8, 'CAPA-2026-003',",
            "(8, 'CAPA-2026-050',",
        ),
        (
            "sqlite/before.sql",
            "VALUES(8,'CAPA-2026-003'",
            "VALUES(8,'CAPA-2026-050'",
        ),
    ] {
        let input = edited_fixture(rel, from, to);
        let (res, written) = run_on(&input, &[]);
        let err = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(6), "{rel}: {err}");
        assert!(!written, "{rel}: output written despite the collision");
        assert!(
            err.contains("is UNIQUE") && err.contains("\"SAP-2026-050\""),
            "{rel}: {err}"
        );
        let (res, written) = run_on(&input, &["--force"]);
        assert!(
            res.status.success() && written,
            "{rel}: --force did not go on"
        );
        assert!(
            String::from_utf8_lossy(&res.stderr).contains("--force: failed checks were overridden")
        );
    }
}

#[test]
fn no_false_alarm_on_the_fixtures() {
    for rel in [
        "pg/before.sql",
        "pg/before-inserts.sql",
        "sqlite/before.sql",
    ] {
        let (res, written) = run_on(&std::fs::read(fixture(rel)).expect("fixture"), &[]);
        assert!(
            res.status.success() && written,
            "{rel}: {}",
            String::from_utf8_lossy(&res.stderr)
        );
    }
}

/// `--reverse` lengthens SAP- to CAPA-: a 20-character SAP reference no
/// longer fits reference_number varchar(20).
#[test]
fn reverse_that_overflows_varchar_is_refused() {
    let input = edited_fixture(
        "pg/after-live.sql",
        "\tSAP-2026-001\t",
        "\tSAP-2026-00000000001\t",
    );
    let (res, written) = run_on(&input, &["--reverse"]);
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(6), "{err}");
    assert!(!written);
    assert!(
        err.contains("longer than the column allows") && err.contains("CAPA-2026-00000000001"),
        "{err}"
    );
}

/// `character(N)` columns are checked like `varchar(N)`, in characters of
/// the dump's encoding: in a LATIN1 dump `£` is one byte and one character
/// (as UTF-8 counting it would be a continuation byte and not count). Dumps
/// made by the real pg_dump from real databases; excess spaces, which
/// PostgreSQL cuts off silently, do not count.
#[test]
fn char_columns_and_single_byte_encodings_are_length_checked() {
    let db = PgDb::new("charlen");
    let latin1 = format!("{}_l1", db.name);
    ok(std::process::Command::new("createdb")
        .args(["-E", "LATIN1", "-T", "template0", "--locale=C"])
        .arg(&latin1));
    let setup = "CREATE TABLE public.t (id integer PRIMARY KEY, code character(8), tag varchar(6));\n\
                 INSERT INTO public.t VALUES (1, 'CAPA-123', convert_from('\\x4142a3a3a3a3'::bytea, 'LATIN1')), (2, 'CAPA-1  ', 'AB');";
    let dir = scratch();
    let mut dumps = Vec::new();
    for name in [db.name.clone(), latin1.clone()] {
        ok(std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &name, "-c", setup]));
        let path = dir.path().join(format!("{name}.sql"));
        ok(std::process::Command::new("pg_dump").arg("-f").arg(&path).arg(&name));
        dumps.push(path);
    }
    let _ = std::process::Command::new("dropdb").arg(&latin1).output();
    let rewrite = |dump: &std::path::Path, rule: &str| {
        let out = dir.path().join("out.sql");
        let _ = std::fs::remove_file(&out);
        let o = run(dumpsed()
            .args(["rewrite", "--quiet", "--rewrite", rule])
            .arg(dump)
            .arg("-o")
            .arg(&out));
        (o, out.exists())
    };
    // character(8): 'CAPA-123' → 'SAPXX-123' is 9 characters.
    let (o, written) = rewrite(&dumps[0], "t.code:CAPA-=SAPXX-");
    assert_eq!(o.status.code(), Some(6), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!written);
    assert!(String::from_utf8_lossy(&o.stderr).contains("t.code"));
    // 'CAPA-1  ' (blank-padded) → 'SAP-1  ' fits; 'CAPA-123' → 'SAP-123' too.
    let (o, written) = rewrite(&dumps[0], "t.code:CAPA-=SAP-");
    assert!(o.status.success() && written, "{}", String::from_utf8_lossy(&o.stderr));
    // LATIN1: 'AB££££' (6 characters, 6 bytes) → 'ABC££££' is 7 > 6.
    let (o, written) = rewrite(&dumps[1], "t.tag:AB=ABC");
    assert_eq!(o.status.code(), Some(6), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!written);
}

/// A 10 MiB value that fails the varchar(20) check: the message shows its
/// start, end and length, not the value (it used to quote it whole, twice:
/// ~20 MiB of stderr). Two-byte characters make the cut land mid-character
/// unless it is moved to a character boundary.
#[test]
fn huge_value_in_a_failed_check_is_quoted_as_an_excerpt() {
    // 11 ASCII bytes before and 5 after: byte 60 and byte len-20 fall
    // inside a character.
    let old = format!("CAPA-2026-x{}-END!", "é".repeat(5 << 20));
    let input = edited_fixture(
        "pg/before.sql",
        "\n8\tCAPA-2026-003\t",
        &format!("\n8\t{old}\t"),
    );
    let (res, written) = run_on(&input, &[]);
    let err = String::from_utf8_lossy(&res.stderr);
    // Byte-sliced, as the failing stderr is huge and a str slice could
    // land inside a character.
    let head = String::from_utf8_lossy(&res.stderr[..res.stderr.len().min(4096)]);
    assert_eq!(res.status.code(), Some(6), "{head}");
    assert!(!written);
    assert!(
        res.stderr.len() < 4096,
        "{} bytes of stderr: {head}",
        res.stderr.len()
    );
    assert!(
        err.contains("longer than the column allows")
            && err.contains(&format!("({} bytes)", old.len()))
            && err.contains("\"CAPA-2026-xéé")
            && err.contains("é-END!\""),
        "{err}"
    );
    assert!(!err.contains('\u{FFFD}'), "a character was split: {err}");
}
