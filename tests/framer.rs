//! The framer on its own: `Reader` with no rules, fed literal dumps in
//! reads of every size and with every chunk size, must cut chunks only at
//! record boundaries (the end of a statement, of a psql meta-command line,
//! of a COPY header line, of a COPY row, of the `\.` line) and lose,
//! duplicate or reorder no byte. The boundaries are listed by hand beside
//! each input, not computed by the code under test.

use std::io::{Cursor, Read};
use std::sync::Arc;

use dumpsed::internals::lexer::Dialect;
use dumpsed::internals::plan::Plan;
use dumpsed::internals::reader::{Reader, ReaderConfig};
use dumpsed::Rules;

/// Reads at most `step` bytes at a time, so that reads end at every offset.
struct Trickle {
    inner: Cursor<Vec<u8>>,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len());
        self.inner.read(&mut buf[..n])
    }
}

/// `(chunk offset, chunk bytes)` of every chunk the reader makes of
/// `input`, read `step` bytes at a time, cut at about `chunk_size`.
fn chunks(dialect: Dialect, input: &[u8], step: usize, chunk_size: usize) -> Vec<(u64, Vec<u8>)> {
    let plan = Arc::new(Plan::new(&Rules::new(), dialect));
    let config = ReaderConfig { chunk_size, allow_truncated: true, ..ReaderConfig::default() };
    let mut reader = Reader::new(Trickle { inner: Cursor::new(input.to_vec()), step }, plan, config);
    let mut out = Vec::new();
    while let Some(chunk) = reader.next_chunk().expect("read") {
        assert!(chunk.error.is_none(), "step {step}, chunk size {chunk_size}: {:?}", chunk.error);
        // The segments tile the chunk, in order.
        let mut at = 0;
        for s in &chunk.segments {
            assert_eq!(s.start, at, "step {step}, chunk size {chunk_size}: a gap or overlap in {:?}", chunk.segments);
            at = s.end;
        }
        assert_eq!(at, chunk.data.len(), "step {step}, chunk size {chunk_size}: segments short of the chunk");
        out.push((chunk.offset, chunk.data.to_vec()));
    }
    out
}

/// Every read size and chunk size up to the input's length: the chunks
/// put back together are the input, each cut is one of `cuts` or `may`,
/// and with the smallest chunks read a byte at a time every one of `cuts`
/// is a cut.
fn check(dialect: Dialect, (input, cuts, may): (Vec<u8>, Vec<usize>, Vec<usize>)) {
    let input = &input[..];
    for step in 1..=input.len() {
        for chunk_size in [1, 2, 3, 5, 8, 13, 40, input.len(), 1 << 20] {
            let got = chunks(dialect, input, step, chunk_size);
            let whole: Vec<u8> = got.iter().flat_map(|(_, d)| d.iter().copied()).collect();
            assert!(whole == input, "step {step}, chunk size {chunk_size}: the chunks are not the input");
            let mut at = 0u64;
            for (offset, data) in &got {
                assert_eq!(*offset, at, "step {step}, chunk size {chunk_size}: chunk offsets");
                at += data.len() as u64;
                let end = at as usize;
                assert!(
                    end == input.len() || cuts.contains(&end) || may.contains(&end),
                    "step {step}, chunk size {chunk_size}: a cut at byte {end}, inside a record: {:?}|{:?}",
                    String::from_utf8_lossy(&input[end.saturating_sub(20)..end]),
                    String::from_utf8_lossy(&input[end..(end + 20).min(input.len())]),
                );
            }
            if chunk_size == 1 && step == 1 {
                // The smallest chunks, read a byte at a time: a cut at
                // every boundary. (With longer reads the framer may ship
                // records it already holds together, e.g. the last COPY
                // rows with the `\.` line it found ahead.)
                let ends: Vec<usize> = got.iter().scan(0, |a, (_, d)| { *a += d.len(); Some(*a) }).collect();
                for c in &cuts {
                    assert!(ends.contains(c), "step {step}: no cut at boundary {c} with 1-byte chunks: {ends:?}");
                }
            }
        }
    }
}

