//! Checks made before a rewritten dump is let out: a rewritten value must
//! not collide with another value of a UNIQUE or primary-key column (the
//! live migration would fail half-way on the duplicate key).
//!
//! Why this needs little memory: a collision `f(a) = f(b)` with `a ≠ b`
//! always involves a value that `--reverse` would not give back (if both
//! were reversible, applying the reverse to `f(a) = f(b)` would give
//! `a = b`), and every value that can take part in one ends up starting
//! with TO. So per run the writer keeps the irreversible values exactly
//! (they are rare: `SAP-1` already in the data, `CAPA-SAP-1`; at most
//! 20 000), and a 64-bit hash of every final value starting with TO,
//! sorted in runs of 256 Ki keys (4 MiB, and as much again while the radix
//! sort runs) spilled to one temporary file. At the end a merge of the runs
//! finds equal hashes: exact but for 64-bit hash collisions, with memory
//! that does not grow with the dump.
//!
//! Why a radix sort (crate `radsort`): the check runs beside the pipeline,
//! and while it sorts a run the writer cannot hand it more values. Sorting
//! 512 Ki keys with `sort_unstable` took 34 ms, long enough to stall the
//! writer, and with it the permits the reader waits for; the final merge
//! of the runs, after the last chunk is written, added 48 ms to every run
//! of a 1 GiB dump (1.2 M values) before the program could exit.

use std::collections::HashMap;

use crate::observe::sample::Sample;

/// 64-bit hash of a value: XXH3, deterministic and about a tenth of the
/// instructions of std's SipHash on the short values a worker hashes once
/// per targeted row. Neither is keyed here, so neither resists values made
/// to collide; a 64-bit collision of honest data is as unlikely with both
/// (XXH3 passes SMHasher).
pub fn value_hash(v: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(v)
}

/// A final value that could collide, as recorded by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Final {
    pub rule: usize,
    pub hash: u64,
    /// The value, named, when a reverse would not restore it. Boxed: it
    /// is rare, and a chunk's finals wait in the check's queue.
    pub irreversible: Option<Box<Named>>,
}

/// An irreversible value as the check keeps it to name it in a collision:
/// samples, not the values (a 100 MiB value costs a hundred bytes here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Named {
    /// The final value.
    pub new: Sample,
    /// `kept`: what the reverse rewrite makes of `new`, the other value
    /// that would become it; else the input value.
    pub other: Sample,
    /// The value was left as it was (it already started with TO).
    pub kept: bool,
}

/// A chunk of the targeted table carries one `Final` per row (about 10 000
/// per 2 MiB), and the pipeline queues [`CHECK_QUEUE`] chunks of them.
const _: () = assert!(std::mem::size_of::<Final>() <= 24);

/// Chunks of finals the check's queue holds: enough for the chunks the
/// workers finish while the check sorts a run (a few milliseconds), about
/// 4 MiB at most.
pub const CHECK_QUEUE: usize = 16;

/// A value that collides with another value of its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub rule: usize,
    /// The value by name; `None` past the irreversible values kept by name.
    pub named: Option<Named>,
    /// Always true now that the check is exact; kept for reports.
    pub certain: bool,
}

const MAX_IRREVERSIBLE: usize = 20_000;
/// Keys per sorted run: 256 Ki of `(u64, u32)` (16 bytes with padding),
/// 4 MiB, and 4 MiB more for the radix sort's scratch: the 8 MiB of the
/// million bare hashes of round 1.
const RUN: usize = 1 << 18;
/// Bytes of a key in a run file: the key and the rule, little-endian.
const KEY_BYTES: usize = 12;

/// The collision check of one run, fed in output order.
pub struct UniqueCheck {
    /// `(key, rule)`: the rule rides along so that a collision past the
    /// named ones is still reported against its column.
    keys: Vec<(u64, u32)>,
    /// Keys per run (`RUN`; smaller in tests, to make many runs).
    run: usize,
    /// The file every run is spilled to, one after another: one descriptor
    /// however many runs a dump makes (a 100 GB dump makes about a thousand,
    /// the usual limit of open files).
    spill_file: Option<std::fs::File>,
    /// Where each run lies in `spill_file`.
    runs: Vec<std::ops::Range<u64>>,
    candidates: HashMap<u64, (usize, Named)>,
    pub collisions: Vec<Collision>,
    /// Set when too many irreversible values were seen to keep them all
    /// (collisions among the others are found but cannot be named).
    pub gave_up: bool,
}

impl Default for UniqueCheck {
    fn default() -> UniqueCheck {
        UniqueCheck {
            keys: Vec::new(),
            run: RUN,
            spill_file: None,
            runs: Vec::new(),
            candidates: HashMap::new(),
            collisions: Vec::new(),
            gave_up: false,
        }
    }
}

