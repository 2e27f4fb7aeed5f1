//! Compression of custom-format data blocks.
//!
//! A custom-format data block (`pg_backup_custom.c`, `_StartData`,
//! `_CustomWriteFunc`, `_EndData`) is a run of chunks, each an Int length
//! and that many bytes, ended by an Int 0. The chunks' concatenation is one
//! compressed stream: for gzip a zlib stream (`deflateInit`, not gzip; see
//! `compress_gzip.c` / `compress_io.c`), written in chunks of
//! `ZLIB_OUT_SIZE` (4096) compressed bytes; uncompressed, one chunk per
//! `WriteData` call (a COPY row).

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use flate2::read::ZlibDecoder;

use super::par_zlib::ParZlib;
use super::toc::{In, Out};
use super::{Algorithm, ArchiveError};
use crate::codec::copy_text::{RowStream, StreamError};

/// Compressed bytes per chunk written (`ZLIB_OUT_SIZE` in `compress_io.h`).
pub const CHUNK: usize = 4096;

/// The first error met while reading a block, with its offset.
pub type ErrSlot = Arc<Mutex<Option<ArchiveError>>>;

fn remember(slot: &ErrSlot, e: ArchiveError) -> io::Error {
    let msg = e.to_string();
    if let Ok(mut s) = slot.lock() {
        if s.is_none() {
            *s = Some(e);
        }
    }
    io::Error::other(msg)
}

/// Where a [`ChunkReader`] copies each chunk it reads, length word
/// included, when a block passes through unchanged.
pub trait ChunkTee {
    /// A chunk's length word (the Int 0 that ends the block too).
    fn length(&mut self, len: i64) -> io::Result<()>;
    /// Bytes of a chunk, in order.
    fn data(&mut self, b: &[u8]) -> io::Result<()>;
    /// Bytes written so far (for a write error's offset).
    fn written(&self) -> u64;
}

impl<W: Write> ChunkTee for Out<W> {
    fn length(&mut self, len: i64) -> io::Result<()> {
        self.int(len)
    }
    fn data(&mut self, b: &[u8]) -> io::Result<()> {
        self.bytes(b)
    }
    fn written(&self) -> u64 {
        self.pos
    }
}

/// Reads the chunks of one data block as one byte stream; with a tee, it
/// also copies each chunk, length word included, as it goes. The one
/// reader of the chunk framing: a block decompressed for rewriting, a
/// block copied unchanged and checked ([`copy_chunks`], [`copy_block`]).
///
/// Invariant: one `read` returns bytes of one chunk only, so the bytes
/// just returned start at `i.pos - n` (an error's offset in the input).
pub struct ChunkReader<'a, R> {
    pub i: &'a mut In<R>,
    tee: Option<&'a mut (dyn ChunkTee + Send)>,
    left: u64,
    done: bool,
    /// Offset of the current chunk's length word.
    pub chunk_at: u64,
    pub slot: ErrSlot,
}

impl<'a, R: Read> ChunkReader<'a, R> {
    pub fn new(i: &'a mut In<R>, slot: ErrSlot) -> Self {
        let chunk_at = i.pos;
        ChunkReader {
            i,
            tee: None,
            left: 0,
            done: false,
            chunk_at,
            slot,
        }
    }

    /// A reader that copies every chunk it reads to `tee`.
    pub fn teeing(i: &'a mut In<R>, tee: &'a mut (dyn ChunkTee + Send), slot: ErrSlot) -> Self {
        ChunkReader { tee: Some(tee), ..ChunkReader::new(i, slot) }
    }

    /// Reads and discards what is left of the block.
    pub fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }

    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The first error met, if any (taken: asked once).
    fn take_error(&self) -> Option<ArchiveError> {
        self.slot.lock().ok().and_then(|mut s| s.take())
    }

    fn tee_err(&self, e: io::Error) -> io::Error {
        let at = self.tee.as_ref().map_or(0, |t| t.written());
        remember(&self.slot, write_err(at, e))
    }
}

impl<R: Read> Read for ChunkReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.left == 0 {
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            self.chunk_at = self.i.pos;
            let at = self.i.pos;
            let len = self
                .i
                .int("a data chunk length")
                .map_err(|e| remember(&self.slot, e))?;
            if len < 0 {
                return Err(remember(&self.slot, self.i.err(at, format!("negative data chunk length {len}"))));
            }
            if let Some(t) = self.tee.as_deref_mut() {
                if let Err(e) = t.length(len) {
                    return Err(self.tee_err(e));
                }
            }
            if len == 0 {
                self.done = true;
                return Ok(0);
            }
            self.left = len as u64;
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let at = self.i.pos;
        let n = loop {
            match self.i.r.read(&mut buf[..want]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(remember(&self.slot, self.i.err(at, format!("reading a data chunk: {e}")))),
            }
        };
        if n == 0 {
            return Err(remember(
                &self.slot,
                self.i.err(at, "the archive ends in the middle of a data chunk (truncated?)"),
            ));
        }
        self.i.pos += n as u64;
        self.left -= n as u64;
        if let Some(t) = self.tee.as_deref_mut() {
            if let Err(e) = t.data(&buf[..n]) {
                return Err(self.tee_err(e));
            }
        }
        Ok(n)
    }
}

