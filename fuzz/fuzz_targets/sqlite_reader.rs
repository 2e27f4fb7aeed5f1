//! The whole pipeline on an SQLite dump under the `capa-to-sap` preset,
//! and the `.dump` value evaluator `dumpsed::internals::sqlite::eval_text` on the
//! tokens of arbitrary text.
//!
//! Input: one control byte (chunk size, see `common::chunk_size`), then
//! SQL appended to the opening of an sqlite3 `.dump`.
#![no_main]

mod common;

use dumpsed::internals::lexer::{Dialect, Token, TokenKind, Tokens};
use dumpsed::internals::sqlite;
use dumpsed::Rules;
use libfuzzer_sys::fuzz_target;

/// `eval_text` on the significant tokens of `text`, whole and split at
/// top-level commas as the INSERT reader splits a row into values.
fn eval(text: &[u8]) {
    let mut toks: Vec<Token> = Vec::new();
    for t in Tokens::new(Dialect::Sqlite, text) {
        let Ok(t) = t else { break };
        if !matches!(t.kind, TokenKind::Space | TokenKind::Comment) {
            toks.push(t);
        }
    }
    let _ = sqlite::eval_text(text, &toks);
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.kind != TokenKind::Punct {
            continue;
        }
        match text[t.start] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b',' if depth == 0 => {
                let _ = sqlite::eval_text(text, &toks[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    let _ = sqlite::eval_text(text, &toks[start..]);
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, body)) = data.split_first() else { return };
    eval(body);
    let mut dump = common::SQLITE_HEADER.to_vec();
    dump.extend_from_slice(body);
    common::check(&dump, &Rules::preset("capa-to-sap").unwrap(), common::chunk_size(ctl));
});
