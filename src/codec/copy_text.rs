//! The COPY text format codec (`COPY … FROM stdin` data rows).
//!
//! Follows PostgreSQL's own reader and writer:
//! * `src/backend/commands/copyfromparse.c` (`CopyReadLineText`,
//!   `CopyReadAttributesText`): fields are split on the delimiter (tab); a
//!   backslash escapes the byte after it, so `\<tab>` and `\<newline>` are
//!   data; `\N` on the raw field is NULL; escapes `\b \f \n \r \t \v`, octal
//!   `\d{1,3}`, hex `\xH{1,2}`, and a backslash before any other byte yields
//!   that byte; a line that is exactly `\.` ends the data.
//! * `src/backend/commands/copyto.c` (`CopyAttributeOutText`): the writer
//!   escapes backslash, the delimiter, and `\b \f \n \r \t \v` as letters,
//!   and copies every other byte as is.
//!
//! Only the targeted field of a row is ever decoded; every other byte of the
//! row is passed through untouched.

use memchr::memchr;

#[cfg(test)]
use crate::codec::escaped::RawOffsets;

/// The NULL marker of the text format.
pub const NULL: &[u8] = b"\\N";

/// Returns the byte ranges of the fields of one row (without its line end),
/// reusing `out`. Splits on tabs that are not escaped by a backslash.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
pub fn split_fields(row: &[u8], out: &mut Vec<(usize, usize)>) {
    if RowSplitter::new(row, 0, row.len()).next_row(out).is_none() {
        // An empty row is one empty field.
        out.clear();
        out.push((0, 0));
    }
}

/// Splits the COPY text rows of `data[start..end]` into fields, in one pass:
/// per 64 bytes, bitmasks of the tabs, backslashes and newlines
/// (`byte_mask`). The bytes a backslash escapes are found for the whole
/// block at once, with carries through each run of backslashes
/// ([`escaped`]), so only real separators are visited, bit by bit; after
/// the last field a caller needs ([`RowSplitter::next_row_keeping`]) the
/// rest of the row's tabs are counted with a popcount, not visited. Rows
/// are short and their fields shorter, so this beats a memchr per field,
/// which starts a new search each time. A CR just before the line end is a
/// CRLF line end, not part of the last field: COPY writes a CR in data as
/// `\r` (copyto.c), so a raw one can only end the line.
///
/// Invariants: `seps` holds the not yet visited unescaped tabs and
/// newlines of `data[base..base + 64]` and `nls` the newlines among them;
/// every separator before them has been visited or counted; `carry` is 1
/// when the bytes before `base` end in an odd run of backslashes (the byte
/// at `base` is then data, whatever it is, also across rows).
pub struct RowSplitter<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    seps: u64,
    nls: u64,
    carry: u64,
    fields: usize,
}

impl<'a> RowSplitter<'a> {
    /// A splitter of the rows of `data[start..end]`.
    pub fn new(data: &'a [u8], start: usize, end: usize) -> RowSplitter<'a> {
        let data = &data[..end];
        let mut r = RowSplitter {
            data,
            pos: start,
            base: start,
            seps: 0,
            nls: 0,
            carry: 0,
            fields: 0,
        };
        r.load();
        r
    }

    /// The masks of the block at `base`.
    #[inline]
    fn load(&mut self) {
        let rest = self.data.get(self.base..).unwrap_or_default();
        let [tabs, backslashes, newlines] = COPY_SPECIAL.masks_at(rest, [1, 2, 4]);
        let esc = escaped(backslashes, &mut self.carry);
        self.seps = (tabs | newlines) & !esc;
        self.nls = newlines & !esc;
    }

    /// The next row as `(start, row end)`, the row end being its newline
    /// (or `end` for a last row without one); its fields go to `out`
    /// (cleared first), relative to its start.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn next_row(&mut self, out: &mut Vec<(usize, usize)>) -> Option<(usize, usize)> {
        self.next_row_keeping(out, usize::MAX)
    }

