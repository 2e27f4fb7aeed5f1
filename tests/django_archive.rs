//! Django rules on pg_dump archives (issue 25): the guide's database,
//! dumped by the real pg_dump 15 and 18 in custom (gzip, `-Z0`, written to
//! a pipe so its offsets are unset; lz4 and zstd), directory and tar
//! format, rewritten with the guide's rules (the helper's, as
//! tests/django.rs, with both `mark_applied` rows), restored by the same
//! release's `pg_restore -j 2` into a server of that release, dumped again
//! and compared with the database real Django 5.2's `migrate` makes of the
//! same before-database on that server; real Django then has nothing left
//! to apply.
//!
//! Django's effects beyond the schema (content type renamed, permissions
//! added, `django_migrations` rows) are one added TOC entry: `pg_restore -l`
//! lists it, an `-L` list orders or skips it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::django::*;
use common::*;
use dumpsed::internals::archive::{custom, toc, Sink};

const TAG: &str = "dumpsed: what manage.py migrate adds (content types, permissions, migrations)";

/// A PostgreSQL server and the client programs of its release: the test
/// cluster with Debian's pg 15 tools on PATH, or a private pg 18 server
/// with the tools of `DUMPSED_PG18_BIN` (pg_restore 18 sets
/// `transaction_timeout`, which a pg 15 server refuses).
struct Pg {
    bin: Option<PathBuf>,
    server: Option<Server>,
}

impl Pg {
    fn v15() -> Pg {
        require_pg();
        Pg { bin: None, server: None }
    }

    fn v18() -> Pg {
        let Some(dir) = std::env::var_os("DUMPSED_PG18_BIN") else {
            panic!(
                "this test needs PostgreSQL 18: run the suite with `bash tests/run.sh`, which installs it \
                 (DUMPSED_PG18_BIN is not set)"
            );
        };
        let bin = PathBuf::from(dir);
        let server = Server::start(&bin, 54318);
        Pg { bin: Some(bin), server: Some(server) }
    }

    fn tool(&self, name: &str) -> Command {
        let mut c = Command::new(match &self.bin {
            Some(b) => b.join(name),
            None => PathBuf::from(name),
        });
        if let Some(s) = &self.server {
            s.at(&mut c);
        }
        c
    }

    fn createdb(&self, tag: &str) -> Db<'_> {
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("dumpsed_da_{tag}_{}_{n}", std::process::id());
        // By psql: the matrix's lz4/zstd client build has no createdb.
        ok(self.tool("psql").args(["-X", "-q", "-d", "postgres", "-c"]).arg(format!("CREATE DATABASE {name}")));
        Db { pg: self, name }
    }

    /// `manage.py` of `project` against `db`: (succeeded, stdout + stderr).
    fn manage(&self, project: &str, db: &str, args: &[&str]) -> (bool, String) {
        let mut c = Command::new(django_python());
        c.arg(fixture(&format!("{project}/manage.py")))
            .args(args)
            .env("DJANGO_DB_BACKEND", "postgresql")
            .env("DJANGO_PG_NAME", db)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        if let Some(s) = &self.server {
            s.at(&mut c);
        }
        let out = run(&mut c);
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.success(), text)
    }
}

struct Db<'a> {
    pg: &'a Pg,
    name: String,
}

impl Db<'_> {
    fn load(&self, sql: &Path) {
        ok(self
            .pg
            .tool("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", &self.name, "-f"])
            .arg(sql)
            .stdout(Stdio::null()));
    }

    /// The database as pg_dump writes it, rows sorted (`normalized_pg`).
    fn normalized(&self) -> String {
        normalized_pg(&ok(self.pg.tool("pg_dump").args(["-d", &self.name])))
    }

    /// pg_dump's archive of this database in `file`.
    fn archive(&self, args: &[&str], file: &Path) {
        ok(self.pg.tool("pg_dump").args(args).args(["-d", &self.name, "-f"]).arg(file));
    }
}

impl Drop for Db<'_> {
    fn drop(&mut self) {
        let _ = self.pg.tool("psql").args(["-X", "-q", "-d", "postgres", "-c"]).arg(format!("DROP DATABASE IF EXISTS {}", self.name)).output();
    }
}

fn rules_file(dir: &Path, toml: &str) -> PathBuf {
    let p = dir.join("rules.toml");
    fs::write(&p, toml).expect("write rules");
    p
}

fn rewrite(rules: &Path, input: &Path, out: &Path) {
    ok(dumpsed().args(["rewrite", "--quiet", "--rules"]).arg(rules).arg(input).arg("-o").arg(out));
}