/// Checks a zlib stream without keeping its output, so that a block copied
/// unchanged is still known to decompress.
pub struct ZlibCheck {
    z: flate2::Decompress,
    scratch: Vec<u8>,
    ended: bool,
    /// The COPY rows of the data, checked as they are inflated.
    pub rows: Option<RowStream>,
}

impl Default for ZlibCheck {
    fn default() -> Self {
        ZlibCheck {
            z: flate2::Decompress::new(true),
            scratch: vec![0u8; 64 << 10],
            ended: false,
            rows: None,
        }
    }
}

impl ZlibCheck {
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() && !self.ended {
            let before = self.z.total_in();
            let out_before = self.z.total_out();
            let st = self
                .z
                .decompress(data, &mut self.scratch, flate2::FlushDecompress::None)
                .map_err(|e| format!("corrupt compressed data (zlib): {e}"))?;
            let used = (self.z.total_in() - before) as usize;
            data = &data[used..];
            if let Some(rows) = self.rows.as_mut() {
                let made = (self.z.total_out() - out_before) as usize;
                rows.feed(&self.scratch[..made]).map_err(|e| rows_msg(&e))?;
            }
            if st == flate2::Status::StreamEnd {
                self.ended = true;
            } else if used == 0 && self.z.total_out() == out_before {
                return Err("corrupt compressed data (zlib makes no progress)".into());
            }
        }
        Ok(())
    }

    pub fn finish(&mut self) -> Result<(), String> {
        if self.ended {
            match self.rows.take() {
                Some(rows) => rows.finish().map_err(|e| rows_msg(&e)),
                None => Ok(()),
            }
        } else {
            Err("the compressed data ends before its zlib stream does (truncated or corrupt block)".into())
        }
    }
}

/// A [`RowStream`] error as an archive message: the offset is in the
/// entry's decompressed data, the archive offset is the block's.
pub fn rows_msg(e: &StreamError) -> String {
    format!("{}, at byte {} of the entry's data (decompressed)", e.msg, e.at)
}

/// Reads `dec` to its end, its bytes checked by `rows` if given: `Ok(Err)`
/// at the first misframed row (the rest is then not read).
pub fn read_rows(dec: &mut dyn Read, rows: Option<RowStream>) -> io::Result<Result<(), StreamError>> {
    let Some(mut r) = rows else {
        return io::copy(dec, &mut io::sink()).map(|_| Ok(()));
    };
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = match dec.read(&mut buf) {
            Ok(0) => return Ok(r.finish()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Err(e) = r.feed(&buf[..n]) {
            return Ok(Err(e));
        }
    }
}

/// Copies one block's chunks unchanged (the block's data is not touched),
/// checking the compressed stream with `check` if given, or else the
/// uncompressed COPY rows with `rows`.
pub fn copy_chunks<R: Read, W: Write + Send>(
    i: &mut In<R>,
    o: &mut Out<W>,
    mut check: Option<&mut ZlibCheck>,
    mut rows: Option<RowStream>,
) -> Result<(), ArchiveError> {
    let start = i.pos;
    let mut buf = vec![0u8; 64 << 10];
    let mut chunks = ChunkReader::teeing(i, o, ErrSlot::default());
    loop {
        let n = match chunks.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(chunks.take_error().unwrap_or_else(|| chunks.i.err(chunks.chunk_at, e.to_string()))),
        };
        // One read is within one chunk (ChunkReader's invariant).
        let at = chunks.i.pos - n as u64;
        if let Some(c) = check.as_deref_mut() {
            c.feed(&buf[..n]).map_err(|m| chunks.i.err(at, m))?;
        }
        if let Some(r) = rows.as_mut() {
            r.feed(&buf[..n]).map_err(|e| chunks.i.err(start, rows_msg(&e)))?;
        }
    }
    if let Some(c) = check {
        c.finish().map_err(|m| chunks.i.err(start, m))?;
    }
    if let Some(r) = rows {
        r.finish().map_err(|e| chunks.i.err(start, rows_msg(&e)))?;
    }
    Ok(())
}

