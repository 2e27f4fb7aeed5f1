//! Bitmasks of byte classes over 64-byte blocks: bit `k` is set when byte
//! `k` of the block is one of a few given bytes. The COPY row splitter and
//! the lexer walk these masks instead of searching byte by byte: memchr
//! finds one position per call and restarts for the next, which costs more
//! than it saves on fields of a few bytes, and no crate
//! offers the masks themselves (simdjson's technique, "Parsing Gigabytes of
//! JSON per Second", Langdale & Lemire 2019, §3).
//!
//! Without AVX2, on x86_64 a block is four SSE2 loads (SSE2 is part of
//! every x86_64), one compare per byte of the class, and a move-mask each;
//! elsewhere a plain loop.
//!
//! [`ByteClasses`] finds several classes of many bytes at once: each byte
//! gets a bucket bit from two 16-entry tables indexed by its low and high
//! nibble (Hyperscan's "shufti", used by simdjson's classifier: Langdale
//! & Lemire 2019, §3.1.2), two AVX2 shuffles per 32 bytes where the CPU
//! has AVX2 (checked at run time), else one compare per byte as above.

/// The mask of `bytes` in a whole block.
#[inline]
fn block_mask<const N: usize>(block: &[u8; 64], bytes: [u8; N]) -> u64 {
    imp::block_mask(block, bytes)
}

/// A short `rest` (under 64 bytes) copied into a whole block, and the mask
/// of its real bytes: the padding's bits must be cleared from any mask.
/// Once per buffer, at its end: kept out of the callers' loops.
#[cold]
fn padded(rest: &[u8]) -> ([u8; 64], u64) {
    let n = rest.len().min(64);
    let mut block = [0u8; 64];
    block[..n].copy_from_slice(&rest[..n]);
    (block, if n == 64 { u64::MAX } else { !(u64::MAX << n) })
}

/// Up to eight buckets of bytes, each one "rectangle" of nibbles: every
/// byte whose low nibble is one of the bucket's low nibbles and whose high
/// nibble is one of its high nibbles is in the bucket (checked when the
/// tables are built, at compile time for a `const`). Bucket `k` is bit `k`
/// of a byte's class.
pub struct ByteClasses<const K: usize> {
    buckets: [&'static [u8]; K],
    /// Bit `k` set at a low nibble of a byte of bucket `k`.
    lo: [u8; 16],
    /// Bit `k` set at a high nibble of a byte of bucket `k`.
    hi: [u8; 16],
}

impl<const K: usize> ByteClasses<K> {
    /// The tables of `buckets` (distinct bytes each); panics, at compile
    /// time in a `const`, when a bucket is not a rectangle of nibbles or
    /// there are more than eight.
    pub const fn new(buckets: [&'static [u8]; K]) -> ByteClasses<K> {
        assert!(K <= 8, "at most eight buckets");
        let (mut lo, mut hi) = ([0u8; 16], [0u8; 16]);
        let mut k = 0;
        while k < K {
            let bytes = buckets[k];
            let (mut los, mut his, mut i) = (0u16, 0u16, 0);
            while i < bytes.len() {
                los |= 1 << (bytes[i] & 15);
                his |= 1 << (bytes[i] >> 4);
                lo[(bytes[i] & 15) as usize] |= 1 << k;
                hi[(bytes[i] >> 4) as usize] |= 1 << k;
                i += 1;
            }
            assert!(
                los.count_ones() * his.count_ones() == bytes.len() as u32,
                "a bucket must hold every byte of its nibbles, once"
            );
            k += 1;
        }
        ByteClasses { buckets, lo, hi }
    }

    /// For each of `groups` (a set of bucket bits), the mask of the bytes
    /// of `block` in any of those buckets.
    #[inline]
    pub fn masks<const G: usize>(&self, block: &[u8; 64], groups: [u8; G]) -> [u64; G] {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { imp::shufti_avx2(&self.lo, &self.hi, block, groups) };
        }
        self.masks_by_compare(block, groups)
    }

    /// [`ByteClasses::masks`] of `rest[..64]`, for a block that may be
    /// short (bits past the end are clear).
    #[inline]
    pub fn masks_at<const G: usize>(&self, rest: &[u8], groups: [u8; G]) -> [u64; G] {
        match rest.first_chunk::<64>() {
            Some(block) => self.masks(block, groups),
            None => {
                let (block, real) = padded(rest);
                self.masks(&block, groups).map(|m| m & real)
            }
        }
    }

    /// [`ByteClasses::masks`] with one compare per byte of the buckets.
    fn masks_by_compare<const G: usize>(&self, block: &[u8; 64], groups: [u8; G]) -> [u64; G] {
        let mut per_bucket = [0u64; 8];
        for (k, bytes) in self.buckets.iter().enumerate() {
            per_bucket[k] = bytes.iter().fold(0, |m, &b| m | block_mask(block, [b]));
        }
        groups.map(|g| (0..K).filter(|k| g >> k & 1 == 1).fold(0, |m, k| m | per_bucket[k]))
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_setzero_si128,
    };