/// Restores `archive` with `pg_restore` (`-j 2` unless tar, which pg_restore
/// restores serially only: `RestoreArchive` wants `ClonePtr`), asserting it
/// says nothing: no error, no warning.
fn restore(pg: &Pg, archive: &Path, db: &Db<'_>, extra: &[&str]) {
    let tar = fs::read(archive).map(|b| b.len() > 262 && &b[257..262] == b"ustar").unwrap_or(false);
    let mut c = pg.tool("pg_restore");
    if !tar {
        c.args(["-j", "2"]);
    }
    let out = run(c.args(extra).args(["-d", &db.name]).arg(archive));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.is_empty(), "pg_restore {}: {err}", archive.display());
}

/// The live result on `pg`, normalised: `before` loaded, then real
/// Django's `migrate` of `project` (its committed, after-rename state), app
/// by app in the order regen.sh ran them (none: all). On the server itself,
/// not the fixture of the live run on pg 15: from pg 18 on, NOT NULL
/// constraints have names, which a live table rename keeps (and pg_dump
/// writes when they are not the default for the table's name).
fn live(pg: &Pg, project: &str, before: &str, apps: &[&str]) -> Live {
    let db = pg.createdb("live");
    db.load(&fixture(before));
    let runs: Vec<Vec<&str>> = match apps {
        [] => vec![vec!["migrate", "--noinput"]],
        _ => apps.iter().map(|a| vec!["migrate", "--noinput", a]).collect(),
    };
    for args in runs {
        let (fine, text) = pg.manage(project, &db.name, &args);
        assert!(fine, "live {args:?}:\n{text}");
    }
    let dir = scratch();
    let archive = dir.path().join("live.dump");
    db.archive(&["-Fc"], &archive);
    Live { dump: db.normalized(), entries: entries(pg, &archive) }
}

/// The live database: as pg_dump writes it (normalised) and its archive's
/// entries.
struct Live {
    dump: String,
    entries: Vec<String>,
}

/// The entries `pg_restore -l` lists, as `DESC SCHEMA TAG OWNER`, sorted
/// (dump ids and oids differ from database to database), without the one
/// dumpsed adds.
fn entries(pg: &Pg, archive: &Path) -> Vec<String> {
    let list = String::from_utf8_lossy(&ok(pg.tool("pg_restore").arg("-l").arg(archive))).into_owned();
    let mut v: Vec<String> = list
        .lines()
        .filter(|l| !l.starts_with(';') && !l.contains(TAG))
        .filter_map(|l| l.splitn(4, ' ').nth(3).map(str::to_string))
        .collect();
    v.sort();
    v
}

fn guide_live(pg: &Pg) -> Live {
    live(pg, "django/project", "django/pg/before.sql", &[])
}

/// `archive` (already rewritten) restored, compared with `want`, then
/// `migrate --check` / `migrate` of the guide's project.
fn check_guide(pg: &Pg, archive: &Path, want: &str, what: &str) {
    let db = pg.createdb("ours");
    restore(pg, archive, &db, &[]);
    let got = db.normalized();
    assert!(got == want, "{what}: {}", first_difference(&got, want));
    let (fine, text) = pg.manage("django/project", &db.name, &["migrate", "--check"]);
    assert!(fine, "{what}: migrate --check after restore:\n{text}");
    let (fine, text) = pg.manage("django/project", &db.name, &["migrate", "--noinput"]);
    assert!(fine && text.contains("No migrations to apply."), "{what}: migrate after restore:\n{text}");
}

/// One way pg_dump writes the archive.
struct Form {
    name: &'static str,
    args: &'static [&'static str],
    /// pg_dump writes to a pipe (`-Fc` offsets unset, `_CloseArchive`).
    piped: bool,
}

const FORMS_15: &[Form] = &[
    Form { name: "c-gzip.dump", args: &["-Fc"], piped: false },
    Form { name: "c-z0.dump", args: &["-Fc", "-Z0"], piped: false },
    Form { name: "c-piped.dump", args: &["-Fc"], piped: true },
    Form { name: "d", args: &["-Fd"], piped: false },
    Form { name: "t.tar", args: &["-Ft"], piped: false },
];

const FORMS_18: &[Form] = &[
    Form { name: "c-gzip.dump", args: &["-Fc"], piped: false },
    Form { name: "c-z0.dump", args: &["-Fc", "-Z0"], piped: false },
    Form { name: "d", args: &["-Fd"], piped: false },
    Form { name: "t.tar", args: &["-Ft"], piped: false },
];

fn make_archive(db: &Db<'_>, form: &Form, file: &Path) {
    if !form.piped {
        return db.archive(form.args, file);
    }
    let mut dump = db.pg.tool("pg_dump");
    dump.args(form.args).args(["-d", &db.name]).stdout(Stdio::piped());
    let mut child = dump.spawn().expect("pg_dump");
    let mut pipe = child.stdout.take().expect("pipe");
    let mut f = fs::File::create(file).expect("create");
    std::io::copy(&mut pipe, &mut f).expect("copy");
    assert!(child.wait().expect("wait").success());
}