/// `records` laid end to end, and the offsets just after each: where the
/// framer must be able to cut, or, after a record marked with a leading
/// `?` (a comment line, a COPY header, which the framer may keep with what
/// follows), where it may.
fn ends(records: &[&str]) -> (Vec<u8>, Vec<usize>, Vec<usize>) {
    let (mut input, mut cuts, mut may) = (Vec::new(), Vec::new(), Vec::new());
    for r in records {
        match r.strip_prefix('?') {
            Some(r) => {
                input.extend_from_slice(r.as_bytes());
                may.push(input.len());
            }
            None => {
                input.extend_from_slice(r.as_bytes());
                cuts.push(input.len());
            }
        }
    }
    (input, cuts, may)
}

/// Semicolons inside quotes, quoted identifiers, comments and dollar
/// quotes end no statement (PostgreSQL's scan.l); a statement may span
/// lines. A statement's record ends at its semicolon; the whitespace and
/// comments between statements may be records of their own (`?`).
#[test]
fn statements_end_only_at_their_own_semicolon() {
    check(Dialect::Postgres, ends(&[
        "SET client_encoding = 'UTF8';",
        "?\n",
        "?-- a comment; with a semicolon",
        "?\n",
        "CREATE TABLE public.\"a;b\" (\n    x text DEFAULT 'c;d' -- e;f\n);",
        "?\n",
        "COMMENT ON TABLE public.\"a;b\" IS 'it''s; here';",
        "?\n",
        "CREATE FUNCTION public.f() RETURNS text\n    LANGUAGE sql AS $_$SELECT ';'$_$;",
        "?\n",
        "?/* block; comment */",
        "? ",
        "SELECT 1;",
        "\n",
    ]));
}

/// COPY data is cut only at row ends; a backslash-escaped newline or an
/// escaped backslash before a dot is data, and the `\.` line ends it
/// (PostgreSQL's copyfromparse.c, CopyReadLineText).
#[test]
fn copy_data_is_cut_only_at_row_ends() {
    check(Dialect::Postgres, ends(&[
        "CREATE TABLE public.t (a text, b text);",
        "?\n",
        "?COPY public.t (a, b) FROM stdin;",
        "?\n",
        "1\tone\\ntwo\n",
        "2\ta\\\\.\n",
        "3\t\\N\n",
        "\\.\n",
        "SELECT 1;",
        "\n",
    ]));
}

/// psql meta-commands are lines of their own (pg_dump 17.6's `\restrict`).
#[test]
fn meta_command_lines_are_records() {
    check(Dialect::Postgres, ends(&[
        "\\restrict abc\n",
        "SET x = 1;",
        "?\n",
        "\\connect -reuse-previous=on \"dbname='d;e'\"\n",
        "SELECT 2;",
        "?\n",
        "\\unrestrict abc\n",
    ]));
}

/// SQLite `.dump`: `'…'` strings with `''`, `[…]` and `"…"` identifiers,
/// and `CREATE TRIGGER … BEGIN …; END;` as one statement (SQLite's
/// sqlite3_complete).
#[test]
fn sqlite_statements_and_triggers() {
    check(Dialect::Sqlite, ends(&[
        "PRAGMA foreign_keys=OFF;",
        "?\n",
        "BEGIN TRANSACTION;",
        "?\n",
        "CREATE TABLE [a;b] (\"c;d\" TEXT);",
        "?\n",
        "INSERT INTO \"a;b\" VALUES('x;''y');",
        "?\n",
        "CREATE TRIGGER t AFTER INSERT ON [a;b] BEGIN\n  UPDATE [a;b] SET \"c;d\" = 'z;'; SELECT 1;\nEND;",
        "?\n",
        "COMMIT;",
        "\n",
    ]));
}