    #[inline]
    #[allow(unused_unsafe)] // compares are safe functions from Rust 1.87 on
    pub fn block_mask<const N: usize>(block: &[u8; 64], bytes: [u8; N]) -> u64 {
        let mut m = 0u64;
        for (i, part) in block.chunks_exact(16).enumerate() {
            // SAFETY: SSE2 is enabled on every x86_64 target; the unaligned
            // load reads exactly the 16 bytes of `part`, which are in bounds.
            let bits = unsafe {
                let v = _mm_loadu_si128(part.as_ptr().cast());
                let mut hit = _mm_setzero_si128();
                for b in bytes {
                    hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)));
                }
                _mm_movemask_epi8(hit)
            };
            m |= u64::from(bits as u16) << (16 * i);
        }
        m
    }

    /// [`super::ByteClasses::masks`] with AVX2: a byte's class is
    /// `lo[low nibble] & hi[high nibble]`, looked up 32 bytes at a time
    /// by `vpshufb` (which shuffles within each 16-byte lane, hence the
    /// tables in both lanes).
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    #[allow(unused_unsafe)] // most intrinsics are safe functions from Rust 1.87 on
    pub unsafe fn shufti_avx2<const G: usize>(
        lo: &[u8; 16],
        hi: &[u8; 16],
        block: &[u8; 64],
        groups: [u8; G],
    ) -> [u64; G] {
        use std::arch::x86_64::{
            __m256i, _mm256_and_si256, _mm256_broadcastsi128_si256, _mm256_cmpeq_epi8,
            _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_setzero_si256,
            _mm256_shuffle_epi8, _mm256_srli_epi16,
        };
        let mut out = [0u64; G];
        // SAFETY: AVX2 is enabled in this function (its caller's duty);
        // every unaligned load reads 16 or 32 bytes inside its array.
        unsafe {
            let lo_t = _mm256_broadcastsi128_si256(_mm_loadu_si128(lo.as_ptr().cast()));
            let hi_t = _mm256_broadcastsi128_si256(_mm_loadu_si128(hi.as_ptr().cast()));
            let nibble = _mm256_set1_epi8(0x0f);
            for (half, part) in block.chunks_exact(32).enumerate() {
                let v: __m256i = _mm256_loadu_si256(part.as_ptr().cast());
                let l = _mm256_and_si256(v, nibble);
                let h = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
                let class = _mm256_and_si256(_mm256_shuffle_epi8(lo_t, l), _mm256_shuffle_epi8(hi_t, h));
                for (g, &bits) in groups.iter().enumerate() {
                    let none = _mm256_cmpeq_epi8(
                        _mm256_and_si256(class, _mm256_set1_epi8(bits as i8)),
                        _mm256_setzero_si256(),
                    );
                    let hits = !(_mm256_movemask_epi8(none) as u32);
                    out[g] |= u64::from(hits) << (32 * half);
                }
            }
        }
        out
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    #[inline]
    pub fn block_mask<const N: usize>(block: &[u8; 64], bytes: [u8; N]) -> u64 {
        block
            .iter()
            .enumerate()
            .fold(0u64, |m, (k, b)| m | u64::from(bytes.contains(b)) << k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TEST_CLASSES: ByteClasses<3> = ByteClasses::new([b"'", b"Ee", b"\"()-/"]);

    proptest! {
        /// Each group's mask (with AVX2 where the CPU has it) is the
        /// bytes of its buckets.
        #[test]
        fn class_masks_mark_exactly_the_buckets(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 64)) {
            let block: &[u8; 64] = data.first_chunk().unwrap();
            let groups = [1u8, 2, 4, 6, 7, 0];
            let got = TEST_CLASSES.masks(block, groups);
            prop_assert_eq!(got, TEST_CLASSES.masks_by_compare(block, groups));
            for (g, &bits) in groups.iter().enumerate() {
                for k in 0..64 {
                    let want = (0..3).any(|j| bits >> j & 1 == 1 && TEST_CLASSES.buckets[j].contains(&block[k]));
                    prop_assert_eq!(got[g] >> k & 1 == 1, want, "group {} byte {}", bits, block[k]);
                }
            }
        }

        /// A short block's masks have no bits past its end.
        #[test]
        fn short_blocks_mark_exactly_their_bytes(data in proptest::collection::vec(prop_oneof![Just(b'E'), Just(b'\''), Just(b'x')], 0..140)) {
            for base in 0..data.len() {
                let [quotes, es] = TEST_CLASSES.masks_at(&data[base..], [1, 2]);
                for k in 0..64 {
                    let byte = data.get(base + k);
                    prop_assert_eq!(quotes >> k & 1 == 1, byte == Some(&b'\''));
                    prop_assert_eq!(es >> k & 1 == 1, byte == Some(&b'E'));
                }
            }
        }
    }
}
