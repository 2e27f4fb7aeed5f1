//! The SQL lexer shared by the PostgreSQL and SQLite readers.
//!
//! A resumable state machine over byte buffers: [`Lexer::next_token`] stops
//! at the end of whatever buffer it is given and carries on from its saved
//! state when given the next one, so the reader can feed it reads of any
//! size (down to one byte) and never rescans. It allocates only for the tag
//! of a dollar quote.
//!
//! Token rules, per dialect:
//! * PostgreSQL (docs: "Lexical Structure", sql-syntax-lexical.html; psql's
//!   `psqlscan.l`): `'…'` with `''`; `E'…'` with backslash escapes; `"…"`
//!   with `""`; `--` to end of line; nested `/* */`; `$tag$…$tag$`.
//! * SQLite (lang_keywords.html, `tokenize.c`): `'…'` with `''`; `"…"`,
//!   `` `…` `` with doubling, and `[…]`; `--`; non-nested `/* */`.

use memchr::{memchr, memchr2};

use crate::frame::byte_mask::ByteClasses;

/// Which SQL dialect's lexical rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// pg_dump's plain output.
    Postgres,
    /// The sqlite3 shell's `.dump` output.
    Sqlite,
}

impl Dialect {
    /// The kind of dump, as a message names it.
    pub fn dump_name(self) -> &'static str {
        match self {
            Dialect::Postgres => "a PostgreSQL (pg_dump plain) dump",
            Dialect::Sqlite => "an SQLite (.dump) dump",
        }
    }
}

/// What kind of token was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Spaces, tabs, newlines.
    Space,
    /// `-- …` (without its newline) or `/* … */`.
    Comment,
    /// A bare word: keyword, unquoted identifier or number.
    Word,
    /// `"…"`, and in SQLite `` `…` `` and `[…]`.
    QuotedIdent,
    /// `'…'`, including a leading `E` for PostgreSQL escape strings.
    Str,
    /// `$tag$…$tag$` (PostgreSQL).
    DollarString,
    /// Any other single byte (punctuation, operators, `;`).
    Punct,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    None,
    /// The previous byte was a backslash inside an escape string.
    Backslash,
    /// The previous byte was a closing quote, unless the next doubles it.
    Quote,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Start,
    Space,
    /// `lone_e`: the word so far is exactly `E`/`e`, which prefixes an
    /// escape string when a quote follows at once.
    Word {
        lone_e: bool,
    },
    Dash,
    Slash,
    LineComment,
    BlockComment {
        depth: u32,
        prev: u8,
    },
    Str {
        escapes: bool,
        pending: Pending,
    },
    QIdent {
        close: u8,
        pending: bool,
    },
    DollarTag,
    DollarBody {
        matched: usize,
    },
}

/// A resumable SQL lexer. See the module docs.
#[derive(Debug, Clone)]
pub struct Lexer {
    dialect: Dialect,
    state: State,
    kind: TokenKind,
    /// The dollar-quote delimiter being read or matched, `$` included.
    tag: Vec<u8>,
    /// `standard_conforming_strings`: when off, plain `'…'` strings take
    /// backslash escapes too (PostgreSQL only).
    std_strings: bool,
}

/// Result of [`Lexer::next_token`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A token ended just before this offset in the buffer.
    Token(usize, TokenKind),
    /// The buffer ended; the lexer is idle (no token begun).
    Idle,
    /// The buffer ended inside a token; feed more bytes.
    Partial,
}

#[inline]
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// A byte that continues a bare identifier or keyword.
pub fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

#[inline]
fn is_word_start(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl Dialect {
    /// The schema an unqualified name is in: `public` (PostgreSQL's
    /// search_path default) or `main` (SQLite's main database).
    pub fn default_schema(self) -> &'static [u8] {
        match self {
            Dialect::Postgres => b"public",
            Dialect::Sqlite => b"main",
        }
    }
}

impl Lexer {
    /// A lexer at the start of input.
    pub fn new(dialect: Dialect) -> Lexer {
        Lexer {
            dialect,
            state: State::Start,
            kind: TokenKind::Space,
            tag: Vec::new(),
            std_strings: true,
        }
    }

    /// The dialect this lexer follows.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Follows `SET standard_conforming_strings = off|on` (PostgreSQL).
    pub fn set_standard_conforming_strings(&mut self, on: bool) {
        self.std_strings = on;
    }

    /// True when no token is in progress.
    pub fn is_idle(&self) -> bool {
        self.state == State::Start
    }

    /// The kind of the token in progress (meaningful when not idle).
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn pending_kind(&self) -> TokenKind {
        self.kind
    }

