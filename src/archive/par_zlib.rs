//! One zlib stream compressed on several cores, as pigz does for gzip.
//!
//! A custom-format data block is one zlib stream (`compress_gzip.c`), so
//! a rewritten table cannot be cut into independent streams the way plain
//! gzip output is (members, `pipeline.rs`). Deflate itself allows it: the
//! input is cut into blocks, each compressed on its own by a worker as raw
//! deflate ended with a sync flush (`Z_SYNC_FLUSH` ends on a byte boundary
//! with an empty stored block and leaves `BFINAL` unset), and the pieces,
//! written in order, are one deflate stream (RFC 1951 §3.2.3: a stream is
//! any sequence of blocks, the last one marked final). The stream is
//! closed with an empty final fixed-Huffman block (`03 00`), framed with
//! the zlib header and the big-endian Adler-32 of all the data (RFC 1950
//! §2.2), combined from each block's own checksum (`adler32_combine`,
//! zlib's `adler32.c`).
//!
//! Each block starts with an empty window (no preset dictionary), which
//! costs a little ratio at block starts; blocks are 1 MiB, so it is far
//! below 1 %. Memory: at most `inflight` blocks in and out at once.

use std::collections::VecDeque;
use std::io::{self, Write};

use crossbeam_channel::{bounded, Receiver};
use flate2::{Compress, Compression, FlushCompress};

/// Uncompressed bytes per independently compressed block.
const BLOCK: usize = 1 << 20;

type Piece = io::Result<(Vec<u8>, u32, u64)>;

/// A `Write` that compresses what it is given into one zlib stream, in
/// parallel, writing to `inner` in order. [`ParZlib::finish`] ends it.
pub struct ParZlib<W: Write> {
    inner: W,
    level: u32,
    buf: Vec<u8>,
    pending: VecDeque<Receiver<Piece>>,
    inflight: usize,
    adler: u32,
    started: bool,
}

impl<W: Write> ParZlib<W> {
    /// A stream at zlib `level` (0–9) into `inner`.
    pub fn new(inner: W, level: u32) -> Self {
        ParZlib {
            inner,
            level: level.min(9),
            buf: Vec::with_capacity(BLOCK),
            pending: VecDeque::new(),
            inflight: 2 * rayon::current_num_threads().max(1),
            adler: 1,
            started: false,
        }
    }

    /// The two header bytes zlib's `deflate` writes for `level` (RFC 1950
    /// §2.2: CM 8, a 32 KiB window, FLEVEL as `deflate.c` sets it, FCHECK
    /// making the pair a multiple of 31).
    fn header(level: u32) -> [u8; 2] {
        let cmf = 0x78u16;
        let flevel: u16 = match level {
            0 | 1 => 0,
            2..=5 => 1,
            6 => 2,
            _ => 3,
        };
        let mut flg = flevel << 6;
        flg += 31 - ((cmf << 8) + flg) % 31;
        [cmf as u8, flg as u8]
    }

