//! Opening the input: file or stdin, compression detected by magic bytes,
//! and formats that are not plain dumps refused with advice.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;

use crate::error::{Error, Result};

/// Compression of the input, as detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip members (`pg_dump -Fp -Z N`, `gzip`).
    Gzip,
    /// zstd frames (pg_dump 16's `-Fp -Z zstd`, or `zstd`).
    Zstd,
    /// LZ4 frames (pg_dump 16's `-Fp -Z lz4`, or `lz4`).
    Lz4,
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::Lz4 => "lz4",
        })
    }
}

/// Counts the bytes read from the underlying (possibly compressed) source,
/// for progress reporting.
pub struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An opened input, decompressed.
pub struct Input {
    /// The decompressed bytes.
    pub reader: Box<dyn Read + Send>,
    /// The compression detected from the magic bytes.
    pub compression: Compression,
    /// Size of the source in bytes (compressed size for gzip), when known.
    pub size: Option<u64>,
    /// Source bytes consumed so far.
    pub consumed: Arc<AtomicU64>,
}

/// Opens `path` (or stdin for `None` / `-`).
pub fn open(path: Option<&Path>) -> Result<Input> {
    match path {
        Some(p) if p != Path::new("-") => {
            let f = File::open(p).map_err(|e| Error::io(format!("opening {}", p.display()), e))?;
            let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
            from_reader(Box::new(f), size)
        }
        _ => from_reader(Box::new(io::stdin()), None),
    }
}

/// Wraps any byte source, detecting compression from its first bytes.
pub fn from_reader(raw: Box<dyn Read + Send>, size: Option<u64>) -> Result<Input> {
    let consumed = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        inner: raw,
        count: consumed.clone(),
    };
    let mut buffered = BufReader::with_capacity(256 << 10, counting);
    // One fill_buf: a pipe may deliver only a few bytes, which can only
    // weaken the detection of the refused formats below, never framing.
    let head = buffered
        .fill_buf()
        .map_err(|e| Error::io("reading input", e))?;
    if head.starts_with(b"PGDMP") {
        return Err(Error::Unsupported(
            "this is a pg_dump archive, not a plain SQL dump: `dumpsed rewrite` reads archives \
             (custom, directory, tar); for this command convert it first with \
             `pg_restore -f plain.sql ARCHIVE` (no database needed)"
                .into(),
        ));
    }
    if head.starts_with(b"SQLite format 3\0") {
        return Err(Error::Unsupported(
            "this is an SQLite database file, not a dump; make a dump with `sqlite3 FILE .dump > dump.sql`".into(),
        ));
    }
    // Frame magic numbers: zstd RFC 8878 §3.1.1 (0xFD2FB528 little-endian),
    // LZ4 frame format §2 (0x184D2204); pg_dump 16 writes plain dumps in
    // either with `-Z zstd` / `-Z lz4` (compress_zstd.c, compress_lz4.c).
    let zstd = head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    let lz4 = head.starts_with(&[0x04, 0x22, 0x4d, 0x18]);
    let (reader, compression): (Box<dyn Read + Send>, _) = if head.starts_with(&[0x1f, 0x8b]) {
        // Multi-member: concatenated gzip files and pigz output are valid gzip.
        (Box::new(MultiGzDecoder::new(buffered)), Compression::Gzip)
    } else if zstd {
        // Concatenated frames are one stream, as for gzip members.
        let d = zstd::stream::read::Decoder::with_buffer(buffered)
            .map_err(|e| Error::io("starting zstd decompression", e))?;
        (Box::new(d), Compression::Zstd)
    } else if lz4 {
        (Box::new(Lz4Frames(lz4_flex::frame::FrameDecoder::new(buffered))), Compression::Lz4)
    } else {
        (Box::new(buffered), Compression::None)
    };
    Ok(Input {
        reader,
        compression,
        size,
        consumed,
    })
}

/// LZ4 frames one after another, read as one stream, as `lz4 -d` reads
/// them (the LZ4 frame format allows concatenated frames; dumpsed writes
/// one per chunk): lz4_flex's decoder reports the end of each frame as the
/// end of input, so go on while bytes are left.
struct Lz4Frames<R: BufRead>(lz4_flex::frame::FrameDecoder<R>);

impl<R: BufRead> Read for Lz4Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.0.read(buf)?;
            if n > 0 || buf.is_empty() || self.0.get_mut().fill_buf()?.is_empty() {
                return Ok(n);
            }
        }
    }
}
