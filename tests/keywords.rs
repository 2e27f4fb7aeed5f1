//! Issue 26, classes 2 and 3: a dump is read with the grammar of the
//! PostgreSQL version that wrote it, and a new name is quoted as that
//! version's pg_dump quotes it (`src/decide/pg/grammar.rs`, `src/codec/pg_keywords.rs`).
//!
//! `fixtures/pg-keywords/schema.sql` uses names that became keywords after
//! 15 (`json`, `json_table`, `merge_action`, `format`, `path`) as table and
//! column names; `rules.toml` renames to such names. For each server of the
//! version matrix, a real pg_dump of that version (or, for servers without
//! client programs, the newer one `tests/matrix.rs` uses) dumps it, plain
//! and custom; dumpsed rewrites the dump; the result is restored on the
//! same server and compared with the dump of the live renames
//! (`live.sql`), then both are restored on 18 and dumped again by 18 and
//! compared there.
//!
//! From 16 on, `rules-old.toml` adds a column renamed to `system_user`,
//! reserved there. The plain rewritten dump must also be the text pg_dump
//! writes of the live renames, byte for byte.
//!
//! `schema-old.sql` adds what the dump's own version reads and 17 or 18
//! does not (a parameter named `json`, a column named `system_user` on 15),
//! with `rules-old.toml` / `live-old.sql` (a column renamed to
//! `system_user`): restored on the dump's own version only, as a live dump
//! of it restores only there.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

fn kw(file: &str) -> PathBuf {
    fixture(&format!("pg-keywords/{file}"))
}