    #[inline]
    fn word_byte(&self, b: u8) -> bool {
        is_word_start(b) || (b == b'$' && self.dialect == Dialect::Postgres)
    }

    /// Reads from `buf[i..]` to the end of the current token.
    pub fn next_token(&mut self, buf: &[u8], mut i: usize) -> Step {
        let n = buf.len();
        loop {
            match self.state {
                State::Start => {
                    let Some(&b) = buf.get(i) else {
                        return Step::Idle;
                    };
                    i += 1;
                    let pg = self.dialect == Dialect::Postgres;
                    self.state = match b {
                        _ if is_space(b) => {
                            self.kind = TokenKind::Space;
                            State::Space
                        }
                        b'\'' => {
                            self.kind = TokenKind::Str;
                            State::Str {
                                escapes: pg && !self.std_strings,
                                pending: Pending::None,
                            }
                        }
                        b'"' => self.qident(b'"'),
                        b'`' if !pg => self.qident(b'`'),
                        b'[' if !pg => self.qident(b']'),
                        b'-' => State::Dash,
                        b'/' => State::Slash,
                        b'$' if pg => {
                            self.tag.clear();
                            self.tag.push(b'$');
                            self.kind = TokenKind::DollarString;
                            State::DollarTag
                        }
                        _ if is_word_start(b) => {
                            self.kind = TokenKind::Word;
                            State::Word {
                                lone_e: pg && (b == b'E' || b == b'e'),
                            }
                        }
                        _ => return Step::Token(i, TokenKind::Punct),
                    };
                }
                State::Space => {
                    while i < n && is_space(buf[i]) {
                        i += 1;
                    }
                    if i == n {
                        return Step::Partial;
                    }
                    return self.end(i);
                }
                State::Word { lone_e } => {
                    if i == n {
                        return Step::Partial;
                    }
                    if lone_e && buf[i] == b'\'' {
                        self.kind = TokenKind::Str;
                        self.state = State::Str {
                            escapes: true,
                            pending: Pending::None,
                        };
                        i += 1;
                        continue;
                    }
                    self.state = State::Word { lone_e: false };
                    while i < n && self.word_byte(buf[i]) {
                        i += 1;
                    }
                    if i == n {
                        return Step::Partial;
                    }
                    return self.end(i);
                }
                State::Dash | State::Slash => {
                    if i == n {
                        return Step::Partial;
                    }
                    let (second, next) = if self.state == State::Dash {
                        (b'-', State::LineComment)
                    } else {
                        (b'*', State::BlockComment { depth: 1, prev: 0 })
                    };
                    if buf[i] == second {
                        self.kind = TokenKind::Comment;
                        self.state = next;
                        i += 1;
                    } else {
                        self.state = State::Start;
                        return Step::Token(i, TokenKind::Punct);
                    }
                }
                State::LineComment => match memchr(b'\n', &buf[i..]) {
                    Some(j) => return self.end(i + j),
                    None => return Step::Partial,
                },
                State::BlockComment {
                    mut depth,
                    mut prev,
                } => {
                    let nests = self.dialect == Dialect::Postgres;
                    while i < n {
                        let b = buf[i];
                        i += 1;
                        if prev == b'*' && b == b'/' {
                            depth -= 1;
                            if depth == 0 {
                                return self.end(i);
                            }
                            prev = 0;
                        } else if nests && prev == b'/' && b == b'*' {
                            depth += 1;
                            prev = 0;
                        } else {
                            prev = b;
                            if b != b'*' && b != b'/' {
                                // Jump to the next byte that can matter.
                                match memchr2(b'*', b'/', &buf[i..]) {
                                    Some(j) => i += j,
                                    None => i = n,
                                }
                            }
                        }
                    }
                    self.state = State::BlockComment { depth, prev };
                    return Step::Partial;
                }
                State::Str { escapes, pending } => {
                    if i == n {
                        self.state = State::Str { escapes, pending };
                        return Step::Partial;
                    }
                    match pending {
                        Pending::Quote => {
                            if buf[i] == b'\'' {
                                i += 1;
                                self.state = State::Str {
                                    escapes,
                                    pending: Pending::None,
                                };
                            } else {
                                return self.end(i);
                            }
                        }
                        Pending::Backslash => {
                            i += 1;
                            self.state = State::Str {
                                escapes,
                                pending: Pending::None,
                            };
                        }
                        Pending::None => {
                            let found = if escapes {
                                memchr2(b'\'', b'\\', &buf[i..])
                            } else {
                                memchr(b'\'', &buf[i..])
                            };
                            match found {
                                None => return Step::Partial,
                                Some(j) => {
                                    i += j + 1;
                                    let p = if buf[i - 1] == b'\'' {
                                        Pending::Quote
                                    } else {
                                        Pending::Backslash
                                    };
                                    self.state = State::Str {
                                        escapes,
                                        pending: p,
                                    };
                                }
                            }
                        }
                    }
                }
                State::QIdent { close, pending } => {
                    if pending {
                        if i == n {
                            return Step::Partial;
                        }
                        if buf[i] == close && close != b']' {
                            i += 1;
                            self.state = State::QIdent {
                                close,
                                pending: false,
                            };
                        } else {
                            return self.end(i);
                        }
                    } else {
                        match memchr(close, &buf[i..]) {
                            None => return Step::Partial,
                            Some(j) => {
                                i += j + 1;
                                if close == b']' {
                                    return self.end(i);
                                }
                                self.state = State::QIdent {
                                    close,
                                    pending: true,
                                };
                            }
                        }
                    }
                }
                State::DollarTag => {
                    while i < n {
                        let b = buf[i];
                        if b == b'$' {
                            self.tag.push(b'$');
                            self.state = State::DollarBody { matched: 0 };
                            i += 1;
                            break;
                        }
                        // `$1` is a parameter, and a tag cannot start with a digit.
                        let ok = (b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
                            || (b.is_ascii_digit() && self.tag.len() > 1);
                        if !ok {
                            self.state = State::Start;
                            return Step::Token(i, TokenKind::Punct);
                        }
                        self.tag.push(b);
                        i += 1;
                    }
                    if i == n && self.state == State::DollarTag {
                        return Step::Partial;
                    }
                }
                State::DollarBody { mut matched } => {
                    while i < n {
                        if matched == 0 {
                            match memchr(b'$', &buf[i..]) {
                                None => break,
                                Some(j) => {
                                    i += j + 1;
                                    matched = 1;
                                }
                            }
                        } else {
                            let b = buf[i];
                            i += 1;
                            if b == self.tag[matched] {
                                matched += 1;
                            } else {
                                matched = usize::from(b == b'$');
                            }
                        }
                        if matched == self.tag.len() {
                            return self.end(i);
                        }
                    }
                    self.state = State::DollarBody { matched };
                    return Step::Partial;
                }
            }
        }
    }

    fn qident(&mut self, close: u8) -> State {
        self.kind = TokenKind::QuotedIdent;
        State::QIdent {
            close,
            pending: false,
        }
    }

    #[inline]
    fn end(&mut self, i: usize) -> Step {
        self.state = State::Start;
        Step::Token(i, self.kind)
    }

    /// Ends the input: returns the kind of a token that legitimately ends
    /// here, or an error describing what was left open.
    pub fn finish(&mut self) -> Result<Option<TokenKind>, &'static str> {
        let state = std::mem::replace(&mut self.state, State::Start);
        match state {
            State::Start => Ok(None),
            State::Space | State::Word { .. } | State::LineComment => Ok(Some(self.kind)),
            State::Dash | State::Slash | State::DollarTag => Ok(Some(TokenKind::Punct)),
            State::Str {
                pending: Pending::Quote,
                ..
            } => Ok(Some(self.kind)),
            State::QIdent { pending: true, .. } => Ok(Some(self.kind)),
            State::Str { .. } => Err("string literal not closed at end of input"),
            State::QIdent { .. } => Err("quoted identifier not closed at end of input"),
            State::BlockComment { .. } => Err("/* comment not closed at end of input"),
            State::DollarBody { .. } => Err("dollar-quoted string not closed at end of input"),
        }
    }
}

