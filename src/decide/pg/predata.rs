//! PostgreSQL: the pre-data of a plain dump, read ahead before any
//! statement is decided.
//!
//! pg_dump writes every schema object before the first row of data
//! (`pg_dump_sort.c`: the pre-data section, then `TABLE DATA`, then
//! post-data), but not always in the order a one-pass decider needs: a
//! partition's `CREATE TABLE child (…)` comes before the `ALTER TABLE ONLY
//! parent ATTACH PARTITION child …` that makes it one (`TABLE ATTACH`
//! entries sort after all tables), and views on the child may come between.
//! A live `ALTER TABLE parent RENAME COLUMN` renames the child's column,
//! so the decider must know the edge when it reaches the child.
//!
//! This is the first step of "catalog first" (issue 24): it frames the
//! statements of the buffered pre-data, hands the ones that may attach a
//! partition (to [`crate::decide::pg::resolve::Facts::note_predata`]) and
//! every `CREATE` (Django's many-to-many tables,
//! `decide::dump::Decider::predata_create`) to the caller, and stops at the
//! first statement of data (`COPY`, `INSERT`). It decides nothing and
//! writes nothing; the reader then frames the same bytes as before.
//!
//! Invariants: statements end where the reader ends them (a `;` outside
//! parentheses and `BEGIN ATOMIC … END` blocks, psqlscan.l's rules as
//! `reader.rs` follows them); psql meta-command lines (`\connect`,
//! `\restrict KEY`) are skipped to their newline; bytes already scanned are
//! never scanned again, so feeding the buffer in any number of pieces gives
//! the same result.

use crate::frame::lexer::{Dialect, Lexer, Step, TokenKind};

/// What the scan has found out so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The buffer ended inside the pre-data: feed more (or stop at EOF).
    NeedMore,
    /// The first statement of data starts here (or the input ended).
    Done,
}

/// Which statement of the pre-data the scan hands over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreStmt {
    /// An `ALTER …` that mentions `ATTACH`.
    Attach,
    /// A `CREATE …` (of any object: the caller reads its head).
    Create,
}

/// A resumable scanner of a dump's pre-data. Feed it the same growing
/// buffer (bytes only appended) until it says [`Progress::Done`].
#[derive(Debug)]
pub struct PreData {
    lexer: Lexer,
    /// Scan position in the buffer.
    pos: usize,
    /// Start of the token in progress.
    tok_start: usize,
    /// The statement in progress.
    stmt: Option<Frame>,
    /// Inside a psql meta-command line.
    meta: bool,
    /// `standard_conforming_strings = off` seen.
    escapes: bool,
    /// The versions the header comments name.
    versions: crate::decide::pg::grammar::DumpVersions,
}

#[derive(Debug, Default)]
struct Frame {
    start: usize,
    words: u8,
    create: bool,
    alter: bool,
    prev_begin: bool,
    depth: u32,
    parens: u32,
}

impl Default for PreData {
    fn default() -> Self {
        PreData {
            lexer: Lexer::new(Dialect::Postgres),
            pos: 0,
            tok_start: 0,
            stmt: None,
            meta: false,
            escapes: false,
            versions: crate::decide::pg::grammar::DumpVersions::default(),
        }
    }
}

