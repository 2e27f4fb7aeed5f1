//! The library's front door: `Rewriter` gives what the command gives.

mod common;

use common::*;
use dumpsed::{Rewriter, Rules};

#[test]
fn rewriter_gives_what_the_command_gives() {
    let want = ok(dumpsed()
        .args(["rewrite", "--quiet", "--preset", "capa-to-sap"])
        .arg(fixture("pg/before.sql")));
    for threads in [1, 2] {
        let mut out = Vec::new();
        let mut log = Vec::new();
        let mut ticks = 0;
        let summary = Rewriter::new(Rules::preset("capa-to-sap").expect("preset"))
            .threads(threads)
            .on_progress(|_| ticks += 1)
            .log_changes(&mut log)
            .run(std::fs::File::open(fixture("pg/before.sql")).expect("open"), &mut out)
            .expect("rewrite");
        assert!(out == want, "threads {threads}: output differs from the command's");
        assert_eq!(summary.rewrites[0].rewritten, 7);
        assert!(ticks > 0);
        assert_eq!(String::from_utf8_lossy(&log).lines().count(), 7, "one CSV line per value");
    }
    // Errors are typed: a rule for a table the dump lacks.
    let mut rules = Rules::new();
    rules.parse_rename("no_such=x").expect("rule");
    let err = Rewriter::new(rules)
        .run(std::fs::File::open(fixture("pg/before.sql")).expect("open"), std::io::sink())
        .expect_err("missing table");
    assert!(matches!(err, dumpsed::Error::Missing(_)), "{err}");
}

/// A caller's own observer sees every rewritten value, in input order,
/// with the line and byte offset of its row: checked against the input's
/// own bytes, and against the CSV change log the command writes.
#[test]
fn an_observer_sees_each_value_at_its_row() {
    struct Audit {
        seen: Vec<(u64, u64, Vec<u8>, Vec<u8>)>,
        last_progress: u64,
    }
    impl dumpsed::Observer for Audit {
        fn wants_changes(&self) -> bool {
            true
        }
        fn change(&mut self, c: &dumpsed::ValueChange<'_>) -> std::io::Result<()> {
            assert_eq!(c.table, b"incident_safety_correctivepreventiveaction");
            assert_eq!(c.column, b"reference_number");
            self.seen.push((c.line, c.offset, c.old.to_vec(), c.new.to_vec()));
            Ok(())
        }
        fn progress(&mut self, bytes_in: u64) {
            assert!(bytes_in >= self.last_progress);
            self.last_progress = bytes_in;
        }
    }
    let input = std::fs::read(fixture("pg/before.sql")).expect("read");
    let mut audit = Audit { seen: Vec::new(), last_progress: 0 };
    Rewriter::new(Rules::preset("capa-to-sap").expect("preset"))
        .observe(&mut audit)
        .run(std::io::Cursor::new(input.clone()), std::io::sink())
        .expect("rewrite");
    assert_eq!(audit.last_progress, input.len() as u64);
    assert!(!audit.seen.is_empty());
    let mut prev = 0;
    for (line, offset, old, new) in &audit.seen {
        assert!(*offset >= prev, "input order");
        prev = *offset;
        let at = *offset as usize;
        // The offset is the start of the row's line, and the line number counts to it.
        assert!(at == 0 || input[at - 1] == b'\n', "offset {at} starts a row");
        assert_eq!(*line, 1 + input[..at].iter().filter(|&&b| b == b'\n').count() as u64);
        let row_end = at + input[at..].iter().position(|&b| b == b'\n').expect("row end");
        let row = &input[at..row_end];
        // The value as COPY text writes it (the fixture's rows have escapes).
        let mut raw = Vec::new();
        for &b in old {
            match b {
                b'\\' => raw.extend_from_slice(b"\\\\"),
                b'\t' => raw.extend_from_slice(b"\\t"),
                b'\n' => raw.extend_from_slice(b"\\n"),
                b'\r' => raw.extend_from_slice(b"\\r"),
                b => raw.push(b),
            }
        }
        assert!(row.windows(raw.len()).any(|w| w == raw.as_slice()), "old value {:?} in its row", String::from_utf8_lossy(old));
        assert!(old.starts_with(b"CAPA-") && new.starts_with(b"SAP-"));
    }
    let dir = scratch();
    let out = dir.path();
    let log = out.join("log.csv");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--preset", "capa-to-sap", "-o"])
        .arg(out.join("after.sql"))
        .arg("--log-changes")
        .arg(&log)
        .arg(fixture("pg/before.sql")));
    let csv = std::fs::read_to_string(&log).expect("log");
    let lines: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(lines.len(), audit.seen.len());
    for (l, (line, offset, _, _)) in lines.iter().zip(&audit.seen) {
        assert!(l.contains(&format!(",{line},{offset},")), "{l}");
    }
}

