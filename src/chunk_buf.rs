//! The reader's byte buffer, which becomes a chunk's data and comes back
//! to the reader once the chunk is written.
//!
//! Why not a plain `Vec<u8>`: reading into a `Vec` means first growing it
//! with zeros (`read` takes initialised bytes), 256 KiB per read, every
//! read; a recycled `Vec` forgets that its spare room was initialised long
//! ago. `ChunkBuf` remembers: its bytes are zeroed once, when the buffer
//! first grows to a size, and reused from then on.
//!
//! Invariants: `bytes` is all initialised; `len <= bytes.len()`; only
//! `bytes[..len]`, the filled part, is data (what `Deref` shows); bytes
//! past it are left over from earlier use and never read as data.

use std::ops::Deref;

/// A growable byte buffer whose spare room stays initialised.
#[derive(Debug, Default)]
pub struct ChunkBuf {
    bytes: Vec<u8>,
    len: usize,
}

impl ChunkBuf {
    /// Room for `n` bytes after the filled part, to read into (zeroed only
    /// where the buffer has never been this large).
    pub fn spare(&mut self, n: usize) -> &mut [u8] {
        let need = self.len + n;
        if self.bytes.len() < need {
            self.bytes.resize(need, 0);
        }
        &mut self.bytes[self.len..need]
    }

    /// Counts `n` bytes written into [`ChunkBuf::spare`] as filled.
    pub fn advance(&mut self, n: usize) {
        self.len = (self.len + n).min(self.bytes.len());
    }

    /// Keeps only the first `n` filled bytes.
    pub fn truncate(&mut self, n: usize) {
        self.len = self.len.min(n);
    }

    /// Appends `data` to the filled part.
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.spare(data.len()).copy_from_slice(data);
        self.advance(data.len());
    }
}

impl From<Vec<u8>> for ChunkBuf {
    fn from(bytes: Vec<u8>) -> ChunkBuf {
        let len = bytes.len();
        ChunkBuf { bytes, len }
    }
}

impl Deref for ChunkBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_filled_part_is_data_after_reuse() {
        let mut b = ChunkBuf::from(b"old bytes".to_vec());
        b.truncate(0);
        assert!(b.is_empty());
        b.extend_from_slice(b"ab");
        assert_eq!(&*b, b"ab");
        // The spare room may hold old bytes, but they are not data until
        // written and advanced over.
        let room = b.spare(4);
        assert_eq!(room.len(), 4);
        room[..1].copy_from_slice(b"c");
        b.advance(1);
        assert_eq!(&*b, b"abc");
        b.extend_from_slice(&[b'x'; 100]);
        assert_eq!(b.len(), 103);
    }
}
