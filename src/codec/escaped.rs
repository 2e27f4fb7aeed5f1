//! Offsets of a decoded value in its escaped field, for a field written
//! with escapes of one value byte each (COPY text's `\n`, a literal's `''`,
//! the sqlite3 shell's `\n` newline marker): a span of the value is then a
//! span of the field, and the field's own bytes around a rewritten span are
//! the ones its encoder writes for the new value (rewrite.rs writes a huge
//! value in place so, issue 28 item 11).

/// Offsets in a decoded value mapped to offsets in its raw field, asked in
/// increasing order. `next` gives, for the rest of the field, where its
/// next escape starts and how many bytes it has (each is one byte of the
/// value); `None` when no escape is left.
pub struct RawOffsets<'a, F> {
    raw: &'a [u8],
    next: F,
    /// A point where both agree: field offset `raw_at` is value offset
    /// `value_at`.
    raw_at: usize,
    value_at: usize,
}

impl<'a, F: FnMut(&[u8]) -> Option<(usize, usize)>> RawOffsets<'a, F> {
    /// The map of the field `raw`, whose escapes `next` finds.
    pub fn new(raw: &'a [u8], next: F) -> RawOffsets<'a, F> {
        RawOffsets { raw, next, raw_at: 0, value_at: 0 }
    }

    /// Where the bytes of value offset `at` start in the field (the
    /// field's length for the value's end); `at` at least the last one asked.
    pub fn raw_offset(&mut self, at: usize) -> usize {
        loop {
            let rest = &self.raw[self.raw_at.min(self.raw.len())..];
            let (run, len) = (self.next)(rest).unwrap_or((rest.len(), 0));
            // Within the run of unescaped bytes, or at the escape after it.
            if at <= self.value_at + run || run == rest.len() {
                return self.raw_at + at.saturating_sub(self.value_at);
            }
            self.raw_at += run + len;
            self.value_at += run + 1;
        }
    }
}

/// The next `''` of a quoted literal's body (each quote in it is doubled).
pub fn next_quote(rest: &[u8]) -> Option<(usize, usize)> {
    memchr::memchr(b'\'', rest).map(|i| (i, 2))
}