/// Every form of `forms`, from the guide's before-database on `pg`.
fn guide_archives_match_live(pg: &Pg, forms: &[Form]) -> Vec<String> {
    let dir = scratch();
    let rules = rules_file(dir.path(), &guide_rules_toml());
    let before = pg.createdb("before");
    before.load(&fixture("django/pg/before.sql"));
    let want = guide_live(pg);
    let mut done = Vec::new();
    for form in forms {
        let input = dir.path().join(format!("in-{}", form.name));
        let out = dir.path().join(format!("out-{}", form.name));
        make_archive(&before, form, &input);
        rewrite(&rules, &input, &out);
        let list = String::from_utf8_lossy(&ok(pg.tool("pg_restore").arg("-l").arg(&out))).into_owned();
        assert!(list.contains(&format!("SEQUENCE SET public {TAG} ")), "{}: not listed:\n{list}", form.name);
        // Every other entry as pg_dump lists the live database's: tags
        // renamed (tables, foreign keys Django re-creates), none added.
        let got = entries(pg, &out);
        assert!(got == want.entries, "{}: entries: {}", form.name, first_difference(&got.join("\n"), &want.entries.join("\n")));
        check_guide(pg, &out, &want.dump, form.name);
        done.push(form.name.to_string());
    }
    done
}

#[test]
fn guide_archives_of_pg_dump_15_restore_to_the_live_result() {
    let pg = Pg::v15();
    let done = guide_archives_match_live(&pg, FORMS_15);
    assert_eq!(done.len(), FORMS_15.len());
}

#[test]
fn guide_archives_of_pg_dump_18_restore_to_the_live_result() {
    let pg = Pg::v18();
    let done = guide_archives_match_live(&pg, FORMS_18);
    assert_eq!(done.len(), FORMS_18.len());
}

/// lz4 and zstd: the pg 18 tools at hand are built without them, so pg_dump
/// 18's `-Z0` archive is transcoded to each by the library (LZ4F / zstd
/// frames, as `compress_lz4.c` / `compress_zstd.c` write), rewritten by the
/// CLI, which keeps that compression, transcoded back to none and restored
/// by pg_restore 18.
#[test]
fn guide_lz4_and_zstd_archives_restore_to_the_live_result() {
    let pg = Pg::v18();
    let dir = scratch();
    let rules = rules_file(dir.path(), &guide_rules_toml());
    let before = pg.createdb("before");
    before.load(&fixture("django/pg/before.sql"));
    let want = guide_live(&pg);
    let z0 = dir.path().join("z0.dump");
    before.archive(&["-Fc", "-Z0"], &z0);
    let transcode = |from: &Path, to: &Path, alg: u8| {
        let r = std::io::BufReader::new(fs::File::open(from).expect("open"));
        let mut f = fs::File::create(to).expect("create");
        custom::rewrite_as(
            r,
            Sink::Seekable(&mut f),
            &mut dumpsed::internals::archive::Identity,
            Some(toc::CompressionSpec::Algorithm(alg)),
        )
        .expect("transcode");
    };
    for (alg, name) in [(2u8, "lz4"), (3, "zstd")] {
        let packed = dir.path().join(format!("in-{name}.dump"));
        let out = dir.path().join(format!("out-{name}.dump"));
        let back = dir.path().join(format!("back-{name}.dump"));
        transcode(&z0, &packed, alg);
        rewrite(&rules, &packed, &out);
        let head = fs::read(&out).expect("out");
        // The header's compression byte (`WriteHead`, archive 1.15 and later).
        assert_eq!(head[11], alg, "{name}: the output keeps the input's compression");
        transcode(&out, &back, 0);
        check_guide(&pg, &back, &want.dump, name);
    }
}