    /// The fields of the row last returned, kept or only counted.
    pub fn fields(&self) -> usize {
        self.fields
    }

    /// [`RowSplitter::next_row`], with only the first `keep` fields in
    /// `out`: the others are only counted ([`RowSplitter::fields`]).
    pub fn next_row_keeping(&mut self, out: &mut Vec<(usize, usize)>, keep: usize) -> Option<(usize, usize)> {
        let row_start = self.pos;
        if row_start >= self.data.len() {
            return None;
        }
        out.clear();
        let mut field = row_start;
        let mut counted = 0usize;
        loop {
            while self.seps == 0 {
                self.base += 64;
                if self.base >= self.data.len() {
                    let end = self.data.len();
                    self.end_row(out, keep, counted, row_start, field, end);
                    self.pos = end;
                    return Some((row_start, end));
                }
                self.load();
            }
            if out.len() >= keep {
                // Past the kept fields: the tabs before the next newline,
                // counted at once.
                let tabs = match self.nls {
                    0 => self.seps,
                    nls => self.seps & ((nls & nls.wrapping_neg()) - 1),
                };
                counted += tabs.count_ones() as usize;
                self.seps &= !tabs;
                if self.seps == 0 {
                    continue;
                }
            }
            let bit = self.seps & self.seps.wrapping_neg();
            let at = self.base + bit.trailing_zeros() as usize;
            self.seps ^= bit;
            if self.nls & bit == 0 {
                if out.len() < keep {
                    out.push((field - row_start, at - row_start));
                } else {
                    counted += 1;
                }
                field = at + 1;
            } else {
                self.nls ^= bit;
                self.end_row(out, keep, counted, row_start, field, at);
                self.pos = at + 1;
                return Some((row_start, at));
            }
        }
    }

    /// The row's last field (kept or counted) and its field count.
    fn end_row(&mut self, out: &mut Vec<(usize, usize)>, keep: usize, counted: usize, row_start: usize, field: usize, row_end: usize) {
        if out.len() < keep {
            push_last_field(out, self.data, row_start, field, row_end);
            self.fields = out.len();
        } else {
            self.fields = out.len() + counted + 1;
        }
    }
}

/// The first row of COPY text in `data[start..end]` whose field count is
/// not `ncols`, as `(row start, its field count)`; `None` when every row
/// has `ncols` fields. Rows and fields are the ones [`RowSplitter`] finds
/// (unescaped newlines and tabs), but a row costs only a popcount: this is
/// the check of tables no rule edits, whose rows are otherwise copied
/// without being split. A row with a tab lost or added, two rows joined or
/// a lost `\.` line would make the restore fail ("missing data for column",
/// "extra data after last expected column": copyfromparse.c).
pub fn first_misframed_row(data: &[u8], start: usize, end: usize, ncols: usize) -> Option<(usize, usize)> {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU has AVX2 and POPCNT, checked just above.
        return unsafe { first_misframed_row_avx2(data, start, end, ncols) };
    }
    first_misframed_row_in(data, start, end, ncols, |rest| COPY_SPECIAL.masks_at(rest, [1, 2, 4]))
}

/// [`first_misframed_row`] compiled for AVX2 and POPCNT: a whole block's
/// three masks are six byte compares (no table lookups, inlined into the
/// loop), and a row's tab count is one instruction (without POPCNT,
/// `count_ones` is a dozen: the default x86-64 target has none).
///
/// # Safety
/// The CPU must have AVX2 and POPCNT.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn first_misframed_row_avx2(data: &[u8], start: usize, end: usize, ncols: usize) -> Option<(usize, usize)> {
    first_misframed_row_in(data, start, end, ncols, |rest| match rest.first_chunk::<64>() {
        // SAFETY: this closure runs inside a function compiled for AVX2,
        // which is only called when the CPU has it.
        Some(block) => unsafe { copy_special_avx2(block) },
        None => COPY_SPECIAL.masks_at(rest, [1, 2, 4]),
    })
}

