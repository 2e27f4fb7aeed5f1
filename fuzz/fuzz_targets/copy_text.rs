//! The COPY text codec.
//!
//! Input: arbitrary bytes, used three ways:
//! * as a raw row: `split_fields` gives in-bounds, ordered ranges separated
//!   by single tabs that cover the row (but for a CR ending it, a CRLF
//!   line end); `decode` of each field never
//!   panics, and re-encoding a decoded (non-NULL) value decodes to it again;
//! * as a value: `encode` then `split_fields` gives one field, which
//!   `decode`s to the value (never to NULL);
//! * as a buffer of rows: `next_row_end` / `last_row_end` return row
//!   ends (unescaped newlines) in bounds.
#![no_main]

use dumpsed::internals::copy_text::{decode, encode, is_row_end, last_row_end, next_row_end, split_fields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A raw row.
    let mut fields = Vec::new();
    let mut value = Vec::new();
    let mut enc = Vec::new();
    let mut back = Vec::new();
    let row = match memchr_nl(data) {
        Some(i) => &data[..i],
        None => data,
    };
    split_fields(row, &mut fields);
    assert!(!fields.is_empty());
    let mut at = 0;
    for (k, &(s, e)) in fields.iter().enumerate() {
        assert!(s == at && s <= e && e <= row.len(), "field {k} {s}..{e} after {at}: {fields:?}");
        if k + 1 < fields.len() {
            assert_eq!(row.get(e), Some(&b'\t'), "field {k} not ended by a tab: {fields:?}");
        }
        at = e + 1;
        // `decode` gives `None` for NULL, else the value (borrowed from
        // the field when it holds no escape, else built in the buffer).
        if let Ok(Some(v)) = decode(&row[s..e], &mut value) {
            let v = v.to_vec();
            enc.clear();
            encode(&v, &mut enc);
            let again = decode(&enc, &mut back);
            assert_eq!(again, Ok(Some(&v[..])), "re-encoding {:?} gave {:?}", &row[s..e], enc);
        }
    }
    // A CR ending the row is a CRLF line end, not data (COPY writes a CR
    // in data as `\r`, copyto.c): the last field stops before it.
    let last_start = fields.last().map_or(0, |f| f.0);
    let end = match row.last() {
        Some(b'\r') if last_start < row.len() => row.len() - 1,
        _ => row.len(),
    };
    assert_eq!(at, end + 1, "fields do not cover the row: {fields:?}");

    // A value.
    enc.clear();
    encode(data, &mut enc);
    assert!(!enc.contains(&b'\t') && !enc.contains(&b'\n'), "encoded value holds a tab or newline: {enc:?}");
    split_fields(&enc, &mut fields);
    assert_eq!(fields, vec![(0, enc.len())], "encoded value split into fields");
    assert_eq!(decode(&enc, &mut back), Ok(Some(data)), "encode/decode round trip (not NULL, no error): {enc:?}");

    // A buffer of rows.
    if let Some(end) = last_row_end(data) {
        assert!(end >= 1 && end <= data.len() && data[end - 1] == b'\n' && is_row_end(data, end - 1));
    }
    let mut from = 0;
    while let Some(nl) = next_row_end(data, from) {
        assert!(nl >= from && data[nl] == b'\n' && is_row_end(data, nl));
        from = nl + 1;
    }
});

fn memchr_nl(d: &[u8]) -> Option<usize> {
    d.iter().position(|&b| b == b'\n')
}
