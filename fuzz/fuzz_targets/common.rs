//! Helpers shared by the whole-pipeline targets (`insert_values`,
//! `sqlite_reader`, `pg_reader`).
#![allow(dead_code)]

use std::io::Cursor;

use dumpsed::internals::job::{self, Options};
use dumpsed::internals::input;
use dumpsed::{Error, Rules};

pub const PG_HEADER: &[u8] =
    b"SET standard_conforming_strings = on;\nCREATE TABLE public.t (id integer, ref text, note text);\n";
pub const SQLITE_HEADER: &[u8] = b"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(id,ref,note);\n";
pub const PG_DUMP_HEADER: &[u8] = b"--\n-- PostgreSQL database dump\n--\n";

/// The chunk size a control byte asks for: bits 0-5 give 1..=64 bytes,
/// bit 6 multiplies by 64 (64..=4096). Bit 7 is left to the target.
pub fn chunk_size(ctl: u8) -> usize {
    let n = 1 + usize::from(ctl & 0x3f);
    if ctl & 0x40 != 0 {
        n * 64
    } else {
        n
    }
}

/// Runs `dump` through `dumpsed::internals::job::rewrite` on one worker thread.
pub fn run(dump: &[u8], rules: &Rules, chunk_size: usize) -> Result<Vec<u8>, Error> {
    let input = input::from_reader(Box::new(Cursor::new(dump.to_vec())), None)?;
    let mut out = Vec::new();
    let options = Options { chunk_size, threads: 1, allow_truncated: true, ..Default::default() };
    job::rewrite(input, &mut out, rules, &options, ())?;
    Ok(out)
}

/// Rules naming a table and a column that the input cannot name (see
/// [`may_name_never`]).
pub fn never_rules() -> Rules {
    let mut r = Rules::new();
    r.parse_rename("zzzq_never=zzzq_other").unwrap();
    r.parse_rewrite("zzzq_never.c:QQQQ=RRRR").unwrap();
    r
}

/// True when `dump` might spell one of the names of [`never_rules`]: it
/// holds `zzzq` in any case, or a PostgreSQL `U&"…"` identifier, whose
/// escapes can spell anything.
pub fn may_name_never(dump: &[u8]) -> bool {
    dump.windows(4).any(|w| w.eq_ignore_ascii_case(b"zzzq")) || dump.windows(2).any(|w| w.eq_ignore_ascii_case(b"u&"))
}

/// The properties every pipeline target checks on a whole dump:
/// * `rules` never panic, whatever the chunk size;
/// * the output does not depend on the chunk size (a small one against
///   the default 4 MiB, i.e. one chunk for any fuzz input): both fail, or
///   both succeed with the same bytes;
/// * rules that cannot match leave the dump byte-for-byte as it was,
///   whenever the rewrite succeeds.
pub fn check(dump: &[u8], rules: &Rules, small_chunk: usize) {
    let small = run(dump, rules, small_chunk);
    let whole = run(dump, rules, Options::default().chunk_size);
    match (&small, &whole) {
        (Ok(a), Ok(b)) => assert!(
            a == b,
            "output depends on the chunk size ({small_chunk} vs default):\n--- chunk {small_chunk}:\n{}\n--- default:\n{}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        ),
        (Err(_), Err(_)) => {}
        _ => panic!(
            "chunk size changes success: chunk {small_chunk}: {:?}; default: {:?}",
            small.as_ref().map(|v| String::from_utf8_lossy(v).into_owned()),
            whole.as_ref().map(|v| String::from_utf8_lossy(v).into_owned())
        ),
    }
    if !may_name_never(dump) {
        if let Ok(out) = run(dump, &never_rules(), small_chunk) {
            assert!(
                out == dump,
                "rules that cannot match changed the dump:\n--- in:\n{}\n--- out:\n{}",
                String::from_utf8_lossy(dump),
                String::from_utf8_lossy(&out)
            );
        }
    }
}
