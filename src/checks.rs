//! Checks made before a rewritten dump is let out: a rewritten value must
//! not collide with another value of a UNIQUE or primary-key column (the
//! live migration would fail half-way on the duplicate key).
//!
//! Why this needs little memory: a collision `f(a) = f(b)` with `a ≠ b`
//! always involves a value that `--reverse` would not give back (if both
//! were reversible, applying the reverse to `f(a) = f(b)` would give
//! `a = b`). Such values are rare (`SAP-1` already in the data,
//! `CAPA-SAP-1`), and every value that can take part in a collision ends up
//! starting with TO. So the writer keeps, per rule, the irreversible final
//! values exactly, and a fixed-size Bloom filter of all final values that
//! start with TO. A later row equal to an irreversible one is a certain
//! collision; an irreversible value whose final is already in the filter
//! collides with an earlier row unless the filter errs (about 1 in 10^4 at
//! 10 million values), and is reported as a probable collision.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// 64-bit hash of a value (SipHash with fixed keys: deterministic).
pub fn value_hash(v: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
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
    /// False when found only by the Bloom filter (an earlier row).
    pub certain: bool,
}

const BLOCKS: usize = 1 << 18; // 2^18 cache-line blocks of 512 bits: 16 MiB
const MAX_IRREVERSIBLE: usize = 20_000;

/// Blocked Bloom filter: one cache line per value, five bits in it.
struct Bloom {
    blocks: Vec<[u64; 8]>,
}

impl Bloom {
    fn bits(h: u64) -> (usize, [u32; 5]) {
        let block = (h as usize) & (BLOCKS - 1);
        let mut bits = [0u32; 5];
        let mut x = h >> 18;
        for b in &mut bits {
            *b = (x & 511) as u32;
            x = x.rotate_right(9) ^ h.rotate_left(23);
        }
        (block, bits)
    }

    fn insert_and_test(&mut self, h: u64) -> bool {
        if self.blocks.is_empty() {
            self.blocks = vec![[0u64; 8]; BLOCKS];
        }
        let (block, bits) = Self::bits(h);
        let line = &mut self.blocks[block];
        let mut present = true;
        for b in bits {
            let (w, m) = ((b / 64) as usize, 1u64 << (b % 64));
            present &= line[w] & m != 0;
            line[w] |= m;
        }
        present
    }
}

/// The collision check of one run, fed in output order.
#[derive(Default)]
pub struct UniqueCheck {
    blooms: HashMap<usize, Bloom>,
    candidates: HashMap<(usize, u64), (Vec<u8>, Vec<u8>)>,
    pub collisions: Vec<Collision>,
    /// Set when too many irreversible values were seen to keep them all.
    pub gave_up: bool,
}

impl UniqueCheck {
    /// Takes the finals of one chunk, in row order.
    pub fn feed(&mut self, finals: &[Final]) {
        for f in finals {
            if let Some((old, new)) = self.candidates.get(&(f.rule, f.hash)) {
                self.collisions.push(Collision {
                    rule: f.rule,
                    old: old.clone(),
                    new: new.clone(),
                    certain: true,
                });
            }
            let bloom = self
                .blooms
                .entry(f.rule)
                .or_insert(Bloom { blocks: Vec::new() });
            let seen_before = bloom.insert_and_test(f.hash);
            if let Some((old, new)) = &f.irreversible {
                if seen_before {
                    self.collisions.push(Collision {
                        rule: f.rule,
                        old: old.clone(),
                        new: new.clone(),
                        certain: false,
                    });
                }
                if self.candidates.len() < MAX_IRREVERSIBLE {
                    self.candidates
                        .insert((f.rule, f.hash), (old.clone(), new.clone()));
                } else {
                    self.gave_up = true;
                }
            }
        }
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

    #[test]
    fn finds_collisions_in_either_order() {
        // An existing SAP-1 (irreversible) and CAPA-1 rewritten to SAP-1.
        let mut c = UniqueCheck::default();
        c.feed(&[
            fin("SAP-1", Some("SAP-1")),
            fin("SAP-2", None),
            fin("SAP-1", None),
        ]);
        assert_eq!(c.collisions.len(), 1);
        assert!(c.collisions[0].certain);
        let mut c = UniqueCheck::default();
        c.feed(&[
            fin("SAP-1", None),
            fin("SAP-2", None),
            fin("SAP-1", Some("SAP-1")),
        ]);
        assert_eq!(c.collisions.len(), 1);
        assert!(!c.collisions[0].certain);
        let mut c = UniqueCheck::default();
        c.feed(&[
            fin("SAP-1", None),
            fin("SAP-2", None),
            fin("SAP-3", Some("SAP-3")),
        ]);
        assert!(c.collisions.is_empty());
    }

    #[test]
    fn bloom_filter_rarely_errs() {
        let mut c = UniqueCheck::default();
        let finals: Vec<Final> = (0..200_000)
            .map(|i| fin(&format!("SAP-{i}"), None))
            .collect();
        c.feed(&finals);
        let probes: Vec<Final> = (0..10_000)
            .map(|i| fin(&format!("SAP-X{i}"), Some("x")))
            .collect();
        c.feed(&probes);
        assert!(
            c.collisions.len() < 5,
            "{} false alarms",
            c.collisions.len()
        );
    }
}