/// The masks of tabs, backslashes and newlines in `block`, by compares.
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
#[allow(unused_unsafe)] // most intrinsics are safe functions from Rust 1.87 on
unsafe fn copy_special_avx2(block: &[u8; 64]) -> [u64; 3] {
    use std::arch::x86_64::{__m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8};
    // SAFETY: the unaligned loads read the 64 bytes of `block`; AVX2 is
    // the caller's promise.
    unsafe {
        let lo = _mm256_loadu_si256(block.as_ptr().cast::<__m256i>());
        let hi = _mm256_loadu_si256(block.as_ptr().add(32).cast::<__m256i>());
        let mask = |b: u8| {
            let c = _mm256_set1_epi8(b as i8);
            let l = _mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, c)) as u32;
            let h = _mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, c)) as u32;
            u64::from(l) | u64::from(h) << 32
        };
        [mask(b'\t'), mask(b'\\'), mask(b'\n')]
    }
}

#[inline(always)]
fn first_misframed_row_in(
    data: &[u8],
    start: usize,
    end: usize,
    ncols: usize,
    masks: impl Fn(&[u8]) -> [u64; 3],
) -> Option<(usize, usize)> {
    let data = &data[..end];
    let seps_per_row = ncols.saturating_sub(1);
    let (mut carry, mut base, mut row_start, mut tabs_in_row) = (0, start, start, 0usize);
    while base < end {
        let [tabs, backslashes, newlines] = masks(&data[base..]);
        let esc = escaped(backslashes, &mut carry);
        let mut tabs = tabs & !esc;
        let mut nls = newlines & !esc;
        while nls != 0 {
            let bit = nls & nls.wrapping_neg();
            let before = tabs & (bit - 1);
            tabs_in_row += before.count_ones() as usize;
            if tabs_in_row != seps_per_row {
                return Some((row_start, tabs_in_row + 1));
            }
            tabs &= !before;
            nls ^= bit;
            row_start = base + bit.trailing_zeros() as usize + 1;
            tabs_in_row = 0;
        }
        tabs_in_row += tabs.count_ones() as usize;
        base += 64;
    }
    (row_start < end && tabs_in_row != seps_per_row).then_some((row_start, tabs_in_row + 1))
}

/// Decompressed bytes gathered before a batch of whole rows is checked
/// (an uncompressed custom archive holds one row per chunk).
const STREAM_BATCH: usize = 64 << 10;

/// The rows of one table's COPY data read as a stream in pieces cut
/// anywhere (a pg_dump archive's data block, member or file, as it is
/// decompressed), each row's field count checked as [`first_misframed_row`]
/// does. The data ends with the `\.` line and blank lines (pg_dump writes
/// `\.` and two newlines, `dumpTableData_copy`); nothing else may follow.
pub struct RowStream {
    table: Vec<u8>,
    ncols: usize,
    /// Bytes of a row not yet ended, and whole rows gathered for a batch.
    buf: Vec<u8>,
    /// Offset in the stream of `buf[0]`.
    at: u64,
    /// The `\.` line was seen.
    ended: bool,
    /// Bytes gathered before a batch is checked (small in tests).
    batch: usize,
}

/// A misframed row, or bytes after the `\.` line, at `at` in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    pub at: u64,
    pub msg: String,
}

impl RowStream {
    /// Rows of `table` with `ncols` fields each (not 0).
    pub fn new(table: &[u8], ncols: usize) -> RowStream {
        RowStream { table: table.to_vec(), ncols, buf: Vec::new(), at: 0, ended: false, batch: STREAM_BATCH }
    }

