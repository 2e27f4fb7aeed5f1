//! The dump framer: cuts a SQL dump (pg_dump plain, sqlite3 `.dump`) into
//! typed frames. Pure mechanism, in the manner of csv-core's reader: a
//! state machine over a buffer the caller owns and grows, with no rules,
//! plan or resolver. What a statement means is the caller's business
//! (`reader` asks a decider); the framer only needs to be told the two
//! things a statement changes about framing: that COPY data follows it
//! ([`Framer::expect_copy_data`]) and `standard_conforming_strings`.
//!
//! # Invariants
//!
//! - Frames tile the input: each starts where the one before ended (the
//!   first at 0), so the frames put back together are the input exactly,
//!   whatever the reads' sizes.
//! - A frame ends only at a record boundary: after a statement's `;` (by
//!   psql's and SQLite's rules: not inside a string, quoted identifier,
//!   comment, dollar quote, parentheses (PostgreSQL), trigger body or
//!   `BEGIN ATOMIC`), after white space or a comment between statements,
//!   after a psql meta-command line, the rest of a COPY header line, a
//!   whole COPY row, or the `\.` line. So a chunk cut at [`Framer::done`]
//!   holds whole records.
//! - A frame is only yielded once all its bytes are in the buffer and the
//!   bytes after it cannot change it (a space run or a word is only ended
//!   by the byte after it, or the end of input).
//! - The caller owns the buffer: it only appends to it, or drops a prefix
//!   of at most [`Framer::done`] bytes and says so with [`Framer::rebase`].
//!   Offsets in frames are into the buffer as it was when yielded.
//! - The same input yields the same frames however it is read, except that
//!   runs of COPY rows and of white space may be split differently.

use memchr::memchr;
use memchr::memmem;

use crate::frame::lexer::{Dialect, Lexer, Step, TokenKind};

/// Input that cannot be framed: the offset in the buffer and why. The
/// reader makes it a `LocalError` (`error` names `frame::lexer::Dialect`,
/// so frame does not import it back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub at: usize,
    pub msg: String,
}

impl FrameError {
    fn new(at: usize, msg: impl Into<String>) -> FrameError {
        FrameError { at, msg: msg.into() }
    }
}

/// True when the newline at `nl` ends a COPY text row, i.e. it is not
/// escaped by an odd run of backslashes before it (copyfromparse.c,
/// CopyReadLineText). Here with `last_row_end`, not in `codec::copy_text`
/// (which re-exports both),
/// as framing must not import the codecs.
#[inline]
pub fn is_row_end(data: &[u8], nl: usize) -> bool {
    let run = data[..nl].iter().rev().take_while(|&&b| b == b'\\').count();
    run % 2 == 0
}

/// The offset just past the last complete row in `data`, if any.
pub fn last_row_end(data: &[u8]) -> Option<usize> {
    let mut end = data.len();
    while let Some(nl) = memchr::memrchr(b'\n', &data[..end]) {
        if is_row_end(data, nl) {
            return Some(nl + 1);
        }
        end = nl;
    }
    None
}

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// White space between statements.
    Space,
    /// A comment between statements (`-- …` with its line break, `/* … */`).
    Comment,
    /// A psql meta-command line (`\connect`, `\restrict KEY`), its line
    /// break included (none at the end of input).
    Meta,
    /// A complete statement, its `;` included.
    Statement,
    /// The rest of a `COPY … FROM stdin;` line after its `;`.
    CopyHeaderRest,
    /// One or more whole COPY data rows.
    CopyRows,
    /// The `\.` line that ends COPY data.
    CopyEnd,
}

/// A byte range of the buffer and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sql,
    /// A psql meta-command line being read.
    Meta,
    /// The rest of the `COPY … FROM stdin;` line.
    CopyHeaderLine,
    /// COPY data rows, up to the `\.` line.
    CopyData,
}

/// Statement being read: the block nesting that makes a `;` not end it
/// (SQLite trigger bodies; PostgreSQL `BEGIN ATOMIC`).
#[derive(Debug, Clone, Default)]
struct Stmt {
    words: u8,
    create: bool,
    trigger: bool,
    prev_begin: bool,
    depth: u32,
    /// PostgreSQL: open parentheses. psql ends a statement only at a `;`
    /// outside parentheses (psqlscan.l, `paren_depth`), as in
    /// `CREATE RULE … DO (DELETE …; DELETE …);`.
    parens: u32,
}

