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

/// A marker absent from a text, as `unused_string` picks one; `contains`
/// tells whether the text holds a string.
fn unused(contains: impl Fn(&[u8]) -> bool, a: &str, b: &str) -> Vec<u8> {
    if !contains(a.as_bytes()) {
        return a.as_bytes().to_vec();
    }
    if !contains(b.as_bytes()) {
        return b.as_bytes().to_vec();
    }
    (0u32..)
        .map(|i| format!("({a}{i})").into_bytes())
        .find(|m| !contains(m))
        .unwrap_or_default()
}

/// How the 3.40 shell writes a text value: through `replace(…)` with the
/// newline marker and the CR marker when it holds newlines or CRs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShellForm {
    /// The newline marker (`\n`, `\012`, `(\n1)`…), if any newline.
    pub nl: Option<Vec<u8>>,
    /// The CR marker, if any CR.
    pub cr: Option<Vec<u8>>,
}

impl ShellForm {
    /// The form of a text; `contains` tells whether it holds a string.
    pub fn of(contains: impl Fn(&[u8]) -> bool) -> ShellForm {
        ShellForm {
            nl: contains(b"\n").then(|| unused(&contains, "\\n", "\\012")),
            cr: contains(b"\r").then(|| unused(&contains, "\\r", "\\015")),
        }
    }

    /// Writes `text` in this form to `out`, in runs.
    pub fn write(&self, text: &[u8], out: &mut impl FnMut(&[u8])) {
        if self.nl.is_some() {
            out(b"replace(");
        }
        if self.cr.is_some() {
            out(b"replace(");
        }
        out(b"'");
        let mut rest = text;
        while let Some(i) = memchr::memchr3(b'\'', b'\n', b'\r', rest) {
            out(&rest[..i]);
            match rest[i] {
                b'\'' => out(b"''"),
                b'\n' => out(self.nl.as_deref().unwrap_or(b"\n")),
                _ => out(self.cr.as_deref().unwrap_or(b"\r")),
            }
            rest = &rest[i + 1..];
        }
        out(rest);
        out(b"'");
        if let Some(cr) = &self.cr {
            out(b",'");
            out(cr);
            out(b"',char(13))");
        }
        if let Some(nl) = &self.nl {
            out(b",'");
            out(nl);
            out(b"',char(10))");
        }
    }