    /// The next piece of the stream.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), StreamError> {
        self.buf.extend_from_slice(data);
        if self.buf.len() < self.batch {
            return Ok(());
        }
        // `buf` starts at a row start: a backslash run before a newline
        // lies within its row.
        let Some(end) = last_row_end(&self.buf) else { return Ok(()) };
        let buf = std::mem::take(&mut self.buf);
        let r = self.check(&buf[..end]);
        self.buf = buf;
        r?;
        self.buf.drain(..end);
        self.at += end as u64;
        Ok(())
    }

    /// The end of the stream: the rest (a last row without its newline is
    /// still a row to COPY) is checked, and the `\.` line must have been
    /// seen: every pg_dump that writes the archive versions read here
    /// (up to 1.16, pg_dump 18) ends the data with it, so data without it
    /// was cut at a row's end, with rows lost.
    pub fn finish(mut self) -> Result<(), StreamError> {
        let buf = std::mem::take(&mut self.buf);
        self.check(&buf)?;
        if self.ended {
            return Ok(());
        }
        Err(StreamError {
            at: self.at + buf.len() as u64,
            msg: "the COPY data ends without its end-of-copy marker \\. line (truncated?)".to_string(),
        })
    }

    /// Checks `rows`, whole rows from a row start (the last may lack its
    /// newline at the stream's end), at `self.at`.
    fn check(&mut self, rows: &[u8]) -> Result<(), StreamError> {
        let base = self.at;
        let err = |at: usize, msg: String| StreamError { at: base + at as u64, msg };
        let after_marker = |from: usize| match rows[from..].iter().position(|&b| b != b'\n' && b != b'\r') {
            None => Ok(()),
            Some(p) => Err(err(from + p, "data after the end-of-copy marker \\. line".to_string())),
        };
        if self.ended {
            return after_marker(0);
        }
        // psql ends COPY data at a line holding only `\.`
        // (copyfromparse.c, CopyReadLineText).
        let marker = if rows.starts_with(b"\\.") {
            Some(0)
        } else {
            memchr::memmem::find_iter(rows, b"\n\\.").find(|&nl| is_row_end(rows, nl)).map(|nl| nl + 1)
        };
        let rows_end = marker.unwrap_or(rows.len());
        if let Some((row, fields)) = first_misframed_row(rows, 0, rows_end, self.ncols) {
            return Err(err(
                row,
                format!(
                    "COPY row of table {} has {fields} fields, its header lists {} columns",
                    String::from_utf8_lossy(&self.table),
                    self.ncols
                ),
            ));
        }
        let Some(m) = marker else { return Ok(()) };
        let line_end = match &rows[m + 2..] {
            [b'\n', ..] => m + 3,
            [b'\r', b'\n', ..] => m + 4,
            [] | [b'\r'] => rows.len(),
            _ => return Err(err(m, "end-of-copy marker \\. followed by other data on its line".to_string())),
        };
        self.ended = true;
        after_marker(line_end)
    }
}

/// Tab, backslash and newline, the bytes COPY text rows are split on, each
/// in a bucket of its own: one pass of the classifier gives the three masks.
const COPY_SPECIAL: crate::frame::byte_mask::ByteClasses<3> = crate::frame::byte_mask::ByteClasses::new([b"\t", b"\\", b"\n"]);

/// The bytes of a block escaped by a backslash: each byte just after an odd
/// run of backslashes (the backslashes inside a run escape each other in
/// pairs, and are no separators anyway). `carry` is 1 when the block before
/// ended in an odd run, and becomes the same for this block. A run's end
/// is found by adding 1 at its start, which carries through the run; its
/// length is odd when its start and end differ in parity (simdjson's
/// odd-backslash-sequence step: Langdale & Lemire 2019, §3.1.1). A run
/// continuing an odd run of the block before starts one byte later, so
/// the parity of a start at bit 0 is flipped.
#[inline]
fn escaped(backslashes: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    let b = backslashes;
    let starts = b & !(b << 1);
    let even_start = EVEN ^ *carry;
    let even_starts = starts & even_start;
    let odd_starts = starts & !even_start;
    let even_ends = b.wrapping_add(even_starts) & !b;
    let (odd_sum, out) = b.overflowing_add(odd_starts);
    let odd_ends = (odd_sum | *carry) & !b;
    *carry = out as u64;
    (even_ends & !EVEN) | (odd_ends & EVEN)
}