/// The framer's state between calls (see the module's invariants).
pub struct Framer {
    dialect: Dialect,
    lexer: Lexer,
    mode: Mode,
    /// Plain `'…'` strings take no backslash escapes.
    std_strings: bool,
    /// The end of the last frame yielded.
    done: usize,
    /// Scan position.
    pos: usize,
    /// Start of the token in progress.
    tok_start: usize,
    /// Start of the statement in progress.
    unit_start: usize,
    stmt: Option<Stmt>,
    /// COPY mode: `done` is at a row start not yet checked for `\.`.
    at_row_start: bool,
    /// The scanner needs more input before it can go on.
    need_more: bool,
    /// A frame found with the one before it, yielded next.
    queued: Option<Frame>,
    end_marker: memmem::Finder<'static>,
}

impl Framer {
    /// A framer at the start of a dump in `dialect`.
    pub fn new(dialect: Dialect) -> Framer {
        Framer {
            dialect,
            lexer: Lexer::new(dialect),
            mode: Mode::Sql,
            std_strings: true,
            done: 0,
            pos: 0,
            tok_start: 0,
            unit_start: 0,
            stmt: None,
            at_row_start: false,
            need_more: false,
            queued: None,
            end_marker: memmem::Finder::new(b"\n\\.").into_owned(),
        }
    }

    /// The end of the last frame: the buffer may be cut here.
    pub fn done(&self) -> usize {
        self.done
    }

    /// True when the framer can go no further without more input (or,
    /// at the end of input, without [`Framer::finish`]). Clears the
    /// request, as reading more answers it.
    pub fn wants_input(&mut self, len: usize) -> bool {
        if self.queued.is_some() {
            return false;
        }
        let wants = self.need_more || self.pos >= len;
        self.need_more = false;
        wants
    }

    /// The caller dropped the first `cut` bytes (at most `done`) of the
    /// buffer.
    pub fn rebase(&mut self, cut: usize) {
        for p in [&mut self.done, &mut self.pos, &mut self.tok_start, &mut self.unit_start] {
            *p = p.saturating_sub(cut);
        }
        if let Some(f) = &mut self.queued {
            f.start = f.start.saturating_sub(cut);
            f.end = f.end.saturating_sub(cut);
        }
    }

    /// The frame found with the one just yielded (the line break after an
    /// INSERT framed whole), if any: the caller may take it at once
    /// rather than come back for it.
    pub fn take_queued(&mut self) -> Option<Frame> {
        let f = self.queued.take()?;
        self.done = f.end;
        Some(f)
    }

    /// The statement just yielded is a `COPY … FROM stdin`: the rest of its
    /// line, then data rows up to a `\.` line follow.
    pub fn expect_copy_data(&mut self) {
        self.mode = Mode::CopyHeaderLine;
    }

    /// Follows `SET standard_conforming_strings = off|on` (PostgreSQL).
    pub fn set_standard_conforming_strings(&mut self, on: bool) {
        self.std_strings = on;
        self.lexer.set_standard_conforming_strings(on);
    }

    /// The next frame of `buf`, or `None` when more input is needed
    /// ([`Framer::wants_input`] then says so). `known_head`: the head (up
    /// to and including `VALUES`) of an INSERT whose bytes the lexer reads
    /// as `statement::head` does (only words, `"…"` identifiers, spaces,
    /// `.(),`, balanced parentheses): an INSERT starting with it is looked
    /// at from the end of the head on.
    pub fn next(&mut self, buf: &[u8], eof: bool, known_head: Option<&[u8]>) -> Result<Option<Frame>, FrameError> {
        if let Some(f) = self.queued.take() {
            self.done = f.end;
            return Ok(Some(f));
        }
        match self.mode {
            Mode::Sql => self.scan_sql(buf, known_head),
            Mode::Meta => Ok(self.line_end(buf, Kind::Meta, Mode::Sql)),
            Mode::CopyHeaderLine => {
                let f = self.line_end(buf, Kind::CopyHeaderRest, Mode::CopyData);
                if f.is_some() {
                    self.at_row_start = true;
                }
                Ok(f)
            }
            Mode::CopyData => self.scan_copy(buf, eof),
        }
    }