/// psql of `client` running `file` in `db` (stops on the first error).
fn psql_file(server: &Server, client: &Path, db: &str, file: &Path) -> Result<(), String> {
    let out = server
        .at(&mut Command::new(client.join("psql")))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", db, "-f"])
        .arg(file)
        .stdout(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("psql -f {}: {}", file.display(), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

fn pg_dump(server: &Server, client: &Path, db: &str, opts: &[&str]) -> Result<Vec<u8>, String> {
    let out = server
        .at(&mut Command::new(client.join("pg_dump")))
        .args(opts)
        .arg(db)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("pg_dump {opts:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(out.stdout)
}

/// Restores `dump` (plain: psql; archive: pg_restore) into a new `db` and
/// returns its plain dump by the same client.
fn restore_and_dump(server: &Server, client: &Path, dump: &Path, plain: bool, db: &str) -> Result<String, String> {
    server.sql(client, "postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    server.sql(client, "postgres", &format!("CREATE DATABASE {db}"));
    if plain {
        psql_file(server, client, db, dump)?;
    } else {
        let out = server
            .at(&mut Command::new(client.join("pg_restore")))
            .args(["--exit-on-error", "--single-transaction", "-d", db])
            .arg(dump)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("pg_restore: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    Ok(without_restrict_keys(&pg_dump(server, client, db, &[])?))
}

/// One database (`schemas` loaded, `lives` run on a copy), dumped by
/// `client` in each form, rewritten with `rules`, restored on `server`
/// (and on `newest`, if given) and compared with the live renames there.
#[allow(clippy::too_many_arguments)]
fn case(
    label: &str,
    server: &Server,
    client: &Path,
    newest: Option<(&Server, &Path)>,
    schemas: &[PathBuf],
    lives: &[PathBuf],
    rules: &[String],
    dir: &Path,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(format!("{label}: {what}"));
    for db in ["kw_before", "kw_live"] {
        server.sql(client, "postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    }
    server.sql(client, "postgres", "CREATE DATABASE kw_before");
    for s in schemas {
        if let Err(e) = psql_file(server, client, "kw_before", s) {
            fail(e);
            return failures;
        }
    }
    server.sql(client, "postgres", "CREATE DATABASE kw_live TEMPLATE kw_before");
    for l in lives {
        if let Err(e) = psql_file(server, client, "kw_live", l) {
            fail(e);
            return failures;
        }
    }
    for (form, opts, file, plain) in [("plain", "-Fp", "d.sql", true), ("custom", "-Fc", "d.dump", false)] {
        let result = (|| -> Result<(), String> {
            let input = dir.join(format!("{label}-{file}")).to_string_lossy().replace(' ', "_");
            let live = dir.join(format!("{label}-live-{file}")).to_string_lossy().replace(' ', "_");
            let out = dir.join(format!("{label}-out-{file}")).to_string_lossy().replace(' ', "_");
            fs::write(&input, pg_dump(server, client, "kw_before", &[opts])?).map_err(|e| e.to_string())?;
            fs::write(&live, pg_dump(server, client, "kw_live", &[opts])?).map_err(|e| e.to_string())?;
            let r = run(dumpsed().args(["rewrite", "--quiet"]).args(rules).arg(&input).arg("-o").arg(&out));
            if !r.status.success() {
                return Err(format!("dumpsed rewrite: {}", String::from_utf8_lossy(&r.stderr)));
            }
            // Written as this pg_dump writes the live result, byte for byte
            // (its keywords quoted, others bare): nothing moves rows here.
            if plain {
                let got = without_restrict_keys(&fs::read(&out).map_err(|e| e.to_string())?);
                let want = without_restrict_keys(&fs::read(&live).map_err(|e| e.to_string())?);
                if got != want {
                    return Err(format!("not the live renames' dump text: {}", first_difference(&got, &want)));
                }
            }
            let got = restore_and_dump(server, client, Path::new(&out), plain, "kw_got")?;
            let want = without_restrict_keys(&pg_dump(server, client, "kw_live", &[])?);
            if got != want {
                return Err(format!("restored differs from the live renames: {}", first_difference(&got, &want)));
            }
            if let Some((s18, c18)) = newest {
                let got = restore_and_dump(s18, c18, Path::new(&out), plain, "kw_got")
                    .map_err(|e| format!("on 18: {e}"))?;
                let want = restore_and_dump(s18, c18, Path::new(&live), plain, "kw_want")
                    .map_err(|e| format!("the live dump on 18: {e}"))?;
                if got != want {
                    return Err(format!("on 18, restored differs from the live renames: {}", first_difference(&got, &want)));
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            fail(format!("{form}: {e}"));
        }
    }
    failures
}

/// Runs the fixture on server `version` dumped by `client`.
fn keywords(version: &str, client: &str, port: u16) {
    let Some(server_bin) = matrix_need("DUMPSED_MATRIX_SERVERS", version) else { return };
    let Some(client_bin) = matrix_need("DUMPSED_MATRIX_CLIENTS", client) else { return };
    let Some(bin18) = matrix_need("DUMPSED_MATRIX_SERVERS", "18") else { return };
    let server = Server::start(&server_bin, port);
    let newest = (version != "18").then(|| Server::start(&bin18, port + 1));
    let dir = scratch();
    let v: u32 = version.parse().unwrap_or(18);
    let label = format!("pg_dump {client} → server {version}");
    // A rename to system_user (reserved from 16 on) restores on 18 when
    // the dump's pg_dump quotes it, from 16 on; pg_dump 15 writes it bare.
    let (rules, lives) = if v >= 16 {
        ("rules-old.toml", vec![kw("live.sql"), kw("live-old.sql")])
    } else {
        ("rules.toml", vec![kw("live.sql")])
    };
    let rules = vec!["--rules".to_string(), kw(rules).to_string_lossy().into_owned()];
    let mut failures = case(
        &label,
        &server,
        &client_bin,
        newest.as_ref().map(|s| (s, bin18.as_path())),
        &[kw("schema.sql")],
        &lives,
        &rules,
        dir.path(),
    );
    // What 17 and 18 no longer read: on the versions that still do.
    if v <= 16 {
        let mut rules = vec!["--rules".to_string(), kw("rules-old.toml").to_string_lossy().into_owned()];
        if v < 16 {
            rules.extend(["--rename-column".to_string(), "legacy.system_user=who".to_string()]);
        }
        failures.extend(case(
            &format!("{label} (schema-old.sql)"),
            &server,
            &client_bin,
            None,
            &[kw("schema.sql"), kw("schema-old.sql")],
            &[kw("live.sql"), kw("live-old.sql")],
            &rules,
            dir.path(),
        ));
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn server_12_pg_dump_15() {
    keywords("12", "15", 55462);
}

#[test]
fn server_15_pg_dump_15() {
    keywords("15", "15", 55464);
}

#[test]
fn server_16_pg_dump_16() {
    keywords("16", "16", 55466);
}

#[test]
fn server_17_pg_dump_18() {
    keywords("17", "18", 55468);
}

#[test]
fn server_18_pg_dump_18() {
    keywords("18", "18", 55470);
}

/// A statement the dump's own grammar rejects is still an error naming its
/// line and byte offset (here `system_user` as a column name in a dump of
/// 16, where it is reserved), with no output written.
#[test]
fn a_statement_its_own_version_rejects_is_refused() {
    let dir = scratch();
    let input = dir.path().join("bad.sql");
    let out = dir.path().join("out.sql");
    let text = "--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 16.2\n-- Dumped by pg_dump version 16.2\n\n\
                SET standard_conforming_strings = on;\n\n\
                CREATE TABLE public.doc (\n    id integer,\n    system_user text\n);\n\n\
                --\n-- PostgreSQL database dump complete\n--\n\n";
    fs::write(&input, text).unwrap();
    let r = run(dumpsed().args(["rewrite", "--rename-table", "doc=paper"]).arg(&input).arg("-o").arg(&out));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success(), "a dump of 16 with a column named system_user was accepted");
    let at = text.find("CREATE TABLE").unwrap();
    assert!(err.contains("line 10") && err.contains(&format!("byte {at}")), "{err}");
    assert!(err.contains("system_user"), "{err}");
    assert!(!out.exists(), "output written for a refused dump");
    // The same statement from 15, where system_user is no keyword, is read.
    let text15 = text.replace("16.2", "15.8");
    fs::write(&input, &text15).unwrap();
    ok(dumpsed().args(["rewrite", "-q", "--rename-table", "doc=paper"]).arg(&input).arg("-o").arg(&out));
    let got = fs::read_to_string(&out).unwrap();
    assert_eq!(got, text15.replace("public.doc", "public.paper"));
}

/// The committed dumps of pg_dump 15 and 16 (`fixtures/pg-keywords/regen.sh`):
/// rewritten without any server, each is byte for byte what that pg_dump
/// wrote after the live renames (parameters named `json` read; `system_user`
/// bare from 15, quoted from 16; a `system_user` column renamed away on 15).
#[test]
fn committed_dumps_of_15_and_16_equal_their_live_renames() {
    let dir = scratch();
    for v in ["15", "16"] {
        let out = dir.path().join(format!("out-{v}.sql"));
        let mut cmd = dumpsed();
        cmd.args(["rewrite", "-q", "--rules"]).arg(kw("rules-old.toml"));
        if v == "15" {
            cmd.args(["--rename-column", "legacy.system_user=who"]);
        }
        ok(cmd.arg(kw(&format!("before-{v}.sql"))).arg("-o").arg(&out));
        let got = without_restrict_keys(&fs::read(&out).unwrap());
        let want = without_restrict_keys(&fs::read(kw(&format!("after-live-{v}.sql"))).unwrap());
        assert!(got == want, "pg_dump {v}: {}", first_difference(&got, &want));
    }
}