impl PreData {
    /// Scans `buf` from where the last call stopped. `on_stmt` gets each
    /// complete `ALTER …` statement that mentions `ATTACH` and each
    /// `CREATE …` statement, in the dump's order, with whether plain
    /// strings take backslash escapes there and the PostgreSQL major
    /// version whose grammar reads it (`DumpVersions::grammar`, from the
    /// header comments before it).
    pub fn scan(&mut self, buf: &[u8], eof: bool, mut on_stmt: impl FnMut(PreStmt, &[u8], bool, u32)) -> Progress {
        loop {
            if self.meta {
                match memchr::memchr(b'\n', &buf[self.pos..]) {
                    Some(j) => {
                        self.pos += j + 1;
                        self.meta = false;
                    }
                    None if eof => return Progress::Done,
                    None => {
                        self.pos = buf.len();
                        return Progress::NeedMore;
                    }
                }
            }
            if self.lexer.is_idle() {
                self.tok_start = self.pos;
            }
            let (start, end, kind) = match self.lexer.next_token(buf, self.pos) {
                Step::Idle | Step::Partial if eof => return Progress::Done,
                Step::Idle | Step::Partial => {
                    self.pos = buf.len();
                    return Progress::NeedMore;
                }
                Step::Token(end, kind) => (self.tok_start, end, kind),
            };
            self.pos = end;
            if self.stmt.is_none() {
                match kind {
                    TokenKind::Space => continue,
                    TokenKind::Comment => {
                        self.versions.note_comment(&buf[start..end]);
                        continue;
                    }
                    TokenKind::Punct if buf[start] == b'\\' => {
                        self.meta = true;
                        continue;
                    }
                    _ => {
                        let w = &buf[start..end];
                        if kind == TokenKind::Word
                            && (w.eq_ignore_ascii_case(b"COPY") || w.eq_ignore_ascii_case(b"INSERT"))
                        {
                            return Progress::Done;
                        }
                        self.stmt = Some(Frame { start, ..Frame::default() });
                    }
                }
            }
            let Some(f) = self.stmt.as_mut() else { continue };
            match kind {
                TokenKind::Word => {
                    let w = &buf[start..end];
                    let is = |k: &[u8]| w.eq_ignore_ascii_case(k);
                    if f.words < 4 {
                        f.words += 1;
                        if f.words == 1 {
                            f.create = is(b"CREATE");
                            f.alter = is(b"ALTER");
                        }
                    }
                    if f.depth > 0 {
                        if is(b"BEGIN") || is(b"CASE") {
                            f.depth += 1;
                        } else if is(b"END") {
                            f.depth = f.depth.saturating_sub(1);
                        }
                    }
                    if f.create && f.prev_begin && is(b"ATOMIC") {
                        f.depth += 1;
                    }
                    f.prev_begin = is(b"BEGIN");
                }
                TokenKind::Punct if buf[start] == b'(' => {
                    f.parens += 1;
                    f.prev_begin = false;
                }
                TokenKind::Punct if buf[start] == b')' => {
                    f.parens = f.parens.saturating_sub(1);
                    f.prev_begin = false;
                }
                TokenKind::Punct if buf[start] == b';' && f.depth == 0 && f.parens == 0 => {
                    let stmt = &buf[f.start..end];
                    if f.alter && crate::decide::plan::contains_ignore_case(stmt, b"ATTACH") {
                        on_stmt(PreStmt::Attach, stmt, self.escapes, self.versions.grammar());
                    } else if f.create {
                        on_stmt(PreStmt::Create, stmt, self.escapes, self.versions.grammar());
                    }
                    if let crate::decide::statement::Head::StdStrings(on) = crate::decide::statement::head(Dialect::Postgres, stmt) {
                        self.escapes = !on;
                        self.lexer.set_standard_conforming_strings(on);
                    }
                    self.stmt = None;
                }
                TokenKind::Space | TokenKind::Comment => {}
                _ => f.prev_begin = false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &[u8] = b"--\n-- PostgreSQL database dump\n--\n\\restrict abc\nSET standard_conforming_strings = on;\n\
CREATE TABLE public.c (id integer, y integer);\n\
CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; INSERT INTO t VALUES (1); END;\n\
CREATE VIEW v AS SELECT ';ATTACH' AS x;\n\
ALTER TABLE ONLY public.p ATTACH PARTITION public.c FOR VALUES IN (1);\n\
COPY public.c (id, y) FROM stdin;\n1\t2\n\\.\n\
ALTER TABLE ONLY public.p ATTACH PARTITION public.d FOR VALUES IN (2);\n";

    /// Every way of cutting the input gives the same statements and stops
    /// at the COPY (a statement inside `BEGIN ATOMIC` does not end it; a
    /// string is not a statement).
    #[test]
    fn attach_statements_before_the_first_row_at_every_split() {
        let copy_at = DUMP.windows(4).position(|w| w == b"COPY").unwrap_or(0);
        for cut in 0..=DUMP.len() {
            let mut p = PreData::default();
            let mut seen = Vec::new();
            let mut buf = DUMP[..cut].to_vec();
            let mut creates = Vec::new();
            let mut on = |k: PreStmt, s: &[u8], _: bool, _: u32| match k {
                PreStmt::Attach => seen.push(s.to_vec()),
                PreStmt::Create => creates.push(s.to_vec()),
            };
            let mut done = p.scan(&buf, false, &mut on);
            if done == Progress::NeedMore {
                buf = DUMP.to_vec();
                done = p.scan(&buf, true, &mut on);
            }
            assert_eq!(done, Progress::Done, "cut {cut}");
            assert_eq!(seen.len(), 1, "cut {cut}: {seen:?}");
            assert!(seen[0].starts_with(b"ALTER TABLE ONLY public.p ATTACH PARTITION public.c"), "cut {cut}");
            // The three CREATEs, whole (the function's body does not end it).
            assert_eq!(creates.len(), 3, "cut {cut}: {creates:?}");
            assert!(creates[1].ends_with(b"INSERT INTO t VALUES (1); END;"), "cut {cut}");
            assert!(p.pos <= copy_at + 4, "cut {cut}: scanned past the data");
        }
    }
}