    /// Ends the input (`buf` is all of it): the last frame, if any, or
    /// what was left open.
    pub fn finish(&mut self, buf: &[u8]) -> Result<Option<Frame>, FrameError> {
        match self.mode {
            Mode::Sql => {
                let frame = match self.lexer.finish() {
                    Err(msg) => return Err(FrameError::new(self.tok_start, msg.to_string())),
                    Ok(Some(kind)) => self.on_token(buf, self.tok_start, buf.len(), kind),
                    Ok(None) => None,
                };
                if self.stmt.is_some() {
                    return Err(FrameError::new(
                        self.unit_start,
                        "statement not ended by ';' before the end of input (truncated dump?)",
                    ));
                }
                Ok(frame.map(|f| self.frame(f.kind, f.start, f.end)))
            }
            Mode::Meta => Ok((self.done < buf.len()).then(|| self.frame(Kind::Meta, self.done, buf.len()))),
            Mode::CopyHeaderLine | Mode::CopyData => Err(FrameError::new(
                self.done,
                "COPY data not ended by a \\. line before the end of input (truncated dump?)",
            )),
        }
    }

    fn frame(&mut self, kind: Kind, start: usize, end: usize) -> Frame {
        self.done = end;
        Frame { kind, start, end }
    }

    /// The frame from `done` to the end of the line, once it is read.
    fn line_end(&mut self, buf: &[u8], kind: Kind, then: Mode) -> Option<Frame> {
        match memchr(b'\n', &buf[self.pos..]) {
            Some(j) => {
                self.pos += j + 1;
                self.mode = then;
                Some(self.frame(kind, self.done, self.pos))
            }
            None => {
                self.pos = buf.len();
                None
            }
        }
    }

    /// Lexes SQL until a statement, space run or comment completes or the
    /// buffer ends.
    fn scan_sql(&mut self, buf: &[u8], known_head: Option<&[u8]>) -> Result<Option<Frame>, FrameError> {
        loop {
            if self.lexer.is_idle() {
                self.tok_start = self.pos;
                if self.stmt.is_none() {
                    if let Some(end) = self.quick_insert(buf, known_head) {
                        // Framed whole: the same frame as token by token.
                        let start = self.pos;
                        self.unit_start = start;
                        self.pos = end;
                        // The line break after it is a frame of its own, as
                        // the lexer's space token would be (dumps write one
                        // per row); no cut between the two.
                        if buf.get(end) == Some(&b'\n') {
                            self.pos = end + 1;
                            self.queued = Some(Frame { kind: Kind::Space, start: end, end: end + 1 });
                        }
                        return Ok(Some(self.frame(Kind::Statement, start, end)));
                    }
                }
            }
            match self.lexer.next_token(buf, self.pos) {
                Step::Idle | Step::Partial => {
                    self.pos = buf.len();
                    return Ok(None);
                }
                Step::Token(end, kind) => {
                    self.pos = end;
                    if let Some(f) = self.on_token(buf, self.tok_start, end, kind) {
                        return Ok(Some(self.frame(f.kind, f.start, f.end)));
                    }
                    if self.mode == Mode::Meta {
                        // A `\` between statements starts a psql meta-command.
                        return Ok(self.line_end(buf, Kind::Meta, Mode::Sql));
                    }
                }
            }
        }
    }

    /// The end of the INSERT statement starting at `pos`, when it is whole
    /// in the buffer and [`crate::frame::lexer::quick_statement_end`] can frame it
    /// (the common case of INSERT dumps: no per-token work).
    fn quick_insert(&self, buf: &[u8], known_head: Option<&[u8]>) -> Option<usize> {
        let rest = &buf[self.pos..];
        let head = rest.get(..7)?;
        if !head[..6].eq_ignore_ascii_case(b"INSERT") || !head[6].is_ascii_whitespace() {
            return None;
        }
        // The head of the INSERT before, again, as a whole (not `VALUESX`):
        // scanned from its end.
        let from = match known_head {
            Some(h) if rest.starts_with(h) && rest.get(h.len()).is_some_and(|&b| !crate::frame::lexer::is_ident_byte(b)) => {
                self.pos + h.len()
            }
            _ => self.pos,
        };
        crate::frame::lexer::quick_statement_end(self.dialect, self.std_strings, buf, from)
    }