    /// The form of the `replace(…)` value `toks` (the tokens of `src`) and
    /// the index of its text's literal among them; `None` for any other
    /// expression.
    pub fn parse(src: &[u8], toks: &[Token]) -> Option<(ShellForm, usize)> {
        let text = |t: &Token| &src[t.start..t.end];
        // `None`: a `'…'` literal; else the token's text.
        let matches = |pattern: &[Option<&str>]| {
            toks.len() == pattern.len()
                && toks.iter().zip(pattern).all(|(t, p)| match p {
                    None => t.kind == TokenKind::Str && text(t).len() >= 2 && text(t)[0] == b'\''
                        && text(t)[text(t).len() - 1] == b'\'',
                    Some(w) => text(t).eq_ignore_ascii_case(w.as_bytes()),
                })
        };
        let marker = |i: usize| {
            let t = text(&toks[i]);
            let m = &t[1..t.len() - 1];
            (memchr::memchr(b'\'', m).is_none() && !m.is_empty()).then(|| m.to_vec())
        };
        let one = |code: &'static str| {
            [Some("replace"), Some("("), None, Some(","), None, Some(","), Some("char"), Some("("), Some(code), Some(")"), Some(")")]
        };
        if matches(&one("10")) {
            return Some((ShellForm { nl: Some(marker(4)?), cr: None }, 2));
        }
        if matches(&one("13")) {
            return Some((ShellForm { nl: None, cr: Some(marker(4)?) }, 2));
        }
        let both = [
            Some("replace"), Some("("), Some("replace"), Some("("), None, Some(","), None, Some(","), Some("char"), Some("("),
            Some("13"), Some(")"), Some(")"), Some(","), None, Some(","), Some("char"), Some("("), Some("10"), Some(")"), Some(")"),
        ];
        if matches(&both) {
            return Some((ShellForm { nl: Some(marker(14)?), cr: Some(marker(6)?) }, 4));
        }
        None
    }

    /// The text of `hay`, the body of this form's literal, in one pass:
    /// `''` a quote, a marker its byte. Only right when the value written
    /// back in this form is the expression read ([`ShellForm::writes`]);
    /// `eval_text` reads any other.
    pub fn decode(&self, hay: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(hay.len());
        let mut next = self.escapes(hay);
        let mut at = 0;
        while let Some((i, len)) = next(&hay[at..]) {
            out.extend_from_slice(&hay[at..at + i]);
            out.push(match &hay[at + i] {
                b'\'' => b'\'',
                _ if self.nl.as_deref().is_some_and(|m| hay[at + i..].starts_with(m)) => b'\n',
                _ => b'\r',
            });
            at += i + len;
        }
        out.extend_from_slice(&hay[at..]);
        out
    }

    /// The escapes of a literal's body `hay` in this form, for
    /// [`crate::codec::escaped::RawOffsets`]: `''` and the markers. Each
    /// string's next place is kept until passed, so a marker that does not
    /// occur is searched for once.
    pub fn escapes<'a>(&'a self, hay: &'a [u8]) -> impl FnMut(&[u8]) -> Option<(usize, usize)> + 'a {
        let mut cached: [Option<Option<usize>>; 3] = [None; 3];
        move |rest: &[u8]| {
            let base = hay.len() - rest.len();
            let strings: [Option<&[u8]>; 3] = [Some(b"''"), self.nl.as_deref(), self.cr.as_deref()];
            let mut best: Option<(usize, usize)> = None;
            for (k, s) in strings.iter().enumerate() {
                let Some(s) = s else { continue };
                let found = match cached[k] {
                    Some(Some(p)) if p >= base => Some(p),
                    Some(None) => None,
                    _ => memchr::memmem::find(&hay[base..], s).map(|p| base + p),
                };
                cached[k] = Some(found);
                if let Some(p) = found {
                    if best.is_none_or(|(b, _)| p < b) {
                        best = Some((p, s.len()));
                    }
                }
            }
            best.map(|(p, len)| (p - base, len))
        }
    }

    /// True when writing `text` in this form gives `expr`, compared in
    /// runs, without a copy.
    pub fn writes(&self, text: &[u8], expr: &[u8]) -> bool {
        let (mut pos, mut same) = (0usize, true);
        self.write(text, &mut |p: &[u8]| {
            if same {
                same = expr.get(pos..pos + p.len()) == Some(p);
                pos += p.len();
            }
        });
        same && pos == expr.len()
    }
}

/// Appends `text` as the 3.40 shell writes a text value.
pub fn encode_text(text: &[u8], out: &mut Vec<u8>) {
    let form = ShellForm::of(|s| memchr::memmem::find(text, s).is_some());
    form.write(text, &mut |p: &[u8]| out.extend_from_slice(p));
}

/// True when the `'…'` token `raw` is exactly what [`encode_text`] writes
/// for its value: every quote doubled, and no newline or CR, which it
/// would write through `replace(…)`. Each `''` is then one byte of the
/// value ([`crate::codec::escaped::next_quote`]).
pub fn canonical_literal(raw: &[u8]) -> bool {
    let [b'\'', body @ .., b'\''] = raw else { return false };
    if memchr::memchr2(b'\n', b'\r', body).is_some() {
        return false;
    }
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'\'', &body[at..]) {
        if body.get(at + i + 1) != Some(&b'\'') {
            return false;
        }
        at += i + 2;
    }
    true
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
            prop_assert_eq!(&eval(&e).unwrap().unwrap(), &v);
            // One literal, without newlines: canonical.
            let single = !v.contains(&b'\n') && !v.contains(&b'\r');
            prop_assert_eq!(canonical_literal(&e), single);
            // Its form read back and decoded in one pass.
            let toks: Vec<Token> = Tokens::new(Dialect::Sqlite, &e)
                .map(|t| t.unwrap())
                .filter(|t| t.kind != TokenKind::Space)
                .collect();
            if let Some((form, hay)) = ShellForm::parse(&e, &toks) {
                prop_assert!(!single);
                let body = &e[toks[hay].start + 1..toks[hay].end - 1];
                prop_assert_eq!(&form.decode(body), &v);
                prop_assert!(form.writes(&v, &e));
            } else {
                prop_assert!(single);
            }
        }
    }
}