/// Where [`quick_stop`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quick {
    /// `buf[at]` is one of `(`, `)`, `,`, `;`, outside any token, at a
    /// token boundary.
    Stop(usize, u8),
    /// The buffer ended at a token boundary with no stop byte.
    End,
    /// Something [`quick_stop`] leaves to [`Lexer`]: a comment, a dollar
    /// quote or `$` parameter, a SQLite `` ` `` / `[` identifier, or a token
    /// cut by the end of the buffer.
    Bail,
}

/// Which bytes [`quick_stop`] stops at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stops {
    /// What ends a statement: `;`, and `(` and `)` (in PostgreSQL a `;`
    /// inside parentheses does not end it; SQLite's scan ignores them).
    Statement,
    /// `(`, `)`, `,` and `;`: what separates the values of rows.
    Values,
}

/// Byte classes of [`quick_stop`]: 0 ordinary, 1 a stop byte, 2 a quote,
/// 3 needs a look at the next byte (`-`, `/`), 4 bail.
const fn quick_classes(pg: bool, values: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    // SQLite ends a statement at any `;`: its statement scan stops at
    // parentheses only to share the masked scan's stop bytes.
    t[b'(' as usize] = 1;
    t[b')' as usize] = 1;
    if values {
        t[b',' as usize] = 1;
    }
    t[b';' as usize] = 1;
    t[b'\'' as usize] = 2;
    t[b'"' as usize] = 2;
    t[b'-' as usize] = 3;
    t[b'/' as usize] = 3;
    if pg {
        t[b'$' as usize] = 4;
    } else {
        t[b'`' as usize] = 4;
        t[b'[' as usize] = 4;
    }
    t
}
static QUICK: [[u8; 256]; 4] = [
    quick_classes(true, false),
    quick_classes(true, true),
    quick_classes(false, false),
    quick_classes(false, true),
];

