//! PostgreSQL specifics: string literals as pg_dump writes them, and the
//! `-- Name: …` header comments.


/// Decodes a string literal token (`'…'` or `E'…'`) to its value.
///
/// Rules from the PostgreSQL docs, "String Constants" and "String
/// Constants With C-Style Escapes" (sql-syntax-lexical.html): `''` is a
/// quote; in `E'…'` (and in plain strings when `standard_conforming_strings`
/// is off) `\b \f \n \r \t`, octal `\o{1,3}`, hex `\xh{1,2}`, `\uXXXX`,
/// `\UXXXXXXXX` and `\c` for any other `c`.
pub fn decode_literal(raw: &[u8], escapes: bool) -> Result<Vec<u8>, &'static str> {
    let (escapes, raw) = match raw.first() {
        Some(b'E' | b'e') => (true, &raw[1..]),
        _ => (escapes, raw),
    };
    if raw.len() < 2 || raw[0] != b'\'' || raw[raw.len() - 1] != b'\'' {
        return Err("not a string literal");
    }
    let body = &raw[1..raw.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        i += 1;
        if b == b'\'' {
            // The lexer only ends a literal on a quote that is not doubled.
            i += 1;
            out.push(b'\'');
        } else if b == b'\\' && escapes {
            let Some(&c) = body.get(i) else {
                return Err("backslash at end of string literal");
            };
            i += 1;
            match c {
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'0'..=b'7' => {
                    let (v, used) = crate::codec::copy_text::octal_escape(c, &body[i..]);
                    out.push(v);
                    i += used;
                }
                b'x' => match crate::codec::copy_text::hex_escape(&body[i..]) {
                    Some((v, used)) => {
                        out.push(v);
                        i += used;
                    }
                    None => out.push(b'x'),
                },
                b'u' | b'U' => {
                    let n = if c == b'u' { 4 } else { 8 };
                    let digits = body
                        .get(i..i + n)
                        .filter(|d| d.iter().all(u8::is_ascii_hexdigit));
                    let ch = digits.and_then(|d| char::from_u32(hex_value(d)));
                    let Some(ch) = ch else {
                        return Err("invalid Unicode escape in string literal");
                    };
                    let mut tmp = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                    i += n;
                }
                other => out.push(other),
            }
        } else {
            out.push(b);
        }
    }
    Ok(out)
}

fn hex_value(d: &[u8]) -> u32 {
    d.iter()
        .fold(0, |v, &h| v * 16 + (h as char).to_digit(16).unwrap_or(0))
}

/// Appends `value` as a string literal in the style of `original`: `E'…'`
/// stays an escape string; a plain literal doubles quotes (and backslashes
/// when `escapes`, as `appendStringLiteral` in `src/fe_utils/string_utils.c`).
pub fn encode_literal(value: &[u8], original: &[u8], escapes: bool, out: &mut Vec<u8>) {
    let e = matches!(original.first(), Some(b'E' | b'e'));
    if e {
        out.push(b'E');
    }
    out.push(b'\'');
    for &b in value {
        if b == b'\'' || (b == b'\\' && (e || escapes)) {
            out.push(b);
        }
        out.push(b);
    }
    out.push(b'\'');
}

/// Where the body of literal `raw` starts, when `raw` is exactly what
/// [`encode_literal`] writes for its value in its own style: every quote of
/// the body doubled and, where backslashes are doubled (`E'…'`, or
/// `escapes`), every backslash too (`\\n` or `\\'` are other writers').
/// Each escape is then two bytes for one of the value, found by
/// [`escape_finder`], and the body's own bytes around a rewritten span are
/// `encode_literal`'s.
pub fn canonical_body(raw: &[u8], escapes: bool) -> Option<usize> {
    let e = matches!(raw.first(), Some(b'E' | b'e'));
    let open = 1 + usize::from(e);
    if raw.len() < open + 1 || raw[open - 1] != b'\'' || raw[raw.len() - 1] != b'\'' {
        return None;
    }
    let next = escape_finder(raw, escapes);
    let body = &raw[open..raw.len() - 1];
    let mut at = 0;
    while let Some((i, _)) = next(&body[at..]) {
        let c = body[at + i];
        if body.get(at + i + 1) != Some(&c) {
            return None;
        }
        at += i + 2;
    }
    Some(open)
}

/// The escapes of literal `raw`'s body, for [`crate::codec::escaped::RawOffsets`]:
/// `''`, and `\\\\` where backslashes are doubled.
pub fn escape_finder(raw: &[u8], escapes: bool) -> fn(&[u8]) -> Option<(usize, usize)> {
    match escapes || matches!(raw.first(), Some(b'E' | b'e')) {
        true => |rest| memchr::memchr2(b'\'', b'\\', rest).map(|i| (i, 2)),
        false => crate::codec::escaped::next_quote,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_round_trip() {
        assert_eq!(decode_literal(b"'it''s'", false).unwrap(), b"it's");
        assert_eq!(decode_literal(b"'a\\nb'", false).unwrap(), b"a\\nb");
        assert_eq!(
            decode_literal(b"E'a\\nb\\\\\\'\\x41\\101\\u00e9'", false).unwrap(),
            "a\nb\\'AAé".as_bytes()
        );
        assert_eq!(decode_literal(b"'a\\'b'", true).unwrap(), b"a'b");
        let mut o = Vec::new();
        encode_literal(b"x'\\y", b"'q'", false, &mut o);
        assert_eq!(o, b"'x''\\y'");
        o.clear();
        encode_literal(b"x'\\y", b"E'q'", false, &mut o);
        assert_eq!(o, b"E'x''\\\\y'");
        assert_eq!(decode_literal(&o, false).unwrap(), b"x'\\y");
    }

    proptest::proptest! {
        /// A literal `encode_literal` writes is canonical, its escapes map
        /// each value byte to its bytes; one with another escape is not.
        #[test]
        fn canonical_body_follows_encode_literal(
            value in proptest::collection::vec(proptest::prelude::prop_oneof![
                proptest::strategy::Just(b'\''), proptest::strategy::Just(b'\\'),
                proptest::strategy::Just(b'a'), proptest::strategy::Just(b'n')
            ], 0..60),
            style in 0usize..3,
        ) {
            let (original, escapes): (&[u8], bool) = [(&b"'q'"[..], false), (&b"'q'"[..], true), (&b"E'q'"[..], false)][style];
            let mut raw = Vec::new();
            encode_literal(&value, original, escapes, &mut raw);
            let open = canonical_body(&raw, escapes);
            proptest::prop_assert_eq!(open, Some(1 + usize::from(style == 2)));
            let open = open.unwrap_or(0);
            let body = &raw[open..raw.len() - 1];
            let mut map = crate::codec::escaped::RawOffsets::new(body, escape_finder(&raw, escapes));
            let mut want = 0;
            for (k, &b) in value.iter().enumerate() {
                proptest::prop_assert_eq!(map.raw_offset(k), want);
                let mut one = Vec::new();
                encode_literal(&[b], original, escapes, &mut one);
                want += one.len() - open - 1;
            }
            proptest::prop_assert_eq!(map.raw_offset(value.len()), body.len());
            if style != 0 {
                let mut other = raw[..raw.len() - 1].to_vec();
                other.extend_from_slice(b"\\n'");
                proptest::prop_assert_eq!(canonical_body(&other, escapes), None);
            }
        }
    }

}
