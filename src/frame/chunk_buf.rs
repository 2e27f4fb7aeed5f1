//! The reader's byte buffer, which becomes a chunk's data and comes back
//! to the reader once the chunk is written.
//!
//! Two kinds of bytes:
//! - **Owned**, read with `read(2)`. Why not a plain `Vec<u8>`: reading
//!   into a `Vec` means first growing it with zeros (`read` takes
//!   initialised bytes), 256 KiB per read, every read; a recycled `Vec`
//!   forgets that its spare room was initialised long ago. `ChunkBuf`
//!   remembers: its bytes are zeroed once, when the buffer first grows to
//!   a size, and reused from then on.
//! - **Mapped**: a window of the input file mapped into memory (mmap(2)).
//!   Framing then costs no copy at all: on the benchmark machine, a
//!   program that only scans 1 GiB took 0.5–0.7 s of system time reading
//!   it, 0.1–0.2 s in all mapped (benches/README.md, round 8). A
//!   chunk cut from a window is another window of the same mapping, and
//!   when it is dropped (written) its pages are unmapped again
//!   (`MADV_DONTNEED`, madvise(2)): touched pages of a mapping count in the
//!   process's resident memory, which must stay bounded whatever the input
//!   size.
//!
//! Invariants: owned: `bytes` is all initialised; `len <= bytes.len()`;
//! only `bytes[..len]`, the filled part, is data (what `Deref` shows); bytes
//! past it are left over from earlier use and never read as data. Mapped:
//! `start + len <= map.len()`; the data is `map[start..start + len]`, and
//! a window only ever grows towards the end of the file.

use std::ops::Deref;
use std::sync::Arc;

use memmap2::Mmap;

/// A growable byte buffer whose spare room stays initialised, or a window
/// of a mapped file.
#[derive(Debug)]
pub struct ChunkBuf {
    repr: Repr,
}

#[derive(Debug)]
enum Repr {
    Owned { bytes: Vec<u8>, len: usize },
    Mapped { map: Arc<Mmap>, start: usize, len: usize },
}

impl Default for ChunkBuf {
    fn default() -> ChunkBuf {
        ChunkBuf::from(Vec::new())
    }
}

impl ChunkBuf {
    /// An empty window at the start of `map`, grown by
    /// [`ChunkBuf::grow_mapped`].
    pub fn mapped(map: Arc<Mmap>) -> ChunkBuf {
        ChunkBuf {
            repr: Repr::Mapped { map, start: 0, len: 0 },
        }
    }

    /// Bytes the buffer holds allocated (a window: its length).
    pub fn capacity(&self) -> usize {
        match &self.repr {
            Repr::Owned { bytes, .. } => bytes.capacity(),
            Repr::Mapped { len, .. } => *len,
        }
    }

    /// Whether the bytes are a window of a mapped file.
    pub fn is_mapped(&self) -> bool {
        matches!(self.repr, Repr::Mapped { .. })
    }

    /// A mapped window takes in up to `n` more bytes of its file; returns
    /// how many (0 at the end of the file), or `None` for owned bytes.
    pub fn grow_mapped(&mut self, n: usize) -> Option<usize> {
        match &mut self.repr {
            Repr::Owned { .. } => None,
            Repr::Mapped { map, start, len } => {
                let add = n.min(map.len() - (*start + *len));
                *len += add;
                Some(add)
            }
        }
    }

    /// Room for `n` bytes after the filled part, to read into (zeroed only
    /// where the buffer has never been this large). A mapped window is
    /// copied into owned bytes first (the reader never asks one for room).
    pub fn spare(&mut self, n: usize) -> &mut [u8] {
        if let Repr::Mapped { .. } = self.repr {
            let owned = self.to_vec();
            // Dropping the window releases its pages.
            *self = ChunkBuf::from(owned);
        }
        match &mut self.repr {
            Repr::Owned { bytes, len } => {
                let need = *len + n;
                if bytes.len() < need {
                    bytes.resize(need, 0);
                }
                &mut bytes[*len..need]
            }
            Repr::Mapped { .. } => &mut [],
        }
    }

    /// Counts `n` bytes written into [`ChunkBuf::spare`] as filled.
    pub fn advance(&mut self, n: usize) {
        if let Repr::Owned { bytes, len } = &mut self.repr {
            *len = (*len + n).min(bytes.len());
        }
    }

    /// Keeps only the first `n` filled bytes.
    pub fn truncate(&mut self, n: usize) {
        match &mut self.repr {
            Repr::Owned { len, .. } | Repr::Mapped { len, .. } => *len = (*len).min(n),
        }
    }

