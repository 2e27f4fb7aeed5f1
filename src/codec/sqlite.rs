//! SQLite specifics: text values as the sqlite3 shell's `.dump` writes
//! them (`output_quoted_escaped_string` in `src/shell.c.in`):
//! * `'…'` with `''` for a quote;
//! * up to 3.49, text holding newlines or CRs as
//!   `replace(replace('a\rb\nc','\r',char(13)),'\n',char(10))`, the
//!   markers being `\n`/`\r`, else `\012`/`\015`, else `(\n1)`… when the
//!   text already contains them (`unused_string`);
//! * from 3.50, `unistr('…\u000a…')` with backslashes doubled.

use crate::frame::lexer::{Token, TokenKind};

/// Evaluates a value expression of a `.dump` INSERT to its text, or
/// `None` when it is not text (NULL, a number, a blob).
///
/// Understands string literals, `replace(x, y, z)`, `char(n, …)` and
/// `unistr(x)`; any other expression is an error, so that a value dumpsed
/// must rewrite is never skipped because it was not understood.
pub fn eval_text(src: &[u8], toks: &[Token]) -> Result<Option<Vec<u8>>, &'static str> {
    let first = toks.first().ok_or("empty value")?;
    let is_paren = |t: &Token| t.kind == TokenKind::Punct && src[t.start] == b'(';
    if !toks.iter().any(|t| t.kind == TokenKind::Str || is_paren(t)) {
        return Ok(None); // NULL or a number
    }
    let w = &src[first.start..first.end];
    if first.kind == TokenKind::Word && (w == b"X" || w == b"x") && toks.len() == 2 {
        return Ok(None); // blob
    }
    let mut p = Parser { src, toks, i: 0 };
    let v = p.expr()?;
    if p.i != toks.len() {
        return Err("unexpected tokens after value");
    }
    Ok(Some(v))
}

struct Parser<'a> {
    src: &'a [u8],
    toks: &'a [Token],
    i: usize,
}

impl Parser<'_> {
    fn next(&mut self) -> Result<Token, &'static str> {
        let t = *self.toks.get(self.i).ok_or("value ends early")?;
        self.i += 1;
        Ok(t)
    }

    fn punct(&mut self, c: u8) -> Result<(), &'static str> {
        let t = self.next()?;
        if t.kind == TokenKind::Punct && self.src[t.start] == c {
            Ok(())
        } else {
            Err("unexpected token in value")
        }
    }

    fn expr(&mut self) -> Result<Vec<u8>, &'static str> {
        let t = self.next()?;
        let text = &self.src[t.start..t.end];
        match t.kind {
            TokenKind::Str => Ok(unquote(text)),
            TokenKind::Word if text.eq_ignore_ascii_case(b"replace") => {
                self.punct(b'(')?;
                let hay = self.expr()?;
                self.punct(b',')?;
                let from = self.expr()?;
                self.punct(b',')?;
                let to = self.expr()?;
                self.punct(b')')?;
                Ok(replace_all(&hay, &from, &to))
            }
            TokenKind::Word if text.eq_ignore_ascii_case(b"char") => {
                self.punct(b'(')?;
                let mut out = Vec::new();
                loop {
                    let n = self.next()?;
                    let digits = &self.src[n.start..n.end];
                    let code = std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| d.parse::<u32>().ok())
                        .and_then(char::from_u32)
                        .ok_or("char() argument is not a code point")?;
                    let mut tmp = [0u8; 4];
                    out.extend_from_slice(code.encode_utf8(&mut tmp).as_bytes());
                    let sep = self.next()?;
                    match self.src[sep.start] {
                        b',' => continue,
                        b')' => return Ok(out),
                        _ => return Err("unexpected token in char()"),
                    }
                }
            }
            TokenKind::Word if text.eq_ignore_ascii_case(b"unistr") => {
                self.punct(b'(')?;
                let s = self.expr()?;
                self.punct(b')')?;
                unistr(&s)
            }
            _ => Err("value expression not understood (expected a string, replace(), char() or unistr())"),
        }
    }
}