/// The `-L` list: the Django entry moved after everything else still gives
/// the live result (pg_restore follows the list's order); commented out,
/// the restore lacks exactly what it adds, so Django sees 0002 and 0003
/// unapplied.
#[test]
fn guide_archive_entry_follows_an_edited_list() {
    let pg = Pg::v15();
    let dir = scratch();
    let rules = rules_file(dir.path(), &guide_rules_toml());
    let before = pg.createdb("before");
    before.load(&fixture("django/pg/before.sql"));
    let want = guide_live(&pg);
    let (input, out) = (dir.path().join("in.dump"), dir.path().join("out.dump"));
    before.archive(&["-Fc"], &input);
    rewrite(&rules, &input, &out);
    let list = String::from_utf8_lossy(&ok(pg.tool("pg_restore").arg("-l").arg(&out))).into_owned();
    let (ours, rest): (Vec<&str>, Vec<&str>) = list.lines().partition(|l| l.contains(TAG));
    assert_eq!(ours.len(), 1, "{list}");
    let moved = dir.path().join("moved.list");
    fs::write(&moved, format!("{}\n{}\n", rest.join("\n"), ours[0])).expect("list");
    let db = pg.createdb("moved");
    restore(&pg, &out, &db, &["-L", moved.to_str().expect("utf8 path")]);
    let got = db.normalized();
    assert!(got == want.dump, "moved: {}", first_difference(&got, &want.dump));

    // A data entry, as pg_dump's own SEQUENCE SET (`_tocEntryRequired`):
    // `--data-only` keeps it, `--schema-only` leaves it out.
    let script = |opt: &str| String::from_utf8_lossy(&ok(pg.tool("pg_restore").args([opt, "-f", "-"]).arg(&out))).into_owned();
    let adds = "INSERT INTO public.django_migrations (app, name, applied) VALUES ('incident_safety', '0003_update_reference_numbers'";
    assert!(script("--data-only").contains(adds));
    assert!(!script("--schema-only").contains(adds));

    // The run says what it added, in inspect/--dry-run and the summary.
    let again = dir.path().join("again.dump");
    for extra in [vec!["--dry-run".to_string()], vec!["-o".to_string(), again.display().to_string()]] {
        let r = run(dumpsed().args(["rewrite", "--rules"]).arg(&rules).args(&extra).arg(&input));
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(
            r.status.success()
                && err.contains(&format!("added TOC entry {} (SEQUENCE SET public {TAG})", ours[0].split(';').next().unwrap_or("?")))
                && err.contains("1 content type rename(s), 4 permission statement(s), 2 django_migrations row(s)"),
            "{extra:?}: {err}"
        );
    }

    let skipped = dir.path().join("skipped.list");
    fs::write(&skipped, format!("{}\n;{}\n", rest.join("\n"), ours[0])).expect("list");
    let db = pg.createdb("skipped");
    restore(&pg, &out, &db, &["-L", skipped.to_str().expect("utf8 path")]);
    let (fine, text) = pg.manage("django/project", &db.name, &["migrate", "--check"]);
    assert!(!fine, "migrate --check without the Django entry:\n{text}");
    let rows = ok(pg.tool("psql").args(["-X", "-A", "-t", "-d", &db.name, "-c"]).arg(
        "SELECT count(*) FROM django_migrations WHERE app = 'incident_safety' AND name > '0002'",
    ));
    assert_eq!(String::from_utf8_lossy(&rows).trim(), "0");
}

/// The apps fixtures/django/shapes/regen.sh migrates, in its order; venues
/// 0002 is left unapplied (Django cannot apply it).
const SHAPES_APPS: &[&str] = &["gadgets", "outlets", "archive", "extras"];

/// The relation shapes of tests/django.rs (M2M, self-M2M, kept and changed
/// `db_table`, names over 63 characters, RenameField, AlterModelTable) in
/// a custom archive of pg_dump 15 and 18.
fn shapes_match_live(pg: &Pg) {
    let dir = scratch();
    let rules = rules_file(dir.path(), &shapes_rules("postgresql"));
    let before = pg.createdb("shbefore");
    before.load(&fixture("django/shapes/pg/before.sql"));
    let want = live(pg, "django/shapes/project", "django/shapes/pg/before.sql", SHAPES_APPS);
    let (input, out) = (dir.path().join("in.dump"), dir.path().join("out.dump"));
    before.archive(&["-Fc"], &input);
    rewrite(&rules, &input, &out);
    let db = pg.createdb("shapes");
    restore(pg, &out, &db, &[]);
    let got = db.normalized();
    assert!(got == want.dump, "shapes: {}", first_difference(&got, &want.dump));
    let got = entries(pg, &out);
    assert!(got == want.entries, "shapes: entries: {}", first_difference(&got.join("\n"), &want.entries.join("\n")));
    for app in SHAPES_APPS {
        let (fine, text) = pg.manage("django/shapes/project", &db.name, &["migrate", "--check", app]);
        assert!(fine, "migrate --check {app} after restore:\n{text}");
    }
}

#[test]
fn shapes_archive_of_pg_dump_15_restores_to_the_live_result() {
    shapes_match_live(&Pg::v15());
}

#[test]
fn shapes_archive_of_pg_dump_18_restores_to_the_live_result() {
    shapes_match_live(&Pg::v18());
}

/// The shipped fixture (`fixtures/django/pg/before.dump`, pg_dump 15 `-Fc`
/// of the guide's database, made by regen.sh) is the README's first
/// example: rewritten, restored with `pg_restore -j 4`.
#[test]
fn shipped_custom_fixture_is_the_readme_example() {
    let pg = Pg::v15();
    let dir = scratch();
    let input = fixture("django/pg/before.dump");
    let out = dir.path().join("after.dump");
    ok(dumpsed()
        .args(["rewrite", "--quiet", "--preset", "capa-to-sap"])
        .args([
            "--mark-applied",
            "incident_safety.0002_rename_capa_to_safety_action_plan",
            "--mark-applied",
            "incident_safety.0003_update_reference_numbers",
        ])
        .arg(&input)
        .arg("-o")
        .arg(&out));
    let want = guide_live(&pg);
    let db = pg.createdb("readme");
    let r = run(pg.tool("pg_restore").args(["-j", "4", "-d", &db.name]).arg(&out));
    assert!(r.status.success() && r.stderr.is_empty(), "{}", String::from_utf8_lossy(&r.stderr));
    let got = db.normalized();
    assert!(got == want.dump, "{}", first_difference(&got, &want.dump));
    let (fine, text) = pg.manage("django/project", &db.name, &["migrate", "--check"]);
    assert!(fine, "{text}");
}