    /// Takes one token; returns the frame it completes, if any.
    fn on_token(&mut self, buf: &[u8], start: usize, end: usize, kind: TokenKind) -> Option<Frame> {
        let pg = self.dialect == Dialect::Postgres;
        let Some(stmt) = self.stmt.as_mut() else {
            match kind {
                TokenKind::Space => return Some(Frame { kind: Kind::Space, start, end }),
                TokenKind::Comment => return Some(Frame { kind: Kind::Comment, start, end }),
                TokenKind::Punct if pg && buf[start] == b'\\' => {
                    self.mode = Mode::Meta;
                    return None;
                }
                _ => {
                    self.unit_start = start;
                    self.stmt = Some(Stmt::default());
                    return self.on_token(buf, start, end, kind);
                }
            }
        };
        match kind {
            TokenKind::Word => {
                let w = &buf[start..end];
                let is = |k: &str| w.eq_ignore_ascii_case(k.as_bytes());
                if stmt.words < 4 {
                    stmt.words += 1;
                    if stmt.words == 1 {
                        stmt.create = is("CREATE");
                    } else if stmt.create && !pg && is("TRIGGER") {
                        stmt.trigger = true;
                    }
                }
                if stmt.trigger || stmt.depth > 0 {
                    if is("BEGIN") || is("CASE") {
                        stmt.depth += 1;
                    } else if is("END") {
                        stmt.depth = stmt.depth.saturating_sub(1);
                    }
                }
                if pg && stmt.create && stmt.prev_begin && is("ATOMIC") {
                    stmt.depth += 1;
                }
                stmt.prev_begin = pg && is("BEGIN");
                None
            }
            TokenKind::Punct if pg && buf[start] == b'(' => {
                stmt.parens += 1;
                stmt.prev_begin = false;
                None
            }
            TokenKind::Punct if pg && buf[start] == b')' => {
                stmt.parens = stmt.parens.saturating_sub(1);
                stmt.prev_begin = false;
                None
            }
            TokenKind::Punct if buf[start] == b';' && stmt.depth == 0 && stmt.parens == 0 => {
                self.stmt = None;
                Some(Frame { kind: Kind::Statement, start: self.unit_start, end })
            }
            TokenKind::Space | TokenKind::Comment => None,
            _ => {
                stmt.prev_begin = false;
                None
            }
        }
    }

    /// Frames COPY data rows up to the `\.` line. `done` is always at a
    /// row start; `pos` is how far the end-marker search has got. The rows
    /// found in one call are one frame.
    fn scan_copy(&mut self, buf: &[u8], eof: bool) -> Result<Option<Frame>, FrameError> {
        let mut rows_end = self.done;
        loop {
            if self.at_row_start {
                // psql ends COPY data at a line holding only `\.`
                // (copyfromparse.c, CopyReadLineText).
                let rest = &buf[rows_end..];
                if rest.len() < 2 && !eof {
                    self.need_more = true;
                    return Ok(self.rows(rows_end));
                }
                if rest.starts_with(b"\\.") {
                    if rows_end > self.done {
                        // The rows first; the `\.` line on the next call.
                        return Ok(self.rows(rows_end));
                    }
                    let end = match &rest[2..] {
                        [b'\n', ..] => rows_end + 3,
                        [b'\r', b'\n', ..] => rows_end + 4,
                        [] | [b'\r'] if !eof => {
                            self.need_more = true;
                            return Ok(None);
                        }
                        [] => rows_end + 2,
                        _ => {
                            return Err(FrameError::new(
                                rows_end,
                                "end-of-copy marker \\. followed by other data on its line",
                            ))
                        }
                    };
                    self.pos = end;
                    self.mode = Mode::Sql;
                    self.at_row_start = false;
                    return Ok(Some(self.frame(Kind::CopyEnd, rows_end, end)));
                }
                self.at_row_start = false;
            }
            let from = self.pos.max(rows_end);
            match self.end_marker.find(&buf[from..]) {
                Some(j) => {
                    let nl = from + j;
                    self.pos = nl + 1;
                    if is_row_end(buf, nl) {
                        rows_end = nl + 1;
                        self.at_row_start = true;
                    }
                }
                None => {
                    if let Some(e) = last_row_end(&buf[from..]) {
                        rows_end = from + e;
                        // `rows_end` is at a row start whose first bytes may
                        // be the `\.` of the next read: the search for `\n\.`
                        // starts after that newline, so look there first.
                        self.at_row_start = true;
                    }
                    if eof {
                        if rows_end > self.done {
                            // The rows first; the error on the next call.
                            return Ok(self.rows(rows_end));
                        }
                        return Err(FrameError::new(
                            rows_end.min(buf.len()),
                            "COPY data not ended by a \\. line before the end of input (truncated dump?)",
                        ));
                    }
                    // Keep the last two bytes: a marker may span two reads.
                    self.pos = buf.len().saturating_sub(2).max(rows_end);
                    self.need_more = true;
                    return Ok(self.rows(rows_end));
                }
            }
        }
    }

