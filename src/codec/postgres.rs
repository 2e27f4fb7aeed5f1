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

}