/// The last field of a row ending at `row_end`, without a CR before the
/// line end.
fn push_last_field(out: &mut Vec<(usize, usize)>, data: &[u8], row_start: usize, field: usize, row_end: usize) {
    let last = if row_end > field && data[row_end - 1] == b'\r' {
        row_end - 1
    } else {
        row_end
    };
    out.push((field - row_start, last - row_start));
}

/// Why a field could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset in the field.
    pub at: usize,
    pub msg: &'static str,
}

/// Decodes one raw field: `None` for NULL, else its value, which is `raw`
/// itself when it holds no escape (the common case: no copy) and is built
/// in `buf` otherwise.
pub fn decode<'a>(raw: &'a [u8], buf: &'a mut Vec<u8>) -> Result<Option<&'a [u8]>, DecodeError> {
    if raw == NULL {
        return Ok(None);
    }
    let Some(first) = memchr(b'\\', raw) else {
        return Ok(Some(raw));
    };
    let out = buf;
    out.clear();
    out.extend_from_slice(&raw[..first]);
    let mut i = first;
    loop {
        let at = i;
        let Some(&c) = raw.get(at + 1) else {
            return Err(DecodeError {
                at,
                msg: "backslash at end of COPY field",
            });
        };
        i = at + 2;
        match c {
            b'0'..=b'7' => {
                let (v, used) = octal_escape(c, &raw[i..]);
                out.push(v);
                i += used;
            }
            b'x' => match hex_escape(&raw[i..]) {
                Some((v, used)) => {
                    out.push(v);
                    i += used;
                }
                None => out.push(b'x'),
            },
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            other => out.push(other),
        }
        match memchr(b'\\', &raw[i..]) {
            Some(j) => {
                out.extend_from_slice(&raw[i..i + j]);
                i += j;
            }
            None => break,
        }
    }
    out.extend_from_slice(&raw[i..]);
    Ok(Some(&out[..]))
}

/// The value of an octal escape whose first digit is `first`, with up to
/// two more digits from `rest`, and how many of `rest` it used (COPY text
/// and `E''` strings share the rule; the value wraps to a byte).
pub(crate) fn octal_escape(first: u8, rest: &[u8]) -> (u8, usize) {
    let mut v = u32::from(first - b'0');
    let used = rest
        .iter()
        .take(2)
        .take_while(|d| (b'0'..=b'7').contains(d))
        .count();
    for &d in &rest[..used] {
        v = v * 8 + u32::from(d - b'0');
    }
    ((v & 0o377) as u8, used)
}

/// The value of a `\x` escape's one or two hex digits at the start of
/// `rest`, and how many it used; `None` when no hex digit follows.
pub(crate) fn hex_escape(rest: &[u8]) -> Option<(u8, usize)> {
    let used = rest
        .iter()
        .take(2)
        .take_while(|d| d.is_ascii_hexdigit())
        .count();
    let v = rest[..used]
        .iter()
        .fold(0u32, |v, &h| v * 16 + (h as char).to_digit(16).unwrap_or(0));
    (used > 0).then_some((v as u8, used))
}

/// True when the raw field `raw` is exactly what [`encode`] writes for its
/// value: every backslash starts one of the two-byte escapes `\\ \b \f
/// \n \r \t \v` (`CopyAttributeOutText` in copyto.c writes no other) and
/// no byte that `encode` escapes stands bare. Each escape then decodes to
/// one byte, so a span of the value is a span of the field
/// ([`RawOffsets`](crate::codec::escaped::RawOffsets)), and the field's own bytes around a rewritten span are
/// the ones `encode` of the new value would write.
pub fn is_canonical(raw: &[u8]) -> bool {
    let mut it = raw.iter();
    while let Some(&b) = it.next() {
        match b {
            b'\\' => {
                if !matches!(it.next(), Some(b'\\' | b'b' | b'f' | b'n' | b'r' | b't' | b'v')) {
                    return false;
                }
            }
            0x08..=0x0d => return false,
            _ => {}
        }
    }
    true
}