/// The text of a `'…'` literal.
fn unquote(tok: &[u8]) -> Vec<u8> {
    let body = &tok[1..tok.len().saturating_sub(1).max(1)];
    let mut out = Vec::with_capacity(body.len());
    let mut skip = false;
    for &b in body {
        if b == b'\'' && !skip {
            skip = true;
            continue;
        }
        skip = false;
        out.push(b);
    }
    out
}

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return hay.to_vec();
    }
    let mut out = Vec::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(i) = memchr::memmem::find(rest, from) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(to);
        rest = &rest[i + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// SQLite's `unistr()` (lang_corefunc.html#unistr): `\\`, `\XXXX`,
/// `\uXXXX`, `\+XXXXXX`, `\UXXXXXXXX`.
fn unistr(s: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' {
            out.push(s[i]);
            i += 1;
            continue;
        }
        let (skip, n) = match s.get(i + 1) {
            Some(b'\\') => {
                out.push(b'\\');
                i += 2;
                continue;
            }
            Some(b'u') => (2, 4),
            Some(b'+') => (2, 6),
            Some(b'U') => (2, 8),
            _ => (1, 4),
        };
        let hex = s
            .get(i + skip..i + skip + n)
            .ok_or("truncated escape in unistr()")?;
        let code = std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .ok_or("invalid escape in unistr()")?;
        let mut tmp = [0u8; 4];
        out.extend_from_slice(code.encode_utf8(&mut tmp).as_bytes());
        i += skip + n;
    }
    Ok(out)
}

/// A marker absent from `text`, as `unused_string` picks one.
fn unused(text: &[u8], a: &str, b: &str) -> Vec<u8> {
    if memchr::memmem::find(text, a.as_bytes()).is_none() {
        return a.as_bytes().to_vec();
    }
    if memchr::memmem::find(text, b.as_bytes()).is_none() {
        return b.as_bytes().to_vec();
    }
    (0u32..)
        .map(|i| format!("({a}{i})").into_bytes())
        .find(|m| memchr::memmem::find(text, m).is_none())
        .unwrap_or_default()
}

/// Appends `text` as the 3.40 shell writes a text value.
pub fn encode_text(text: &[u8], out: &mut Vec<u8>) {
    let nl = memchr::memchr(b'\n', text).is_some();
    let cr = memchr::memchr(b'\r', text).is_some();
    let znl = if nl {
        unused(text, "\\n", "\\012")
    } else {
        Vec::new()
    };
    let zcr = if cr {
        unused(text, "\\r", "\\015")
    } else {
        Vec::new()
    };
    if nl {
        out.extend_from_slice(b"replace(");
    }
    if cr {
        out.extend_from_slice(b"replace(");
    }
    out.push(b'\'');
    for &b in text {
        match b {
            b'\'' => out.extend_from_slice(b"''"),
            b'\n' => out.extend_from_slice(&znl),
            b'\r' => out.extend_from_slice(&zcr),
            _ => out.push(b),
        }
    }
    out.push(b'\'');
    if cr {
        out.extend_from_slice(b",'");
        out.extend_from_slice(&zcr);
        out.extend_from_slice(b"',char(13))");
    }
    if nl {
        out.extend_from_slice(b",'");
        out.extend_from_slice(&znl);
        out.extend_from_slice(b"',char(10))");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::lexer::{Dialect, Tokens};
    use proptest::prelude::*;

    fn eval(s: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
        let toks: Vec<Token> = Tokens::new(Dialect::Sqlite, s)
            .map(|t| t.unwrap())
            .filter(|t| t.kind != TokenKind::Space)
            .collect();
        eval_text(s, &toks)
    }

    #[test]
    fn evaluates_dump_forms() {
        assert_eq!(eval(b"'it''s'").unwrap().unwrap(), b"it's");
        assert_eq!(eval(b"NULL").unwrap(), None);
        assert_eq!(eval(b"-3.5").unwrap(), None);
        assert_eq!(eval(b"X'00ff'").unwrap(), None);
        assert_eq!(
            eval(b"replace(replace('a\\rb\\nc','\\r',char(13)),'\\n',char(10))")
                .unwrap()
                .unwrap(),
            b"a\rb\nc"
        );
        assert_eq!(
            eval(b"unistr('a\\u000ab\\\\c')").unwrap().unwrap(),
            b"a\nb\\c"
        );
        assert!(eval(b"upper('x')").is_err());
    }

    proptest! {
        #[test]
        fn encode_then_eval_is_identity(v in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'\\'), Just(b'\''), Just(b'n'), Just(b'0'), Just(b'1'), Just(b'2'), Just(b'('), any::<u8>()], 0..40)) {
            let mut e = Vec::new();
            encode_text(&v, &mut e);
            prop_assert_eq!(eval(&e).unwrap().unwrap(), v);
        }
    }
}
