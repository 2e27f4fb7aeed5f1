//! Bitmasks of byte classes over 64-byte blocks: bit `k` is set when byte
//! `k` of the block is one of a few given bytes. The COPY row splitter and
//! the chunk's line count walk these masks instead of searching byte by
//! byte: memchr finds one position per call and restarts for the next,
//! which costs more than it saves on fields of a few bytes, and no crate
//! offers the masks themselves (simdjson's technique, "Parsing Gigabytes of
//! JSON per Second", Langdale & Lemire 2019, §3).
//!
//! On x86_64 a block is four SSE2 loads (SSE2 is part of every x86_64),
//! one compare per byte of the class, and a move-mask each; elsewhere a
//! plain loop.

/// The mask of `bytes` in a whole block.
#[inline]
pub fn block_mask<const N: usize>(block: &[u8; 64], bytes: [u8; N]) -> u64 {
    imp::block_mask(block, bytes)
}

/// The mask of `bytes` in `rest[..64]`, for a block that may be short
/// (bits past the end are clear).
#[inline]
pub fn mask_at<const N: usize>(rest: &[u8], bytes: [u8; N]) -> u64 {
    match rest.first_chunk::<64>() {
        Some(block) => block_mask(block, bytes),
        None => rest
            .iter()
            .enumerate()
            .fold(0u64, |m, (k, b)| m | u64::from(bytes.contains(b)) << k),
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

    proptest! {
        #[test]
        fn masks_mark_exactly_the_bytes(data in proptest::collection::vec(0u8..12, 0..200)) {
            for base in 0..data.len() {
                let m = mask_at(&data[base..], [0u8, 9, 10]);
                for k in 0..64 {
                    let want = data.get(base + k).is_some_and(|b| [0u8, 9, 10].contains(b));
                    prop_assert_eq!(m >> k & 1 == 1, want);
                }
            }
        }
    }
}