/// Library errors name no command-line flag (a library caller has none to
/// pass); they carry a typed `Remedy` instead, and the command turns it
/// into its flag. Each case runs both: the library's message has no `--`
/// and the expected remedy, the command's stderr names the flag.
#[test]
fn errors_carry_a_remedy_and_the_command_names_its_flag() {
    use dumpsed::Remedy;
    let before = std::fs::read(fixture("pg/before.sql")).expect("read fixture");
    let end = b"--\n-- PostgreSQL database dump complete";
    let cut_at = before.windows(end.len()).position(|w| w == end).expect("closing marker");
    // A 2 MiB COPY row, for a 1 MiB record limit.
    let mut big = before[..cut_at].to_vec();
    big.extend_from_slice(b"COPY public.big (v) FROM stdin;\n");
    big.resize(big.len() + (2 << 20), b'x');
    big.extend_from_slice(b"\n\\.\n\n");
    big.extend_from_slice(&before[cut_at..]);
    let capa = || Rules::preset("capa-to-sap").expect("preset");
    let long = "incident_safety_correctivepreventiveaction.reference_number:CAPA-=CAPA-ABCDEFGHIJKLMNOPQRSTU";
    let too_long = move || {
        let mut r = Rules::new();
        r.parse_rewrite(long).expect("rule");
        r
    };
    let refs = std::fs::read(fixture("pg-refs/before.sql")).expect("read fixture");
    let rename_onto_existing = || {
        let mut r = Rules::new();
        r.parse_rename("city=category").expect("rule");
        r
    };
    type Case<'a> = (&'a str, Vec<u8>, Box<dyn Fn() -> Rules>, usize, Vec<&'a str>, Remedy, &'a str);
    let cases: Vec<Case> = vec![
        ("cut before its closing marker", before[..cut_at].to_vec(), Box::new(capa), 1024,
         vec!["--preset", "capa-to-sap"], Remedy::AllowTruncated, "--allow-truncated"),
        ("a row over the record limit", big, Box::new(capa), 1,
         vec!["--preset", "capa-to-sap", "--max-record-size", "1"],
         Remedy::MaxRecordSize { suggested_mib: 4 }, "--max-record-size 4"),
        ("a new name the dump has", refs, Box::new(rename_onto_existing), 1024,
         vec!["--rename-table", "city=category"], Remedy::Force, "--force"),
        ("a value too long for varchar(20)", before.clone(), Box::new(too_long), 1024,
         vec!["--rewrite", long], Remedy::Force, "--force"),
    ];
    for (what, input, rules, mib, args, remedy, flag) in cases {
        let err = Rewriter::new(rules())
            .max_record_size(mib)
            .run(std::io::Cursor::new(input.clone()), std::io::sink())
            .expect_err(what);
        let msg = err.to_string();
        assert!(!msg.contains("--"), "{what}: the library's message names a flag: {msg}");
        assert_eq!(err.remedy(), Some(remedy), "{what}: {msg}");
        let dir = scratch();
        let (path, out) = (dir.path().join("in.sql"), dir.path().join("out.sql"));
        std::fs::write(&path, &input).expect("write input");
        let res = run(dumpsed().arg("rewrite").args(&args).arg(&path).arg("-o").arg(&out));
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert!(!res.status.success(), "{what}: the command succeeded");
        assert!(stderr.contains(flag), "{what}: the command does not name {flag}: {stderr}");
        assert!(stderr.contains(msg.lines().next().unwrap_or_default()), "{what}: {stderr}");
        assert!(!out.exists(), "{what}: output written");
    }
}

/// Hands out its bytes one per `read`, as a pipe or socket may.
struct OneByte(std::io::Cursor<Vec<u8>>);