/// The hash of a final value within its rule (values of different columns
/// never collide).
fn key(f: &Final) -> u64 {
    f.hash ^ (f.rule as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl UniqueCheck {
    /// Takes the finals of one chunk, in row order.
    pub fn feed(&mut self, finals: &[Final]) -> std::io::Result<()> {
        for f in finals {
            let k = key(f);
            self.keys.push((k, u32::try_from(f.rule).unwrap_or(u32::MAX)));
            if let Some(named) = &f.irreversible {
                if self.candidates.len() < MAX_IRREVERSIBLE {
                    self.candidates
                        .entry(k)
                        .or_insert_with(|| (f.rule, (**named).clone()));
                } else {
                    self.gave_up = true;
                }
            }
            if self.keys.len() >= self.run {
                self.spill()?;
            }
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        radsort::sort(&mut self.keys);
        let file = match &self.spill_file {
            Some(f) => f,
            None => self.spill_file.insert(tempfile::tempfile()?),
        };
        // Runs are only ever appended, and read back after the last one.
        let mut w = std::io::BufWriter::with_capacity(256 << 10, file);
        for (k, r) in &self.keys {
            let mut b = [0u8; KEY_BYTES];
            b[..8].copy_from_slice(&k.to_le_bytes());
            b[8..].copy_from_slice(&r.to_le_bytes());
            w.write_all(&b)?;
        }
        w.flush()?;
        let start = self.runs.last().map_or(0, |r| r.end);
        self.runs
            .push(start..start + (self.keys.len() * KEY_BYTES) as u64);
        self.keys.clear();
        Ok(())
    }

    /// Finds the values that collide, after the last chunk.
    pub fn finish(&mut self) -> std::io::Result<Vec<Collision>> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        radsort::sort(&mut self.keys);
        let mut dups = Vec::new();
        let mut prev = None;
        let mut note = |k: (u64, u32)| {
            if prev == Some(k) && dups.last() != Some(&k) {
                dups.push(k);
            }
            prev = Some(k);
        };
        match &self.spill_file {
            None => self.keys.iter().for_each(|&k| note(k)),
            Some(file) => {
                let mut readers: Vec<RunReader> = self
                    .runs
                    .iter()
                    .map(|r| RunReader::new(file, r.clone()))
                    .collect();
                let mut heap = BinaryHeap::with_capacity(readers.len());
                for (i, r) in readers.iter_mut().enumerate() {
                    if let Some(k) = r.next()? {
                        heap.push(Reverse((k, i)));
                    }
                }
                // The keys still in memory are one more sorted run.
                let mut mem = self.keys.iter().copied().peekable();
                while let Some(&Reverse((k, i))) = heap.peek() {
                    while let Some(m) = mem.next_if(|&m| m <= k) {
                        note(m);
                    }
                    note(k);
                    match readers[i].next()? {
                        Some(n) => {
                            if let Some(mut top) = heap.peek_mut() {
                                *top = Reverse((n, i));
                            }
                        }
                        None => {
                            heap.pop();
                        }
                    }
                }
                mem.for_each(&mut note);
            }
        }
        for (k, rule) in dups {
            match self.candidates.get(&k) {
                Some((rule, named)) => self.collisions.push(Collision {
                    rule: *rule,
                    named: Some(named.clone()),
                    certain: true,
                }),
                // Both values were beyond the kept ones: known to collide,
                // but not by name.
                None => self.collisions.push(Collision {
                    rule: rule as usize,
                    named: None,
                    certain: true,
                }),
            }
        }
        Ok(std::mem::take(&mut self.collisions))
    }
}

/// Reads one run's keys back from the shared spill file, a block at a
/// time from its own offset (the runs share one descriptor, so no
/// `BufReader` can hold the file position for each).
struct RunReader<'a> {
    file: &'a std::fs::File,
    /// The run's bytes not read into `buf` yet.
    left: std::ops::Range<u64>,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
}

impl<'a> RunReader<'a> {
    /// 16 KiB per run: a 100 GB dump makes about a thousand runs, 16 MiB.
    const BLOCK: usize = 16 << 10;

    fn new(file: &'a std::fs::File, run: std::ops::Range<u64>) -> RunReader<'a> {
        RunReader {
            file,
            left: run,
            buf: vec![0u8; Self::BLOCK].into_boxed_slice(),
            pos: 0,
            len: 0,
        }
    }

    fn next(&mut self) -> std::io::Result<Option<(u64, u32)>> {
        use std::io::{Read, Seek, SeekFrom};
        if self.len - self.pos < KEY_BYTES {
            self.buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
            let want = (self.buf.len() - self.len)
                .min(usize::try_from(self.left.end - self.left.start).unwrap_or(usize::MAX));
            let mut file = self.file;
            file.seek(SeekFrom::Start(self.left.start))?;
            file.read_exact(&mut self.buf[self.len..self.len + want])?;
            self.left.start += want as u64;
            self.len += want;
            if self.len < KEY_BYTES {
                return match self.len {
                    0 => Ok(None),
                    _ => Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "a spilled run of the collision check ends inside a key",
                    )),
                };
            }
        }
        let b = &self.buf[self.pos..self.pos + KEY_BYTES];
        let (mut k, mut rule) = ([0u8; 8], [0u8; 4]);
        k.copy_from_slice(&b[..8]);
        rule.copy_from_slice(&b[8..]);
        self.pos += KEY_BYTES;
        Ok(Some((u64::from_le_bytes(k), u32::from_le_bytes(rule))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fin(v: &str, irr: Option<&str>) -> Final {
        Final {
            rule: 0,
            hash: value_hash(v.as_bytes()),
            irreversible: irr.map(|o| {
                Box::new(Named {
                    new: Sample::of(v.as_bytes()),
                    other: Sample::of(o.as_bytes()),
                    kept: o == v,
                })
            }),
        }
    }

    fn collisions(finals: &[Final]) -> usize {
        let mut c = UniqueCheck::default();
        c.feed(finals).unwrap();
        c.finish().unwrap().len()
    }

    #[test]
    fn finds_collisions_in_either_order() {
        // An existing SAP-1 (irreversible) and CAPA-1 rewritten to SAP-1.
        assert_eq!(
            collisions(&[
                fin("SAP-1", Some("SAP-1")),
                fin("SAP-2", None),
                fin("SAP-1", None)
            ]),
            1
        );
        assert_eq!(
            collisions(&[
                fin("SAP-1", None),
                fin("SAP-2", None),
                fin("SAP-1", Some("SAP-1"))
            ]),
            1
        );
        assert_eq!(
            collisions(&[
                fin("SAP-1", None),
                fin("SAP-2", None),
                fin("SAP-3", Some("SAP-3"))
            ]),
            0
        );
    }

    /// Past the irreversible values kept by name, a collision is still
    /// reported, with its rule (it was dropped from the report).
    #[test]
    fn collisions_past_the_named_ones_keep_their_rule() {
        let mut c = UniqueCheck::default();
        let many: Vec<Final> = (0..MAX_IRREVERSIBLE)
            .map(|i| fin(&format!("SAP-x{i}"), Some("irreversible")))
            .collect();
        c.feed(&many).unwrap();
        let mut late = fin("SAP-late", Some("SAP-late"));
        late.rule = 3;
        let mut twin = fin("SAP-late", None);
        twin.rule = 3;
        c.feed(&[late, twin]).unwrap();
        assert!(c.gave_up);
        let found = c.finish().unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, 3);
        assert!(found[0].named.is_none());
    }

    proptest::proptest! {
        /// Whatever the run size (so: however the values fall into spilled
        /// runs and the keys left in memory), the check reports exactly the
        /// values that occur more than once in their column.
        #[test]
        fn any_run_size_finds_exactly_the_repeated_values(
            values in proptest::collection::vec((0u8..40, 0usize..3), 0..150),
            run in 1usize..64,
            feed in 1usize..20,
        ) {
            let finals: Vec<Final> = values
                .iter()
                // Small hashes, so that the keys of one rule are close together and
                // the last ones fed are often above every spilled key.
                .map(|&(v, rule)| Final { rule, hash: u64::from(v), irreversible: None })
                .collect();
            let mut c = UniqueCheck { run, ..UniqueCheck::default() };
            for part in finals.chunks(feed) {
                c.feed(part).unwrap();
            }
            proptest::prop_assert_eq!(c.runs.len(), values.len() / run);
            let mut seen = HashMap::new();
            for &v in &values {
                *seen.entry(v).or_insert(0) += 1;
            }
            let mut expect: Vec<usize> = seen.iter().filter(|(_, &n)| n > 1).map(|(&(_, rule), _)| rule).collect();
            let mut got: Vec<usize> = c.finish().unwrap().iter().map(|c| c.rule).collect();
            expect.sort_unstable();
            got.sort_unstable();
            proptest::prop_assert_eq!(got, expect);
        }
    }

    /// Past `RUN` values the hashes go to sorted runs on disk; the
    /// merge still finds the one duplicate, and nothing else.
    #[test]
    fn spilled_runs_are_merged_exactly() {
        let mut c = UniqueCheck::default();
        let n = RUN * 2 + 10;
        let finals: Vec<Final> = (0..n).map(|i| fin(&format!("SAP-{i}"), None)).collect();
        c.feed(&finals).unwrap();
        c.feed(&[fin("SAP-77", Some("SAP-77"))]).unwrap();
        assert_eq!(c.runs.len(), 2);
        let found = c.finish().unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].named.as_ref().and_then(|n| n.new.whole()), Some(&b"SAP-77"[..]));
    }
}