/// The stepped path of the INSERT scans: from `buf[from]`, a token
/// boundary outside any string, to the next of the `stops` bytes that the
/// [`Lexer`] would read as a punctuation token, jumping from quote to
/// quote with memchr over string literals and quoted identifiers instead
/// of stepping the state machine. Strings follow the lexer's rules: `''`
/// doubling; backslash escapes in PostgreSQL `E'…'` and, when
/// `std_strings` is off, in every `'…'`; `""` in identifiers. Anything
/// rarer in dump INSERTs (comments, `$`, SQLite's other quotes) and a
/// token cut by the end of `buf` give [`Quick::Bail`]: the caller then
/// lexes the statement with [`Lexer`], so both paths make the same
/// decisions (checked by the property tests below). [`MaskedStops`] is
/// tried first where strings take no escapes; this takes what it leaves.
pub fn quick_stop(dialect: Dialect, std_strings: bool, stops: Stops, buf: &[u8], from: usize) -> Quick {
    let pg = dialect == Dialect::Postgres;
    let classes = &QUICK[quick_kind(pg, stops)];
    let n = buf.len();
    let mut i = from;
    while i < n {
        let b = buf[i];
        match classes[b as usize] {
            0 => i += 1,
            1 => return Quick::Stop(i, b),
            2 => {
                // A lone `E` word just before the quote makes an escape
                // string (the lexer's `lone_e`); `$` never gets here.
                let lone_e = pg
                    && b == b'\''
                    && i > from
                    && matches!(buf[i - 1], b'E' | b'e')
                    && (i - 1 == from || !is_word_start(buf[i - 2]));
                let escapes = b == b'\'' && pg && (lone_e || !std_strings);
                let mut j = i + 1;
                loop {
                    // Most values are short: look at a few bytes before
                    // setting up a memchr.
                    let near = buf[j..n.min(j + 16)].iter().position(|&c| c == b || (escapes && c == b'\\'));
                    let found = match near {
                        Some(k) => Some(k),
                        None if j + 16 >= n => None,
                        None if escapes => memchr2(b, b'\\', &buf[j + 16..]).map(|k| k + 16),
                        None => memchr(b, &buf[j + 16..]).map(|k| k + 16),
                    };
                    let Some(at) = found.map(|k| j + k) else {
                        return Quick::Bail;
                    };
                    if buf[at] == b'\\' {
                        // The escaped byte is taken whatever it is.
                        if at + 2 > n {
                            return Quick::Bail;
                        }
                        j = at + 2;
                        continue;
                    }
                    // A closing quote, unless the next byte doubles it.
                    match buf.get(at + 1) {
                        None => return Quick::Bail,
                        Some(&c) if c == b => j = at + 2,
                        Some(_) => {
                            i = at + 1;
                            break;
                        }
                    }
                }
            }
            3 => match buf.get(i + 1) {
                None => return Quick::Bail,
                Some(&c) if c == b || (b == b'/' && c == b'*') => return Quick::Bail,
                // A `*` after `/` is a comment; `-` then `/` or `/` then
                // `-` are two punctuation tokens, looked at again.
                Some(_) => i += 1,
            },
            _ => return Quick::Bail,
        }
    }
    Quick::End
}

/// The index in [`QUICK`] of a dialect's classes for `stops`.
fn quick_kind(pg: bool, stops: Stops) -> usize {
    usize::from(!pg) * 2 + usize::from(stops == Stops::Values)
}