/// Bad input: an archive without `django_migrations`, `django_content_type`
/// or `auth_permission` (`pg_dump -T`), or
/// with its table but not its data (`--exclude-table-data`), under
/// `--mark-applied`: a clear error naming what is missing, exit 2 or 3, and
/// nothing at the output path.
#[test]
fn missing_django_tables_are_clear_errors() {
    let pg = Pg::v15();
    let dir = scratch();
    let rules = rules_file(dir.path(), &guide_rules_toml());
    let before = pg.createdb("before");
    before.load(&fixture("django/pg/before.sql"));
    for (args, want) in [
        (&["-Fc", "-T", "django_migrations"][..], &["migrations marked applied", "no TABLE entry for django_migrations"][..]),
        (
            &["-Fc", "-T", "django_content_type"][..],
            &["Django model rename", "no TABLE entry for django_content_type"][..],
        ),
        (&["-Fd", "-T", "auth_permission"][..], &["Django model rename", "no TABLE entry for auth_permission"][..]),
        (
            &["-Fc", "--exclude-table-data", "django_migrations"][..],
            &["TABLE public django_migrations", "has no data for this table"][..],
        ),
    ] {
        let input = dir.path().join(format!("in-{}", args.join("")));
        let out = dir.path().join("out.dump");
        before.archive(args, &input);
        let r = run(dumpsed().args(["rewrite", "--rules"]).arg(&rules).arg(&input).arg("-o").arg(&out));
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{args:?}: exit 0");
        for w in want {
            assert!(err.contains(w), "{args:?}: {w:?} not in: {err}");
        }
        assert!(!out.exists(), "{args:?}: an output file was left");
    }
}

/// Bad input: an archive of a database in an older Django's shape of its
/// own tables, made by real Django 5.2 migrating the guide's database back
/// (`migrate contenttypes 0001`: `django_content_type` gets its `name`
/// column back; `migrate auth 0001`: `auth_permission.name` is varchar(50)
/// again). The Django rules write for the current shapes: a clear error
/// naming the TOC entry and the migration missing, exit 2, no output file.
#[test]
fn older_django_shapes_are_clear_errors() {
    let pg = Pg::v15();
    let dir = scratch();
    let rules = rules_file(dir.path(), &guide_rules_toml());
    for (target, entry, want) in [
        (["contenttypes", "0001"], "(TABLE public django_content_type)", "0002_remove_content_type_name"),
        (["auth", "0001"], "(TABLE public auth_permission)", "0002_alter_permission_name_max_length"),
    ] {
        let db = pg.createdb("old");
        db.load(&fixture("django/pg/before.sql"));
        let (fine, text) = pg.manage("django/project", &db.name, &["migrate", "--noinput", target[0], target[1]]);
        assert!(fine, "migrate {target:?}: {text}");
        let input = dir.path().join(format!("{}.dump", target[0]));
        let out = dir.path().join("out.dump");
        db.archive(&["-Fc"], &input);
        let r = run(dumpsed().args(["rewrite", "--rules"]).arg(&rules).arg(&input).arg("-o").arg(&out));
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{target:?}: {err}");
        for w in ["Django model rename", "TOC entry", entry, "at byte", want] {
            assert!(err.contains(w), "{target:?}: {w:?} not in: {err}");
        }
        assert!(!out.exists(), "{target:?}: an output file was left");
    }
}

/// A server of the version matrix (`scripts/pg-matrix.sh`, as
/// tests/matrix.rs) with the client programs of `client`; `None` (skipped,
/// said why) when they are not installed.
fn matrix_pg(server: &str, client: &str, port: u16) -> Option<Pg> {
    let server_bin = matrix_need("DUMPSED_MATRIX_SERVERS", server)?;
    let bin = matrix_need("DUMPSED_MATRIX_CLIENTS", client)?;
    Some(Pg { server: Some(Server::start(&server_bin, port)), bin: Some(bin) })
}

