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
//! sorted in runs of 512 Ki keys (8 MiB) spilled to a temporary file. At the
//! end a merge of the runs finds equal hashes: exact but for 64-bit hash
//! collisions, with memory that does not grow with the dump.

use std::collections::HashMap;

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
    /// `(input value, final value)` when a reverse would not restore it.
    pub irreversible: Option<(Vec<u8>, Vec<u8>)>,
}

/// A value that collides with another value of its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub rule: usize,
    /// The input value and what it became.
    pub old: Vec<u8>,
    pub new: Vec<u8>,
    /// Always true now that the check is exact; kept for reports.
    pub certain: bool,
}

const MAX_IRREVERSIBLE: usize = 20_000;
/// Keys per sorted run: 512 Ki of `(u64, u32)` (16 bytes with padding),
/// 8 MiB, as the million bare hashes of round 1 were.
const RUN: usize = 1 << 19;

/// The collision check of one run, fed in output order.
#[derive(Default)]
pub struct UniqueCheck {
    /// `(key, rule)`: the rule rides along so that a collision past the
    /// named ones is still reported against its column.
    keys: Vec<(u64, u32)>,
    runs: Vec<std::fs::File>,
    candidates: HashMap<u64, (usize, Vec<u8>, Vec<u8>)>,
    pub collisions: Vec<Collision>,
    /// Set when too many irreversible values were seen to keep them all
    /// (collisions among the others are found but cannot be named).
    pub gave_up: bool,
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
            if let Some((old, new)) = &f.irreversible {
                if self.candidates.len() < MAX_IRREVERSIBLE {
                    self.candidates
                        .entry(k)
                        .or_insert_with(|| (f.rule, old.clone(), new.clone()));
                } else {
                    self.gave_up = true;
                }
            }
            if self.keys.len() == RUN {
                self.spill()?;
            }
        }
        Ok(())
    }

    fn spill(&mut self) -> std::io::Result<()> {
        use std::io::Write;
        self.keys.sort_unstable();
        let mut f = tempfile::tempfile()?;
        {
            let mut w = std::io::BufWriter::new(&mut f);
            for (k, r) in &self.keys {
                w.write_all(&k.to_le_bytes())?;
                w.write_all(&r.to_le_bytes())?;
            }
            w.flush()?;
        }
        self.runs.push(f);
        self.keys.clear();
        Ok(())
    }

    /// Finds the values that collide, after the last chunk.
    pub fn finish(&mut self) -> std::io::Result<Vec<Collision>> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        use std::io::{BufReader, Read, Seek, SeekFrom};
        self.keys.sort_unstable();
        let mut dups = Vec::new();
        let mut note = |prev: &mut Option<(u64, u32)>, k: (u64, u32)| {
            if *prev == Some(k) && dups.last() != Some(&k) {
                dups.push(k);
            }
            *prev = Some(k);
        };
        let mut prev = None;
        if self.runs.is_empty() {
            for &k in &self.keys {
                note(&mut prev, k);
            }
        } else {
            let mut readers = Vec::new();
            for f in &mut self.runs {
                f.seek(SeekFrom::Start(0))?;
                readers.push(BufReader::new(f));
            }
            let next = |r: &mut BufReader<&mut std::fs::File>| -> std::io::Result<Option<(u64, u32)>> {
                let mut b = [0u8; 12];
                match r.read_exact(&mut b) {
                    Ok(()) => {
                        let mut k = [0u8; 8];
                        let mut rule = [0u8; 4];
                        k.copy_from_slice(&b[..8]);
                        rule.copy_from_slice(&b[8..]);
                        Ok(Some((u64::from_le_bytes(k), u32::from_le_bytes(rule))))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
                    Err(e) => Err(e),
                }
            };
            let mut heap = BinaryHeap::new();
            for (i, r) in readers.iter_mut().enumerate() {
                if let Some(k) = next(r)? {
                    heap.push(Reverse((k, i)));
                }
            }
            let mut mem = self.keys.iter().copied().peekable();
            loop {
                let from_run = heap.peek().map(|Reverse((k, _))| *k);
                let k = match (from_run, mem.peek().copied()) {
                    (Some(a), Some(b)) if b <= a => mem.next(),
                    (None, Some(_)) => mem.next(),
                    (Some(_), _) => {
                        let Some(Reverse((k, i))) = heap.pop() else {
                            break;
                        };
                        if let Some(n) = next(&mut readers[i])? {
                            heap.push(Reverse((n, i)));
                        }
                        Some(k)
                    }
                    (None, None) => None,
                };
                let Some(k) = k else { break };
                note(&mut prev, k);
            }
        }
        for (k, rule) in dups {
            match self.candidates.get(&k) {
                Some((rule, old, new)) => self.collisions.push(Collision {
                    rule: *rule,
                    old: old.clone(),
                    new: new.clone(),
                    certain: true,
                }),
                // Both values were beyond the kept ones: known to collide,
                // but not by name.
                None => self.collisions.push(Collision {
                    rule: rule as usize,
                    old: Vec::new(),
                    new: Vec::new(),
                    certain: true,
                }),
            }
        }
        Ok(std::mem::take(&mut self.collisions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fin(v: &str, irr: Option<&str>) -> Final {
        Final {
            rule: 0,
            hash: value_hash(v.as_bytes()),
            irreversible: irr.map(|o| (o.into(), v.into())),
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
        assert!(found[0].old.is_empty());
    }

    /// Past a million values the hashes go to sorted runs on disk; the
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
        assert_eq!(found[0].new, b"SAP-77");
    }
}