/// Copies one block's chunks unchanged and checks that they decompress:
/// zlib through [`ZlibCheck`], lz4 and zstd by decompressing to nowhere
/// what is copied (a corrupt block of a table no rule touches is found now,
/// not by pg_restore); with `rows`, the decompressed COPY rows are checked
/// too (a misframed row of an untouched table would fail the restore).
pub fn copy_block<R: Read, W: Write + Send>(
    i: &mut In<R>,
    o: &mut Out<W>,
    alg: Algorithm,
    rows: Option<RowStream>,
) -> Result<(), ArchiveError> {
    match alg {
        Algorithm::None => copy_chunks(i, o, None, rows),
        Algorithm::Gzip => copy_chunks(i, o, Some(&mut ZlibCheck { rows, ..ZlibCheck::default() }), None),
        Algorithm::Lz4 | Algorithm::Zstd => {
            let start = i.pos;
            let mut tee = ChunkReader::teeing(i, o, ErrSlot::default());
            let checked = (|| -> io::Result<Result<(), StreamError>> {
                let mut dec: Box<dyn Read + '_> = match alg {
                    Algorithm::Lz4 => Box::new(crate::io::input::Lz4Reader::new(&mut tee)),
                    _ => Box::new(zstd::stream::read::Decoder::new(&mut tee)?),
                };
                read_rows(&mut dec, rows)
            })();
            if let Some(e) = tee.take_error() {
                return Err(e);
            }
            let at = tee.chunk_at;
            checked
                .map_err(|e| tee.i.err(at, format!("corrupt or truncated compressed data ({alg}): {e}")))?
                .map_err(|e| tee.i.err(start, rows_msg(&e)))?;
            // What follows the frame in the block is copied as it is.
            io::copy(&mut tee, &mut io::sink()).map_err(|e| tee.i.err(tee.chunk_at, e.to_string()))?;
            match tee.take_error() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
    }
}

pub fn write_err(at: u64, e: io::Error) -> ArchiveError {
    ArchiveError {
        offset: at,
        entry: Some("the output".into()),
        msg: format!("writing: {e}"),
    }
}

/// Writes a byte stream as chunks of at most [`CHUNK`] bytes.
pub struct ChunkWriter<'a, W> {
    pub o: &'a mut Out<W>,
    buf: Vec<u8>,
}

impl<'a, W: Write> ChunkWriter<'a, W> {
    pub fn new(o: &'a mut Out<W>) -> Self {
        ChunkWriter {
            o,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn emit(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.o.int(self.buf.len() as i64)?;
            self.o.bytes(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes what is buffered and the Int 0 that ends the block.
    pub fn finish(mut self) -> io::Result<()> {
        self.emit()?;
        self.o.int(0)
    }
}

impl<W: Write> Write for ChunkWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.emit()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A decompressing reader over a block's chunks.
pub fn decoder<'a, R: Read + Send + 'a>(
    alg: Algorithm,
    chunks: R,
) -> Result<Box<dyn Read + Send + 'a>, String> {
    Ok(match alg {
        Algorithm::None => Box::new(chunks),
        Algorithm::Gzip => Box::new(ZlibDecoder::new(chunks)),
        // One LZ4F frame per block (`compress_lz4.c`); a block cut before
        // its EndMark is an error.
        Algorithm::Lz4 => Box::new(crate::io::input::Lz4Reader::new(chunks)),
        // One zstd frame per block (`compress_zstd.c`).
        Algorithm::Zstd => Box::new(zstd::stream::read::Decoder::new(chunks).map_err(|e| e.to_string())?),
    })
}

/// zstd's default level, which pg_dump uses when none is given
/// (`ZSTD_CLEVEL_DEFAULT`; the archive does not record the level).
pub const ZSTD_LEVEL: i32 = 3;

/// A compressing writer, finished with [`Encoder::finish`].
pub enum Encoder<W: Write> {
    None(W),
    /// Compressed on every core (`par_zlib.rs`).
    Gzip(ParZlib<W>),
    Lz4(lz4_flex::frame::FrameEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    pub fn new(alg: Algorithm, level: u32, w: W) -> Result<Encoder<W>, String> {
        Ok(match alg {
            Algorithm::None => Encoder::None(w),
            Algorithm::Gzip => Encoder::Gzip(ParZlib::new(w, level)),
            Algorithm::Lz4 => Encoder::Lz4(lz4_flex::frame::FrameEncoder::new(w)),
            Algorithm::Zstd => Encoder::Zstd(
                zstd::stream::write::Encoder::new(w, ZSTD_LEVEL).map_err(|e| e.to_string())?,
            ),
        })
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::None(w) => Ok(w),
            Encoder::Gzip(e) => e.finish(),
            Encoder::Lz4(e) => e.finish().map_err(io::Error::other),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::None(w) => w.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Lz4(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }
    /// Does nothing: a zlib flush would add a sync block to the stream;
    /// everything is written by [`Encoder::finish`].
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