impl Db<'_> {
    /// `file` loaded without pg_dump 15.14+'s `\restrict` lines, which an
    /// older psql (16.2's) does not know; they guard a restore, not the
    /// database.
    fn load_unrestricted(&self, file: &Path, dir: &Path) {
        let text = fs::read_to_string(file).expect("read");
        let kept: String = text
            .lines()
            .filter(|l| !l.starts_with("\\restrict ") && !l.starts_with("\\unrestrict "))
            .map(|l| format!("{l}\n"))
            .collect();
        let copy = dir.join(file.file_name().expect("file name"));
        fs::write(&copy, kept).expect("write");
        self.load(&copy);
    }
}

/// The guide's live migration on a matrix server. From 14 on, real Django
/// 5.2's `migrate`; Django 5.2 refuses servers before 14
/// (`minimum_database_version`), so there the live run is replayed: every
/// statement that real `migrate` ran (`fixtures/django/pg/migrate-after.sql`,
/// captured by regen.sh) on the same before-database. On 14 and later the
/// replay is checked to equal real `migrate` too, so the replay is a live
/// result wherever Django runs.
fn matrix_live(pg: &Pg, dir: &Path, django: bool) -> Live {
    let replay = || {
        let db = pg.createdb("replayed");
        db.load_unrestricted(&fixture("django/pg/before.sql"), dir);
        db.load(&fixture("django/pg/migrate-after.sql"));
        let archive = dir.join("replayed.dump");
        db.archive(&["-Fc"], &archive);
        Live { dump: db.normalized(), entries: entries(pg, &archive) }
    };
    let replayed = replay();
    if !django {
        return replayed;
    }
    let db = pg.createdb("live");
    db.load_unrestricted(&fixture("django/pg/before.sql"), dir);
    let (fine, text) = pg.manage("django/project", &db.name, &["migrate", "--noinput"]);
    assert!(fine, "live migrate:\n{text}");
    let archive = dir.join("live.dump");
    db.archive(&["-Fc"], &archive);
    let live = Live { dump: db.normalized(), entries: entries(pg, &archive) };
    assert!(live.dump == replayed.dump, "replayed migrate: {}", first_difference(&replayed.dump, &live.dump));
    live
}