    /// The rows from `done` to `end` as a frame, if any.
    fn rows(&mut self, end: usize) -> Option<Frame> {
        (end > self.done).then(|| self.frame(Kind::CopyRows, self.done, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `input` framed as the reader frames it, read `step` bytes at a time;
    /// with `cut`, the buffer's framed front is dropped after every frame.
    /// A statement starting `COPY` and naming `FROM stdin` gets its data
    /// (the reader's decider says so). `(kind, absolute start, bytes)` of
    /// every frame, and the error with its absolute offset, if any.
    fn run(
        dialect: Dialect,
        input: &[u8],
        step: usize,
        cut: bool,
        known_head: Option<&[u8]>,
    ) -> (Vec<(Kind, usize, Vec<u8>)>, Option<(usize, String)>) {
        let mut f = Framer::new(dialect);
        let (mut buf, mut offset, mut fed, mut out) = (Vec::new(), 0, 0, Vec::new());
        let mut take = |f: &mut Framer, fr: Frame, buf: &mut Vec<u8>, offset: &mut usize| {
            assert_eq!(f.done(), fr.end, "{fr:?}: done is its end");
            let text = buf[fr.start..fr.end].to_vec();
            if fr.kind == Kind::Statement && text.starts_with(b"COPY ") && text.ends_with(b"FROM stdin;") {
                f.expect_copy_data();
            }
            out.push((fr.kind, *offset + fr.start, text));
            if fr.kind == Kind::Statement && cut {
                // As the reader does: the queued line break at once.
                if let Some(q) = f.take_queued() {
                    out.push((q.kind, *offset + q.start, buf[q.start..q.end].to_vec()));
                }
            }
            if cut {
                let c = f.done();
                buf.drain(..c);
                *offset += c;
                f.rebase(c);
            }
        };
        loop {
            if f.wants_input(buf.len()) {
                if fed == input.len() {
                    let err = match f.finish(&buf) {
                        Ok(Some(fr)) => {
                            take(&mut f, fr, &mut buf, &mut offset);
                            None
                        }
                        Ok(None) => None,
                        Err(e) => Some((offset + e.at, e.msg)),
                    };
                    return (out, err);
                }
                let n = step.min(input.len() - fed);
                buf.extend_from_slice(&input[fed..fed + n]);
                fed += n;
                continue;
            }
            match f.next(&buf, fed == input.len(), known_head) {
                Ok(Some(fr)) => take(&mut f, fr, &mut buf, &mut offset),
                Ok(None) => {}
                Err(e) => return (out, Some((offset + e.at, e.msg))),
            }
        }
    }

    /// Adjacent space frames, and adjacent COPY row frames, as one: how a
    /// run of them is split depends on the reads.
    fn merged(frames: Vec<(Kind, usize, Vec<u8>)>) -> Vec<(Kind, String)> {
        let mut out: Vec<(Kind, String)> = Vec::new();
        for (kind, _, text) in frames {
            let text = String::from_utf8(text).expect("test inputs are UTF-8");
            match out.last_mut() {
                Some((k, t)) if *k == kind && matches!(kind, Kind::Space | Kind::CopyRows) => t.push_str(&text),
                _ => out.push((kind, text)),
            }
        }
        out
    }

    /// Every read size, with and without cutting the buffer at each frame:
    /// the frames tile the input, are the expected ones, and a frame's
    /// start is where the one before ended.
    fn check(dialect: Dialect, expected: &[(Kind, &str)], known_head: Option<&[u8]>) {
        let input: Vec<u8> = expected.iter().flat_map(|(_, t)| t.bytes()).collect();
        let want: Vec<(Kind, String)> = expected.iter().map(|&(k, t)| (k, t.to_owned())).collect();
        for step in 1..=input.len() {
            for cut in [false, true] {
                let (frames, err) = run(dialect, &input, step, cut, known_head);
                assert_eq!(err, None, "step {step}, cut {cut}");
                let mut at = 0;
                for (_, start, text) in &frames {
                    assert_eq!(*start, at, "step {step}, cut {cut}: a gap or overlap at {at}");
                    at += text.len();
                }
                assert_eq!(at, input.len(), "step {step}, cut {cut}: frames short of the input");
                assert_eq!(merged(frames), want, "step {step}, cut {cut}");
            }
        }
    }

    use Kind::*;

    #[test]
    fn postgres_statements_comments_meta_and_copy() {
        check(
            Dialect::Postgres,
            &[
                (Statement, "SET client_encoding = 'UTF8';"),
                (Space, "\n"),
                (Comment, "-- c;d"),
                (Space, "\n"),
                (Meta, "\\connect x\n"),
                (Statement, "CREATE TABLE \"a;b\" (x text DEFAULT 'c;d' -- e;f\n);"),
                (Space, "\n\n"),
                (Statement, "COPY t (x) FROM stdin;"),
                (CopyHeaderRest, "\n"),
                // An escaped line break and an escaped backslash before a
                // dot are data (copyfromparse.c, CopyReadLineText).
                (CopyRows, "a\\\nb\n\\\\.\n\n"),
                (CopyEnd, "\\.\n"),
                (Statement, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;"),
                (Space, "\n"),
                (Statement, "CREATE RULE r AS ON DELETE TO t DO (DELETE FROM t; DELETE FROM u);"),
                (Space, "\n"),
                (Comment, "/* x; /* y; */ */"),
                (Space, " "),
                (Statement, "SELECT $_$;$_$;"),
                (Space, "\n"),
                (Statement, "COPY t (x) FROM stdin;"),
                (CopyHeaderRest, "\n"),
                (CopyEnd, "\\.\r\n"),
                (Comment, "-- end"),
            ],
            None,
        );
    }

    #[test]
    fn sqlite_trigger_bodies_and_inserts() {
        let expected = [
            (Statement, "PRAGMA foreign_keys=OFF;"),
            (Space, "\n"),
            (Statement, "BEGIN TRANSACTION;"),
            (Space, "\n"),
            (Statement, "CREATE TABLE t(a);"),
            (Space, "\n"),
            (Statement, "INSERT INTO t VALUES('x;y');"),
            (Space, "\n"),
            (Statement, "INSERT INTO t VALUES(2);"),
            (Space, "\n"),
            (Statement, "INSERT INTO t VALUESX;"),
            (Space, "\n"),
            (Statement, "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN 1 THEN 'a' END; END;"),
            (Space, "\n"),
            (Statement, "COMMIT;"),
            (Space, "\n"),
        ];
        check(Dialect::Sqlite, &expected, None);
        // The head of the INSERT before, given: the same frames (and
        // `VALUESX` is not that head).
        check(Dialect::Sqlite, &expected, Some(b"INSERT INTO t VALUES"));
    }

    /// What is left open at the end of input: an error at the offset of
    /// what is open, after the frames before it.
    #[test]
    fn open_ends_are_errors_at_their_offset() {
        let cases: [(Dialect, &str, usize, &str); 6] = [
            (Dialect::Postgres, "SELECT 1;\nSELECT 'a;", 17, "string literal not closed"),
            (Dialect::Postgres, "SELECT 1;\nSELECT 2", 10, "statement not ended"),
            (Dialect::Postgres, "COPY t FROM stdin;\na\nb", 21, "COPY data not ended"),
            (Dialect::Postgres, "COPY t FROM stdin;\na\n", 21, "COPY data not ended"),
            (Dialect::Postgres, "COPY t FROM stdin;", 18, "COPY data not ended"),
            (Dialect::Postgres, "COPY t FROM stdin;\na\n\\.x\n", 21, "followed by other data"),
        ];
        for (dialect, input, at, msg) in cases {
            for step in 1..=input.len() {
                for cut in [false, true] {
                    let (frames, err) = run(dialect, input.as_bytes(), step, cut, None);
                    let (got_at, got_msg) = err.unwrap_or_else(|| panic!("{input:?} step {step}: no error"));
                    assert_eq!(got_at, at, "{input:?} step {step}, cut {cut}: {got_msg}");
                    assert!(got_msg.contains(msg), "{input:?}: {got_msg}");
                    let framed: usize = frames.iter().map(|(_, _, t)| t.len()).sum();
                    assert!(framed <= at, "{input:?} step {step}: framed past the error");
                }
            }
        }
    }
}