/// The same stops as [`quick_stop`], for text whose strings take no
/// backslash escapes (SQLite's always; PostgreSQL's under
/// `standard_conforming_strings`, every dump since 9.1), 64 bytes at a
/// time with no step per string or per value.
///
/// A byte is inside a `'…'` string when it is an opening quote or an odd
/// number of quotes precede it: the prefix XOR of the block's quote mask
/// (simdjson's string mask, Langdale & Lemire 2019, §3.1.1). A doubled
/// `''` closes and reopens the string with no byte in between, so it needs
/// no rule of its own. The stop bytes outside strings are then the
/// punctuation tokens. Whatever else outside a string would make the
/// lexer read on differently (a `"` identifier, a comment, `$`, an `E'`
/// string, SQLite's `` ` `` and `[`), and a string cut by the end of the
/// buffer, give [`Quick::Bail`], as in [`quick_stop`].
///
/// Invariants: `hits` holds the stop and special bytes outside strings of
/// the block at `hits_base` not yet returned; `base` is the start of the
/// next block, and `in_string` is all ones when `buf[base]` is inside a
/// string, all zeros otherwise.
pub struct MaskedStops<'a> {
    buf: &'a [u8],
    pg: bool,
    kind: usize,
    from: usize,
    base: usize,
    in_string: u64,
    hits_base: usize,
    hits: u64,
}

impl<'a> MaskedStops<'a> {
    /// The stops of `buf` from `from`, a token boundary outside any
    /// string; `None` when the strings may take escapes (use [`quick_stop`]).
    pub fn new(dialect: Dialect, std_strings: bool, stops: Stops, buf: &'a [u8], from: usize) -> Option<MaskedStops<'a>> {
        let pg = dialect == Dialect::Postgres;
        (!pg || std_strings).then(|| MaskedStops {
            buf,
            pg,
            kind: quick_kind(pg, stops),
            from,
            base: from,
            in_string: 0,
            hits_base: from,
            hits: 0,
        })
    }

    /// The next stop, as [`quick_stop`] from just past the last one.
    #[inline]
    pub fn next_stop(&mut self) -> Quick {
        loop {
            while self.hits == 0 {
                if self.base >= self.buf.len() {
                    return if self.in_string == 0 { Quick::End } else { Quick::Bail };
                }
                if !self.block() {
                    return Quick::Bail;
                }
            }
            let at = self.hits_base + self.hits.trailing_zeros() as usize;
            self.hits &= self.hits - 1;
            match self.buf[at] {
                b @ (b';' | b'(' | b')' | b',') => return Quick::Stop(at, b),
                // `--` and `/*` start comments (`//` too, to be safe, as in
                // `quick_stop`); a lone `-` or `/` is an operator.
                b @ (b'-' | b'/') => match self.buf.get(at + 1) {
                    None => return Quick::Bail,
                    Some(&c) if c == b || (b == b'/' && c == b'*') => return Quick::Bail,
                    Some(_) => {}
                },
                _ => return Quick::Bail,
            }
        }
    }

    /// Masks the block at `base` into `hits`; false when it holds an `E'`
    /// string, left to the lexer.
    #[inline(never)]
    fn block(&mut self) -> bool {
        let base = self.base;
        let groups = [1, STOP_GROUPS[self.kind], 2];
        let [quotes, special, e] = STOP_CLASSES.masks_at(&self.buf[base..], groups);
        let inside = prefix_xor(quotes) ^ self.in_string;
        if self.pg {
            // An `E` or `e` just before an opening quote may make an escape
            // string (the lexer's `lone_e`).
            let before = base > self.from && matches!(self.buf[base - 1], b'E' | b'e');
            if quotes & inside & (e << 1 | u64::from(before)) != 0 {
                return false;
            }
        }
        self.hits = special & !inside;
        self.hits_base = base;
        // Bit 63 of `inside`: byte 63 is inside a string (or opens one).
        self.in_string = 0u64.wrapping_sub(inside >> 63);
        self.base = base + 64;
        true
    }
}

/// The buckets of [`MaskedStops`]: bit 0 the quote, 1 `E` and `e`, 2
/// `"()-/`, 3 `$`, 4 `,`, 5 `;`, 6 `[`, 7 `` ` ``.
static STOP_CLASSES: ByteClasses<8> =
    ByteClasses::new([b"'", b"Ee", b"\"()-/", b"$", b",", b";", b"[", b"`"]);

/// By `QUICK` index: the buckets of that table's classes other than 0,
/// but the quote (stop bytes, and what makes the scan bail).
const STOP_GROUPS: [u8; 4] = [
    0b0010_1100, // PostgreSQL statement: "()-/ $ ;
    0b0011_1100, // PostgreSQL values: and ,
    0b1110_0100, // SQLite statement: "()-/ ; [ `
    0b1111_0100, // SQLite values: and ,
];

/// Bit `k` of the result is the XOR of bits `0..=k` of `m`.
#[inline]
fn prefix_xor(mut m: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        m ^= m << shift;
    }
    m
}

