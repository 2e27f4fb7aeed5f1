//! The SQL lexer, both dialects.
//!
//! Input: two control bytes, then the text.
//! * byte 0: bit 0 sets backslash escapes in plain strings (PostgreSQL
//!   `standard_conforming_strings = off`); bits 1-3 pick the largest
//!   piece the text is fed in: 1, 2, 3, 4, 8, 16, 64 or 256 bytes;
//! * byte 1: seeds the generator of the piece lengths (0: whole text only).
//!
//! Checks, for each dialect:
//! * `Tokens` never panics; its tokens are non-empty and contiguous from 0,
//!   cover the text unless an error ends them, and an error is last;
//! * a `Lexer` fed the text in pieces gives the same tokens (and the same
//!   error) as `Tokens` on the whole, both ways a caller can feed it:
//!   growing prefixes of one buffer (as `reader.rs` does) and separate
//!   buffers holding one piece each;
//! * `postgres::decode_literal` never panics on a PostgreSQL string token,
//!   and `encode_literal` of its value decodes back to that value.
#![no_main]

use dumpsed::internals::lexer::{Dialect, Lexer, Step, Token, TokenKind, Tokens};
use dumpsed::internals::postgres;
use libfuzzer_sys::fuzz_target;

type Item = Result<Token, (usize, &'static str)>;

/// Piece boundaries (ends, strictly increasing except for empty pieces)
/// of a text of `len` bytes.
fn pieces(len: usize, max: usize, seed: u8) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut x = u32::from(seed).wrapping_mul(0x9e37_79b9) | 1;
    let mut at = 0;
    while at < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // Now and then an empty piece: the lexer is called again with
        // nothing new.
        let step = if x % 11 == 0 { 0 } else { 1 + (x as usize >> 4) % max };
        at = (at + step).min(len);
        ends.push(at);
    }
    ends
}

/// Feeds `text` as growing prefixes `text[..end]` of one buffer.
fn feed_prefixes(lx: &mut Lexer, text: &[u8], ends: &[usize]) -> Vec<Item> {
    let mut got = Vec::new();
    let (mut start, mut pos) = (0, 0);
    for &limit in ends {
        loop {
            match lx.next_token(&text[..limit], pos) {
                Step::Token(end, kind) => {
                    assert!(end > start && end >= pos && end <= limit, "token end {end} out of {start}..={limit}");
                    got.push(Ok(Token { kind, start, end }));
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
    finish(lx, &mut got, start, text.len());
    got
}

/// Feeds `text` as separate buffers `text[a..b]`, one per piece.
fn feed_pieces(lx: &mut Lexer, text: &[u8], ends: &[usize]) -> Vec<Item> {
    let mut got = Vec::new();
    let mut start = 0;
    let mut a = 0;
    for &b in ends {
        let piece = &text[a..b];
        let mut pos = 0;
        loop {
            match lx.next_token(piece, pos) {
                Step::Token(end, kind) => {
                    assert!(a + end > start && end >= pos && end <= piece.len(), "token end {a}+{end} out of {start}..={b}");
                    got.push(Ok(Token { kind, start, end: a + end }));
                    start = a + end;
                    pos = end;
                }
                Step::Idle => {
                    start = b;
                    break;
                }
                Step::Partial => break,
            }
        }
        a = b;
    }
    finish(lx, &mut got, start, text.len());
    got
}

fn finish(lx: &mut Lexer, got: &mut Vec<Item>, start: usize, len: usize) {
    match lx.finish() {
        Ok(Some(kind)) => got.push(Ok(Token { kind, start, end: len })),
        Ok(None) => {}
        Err(msg) => got.push(Err((start, msg))),
    }
}

fn check_tokens(text: &[u8], whole: &[Item]) {
    let mut at = 0;
    for (i, t) in whole.iter().enumerate() {
        match t {
            Ok(t) => {
                assert_eq!(t.start, at, "tokens not contiguous: {whole:?}");
                assert!(t.end > t.start && t.end <= text.len(), "bad token {t:?}");
                at = t.end;
            }
            Err((start, _)) => {
                assert_eq!(i + 1, whole.len(), "error is not the last item: {whole:?}");
                assert_eq!(*start, at, "error not where the last token ended: {whole:?}");
                return;
            }
        }
    }
    assert_eq!(at, text.len(), "tokens do not cover the text: {whole:?}");
}

fn check_literal(raw: &[u8], escapes: bool) {
    let Ok(value) = postgres::decode_literal(raw, escapes) else { return };
    let mut enc = Vec::new();
    postgres::encode_literal(&value, raw, escapes, &mut enc);
    let back = postgres::decode_literal(&enc, escapes);
    assert_eq!(back.as_deref(), Ok(&value[..]), "literal {raw:?} -> {value:?} -> {enc:?}");
}

fuzz_target!(|data: &[u8]| {
    let [flags, seed, text @ ..] = data else { return };
    let escapes = flags & 1 != 0;
    let max = [1, 2, 3, 4, 8, 16, 64, 256][usize::from(flags >> 1 & 7)];
    let ends = if *seed == 0 { vec![text.len()] } else { pieces(text.len(), max, *seed) };
    for dialect in [Dialect::Postgres, Dialect::Sqlite] {
        let whole: Vec<Item> = Tokens::with_escapes(dialect, escapes, text).collect();
        check_tokens(text, &whole);
        let mut lx = Lexer::new(dialect);
        lx.set_standard_conforming_strings(!escapes);
        let got = feed_prefixes(&mut lx.clone(), text, &ends);
        assert_eq!(got, whole, "{dialect:?}: fed as prefixes ending at {ends:?}");
        let got = feed_pieces(&mut lx, text, &ends);
        assert_eq!(got, whole, "{dialect:?}: fed as pieces ending at {ends:?}");
        if dialect == Dialect::Postgres {
            for t in whole.iter().flatten().filter(|t| t.kind == TokenKind::Str) {
                check_literal(&text[t.start..t.end], escapes);
            }
        }
    }
});