    /// Appends `data` to the filled part.
    pub fn extend_from_slice(&mut self, data: &[u8]) {
        self.spare(data.len()).copy_from_slice(data);
        self.advance(data.len());
    }

    /// Splits off the first `cut` bytes and returns them; `self` keeps the
    /// rest. Owned bytes: the rest is copied into `spare` (a buffer to
    /// reuse), which becomes `self`. A window: both halves are windows of
    /// the same mapping, nothing is copied and `spare` is dropped.
    pub fn split_front(&mut self, cut: usize, mut spare: ChunkBuf) -> ChunkBuf {
        let cut = cut.min(self.len());
        match &mut self.repr {
            Repr::Owned { .. } => {
                spare.truncate(0);
                spare.extend_from_slice(&self[cut..]);
                let mut front = std::mem::replace(self, spare);
                front.truncate(cut);
                front
            }
            Repr::Mapped { map, start, len } => {
                let front = ChunkBuf {
                    repr: Repr::Mapped {
                        map: map.clone(),
                        start: *start,
                        len: cut,
                    },
                };
                *start += cut;
                *len -= cut;
                front
            }
        }
    }
}

/// The largest page-cache folio a fault maps whole (x86-64's PMD size).
const UNMAP_ALIGN: usize = 2 << 20;

impl Drop for ChunkBuf {
    fn drop(&mut self) {
        if let Repr::Mapped { map, start, len } = &self.repr {
            if *len == 0 {
                return;
            }
            // A fault maps more than the page touched: the aligned 64 KiB
            // around it (the kernel's fault-around) or the whole large
            // folio the page cache holds it in, up to 2 MiB and naturally
            // aligned. So reading the first bytes of this window may have
            // mapped pages of the one before it after that was unmapped;
            // measured, such leftovers at every chunk boundary held 30 MiB
            // of a 1 GiB input. Unmapping from the 2 MiB boundary at or
            // before `start` takes them too.
            let from = *start / UNMAP_ALIGN * UNMAP_ALIGN;
            // SAFETY: MADV_DONTNEED on a read-only file mapping only drops
            // this process's page table entries: a later access (a window
            // still in use that shares a page of the range) maps the same
            // file bytes again (madvise(2)). No `&[u8]` into the range
            // outlives `self`, and other windows read the file, not freed
            // memory. memmap2 widens the range to whole pages (unix.rs,
            // `advise`). Failure only leaves the pages mapped.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, *start + *len - from)
            };
        }
    }
}

impl From<Vec<u8>> for ChunkBuf {
    fn from(bytes: Vec<u8>) -> ChunkBuf {
        let len = bytes.len();
        ChunkBuf {
            repr: Repr::Owned { bytes, len },
        }
    }
}

impl Deref for ChunkBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match &self.repr {
            Repr::Owned { bytes, len } => &bytes[..*len],
            Repr::Mapped { map, start, len } => &map[*start..*start + *len],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The usual page size; the test holds for any.
    const PAGE: usize = 4096;

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

    fn mapped_file(data: &[u8]) -> Arc<Mmap> {
        use std::io::Write;
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        Arc::new(unsafe { Mmap::map(&f) }.unwrap())
    }

    #[test]
    fn windows_split_and_grow_over_the_file() {
        let data: Vec<u8> = (0..3 * PAGE + 17).map(|i| (i * 7 % 251) as u8).collect();
        let mut b = ChunkBuf::mapped(mapped_file(&data));
        assert_eq!(b.grow_mapped(PAGE + 5), Some(PAGE + 5));
        assert_eq!(&*b, &data[..PAGE + 5]);
        let front = b.split_front(PAGE - 3, ChunkBuf::default());
        assert_eq!(&*front, &data[..PAGE - 3]);
        assert_eq!(&*b, &data[PAGE - 3..PAGE + 5]);
        // Dropping the front unmaps the page the rest starts in: reading
        // the rest maps it again, with the file's bytes.
        drop(front);
        assert_eq!(&*b, &data[PAGE - 3..PAGE + 5]);
        assert_eq!(b.grow_mapped(usize::MAX), Some(data.len() - PAGE - 5));
        assert_eq!(b.grow_mapped(1), Some(0));
        assert_eq!(&*b, &data[PAGE - 3..]);
        // Asking a window for room turns it into owned bytes, same data.
        b.extend_from_slice(b"!");
        assert!(!b.is_mapped());
        assert_eq!(&b[..b.len() - 1], &data[PAGE - 3..]);
        let mut o = ChunkBuf::from(b"abcdef".to_vec());
        let f = o.split_front(2, ChunkBuf::from(b"junk junk".to_vec()));
        assert_eq!((&*f, &*o), (&b"ab"[..], &b"cdef"[..]));
    }
}