/// The end (just past its `;`) of the statement starting at `buf[from]`,
/// as the reader's [`Lexer`]-driven scan would find it for a statement
/// that is not a `CREATE` (no `BEGIN ATOMIC` or trigger body to count):
/// PostgreSQL ends it at a `;` outside parentheses (psqlscan.l,
/// `paren_depth`), SQLite at any `;`. `None`: not decided here (the
/// statement runs past `buf`, or holds something both quick scans bail on).
pub fn quick_statement_end(dialect: Dialect, std_strings: bool, buf: &[u8], from: usize) -> Option<usize> {
    if let Some(mut masked) = MaskedStops::new(dialect, std_strings, Stops::Statement, buf, from) {
        if let Ok(end) = statement_end(dialect, || masked.next_stop()) {
            return end;
        }
    }
    statement_end(dialect, stepped_stops(dialect, std_strings, Stops::Statement, buf, from)).unwrap_or(None)
}

/// [`quick_stop`] from stop to stop: each call goes on just past the
/// stop the call before returned.
pub fn stepped_stops(
    dialect: Dialect,
    std_strings: bool,
    stops: Stops,
    buf: &[u8],
    from: usize,
) -> impl FnMut() -> Quick + '_ {
    let mut i = from;
    move || {
        let q = quick_stop(dialect, std_strings, stops, buf, i);
        if let Quick::Stop(at, _) = q {
            i = at + 1;
        }
        q
    }
}

/// A quick scan gave [`Quick::Bail`].
pub struct Bailed;

/// The statement end among the stops `next` gives in order; `Ok(None)`:
/// the buffer ends first.
fn statement_end(dialect: Dialect, mut next: impl FnMut() -> Quick) -> Result<Option<usize>, Bailed> {
    let pg = dialect == Dialect::Postgres;
    let mut parens = 0u32;
    loop {
        match next() {
            Quick::Stop(at, b) => match b {
                b'(' if pg => parens += 1,
                b')' if pg => parens = parens.saturating_sub(1),
                b';' if !pg || parens == 0 => return Ok(Some(at + 1)),
                _ => {}
            },
            Quick::End => return Ok(None),
            Quick::Bail => return Err(Bailed),
        }
    }
}

/// A token of a complete statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Its first byte in the statement.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

