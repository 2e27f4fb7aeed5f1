//! A dump value as messages and reports keep it: whole when short, else
//! its start, end and length, so that a huge value costs a hundred bytes
//! in a message (issue 28, item 11).

/// How many bytes of a value's start and end a message shows.
const EXCERPT_HEAD: usize = 60;
const EXCERPT_TAIL: usize = 20;

/// A dump value as a message quotes it: `{:?}` of its (lossy UTF-8) text
/// when it is short, else its first 60 and last 20 bytes — each cut back
/// to a character boundary — and its length, so that a 400 MiB value makes
/// a one-line message, not 400 MiB of stderr. Messages and reports show
/// values as [`Sample`]s; this is their text, kept for the tests below.
#[cfg(test)]
pub fn excerpt(value: &[u8]) -> String {
    Sample::of(value).to_string()
}

/// What is kept of a dump value for a message or a report: the value when
/// it is short, else only its start, end and length (60 and 20 bytes).
/// Examples, irreversible values and collisions are kept as
/// samples, so that a huge value costs a hundred bytes there, not its size
/// (issue 28, item 11: a 100 MiB value was copied whole five times).
///
/// One allocation, 24 bytes beside it: the collision check keeps up to
/// 20 000 of them (checks.rs), most of them short values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Sample {
    /// The whole value, or its first bytes then its last bytes (each cut
    /// on a character boundary).
    bytes: Box<[u8]>,
    /// Where the last bytes start in `bytes` (`bytes.len()` when whole).
    head: usize,
    /// The value's length in bytes.
    len: usize,
}

/// Values up to this long are kept whole.
const SAMPLE_WHOLE: usize = EXCERPT_HEAD + EXCERPT_TAIL + 20;

impl Sample {
    /// The sample of `value`.
    pub fn of(value: &[u8]) -> Sample {
        let mut b = SampleBuilder::default();
        b.push(value);
        b.finish()
    }

    /// The value when it was kept whole.
    pub fn whole(&self) -> Option<&[u8]> {
        (self.bytes.len() == self.len).then_some(&self.bytes[..])
    }

    /// The value's length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for the empty value.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The value's text when it was kept whole (lossy UTF-8, unquoted, as
    /// reports list short values), else its excerpt.
    pub fn text(&self) -> String {
        match self.whole() {
            Some(v) => String::from_utf8_lossy(v).into_owned(),
            None => self.to_string(),
        }
    }
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.whole() {
            Some(v) => write!(f, "{:?}", String::from_utf8_lossy(v)),
            None => write!(
                f,
                "{:?}…{:?} ({} bytes)",
                String::from_utf8_lossy(&self.bytes[..self.head]),
                String::from_utf8_lossy(&self.bytes[self.head..]),
                self.len
            ),
        }
    }
}

/// Builds the [`Sample`] of a value given in pieces (a rewritten value is
/// its unchanged runs and the replacement text), never holding more than
/// a hundred bytes of it.
#[derive(Debug, Default)]
pub struct SampleBuilder {
    head: Vec<u8>,
    /// The last `EXCERPT_TAIL` bytes seen (once past the head).
    tail: std::collections::VecDeque<u8>,
    len: usize,
}

impl SampleBuilder {
    /// Appends the next bytes of the value.
    pub fn push(&mut self, bytes: &[u8]) {
        self.len += bytes.len();
        let room = SAMPLE_WHOLE.saturating_sub(self.head.len());
        let (into_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(into_head);
        let rest = &rest[rest.len().saturating_sub(EXCERPT_TAIL)..];
        for &b in rest {
            if self.tail.len() == EXCERPT_TAIL {
                self.tail.pop_front();
            }
            self.tail.push_back(b);
        }
    }

    /// The sample of everything pushed.
    pub fn finish(self) -> Sample {
        let SampleBuilder { mut head, tail, len } = self;
        if len <= SAMPLE_WHOLE {
            return Sample { head: len, bytes: head.into_boxed_slice(), len };
        }
        // The value's last EXCERPT_TAIL bytes: the tail, after the head's
        // end when the value is barely longer than the head.
        let mut last: Vec<u8> = tail.into_iter().collect();
        if last.len() < EXCERPT_TAIL {
            let need = EXCERPT_TAIL - last.len();
            let mut from_head = head[head.len() - need..].to_vec();
            from_head.extend_from_slice(&last);
            last = from_head;
        }
        // A UTF-8 continuation byte is 0b10xx_xxxx: move the cuts off them so
        // no character is split (at most 3 steps; other bytes show lossily).
        let cont = |b: u8| b & 0xC0 == 0x80;
        let mut h = EXCERPT_HEAD;
        while h > EXCERPT_HEAD - 3 && cont(head[h]) {
            h -= 1;
        }
        head.truncate(h);
        let mut t = 0;
        while t < 3 && cont(last[t]) {
            t += 1;
        }
        head.extend_from_slice(&last[t..]);
        Sample { bytes: head.into_boxed_slice(), head: h, len }
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(excerpt(b"SAP-1"), "\"SAP-1\"");
    }

    #[test]
    fn long_values_show_start_end_and_length_without_splitting_chars() {
        // 'é' is two bytes: a cut at an odd byte would split one.
        let v = format!("x{}", "é".repeat(1000));
        let e = excerpt(v.as_bytes());
        assert!(e.len() < 200, "{e}");
        assert!(e.ends_with(&format!("({} bytes)", v.len())), "{e}");
        assert!(!e.contains('\u{FFFD}'), "a character was split: {e}");
        assert!(e.starts_with("\"xé") && e.contains("é\"…\"é"), "{e}");
    }

    /// A value given in pieces samples as the whole value does, whatever
    /// the cuts and lengths (around the whole/excerpt threshold too).
    #[test]
    fn a_sample_built_in_pieces_is_the_sample_of_the_whole() {
        for n in [0usize, 1, 59, 60, 61, 99, 100, 101, 102, 119, 120, 121, 300] {
            let v: Vec<u8> = "aé€🙂".bytes().cycle().take(n).collect();
            let whole = super::Sample::of(&v);
            for step in [1usize, 7, 64, 1000] {
                let mut b = super::SampleBuilder::default();
                for piece in v.chunks(step) {
                    b.push(piece);
                }
                assert_eq!(b.finish(), whole, "n={n} step={step}");
            }
            assert_eq!(whole.len(), n);
            assert_eq!(whole.whole().is_some(), n <= 100, "n={n}");
        }
    }
}