/// Offsets of a decoded value in its raw field, which must be
/// [`is_canonical`] (each escape two bytes for one of the value). The
/// in-place writer (apply/rewrite.rs) maps through `RawOffsets` itself;
/// this form is the tests' check of that map.
#[cfg(test)]
pub fn raw_offsets(raw: &[u8]) -> RawOffsets<'_, fn(&[u8]) -> Option<(usize, usize)>> {
    RawOffsets::new(raw, |rest| memchr(b'\\', rest).map(|i| (i, 2)))
}

/// Appends `value` to `out` escaped as PostgreSQL's COPY writer does
/// (`CopyAttributeOutText` in copyto.c): runs of bytes that need no escape
/// are copied whole.
pub fn encode(value: &[u8], out: &mut Vec<u8>) {
    let mut rest = value;
    while let Some(i) = rest.iter().position(|&b| b == b'\\' || (0x08..=0x0d).contains(&b)) {
        let esc = match rest[i] {
            0x08 => b'b',
            0x09 => b't',
            0x0a => b'n',
            0x0b => b'v',
            0x0c => b'f',
            0x0d => b'r',
            other => other,
        };
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(&[b'\\', esc]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

pub use crate::frame::dump::{is_row_end, last_row_end};

/// Number of rows (real row ends) in `data`.
pub fn count_rows(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data)
        .filter(|&nl| is_row_end(data, nl))
        .count() as u64
}

/// The offset of the next row end (a newline that is not escaped) at or
/// after `from`.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
pub fn next_row_end(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(j) = memchr(b'\n', &data[i..]) {
        if is_row_end(data, i + j) {
            return Some(i + j);
        }
        i += j + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &[u8]) -> Option<Vec<u8>> {
        let mut v = Vec::new();
        decode(s, &mut v).unwrap().map(<[u8]>::to_vec)
    }

    #[test]
    fn decodes_postgres_escapes() {
        assert_eq!(dec(b"\\N"), None);
        assert_eq!(dec(b"\\\\N").unwrap(), b"\\N");
        assert_eq!(dec(b"a\\tb\\nc\\rd\\\\e").unwrap(), b"a\tb\nc\rd\\e");
        assert_eq!(dec(b"\\101\\x41\\x4a\\xz\\q\\.").unwrap(), b"AAJxzq.");
        assert_eq!(dec(b"\\0\\7777").unwrap(), b"\0\xff7");
        assert!(decode(b"ab\\", &mut Vec::new()).is_err());
    }

    #[test]
    fn splits_on_unescaped_tabs_only() {
        let mut f = Vec::new();
        let row = b"1\ta\\\tb\t\\N\t\\\\";
        split_fields(row, &mut f);
        let got: Vec<_> = f.iter().map(|&(s, e)| &row[s..e]).collect();
        assert_eq!(got, vec![&b"1"[..], b"a\\\tb", b"\\N", b"\\\\"]);
        split_fields(b"", &mut f);
        assert_eq!(f, vec![(0, 0)]);
    }

    /// The row starting at `from`, byte by byte as copyfromparse.c reads
    /// it: its row end and its fields (relative to `from`).
    fn oracle(data: &[u8], from: usize) -> (usize, Vec<(usize, usize)>) {
        let (mut fields, mut start, mut i) = (Vec::new(), from, from);
        while i < data.len() && data[i] != b'\n' {
            match data[i] {
                b'\\' => i += 2,
                b'\t' => {
                    fields.push((start - from, i - from));
                    start = i + 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        let end = i.min(data.len());
        let last = if end > start && data[end - 1] == b'\r' { end - 1 } else { end };
        fields.push((start - from, last - from));
        (end, fields)
    }

    #[test]
    fn row_splitter_frames_and_splits_in_one_pass() {
        let mut f = Vec::new();
        let d = b"x\ta\\\nb\t\\\\\r\nnext\n";
        let mut rows = RowSplitter::new(d, 0, d.len());
        assert_eq!(rows.next_row(&mut f), Some((0, 10)));
        let got: Vec<_> = f.iter().map(|&(s, e)| &d[s..e]).collect();
        assert_eq!(got, vec![&b"x"[..], b"a\\\nb", b"\\\\"]);
        assert_eq!(rows.next_row(&mut f), Some((11, d.len() - 1)));
        assert_eq!(f, vec![(0, 4)]);
        assert_eq!(rows.next_row(&mut f), None);
        // No line end: the row runs to `end`.
        assert_eq!(RowSplitter::new(b"a\tb", 0, 3).next_row(&mut f), Some((0, 3)));
        assert_eq!(f, vec![(0, 1), (2, 3)]);
    }

    proptest! {
        /// What `encode` writes is canonical and maps each value offset to
        /// the start of that byte's encoding; a field with another escape
        /// (`\x41`, octal) or a bare control byte is not canonical.
        #[test]
        fn raw_offsets_follow_encode(
            value in proptest::collection::vec(prop_oneof![
                3 => Just(b'\\'), 2 => Just(b'\t'), 2 => Just(b'\n'), 1 => Just(0x0bu8), 4 => Just(b'a'), 1 => Just(b'x')
            ], 0..300),
        ) {
            let mut raw = Vec::new();
            encode(&value, &mut raw);
            prop_assert!(is_canonical(&raw));
            let mut map = raw_offsets(&raw);
            let mut want = 0;
            for (k, &b) in value.iter().enumerate() {
                prop_assert_eq!(map.raw_offset(k), want);
                let mut one = Vec::new();
                encode(&[b], &mut one);
                want += one.len();
            }
            prop_assert_eq!(map.raw_offset(value.len()), raw.len());
            let mut other = raw.clone();
            other.extend_from_slice(b"\\x41");
            prop_assert!(!is_canonical(&other));
            let mut bare = raw;
            bare.push(0x0d);
            prop_assert!(!is_canonical(&bare));
        }

        /// Rows read whole (`keep` = all) or with only the first `keep`
        /// fields kept, over long runs of backslashes across 64-byte
        /// blocks: the kept fields and the field count are the byte-by-byte
        /// reading's.
        #[test]
        fn row_splitter_agrees_with_a_byte_by_byte_reading(
            data in proptest::collection::vec(prop_oneof![
                3 => Just(b'\t'), 4 => Just(b'\\'), 2 => Just(b'\n'), 1 => Just(b'\r'), 3 => Just(b'a')
            ], 0..700),
            start in 0usize..70,
            keep in prop_oneof![Just(usize::MAX), 0usize..6],
        ) {
            let start = start.min(data.len());
            let mut rows = RowSplitter::new(&data, start, data.len());
            let mut got = Vec::new();
            let mut at = start;
            while at < data.len() {
                let (nl, want) = oracle(&data, at);
                prop_assert_eq!(rows.next_row_keeping(&mut got, keep), Some((at, nl)));
                prop_assert_eq!(&got[..], &want[..keep.min(want.len())]);
                prop_assert_eq!(rows.fields(), want.len());
                at = nl + 1;
            }
            prop_assert_eq!(rows.next_row_keeping(&mut got, keep), None);
        }

        /// The field-count check of untargeted tables finds the first row
        /// whose count (the byte-by-byte reading's) differs, and only it.
        #[test]
        fn misframed_row_is_the_first_with_another_field_count(
            data in proptest::collection::vec(prop_oneof![
                3 => Just(b'\t'), 4 => Just(b'\\'), 2 => Just(b'\n'), 1 => Just(b'\r'), 3 => Just(b'a')
            ], 0..700),
            start in 0usize..70,
            ncols in 1usize..5,
        ) {
            let start = start.min(data.len());
            let mut want = None;
            let mut at = start;
            while at < data.len() {
                let (nl, fields) = oracle(&data, at);
                if fields.len() != ncols {
                    want = Some((at, fields.len()));
                    break;
                }
                at = nl + 1;
            }
            prop_assert_eq!(first_misframed_row(&data, start, data.len(), ncols), want);
        }
    }

    #[test]
    fn escaped_bytes_follow_odd_runs_across_blocks() {
        // Bytes 62, 63 and 64 are backslashes: the run is odd, so byte 65
        // (a tab) is data, escaped across the block boundary.
        let mut d = vec![b'a'; 62];
        d.extend_from_slice(b"\\\\\\\tb\tc\n");
        let mut f = Vec::new();
        let mut rows = RowSplitter::new(&d, 0, d.len());
        assert_eq!(rows.next_row(&mut f), Some((0, d.len() - 1)));
        assert_eq!(f, vec![(0, 67), (68, 69)]);
        let mut carry = 0;
        assert_eq!(escaped(0b0110, &mut carry), 0, "an even run escapes nothing");
        assert_eq!(escaped(0b1110, &mut carry), 0b10000);
        assert_eq!(escaped(0b0010, &mut carry), 0b0100);
        assert_eq!((escaped(1 << 63, &mut carry), carry), (0, 1));
        assert_eq!((escaped(0b1, &mut carry), carry), (0, 0), "the escaped backslash escapes nothing");
    }

    #[test]
    fn row_ends_respect_escaped_newlines() {
        let d = b"a\\\nb\\\\\nc";
        assert_eq!(next_row_end(d, 0), Some(6));
        assert_eq!(last_row_end(d), Some(7));
        assert_eq!(last_row_end(b"a\\\n"), None);
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(v in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut e = Vec::new();
            encode(&v, &mut e);
            prop_assert!(memchr(b'\t', &e).is_none() && memchr(b'\n', &e).is_none());
            let mut f = Vec::new();
            split_fields(&e, &mut f);
            prop_assert_eq!(f.len(), 1);
            let mut d = Vec::new();
            match decode(&e, &mut d).unwrap() {
                Some(back) => prop_assert_eq!(back, &v[..]),
                None => prop_assert_eq!(&v[..], b"\\N"),
            }
        }

        #[test]
        fn encode_escapes_as_copyto_does(v in proptest::collection::vec(any::<u8>(), 0..40)) {
            // CopyAttributeOutText, byte by byte.
            let mut want = Vec::new();
            for &b in &v {
                match b {
                    b'\\' => want.extend_from_slice(b"\\\\"),
                    0x08 => want.extend_from_slice(b"\\b"),
                    0x0c => want.extend_from_slice(b"\\f"),
                    b'\n' => want.extend_from_slice(b"\\n"),
                    b'\r' => want.extend_from_slice(b"\\r"),
                    b'\t' => want.extend_from_slice(b"\\t"),
                    0x0b => want.extend_from_slice(b"\\v"),
                    _ => want.push(b),
                }
            }
            let mut got = b"kept".to_vec();
            encode(&v, &mut got);
            prop_assert_eq!(&got[..4], b"kept");
            prop_assert_eq!(&got[4..], &want[..]);
        }
    }

    proptest! {
        /// The stream's verdict (and the offset it names) does not depend
        /// on where the pieces are cut or how often a batch is checked:
        /// rows, escapes and the `\\.` line may span any cut.
        #[test]
        fn row_stream_verdict_is_independent_of_the_cuts(
            data in proptest::collection::vec(prop_oneof![
                3 => Just(b'\t'), 3 => Just(b'\\'), 3 => Just(b'\n'), 2 => Just(b'.'), 3 => Just(b'a')
            ], 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..8),
            batch in 1usize..64,
            ncols in 1usize..4,
        ) {
            let whole = {
                let mut r = RowStream::new(b"t", ncols);
                r.batch = usize::MAX;
                r.feed(&data).and_then(|()| r.finish())
            };
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.sort_unstable();
            let mut r = RowStream::new(b"t", ncols);
            r.batch = batch;
            let mut from = 0;
            let mut got = Ok(());
            for c in cuts.into_iter().chain([data.len()]) {
                if let Err(e) = r.feed(&data[from..c]) {
                    got = Err(e);
                    break;
                }
                from = c;
            }
            let got = got.and_then(|()| r.finish());
            prop_assert_eq!(got, whole);
        }
    }
}