/// Iterates over the tokens of a complete piece of SQL.
///
/// Yields `Err((offset, message))` once if the text ends inside a token.
pub struct Tokens<'a> {
    lexer: Lexer,
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Tokens<'a> {
    /// Tokenizes `buf` with a fresh lexer of `dialect`.
    pub fn new(dialect: Dialect, buf: &'a [u8]) -> Tokens<'a> {
        Tokens {
            lexer: Lexer::new(dialect),
            buf,
            pos: 0,
            done: false,
        }
    }

    /// Tokenizes `buf`; `escapes` makes plain `'…'` strings take
    /// backslash escapes (PostgreSQL with `standard_conforming_strings` off).
    pub fn with_escapes(dialect: Dialect, escapes: bool, buf: &'a [u8]) -> Tokens<'a> {
        let mut lexer = Lexer::new(dialect);
        lexer.set_standard_conforming_strings(!escapes);
        Tokens {
            lexer,
            buf,
            pos: 0,
            done: false,
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Result<Token, (usize, &'static str)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let start = self.pos;
        match self.lexer.next_token(self.buf, start) {
            Step::Token(end, kind) => {
                self.pos = end;
                Some(Ok(Token { kind, start, end }))
            }
            Step::Idle => {
                self.done = true;
                None
            }
            Step::Partial => {
                self.done = true;
                let end = self.buf.len();
                Some(match self.lexer.finish() {
                    Ok(Some(kind)) => Ok(Token { kind, start, end }),
                    Ok(None) => return None,
                    Err(msg) => Err((start, msg)),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(d: Dialect, s: &str) -> Vec<(TokenKind, String)> {
        Tokens::new(d, s.as_bytes())
            .map(|t| t.unwrap())
            .filter(|t| t.kind != TokenKind::Space)
            .map(|t| (t.kind, s[t.start..t.end].to_string()))
            .collect()
    }

    use TokenKind::*;

    #[test]
    fn pg_tokens() {
        let got = kinds(
            Dialect::Postgres,
            "SELECT 'a''b;', E'x\\'y;', \"q\"\"i\", $f$ a $$ ; $f$, a$b /* x /* y */ ; */ -- c;\n;",
        );
        let want = vec![
            (Word, "SELECT"),
            (Str, "'a''b;'"),
            (Punct, ","),
            (Str, "E'x\\'y;'"),
            (Punct, ","),
            (QuotedIdent, "\"q\"\"i\""),
            (Punct, ","),
            (DollarString, "$f$ a $$ ; $f$"),
            (Punct, ","),
            (Word, "a$b"),
            (Comment, "/* x /* y */ ; */"),
            (Comment, "-- c;"),
            (Punct, ";"),
        ];
        let want: Vec<_> = want.into_iter().map(|(k, s)| (k, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn sqlite_tokens() {
        let got = kinds(
            Dialect::Sqlite,
            "INSERT INTO [a b] VALUES(`x``y`,'it''s\\',X'00') /* /* */;",
        );
        let want = vec![
            (Word, "INSERT"),
            (Word, "INTO"),
            (QuotedIdent, "[a b]"),
            (Word, "VALUES"),
            (Punct, "("),
            (QuotedIdent, "`x``y`"),
            (Punct, ","),
            (Str, "'it''s\\'"),
            (Punct, ","),
            (Word, "X"),
            (Str, "'00'"),
            (Punct, ")"),
            (Comment, "/* /* */"),
            (Punct, ";"),
        ];
        let want: Vec<_> = want.into_iter().map(|(k, s)| (k, s.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn unterminated_is_reported() {
        for s in ["'abc", "E'abc\\'", "\"x", "/* a /* b */", "$q$ body $q"] {
            let r: Vec<_> = Tokens::new(Dialect::Postgres, s.as_bytes()).collect();
            assert!(r.last().unwrap().is_err(), "{s}");
        }
    }

    /// Feeding a text in pieces of any size gives the same tokens.
    #[test]
    fn resumes_at_any_byte() {
        let s = b"SELECT 'a''b', E'\\\\'';' , \"x\"\"\", $t$ $ $t $t$ /* /* */ */ -- z\n$1; e'q' ";
        let whole: Vec<_> = Tokens::new(Dialect::Postgres, s)
            .map(|t| t.unwrap())
            .collect();
        for step in 1..8 {
            let mut lx = Lexer::new(Dialect::Postgres);
            let mut got = Vec::new();
            let (mut start, mut pos, mut limit) = (0, 0, 0);
            while limit < s.len() {
                limit = (limit + step).min(s.len());
                loop {
                    match lx.next_token(&s[..limit], pos) {
                        Step::Token(end, kind) => {
                            got.push(Token { kind, start, end });
                            start = end;
                            pos = end;
                        }
                        Step::Idle => {
                            pos = limit;
                            start = limit;
                            break;
                        }
                        Step::Partial => {
                            pos = limit;
                            break;
                        }
                    }
                }
            }
            if let Ok(Some(kind)) = lx.finish() {
                got.push(Token {
                    kind,
                    start,
                    end: s.len(),
                });
            }
            assert_eq!(got, whole, "step {step}");
        }
    }

    /// The statement end the reader's token-by-token scan finds (a `;`
    /// outside parentheses for PostgreSQL, any `;` for SQLite), or `None`
    /// when `buf` ends first.
    fn slow_statement_end(d: Dialect, std_strings: bool, buf: &[u8]) -> Option<usize> {
        let mut lx = Lexer::new(d);
        lx.set_standard_conforming_strings(std_strings);
        let (mut pos, mut parens) = (0, 0u32);
        loop {
            match lx.next_token(buf, pos) {
                Step::Token(end, TokenKind::Punct) => {
                    match buf[pos] {
                        b'(' if d == Dialect::Postgres => parens += 1,
                        b')' if d == Dialect::Postgres => parens = parens.saturating_sub(1),
                        b';' if parens == 0 => return Some(end),
                        _ => {}
                    }
                    pos = end;
                }
                Step::Token(end, _) => pos = end,
                Step::Idle | Step::Partial => return None,
            }
        }
    }

    /// The `(`, `)`, `,`, `;` punctuation tokens of `buf`, in order, as
    /// far as the lexer gets.
    fn slow_stops(d: Dialect, std_strings: bool, buf: &[u8]) -> Vec<(usize, u8)> {
        let mut lx = Lexer::new(d);
        lx.set_standard_conforming_strings(std_strings);
        let (mut pos, mut out) = (0, Vec::new());
        while let Step::Token(end, kind) = lx.next_token(buf, pos) {
            if kind == TokenKind::Punct && matches!(buf[pos], b'(' | b')' | b',' | b';') {
                out.push((pos, buf[pos]));
            }
            pos = end;
        }
        out
    }

    fn insert_statement() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just(b"'".to_vec()),
            Just(b"''".to_vec()),
            Just(b"E'".to_vec()),
            Just(b"e'".to_vec()),
            Just(b"xE'".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"\\'".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b");".to_vec()),
            Just(b"), (".to_vec()),
            Just(b";".to_vec()),
            Just(b",".to_vec()),
            Just(b"(".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"\"\"".to_vec()),
            Just(b"--".to_vec()),
            Just(b"-".to_vec()),
            Just(b"/".to_vec()),
            Just(b"/*".to_vec()),
            Just(b"*/".to_vec()),
            Just(b"$$".to_vec()),
            Just(b"$1".to_vec()),
            Just(b"`".to_vec()),
            Just(b"[".to_vec()),
            Just(b"]".to_vec()),
            Just(b"replace('a\\nb','\\n',char(10))".to_vec()),
            Just(b"X'00ff'".to_vec()),
            Just("é漢🙂".as_bytes().to_vec()),
            Just(vec![0xff, 0xc3]),
            Just(b"NULL".to_vec()),
            "[a-zA-Z0-9 ]{0,4}".prop_map(String::into_bytes),
            // Long runs: strings and statements across 64-byte blocks.
            "[a-z ]{40,90}".prop_map(String::into_bytes),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|v| {
            let mut s = b"INSERT INTO t VALUES(".to_vec();
            for p in v {
                s.extend_from_slice(&p);
            }
            s
        })
    }

    #[test]
    fn masked_stops_mark_the_quick_classes() {
        // Each byte but the quote, then an ordinary byte: the masked scan
        // must treat it as its `QUICK` class says `quick_stop` does.
        for (d, std) in [(Dialect::Postgres, true), (Dialect::Sqlite, false)] {
            for stops in [Stops::Statement, Stops::Values] {
                let table = &QUICK[quick_kind(d == Dialect::Postgres, stops)];
                for b in (0..=255u8).filter(|&b| b != b'\'') {
                    let buf = [b, b'x'];
                    let got = MaskedStops::new(d, std, stops, &buf, 0).map(|mut m| m.next_stop());
                    let want = match table[b as usize] {
                        0 | 3 => Quick::End,
                        1 => Quick::Stop(0, b),
                        _ => Quick::Bail,
                    };
                    assert_eq!(got, Some(want), "{d:?} {stops:?} byte {b}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// The fast INSERT scan frames exactly where the lexer does, or
        /// leaves the statement to it; and every stop it reports is one of
        /// the lexer's punctuation tokens, none skipped.
        #[test]
        fn quick_scan_agrees_with_the_lexer(stmt in insert_statement(), cut in 0usize..600, std in proptest::bool::ANY) {
            for d in [Dialect::Postgres, Dialect::Sqlite] {
                // Also cut short, as a read boundary cuts the buffer.
                let buf = &stmt[..stmt.len().min(cut.max(21))];
                let slow = slow_statement_end(d, std, buf);
                if let Some(end) = quick_statement_end(d, std, buf, 0) {
                    proptest::prop_assert_eq!(Some(end), slow, "{:?} {:?}", d, String::from_utf8_lossy(buf));
                }
                // Each quick scan on its own (the first that decides is
                // the one used).
                let stepped = statement_end(d, stepped_stops(d, std, Stops::Statement, buf, 0));
                if let Ok(Some(end)) = stepped {
                    proptest::prop_assert_eq!(Some(end), slow, "stepped {:?} {:?}", d, String::from_utf8_lossy(buf));
                }
                if let Some(mut m) = MaskedStops::new(d, std, Stops::Statement, buf, 0) {
                    if let Ok(Some(end)) = statement_end(d, || m.next_stop()) {
                        proptest::prop_assert_eq!(Some(end), slow, "masked {:?} {:?}", d, String::from_utf8_lossy(buf));
                    }
                }
                let slow = slow_stops(d, std, buf);
                let masked = MaskedStops::new(d, std, Stops::Values, buf, 0);
                let scans: [Box<dyn FnMut() -> Quick>; 2] = [
                    Box::new(stepped_stops(d, std, Stops::Values, buf, 0)),
                    match masked {
                        Some(mut m) => Box::new(move || m.next_stop()),
                        None => Box::new(|| Quick::Bail),
                    },
                ];
                for mut next in scans {
                    let mut quick = Vec::new();
                    let complete = loop {
                        match next() {
                            Quick::Stop(at, b) => quick.push((at, b)),
                            Quick::End => break true,
                            Quick::Bail => break false,
                        }
                    };
                    if complete {
                        proptest::prop_assert_eq!(&quick, &slow);
                    } else {
                        proptest::prop_assert_eq!(&quick[..], &slow[..quick.len().min(slow.len())]);
                    }
                }
            }
        }
    }
}