impl std::io::Read for OneByte {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

/// `Rewriter::run` on a source that hands out one byte per `read` detects
/// the compression (and the refused SQLite database file) as on a file:
/// the magic bytes were judged on the first read alone, so such a gzip,
/// zstd or LZ4 dump was read as plain bytes and an SQLite database was
/// not recognised (found by `fuzz/fuzz_targets/input_open.rs`).
#[test]
fn detection_does_not_depend_on_read_sizes() {
    use std::io::Write;
    let plain = std::fs::read(fixture("pg/before.sql")).expect("fixture");
    let want = ok(dumpsed()
        .args(["rewrite", "--quiet", "--preset", "capa-to-sap"])
        .arg(fixture("pg/before.sql")));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).expect("gzip");
    let mut lz4 = lz4_flex::frame::FrameEncoder::new(Vec::new());
    lz4.write_all(&plain).expect("lz4");
    let forms = [
        ("plain", plain.clone()),
        ("gzip", gz.finish().expect("gzip")),
        ("zstd", zstd::encode_all(&plain[..], 3).expect("zstd")),
        ("lz4", lz4.finish().expect("lz4")),
    ];
    for (name, bytes) in forms {
        let mut out = Vec::new();
        Rewriter::new(Rules::preset("capa-to-sap").expect("preset"))
            .run(OneByte(std::io::Cursor::new(bytes)), &mut out)
            .unwrap_or_else(|e| panic!("{name}, one byte per read: {e}"));
        assert!(out == want, "{name}, one byte per read: output differs from the command's on the file");
    }
    let err = Rewriter::new(Rules::preset("capa-to-sap").expect("preset"))
        .run(OneByte(std::io::Cursor::new(b"SQLite format 3\0rest of the page".to_vec())), std::io::sink())
        .expect_err("an SQLite database file");
    assert!(err.to_string().contains("SQLite database file"), "{err}");
}

/// The command line's whole path is public: `Source::open` tells a pg_dump
/// archive from a plain dump, and `Rewriter::run_archive` writes the same
/// archive `dumpsed rewrite` writes (a custom and a tar archive).
#[test]
fn an_archive_rewritten_through_the_public_api_is_the_commands() {
    let dir = scratch();
    for name in ["before-v116.dump", "before-v116.tar"] {
        let input = fixture(&format!("archive/{name}"));
        let by_command = dir.path().join(format!("cmd-{name}"));
        ok(dumpsed()
            .args(["rewrite", "--quiet", "--rules", "fixtures/plain-sql-rename.toml"])
            .arg(&input)
            .arg("-o")
            .arg(&by_command));
        let by_library = dir.path().join(format!("lib-{name}"));
        let archive = match dumpsed::Source::open(Some(&input), true).expect("open") {
            dumpsed::Source::Archive(a) => a,
            dumpsed::Source::Plain(_) => panic!("{name}: not seen as an archive"),
        };
        let text = std::fs::read_to_string(fixture("plain-sql-rename.toml")).expect("rules");
        let summary = Rewriter::new(Rules::from_toml(&text).expect("rules"))
            .run_archive(archive, Some(&by_library), None)
            .expect("rewrite");
        assert!(summary.renames.iter().any(|r| r.references > 0), "{name}: {summary:?}");
        let (a, b) = (std::fs::read(&by_command).expect("read"), std::fs::read(&by_library).expect("read"));
        assert!(a == b, "{name}: the library's archive differs from the command's");
    }
}

/// The input may borrow (no `'static` bound): a slice of a local buffer.
#[test]
fn the_input_may_be_borrowed() {
    let dump = std::fs::read(fixture("pg-refs/before.sql")).expect("read");
    let mut rules = Rules::new();
    rules.add_rename("city", "town").expect("rule");
    let mut out = Vec::new();
    let summary = Rewriter::new(rules).run(&dump[..], &mut out).expect("rewrite");
    assert_eq!(summary.renames[0].old, "city");
    assert!(summary.renames[0].references > 0);
    assert!(String::from_utf8_lossy(&out).contains("CREATE TABLE public.town ("));
}