/// The guide's preset with `--mark-applied` (the README's first example) on
/// every archive form `forms` that pg_dump `client` writes of the guide's
/// database on server `server`: rewritten, restored with that `pg_restore
/// -j 2` (tar: serially) and through an `-L` list with the Django entry
/// moved last, each equal to the live result; `migrate --check` on the
/// restored database where Django 5.2 runs (14 and later).
fn guide_on_matrix(server: &str, client: &str, port: u16, forms: &[Form]) {
    let Some(pg) = matrix_pg(server, client, port) else { return };
    let django = !matches!(server, "12" | "13");
    let dir = scratch();
    let before = pg.createdb("before");
    before.load_unrestricted(&fixture("django/pg/before.sql"), dir.path());
    let want = matrix_live(&pg, dir.path(), django);
    let mut failures = Vec::new();
    for form in forms {
        let what = format!("server {server}, pg_dump {client} {}", form.args.join(" "));
        eprintln!("guide matrix: {what}");
        let input = dir.path().join(format!("in-{}", form.name));
        let out = dir.path().join(format!("out-{}", form.name));
        make_archive(&before, form, &input);
        let r = run(dumpsed()
            .args(["rewrite", "--quiet", "--preset", "capa-to-sap"])
            .args(["--mark-applied", "incident_safety.0002_rename_capa_to_safety_action_plan"])
            .args(["--mark-applied", "incident_safety.0003_update_reference_numbers"])
            .arg(&input)
            .arg("-o")
            .arg(&out));
        if !r.status.success() {
            failures.push(format!("{what}: dumpsed: {}", String::from_utf8_lossy(&r.stderr)));
            continue;
        }
        let got = entries(&pg, &out);
        if got != want.entries {
            failures.push(format!("{what}: entries: {}", first_difference(&got.join("\n"), &want.entries.join("\n"))));
        }
        let list = String::from_utf8_lossy(&ok(pg.tool("pg_restore").arg("-l").arg(&out))).into_owned();
        let (ours, rest): (Vec<&str>, Vec<&str>) = list.lines().partition(|l| l.contains(TAG));
        let moved = dir.path().join(format!("{}.list", form.name));
        fs::write(&moved, format!("{}\n{}\n", rest.join("\n"), ours.join("\n"))).expect("list");
        for extra in [vec![], vec!["-L".to_string(), moved.display().to_string()]] {
            let db = pg.createdb("restored");
            restore(&pg, &out, &db, &extra.iter().map(String::as_str).collect::<Vec<_>>());
            let got = db.normalized();
            if got != want.dump {
                failures.push(format!("{what} {extra:?}: {}", first_difference(&got, &want.dump)));
                continue;
            }
            if django {
                let (fine, text) = pg.manage("django/project", &db.name, &["migrate", "--check"]);
                if !fine {
                    failures.push(format!("{what} {extra:?}: migrate --check:\n{text}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} failing form(s):\n{}", failures.len(), failures.join("\n"));
}

/// What every pg_dump of the matrix writes: custom (gzip, none, to a pipe),
/// directory (gzip, none), tar.
const MATRIX_FORMS: &[Form] = &[
    Form { name: "c-gzip.dump", args: &["-Fc"], piped: false },
    Form { name: "c-z0.dump", args: &["-Fc", "-Z0"], piped: false },
    Form { name: "c-piped.dump", args: &["-Fc"], piped: true },
    Form { name: "d-gzip", args: &["-Fd"], piped: false },
    Form { name: "d-z0", args: &["-Fd", "-Z0"], piped: false },
    Form { name: "t.tar", args: &["-Ft"], piped: false },
];

/// pg_dump 18 built with lz4 and zstd (the matrix's `18z`) adds these.
const MATRIX_FORMS_LZ4_ZSTD: &[Form] = &[
    Form { name: "c-lz4.dump", args: &["-Fc", "-Z", "lz4"], piped: false },
    Form { name: "c-zstd.dump", args: &["-Fc", "-Z", "zstd"], piped: false },
    Form { name: "c-zstd9.dump", args: &["-Fc", "-Z", "zstd:9"], piped: false },
    Form { name: "d-lz4", args: &["-Fd", "-Z", "lz4"], piped: false },
    Form { name: "d-zstd", args: &["-Fd", "-Z", "zstd"], piped: false },
    Form { name: "c-gzip9.dump", args: &["-Fc", "-Z", "gzip:9"], piped: false },
];

// Which pg_dump dumps which server: as tests/matrix.rs (pg_dump 17+ writes
// `SET transaction_timeout`, which servers before 17 refuse).

#[test]
fn guide_matrix_server_12() {
    guide_on_matrix("12", "15", 55512, MATRIX_FORMS);
}

#[test]
fn guide_matrix_server_13() {
    guide_on_matrix("13", "15", 55513, MATRIX_FORMS);
}

#[test]
fn guide_matrix_server_14() {
    guide_on_matrix("14", "16", 55514, MATRIX_FORMS);
}

#[test]
fn guide_matrix_server_15() {
    guide_on_matrix("15", "15", 55515, MATRIX_FORMS);
}

#[test]
fn guide_matrix_server_16() {
    guide_on_matrix("16", "16", 55516, MATRIX_FORMS);
}

#[test]
fn guide_matrix_server_17() {
    guide_on_matrix("17", "18", 55517, MATRIX_FORMS);
}

#[test]
fn guide_matrix_server_18() {
    guide_on_matrix("18", "18", 55518, MATRIX_FORMS);
}

#[test]
fn guide_matrix_server_18_lz4_zstd() {
    guide_on_matrix("18", "18z", 55519, MATRIX_FORMS_LZ4_ZSTD);
}

/// `--reverse`, `verify` and `--log-changes` with the guide's Django rules
/// on custom, directory and tar archives:
/// - `--log-changes` logs each rewritten value, and those are the values
///   the restored database holds;
/// - `verify` with the rewrite's `--applied-at` says EQUAL; without it, it
///   refuses naming why (each run writes its own time into
///   `django_migrations.applied`), exit 2;
/// - `--reverse` takes out the entry the forward run added (nothing of
///   Django's is added): the output restores to the before-database, but
///   for the values the summary names as not coming back; on an archive
///   without that entry it refuses naming it, exit 2, nothing written.
#[test]
fn reverse_verify_and_log_changes_with_django_rules() {
    let pg = Pg::v15();
    let dir = scratch();
    let before = pg.createdb("before");
    before.load(&fixture("django/pg/before.sql"));
    let at = "2026-12-01 10:00:00.000000+00";
    let guide = |sub: &str| {
        let mut c = dumpsed();
        c.args([sub, "--preset", "capa-to-sap"])
            .args(["--mark-applied", "incident_safety.0002_rename_capa_to_safety_action_plan"])
            .args(["--mark-applied", "incident_safety.0003_update_reference_numbers"]);
        c
    };
    for form in [&FORMS_15[0], &FORMS_15[3], &FORMS_15[4]] {
        let input = dir.path().join(format!("in-{}", form.name));
        let out = dir.path().join(format!("out-{}", form.name));
        let back = dir.path().join(format!("back-{}", form.name));
        let log = dir.path().join(format!("{}.csv", form.name));
        make_archive(&before, form, &input);
        let mut c = guide("rewrite");
        c.args(["--quiet", "--applied-at", at, "--log-changes"])
            .arg(&log)
            .arg(&input)
            .arg("-o")
            .arg(&out);
        ok(&mut c);

        // verify: EQUAL with the same --applied-at; refused without it.
        let r = run(guide("verify").args(["--applied-at", at]).arg(&input).arg(&out));
        assert!(r.status.success(), "{}: verify: {}", form.name, String::from_utf8_lossy(&r.stdout));
        let r = run(guide("verify").arg(&input).arg(&out));
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{}: verify without --applied-at: {err}", form.name);
        assert!(err.contains("needs the rewrite's --applied-at"), "{err}");

        // --log-changes: the values logged are those the restore holds.
        let restored = pg.createdb("logged");
        restore(&pg, &out, &restored, &[]);
        let held = String::from_utf8_lossy(&ok(pg.tool("psql").args(["-X", "-A", "-t", "-d", &restored.name, "-c"]).arg(
            "SELECT reference_number FROM incident_safety_safetyactionplan ORDER BY 1",
        )))
        .into_owned();
        let csv = fs::read_to_string(&log).expect("log");
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert!(!rows.is_empty(), "{}: nothing logged", form.name);
        for row in rows {
            let f: Vec<&str> = row.split(',').collect();
            assert_eq!(f[..2], ["incident_safety_correctivepreventiveaction", "reference_number"], "{row}");
            assert!(f[4].starts_with("CAPA-") && held.lines().any(|v| v == f[5]), "{}: {row} not in {held}", form.name);
        }

        // --reverse: the Django entry goes, the rest is undone.
        let r = run(dumpsed().args(["rewrite", "--preset", "capa-to-sap", "--reverse"]).arg(&out).arg("-o").arg(&back));
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(r.status.success() && err.contains("removed TOC entry") && err.contains(TAG), "{}: {err}", form.name);
        let list = String::from_utf8_lossy(&ok(pg.tool("pg_restore").arg("-l").arg(&back))).into_owned();
        assert!(!list.contains(TAG), "{}: the Django entry is still listed", form.name);
        assert_eq!(entries(&pg, &back), entries(&pg, &input), "{}", form.name);
        let db = pg.createdb("back");
        restore(&pg, &back, &db, &[]);
        // The one value --reverse cannot give back (the summary counts it):
        // the fixture's SAP-2025-010 had the new prefix already.
        let want = before.normalized().replace("\tSAP-2025-010\t", "\tCAPA-2025-010\t");
        let got = db.normalized();
        assert!(got == want, "{}: --reverse: {}", form.name, first_difference(&got, &want));
    }
    // An archive no forward run of Django rules wrote: refused.
    let input = dir.path().join(format!("in-{}", FORMS_15[0].name));
    let back = dir.path().join("not-ours.dump");
    let r = run(dumpsed().args(["rewrite", "--preset", "capa-to-sap", "--reverse"]).arg(&input).arg("-o").arg(&back));
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("reversed Django rules") && err.contains(TAG), "{err}");
    assert!(!back.exists());
}

/// A model rename given on the command line (no rules helper, so the rules
/// do not name its many-to-many table): the rows of that table in an
/// `--inserts` / `--column-inserts` archive follow its new name and column,
/// as a plain dump's do. The plain dump of the same database under the same
/// rule, restored with psql, and the archive, restored with pg_restore, give
/// the same database (the archive's data entries used to be passed through,
/// `INSERT INTO` the old table, and the restore failed).
#[test]
fn cli_model_rename_reaches_m2m_rows_of_an_inserts_archive() {
    let pg = Pg::v15();
    let dir = scratch();
    let before = pg.createdb("m2m_before");
    before.load(&fixture("django/pg/before.sql"));
    let rule = ["--django-model", "incident_safety.CorrectivePreventiveAction=SafetyActionPlan"];
    for form in ["--inserts", "--column-inserts"] {
        let (plain, arch) = (dir.path().join("p.sql"), dir.path().join("a.dump"));
        fs::write(&plain, ok(pg.tool("pg_dump").args([form, "-d", &before.name]))).expect("write");
        before.archive(&["-Fc", form], &arch);
        let (plain_out, arch_out) = (dir.path().join("p-out.sql"), dir.path().join("a-out.dump"));
        for (input, out) in [(&plain, &plain_out), (&arch, &arch_out)] {
            ok(dumpsed().args(["rewrite", "--quiet"]).args(rule).arg(input).arg("-o").arg(out));
        }
        let (by_psql, by_restore) = (pg.createdb("m2m_plain"), pg.createdb("m2m_arch"));
        by_psql.load(&plain_out);
        // In parallel: `pg_restore -j` TRUNCATEs a TABLE DATA entry's table
        // by its tag first (`restore_toc_entry`, pg_backup_archiver.c), so
        // the many-to-many table's data tag must follow its rename too.
        let out = run(pg.tool("pg_restore").args(["-j", "2", "-d", &by_restore.name]).arg(&arch_out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && err.is_empty(), "{form}: pg_restore: {err}");
        let (want, got) = (by_psql.normalized(), by_restore.normalized());
        assert!(want.contains("incident_safety_safetyactionplan_assigned_to (id, safetyactionplan_id, user_id)"), "{form}");
        assert!(got == want, "{form}: {}", first_difference(&got, &want));
    }
}