    fn send_block(&mut self) -> io::Result<()> {
        if !self.started {
            self.inner.write_all(&Self::header(self.level))?;
            self.started = true;
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        while self.pending.len() >= self.inflight {
            self.write_next()?;
        }
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        let (tx, rx) = bounded(1);
        let level = self.level;
        rayon::spawn(move || {
            let piece = deflate_block(level, &data).map(|c| (c, zlib_rs::adler32::adler32(1, &data), data.len() as u64));
            let _ = tx.send(piece);
        });
        self.pending.push_back(rx);
        Ok(())
    }

    fn write_next(&mut self) -> io::Result<()> {
        let Some(rx) = self.pending.pop_front() else { return Ok(()) };
        let (bytes, adler, len) = rx
            .recv()
            .map_err(|_| io::Error::other("a compression worker stopped"))??;
        self.inner.write_all(&bytes)?;
        self.adler = zlib_rs::adler32::adler32_combine(self.adler, adler, len);
        Ok(())
    }

    /// Compresses what is left, ends the stream and gives back `inner`.
    pub fn finish(mut self) -> io::Result<W> {
        self.send_block()?;
        while !self.pending.is_empty() {
            self.write_next()?;
        }
        // An empty final block (BFINAL 1, fixed Huffman, end-of-block).
        self.inner.write_all(&[0x03, 0x00])?;
        self.inner.write_all(&self.adler.to_be_bytes())?;
        Ok(self.inner)
    }
}

thread_local! {
    /// Each worker's compressor, reset between blocks: deflate's state is
    /// most of a MiB, and allocating it per block grows every thread's
    /// malloc arena.
    static COMPRESSOR: std::cell::RefCell<Option<(u32, Compress)>> = const { std::cell::RefCell::new(None) };
}

/// Raw deflate of `data`, ended by a sync flush (so no `BFINAL`).
fn deflate_block(level: u32, data: &[u8]) -> io::Result<Vec<u8>> {
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let c = match slot.as_mut() {
            Some((l, c)) if *l == level => {
                c.reset();
                c
            }
            _ => &mut slot.insert((level, Compress::new(Compression::new(level), false))).1,
        };
        let mut out = Vec::with_capacity(data.len() / 2 + 1024);
        loop {
            let done = c.total_in() as usize;
            c.compress_vec(&data[done..], &mut out, FlushCompress::Sync)
                .map_err(|e| io::Error::other(format!("deflate: {e}")))?;
            // zlib's rule for a flush: complete once deflate returns with
            // output space left over.
            if c.total_in() as usize == data.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            out.reserve(out.capacity().max(1024));
        }
    })
}

impl<W: Write> Write for ParZlib<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = (BLOCK - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == BLOCK {
            self.send_block()?;
        }
        Ok(n)
    }

    /// Does nothing: everything is written by [`ParZlib::finish`].
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Read;

    fn inflate(z: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(z).read_to_end(&mut out).expect("valid zlib stream");
        out
    }

    fn compress(data: &[u8], level: u32, writes: usize) -> Vec<u8> {
        let mut z = ParZlib::new(Vec::new(), level);
        for part in data.chunks(writes.max(1)) {
            z.write_all(part).expect("write");
        }
        z.finish().expect("finish")
    }

    #[test]
    fn many_blocks_inflate_to_the_input_and_zlib_accepts_the_checksum() {
        // Compressible and incompressible parts, over several blocks.
        let mut data = Vec::new();
        let mut x = 0x9e3779b97f4a7c15u64;
        for i in 0..(3 * BLOCK + 12345) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data.push(if (i / 100_000) % 2 == 0 { b"COPY row\t"[i % 9] } else { x as u8 });
        }
        for level in [1, 6, 9] {
            let z = compress(&data, level, 70_000);
            assert_eq!(inflate(&z), data, "level {level}");
            // flate2 checks the Adler-32 trailer; check the header too.
            assert_eq!((u16::from(z[0]) << 8 | u16::from(z[1])) % 31, 0);
        }
        // A corrupted checksum is caught by the decoder, so the test above
        // does check it.
        let mut z = compress(&data, 6, BLOCK);
        let n = z.len();
        z[n - 1] ^= 1;
        let mut sink = Vec::new();
        assert!(flate2::read::ZlibDecoder::new(&z[..]).read_to_end(&mut sink).is_err());
    }

    #[test]
    fn empty_input_is_a_valid_empty_stream() {
        assert_eq!(inflate(&compress(b"", 6, 1)), b"");
    }

    #[test]
    fn header_matches_what_zlib_writes() {
        // Compare with flate2's own single-threaded zlib encoder.
        for level in 0..=9 {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::new(level));
            e.write_all(b"x").expect("write");
            let z = e.finish().expect("finish");
            assert_eq!(ParZlib::<Vec<u8>>::header(level), [z[0], z[1]], "level {level}");
        }
    }

    proptest! {
        #[test]
        fn any_data_any_writes_round_trip(data in proptest::collection::vec(any::<u8>(), 0..5000), w in 1usize..700) {
            prop_assert_eq!(inflate(&compress(&data, 6, w)), data);
        }
    }
}