/// A format that does not fit the dump is an input error whose message
/// names no command-line flag; what gets past it is a typed remedy.
#[test]
fn a_format_error_has_a_kind_and_a_remedy_not_a_flag() {
    let dump = std::fs::read(fixture("pg-refs/before.sql")).expect("read");
    let err = Rewriter::new(Rules::new())
        .format(dumpsed::Format::Sqlite)
        .run(&dump[..], std::io::sink())
        .expect_err("wrong format");
    assert_eq!(err.kind(), dumpsed::ErrorKind::Input);
    assert_eq!(err.remedy(), Some(dumpsed::Remedy::DetectFormat));
    assert!(!err.to_string().contains("--"), "{err}");
    // The command says it with its flag, as it always has.
    let o = dumpsed()
        .args(["rewrite", "--quiet", "--format", "sqlite", "--rename-table", "city=town"])
        .arg(fixture("pg-refs/before.sql"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(3));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("--format asks for an SQLite (.dump) dump but the input looks like a PostgreSQL (pg_dump plain) dump; use --format auto"),
        "{e}"
    );
}

/// Library errors about rules are typed and name the rule in the library's
/// terms, never a flag: a rule whose table or column the dump lacks
/// (`Error::Missing`, `Remedy::AllowMissing`), a rule's text that does not
/// parse (`Error::InvalidRule`, its `RuleKind`). On the archive path an
/// error keeps its kind and remedy (a rename onto a table the archive has:
/// `Remedy::Force`; it came back as a plain archive error before).
#[test]
fn rule_errors_are_typed_and_name_no_flag() {
    use dumpsed::{Error, ErrorKind, Remedy, RuleKind, Source};
    let no_flag = |e: &Error| {
        let m = e.to_string();
        assert!(!m.contains("--"), "the library's message names a flag: {m}");
        m
    };
    let table = "incident_safety_correctivepreventiveaction";
    let cases: [(&str, RuleKind, Option<&str>); 4] = [
        ("rename-column", RuleKind::RenameColumn, Some("nosuch")),
        ("rewrite", RuleKind::Rewrite, Some("nosuch")),
        ("rename-column of a missing table", RuleKind::RenameColumn, None),
        ("rename-table", RuleKind::RenameTable, None),
    ];
    for (what, kind, column) in cases {
        let mut rules = Rules::new();
        let t = if column.is_some() { table } else { "no_such_table" };
        match kind {
            RuleKind::RenameColumn => rules.parse_column_rename(&format!("{t}.nosuch=foo")),
            RuleKind::Rewrite => rules.parse_rewrite(&format!("{t}.nosuch:CAPA-=SAP-")),
            _ => rules.parse_rename(&format!("{t}=foo")),
        }
        .expect("rule");
        let err = Rewriter::new(rules.clone())
            .run(std::fs::File::open(fixture("pg/before.sql")).expect("open"), std::io::sink())
            .expect_err(what);
        let msg = no_flag(&err);
        assert_eq!(err.kind(), ErrorKind::Rule, "{what}: {msg}");
        assert_eq!(err.remedy(), Some(Remedy::AllowMissing), "{what}: {msg}");
        let Error::Missing(v) = &err else { panic!("{what}: not Error::Missing: {msg}") };
        assert_eq!(v.len(), 1, "{what}: {msg}");
        assert_eq!((v[0].rule, v[0].column.as_deref()), (kind, column), "{what}: {msg}");
        // Allowed: a warning, and the dump is the input (nothing to change).
        let mut out = Vec::new();
        let summary = Rewriter::new(rules)
            .allow_missing(true)
            .run(std::fs::File::open(fixture("pg/before.sql")).expect("open"), &mut out)
            .expect(what);
        assert!(out == std::fs::read(fixture("pg/before.sql")).expect("read"), "{what}: output differs");
        if kind != RuleKind::RenameTable {
            // Typed: the rule that let pass, as the strict check named it.
            let allowed: Vec<&dumpsed::Missing> = summary
                .warnings
                .iter()
                .filter_map(|w| match w {
                    dumpsed::Problem::Missing(m) => Some(m),
                    _ => None,
                })
                .collect();
            assert_eq!(allowed, vec![&v[0]], "{what}: {:?}", summary.warnings);
            assert!(summary.warnings.iter().any(|w| w.to_string().contains("nothing was changed")), "{what}: {:?}", summary.warnings);
        }
    }
    // Rules that do not parse.
    let mut r = Rules::new();
    let bad: [(RuleKind, Error); 6] = [
        (RuleKind::DjangoModel, r.add_django_model("app", None).expect_err("model")),
        (RuleKind::DbTable, r.add_django_model("app.Old=New", Some("t")).expect_err("db_table")),
        (RuleKind::DjangoField, r.parse_django_field("app.Model", None).expect_err("field")),
        (RuleKind::DjangoTable, r.parse_django_table("app", None).expect_err("table")),
        (RuleKind::MarkApplied, r.add_mark_applied("nodot").expect_err("mark")),
        (RuleKind::AppliedAt, r.set_applied_at("yesterday").expect_err("at")),
    ];
    for (kind, err) in bad {
        no_flag(&err);
        assert_eq!(err.kind(), ErrorKind::Rule);
        assert!(matches!(err, Error::InvalidRule { rule, .. } if rule == kind), "{kind:?}: {err}");
    }
    // The archive path: a statement refused with a remedy keeps it.
    let mut rules = Rules::new();
    rules.parse_rename(&format!("{table}=auth_user")).expect("rule");
    let Source::Archive(archive) = Source::open(Some(&fixture("archive/before.dump")), false).expect("open") else {
        panic!("not an archive")
    };
    let dir = scratch();
    let out = dir.path().join("out.dump");
    let err = Rewriter::new(rules).run_archive(archive, Some(&out), None).expect_err("collision");
    let msg = no_flag(&err);
    assert_eq!(err.remedy(), Some(Remedy::Force), "{msg}");
    assert_eq!(err.kind(), ErrorKind::Input, "{msg}");
    assert!(!out.exists(), "output written");
}

/// A failed check is typed: `Error::Check` holds the problems the checks
/// found (here a rewritten value longer than its `varchar(20)`), on a plain
/// dump and on an archive (where it is said at the archive's place), and its
/// kind and remedy are the check's.
#[test]
fn a_failed_check_holds_typed_problems() {
    use dumpsed::{Error, ErrorKind, Problem, Remedy};
    let rules = || {
        let mut r = Rules::new();
        r.parse_rewrite("incident_safety_correctivepreventiveaction.reference_number:CAPA-=CAPA-ABCDEFGHIJKLMNOPQRSTU")
            .expect("rule");
        r
    };
    fn problems(e: &Error) -> &[Problem] {
        match e {
            Error::Check(p) => p,
            Error::At { source, .. } => problems(source),
            other => panic!("not a check: {other:?}"),
        }
    }
    let plain = std::fs::read(fixture("pg/before.sql")).expect("read fixture");
    let err = Rewriter::new(rules()).run(&plain[..], std::io::sink()).expect_err("too long");
    let input = fixture("archive/before-v116.dump");
    let archive = match dumpsed::Source::open(Some(&input), true).expect("open") {
        dumpsed::Source::Archive(a) => a,
        dumpsed::Source::Plain(_) => panic!("not seen as an archive"),
    };
    let dir = scratch();
    let out = dir.path().join("out.dump");
    let archive_err = Rewriter::new(rules()).run_archive(archive, Some(&out), None).expect_err("too long");
    for (what, err) in [("plain", &err), ("archive", &archive_err)] {
        assert_eq!(err.kind(), ErrorKind::Check, "{what}: {err}");
        assert_eq!(err.remedy(), Some(Remedy::Force), "{what}: {err}");
        let p = problems(err);
        assert_eq!(p.len(), 1, "{what}: {p:?}");
        match &p[0] {
            Problem::TooLong { table, column, count, examples } => {
                assert!(table.ends_with("incident_safety_correctivepreventiveaction"), "{what}: {table}");
                assert_eq!(column, "reference_number", "{what}");
                assert!(*count > 0 && !examples.is_empty(), "{what}: {p:?}");
                let new = examples[0].new.text();
                assert!(new.starts_with("CAPA-ABCDEFGHIJKLMNOPQRSTU") && new.len() > 20, "{what}: {new}");
            }
            other => panic!("{what}: not TooLong: {other:?}"),
        }
        assert!(err.to_string().contains(&p[0].to_string()), "{what}: the message does not say the problem: {err}");
    }
    assert!(!out.exists(), "archive output written");
}
