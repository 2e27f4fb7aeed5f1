//! Opening the input: file or stdin, compression detected by magic bytes,
//! and formats that are not plain dumps refused with advice.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;
use memmap2::Mmap;

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

/// An opened input, decompressed; `'a` is the source's lifetime (a
/// caller's borrowed reader needs no `'static`: the pipeline's threads are
/// scoped).
pub struct Input<'a> {
    /// The decompressed bytes.
    pub reader: Box<dyn Read + Send + 'a>,
    /// The compression detected from the magic bytes.
    pub compression: Compression,
    /// Size of the source in bytes (compressed size for gzip), when known.
    pub size: Option<u64>,
    /// Source bytes consumed so far.
    pub consumed: Arc<AtomicU64>,
    /// The whole file, mapped, when [`open_mapped`] could map it: the
    /// reader then frames chunks in the mapping instead of `reader`.
    pub(crate) mapped: Option<Mapped>,
}

/// A mapped input file, and its size and times when it was mapped.
pub(crate) struct Mapped {
    pub(crate) map: Arc<Mmap>,
    file: File,
    stamp: (u64, i64, i64, i64, i64),
}

impl Mapped {
    fn stamp(m: &std::fs::Metadata) -> (u64, i64, i64, i64, i64) {
        use std::os::unix::fs::MetadataExt;
        (m.len(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec())
    }

    /// An error when the file's size or modification times are not what
    /// they were when it was mapped. A mapped file is read more than once
    /// (the reader frames, a worker checks and rewrites, the writer copies
    /// the unchanged runs from the mapping again), so a change during the
    /// run can put bytes in the output that nothing checked: a truncation
    /// inside the last page reads as zeros, with no SIGBUS (mmap(2)), and
    /// a rewrite in place changes bytes between the check and the copy.
    pub(crate) fn check_unchanged(&self) -> Result<()> {
        let now = self
            .file
            .metadata()
            .map_err(|e| Error::io("checking the input file after the run", e))?;
        if Mapped::stamp(&now) != self.stamp {
            return Err(Error::io(
                "reading the input",
                io::Error::other(
                    "the input file changed while it was being read (it is read memory-mapped, and its size \
                     or modification time is not what it was at the start): no output file was made (what \
                     went to stdout, a pipe or a device is not a rewrite of one version of it: discard it). \
                     Rewrite a copy that nothing else writes to",
                ),
            ));
        }
        Ok(())
    }
}

/// Fills `buf` from `r`; fewer bytes only at the end of the input.
pub(crate) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Opens `path` (or stdin for `None` / `-`).
pub fn open(path: Option<&Path>) -> Result<Input<'static>> {
    match path {
        Some(p) if p != Path::new("-") => open_file(p, false),
        _ => from_reader(Box::new(io::stdin()), None),
    }
}

impl Input<'_> {
    /// Whether the input is framed from a mapping of its file
    /// ([`open_mapped`]) rather than read.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn is_mapped(&self) -> bool {
        self.mapped.is_some()
    }
}

/// Opens `path` like [`open`], mapped into memory (mmap(2)) when it is a
/// non-empty regular file that is not compressed: framing a mapped file
/// costs no copy out of the page cache, the largest cost left to the
/// reader's thread (README, "Performance"). Anything else (a pipe, a compressed
/// file, a file the system will not map) is read as by [`open`].
///
/// A mapped file must not change while it is read: bytes past a
/// truncation raise SIGBUS, which `output::guard_sigbus` turns into an error
/// message and an exit without an output file, and the run fails when the
/// file's size or times changed (`Mapped::check_unchanged`).
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
pub fn open_mapped(path: &Path) -> Result<Input<'static>> {
    match path == Path::new("-") {
        true => open(None),
        false => open_file(path, true),
    }
}

/// Opens the file at `path`, mapped if `map` allows and it can be.
fn open_file(path: &Path, map: bool) -> Result<Input<'static>> {
    let f = File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    from_file(f, map)
}

/// An input read from `f`, already open and positioned at its first byte
/// (a caller that looked at its head seeks back first), mapped if `map`
/// allows and it is a non-empty regular file that is not compressed, as
/// [`open_mapped`] says. A FIFO or device is read as it comes: it is never
/// opened a second time, which would lose what was read or block.
pub fn from_file(f: File, map: bool) -> Result<Input<'static>> {
    let meta = f.metadata().ok().filter(|m| m.is_file());
    let size = meta.as_ref().map(|m| m.len());
    // SAFETY: the mapping is read-only; the file changing under it is the
    // documented hazard above (a lost page raises SIGBUS, handled by
    // `output::guard_sigbus`; any other change fails `Mapped::check_unchanged` at
    // the end of the run).
    let mapped = match (&meta, size) {
        (Some(m), Some(n)) if map && n > 0 => match (unsafe { Mmap::map(&f) }, f.try_clone()) {
            (Ok(map), Ok(file)) => Some(Mapped {
                map: Arc::new(map),
                file,
                stamp: Mapped::stamp(m),
            }),
            _ => None,
        },
        _ => None,
    };
    let mut input = from_reader(Box::new(f), size)?;
    if let (Some(mapped), Compression::None) = (mapped, input.compression) {
        // Only a hint for the kernel's read-ahead: a refusal changes nothing.
        let _ = mapped.map.advise(memmap2::Advice::Sequential);
        crate::io::output::guard_sigbus();
        // Detection read the head through `reader`; the mapping is framed
        // from its first byte and counts its own progress.
        input.consumed.store(0, Ordering::Relaxed);
        input.mapped = Some(mapped);
    }
    Ok(input)
}

/// Wraps any byte source, detecting compression from its first bytes.
pub fn from_reader<'a>(raw: Box<dyn Read + Send + 'a>, size: Option<u64>) -> Result<Input<'a>> {
    let consumed = Arc::new(AtomicU64::new(0));
    let mut counting = Counting {
        inner: raw,
        count: consumed.clone(),
    };
    // The longest magic below (SQLite's, 16 bytes) read whole, fewer only
    // at the end of the input: a pipe or any `Read` may hand out a byte at
    // a time, and a gzip input whose first read gave 1 byte was read as
    // plain bytes (found by fuzz/fuzz_targets/input_open.rs). The bytes
    // looked at go in front of the rest, never read twice.
    let mut magic = [0u8; 16];
    let n = read_full(&mut counting, &mut magic).map_err(|e| Error::io("reading input", e))?;
    let mut buffered = BufReader::with_capacity(256 << 10, io::Cursor::new(magic[..n].to_vec()).chain(counting));
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
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    if !(gzip || zstd || lz4) {
        return Ok(Input {
            reader: Box::new(buffered),
            compression: Compression::None,
            size,
            consumed,
            mapped: None,
        });
    }
    let at = Arc::new(SourcePos::default());
    let source = Tracked {
        inner: buffered,
        at: at.clone(),
    };
    let (decoder, compression): (Box<dyn Read + Send + 'a>, _) = if gzip {
        // Multi-member: concatenated gzip files and pigz output are valid gzip.
        (Box::new(MultiGzDecoder::new(source)), Compression::Gzip)
    } else if zstd {
        // Concatenated frames are one stream, as for gzip members.
        let d = zstd::stream::read::Decoder::with_buffer(source)
            .map_err(|e| Error::io("starting zstd decompression", e))?;
        (Box::new(d), Compression::Zstd)
    } else {
        (Box::new(Lz4Reader::new(source)), Compression::Lz4)
    };
    let reader = Box::new(Decoded {
        inner: decoder,
        compression,
        at,
        bytes: 0,
        lines: 0,
        pending: None,
    });
    Ok(Input {
        reader,
        compression,
        size,
        consumed,
        mapped: None,
    })
}

/// LZ4 frames one after another, read as one stream, as `lz4 -d` reads
/// them (the LZ4 frame format allows concatenated frames; dumpsed writes
/// one per chunk), and refused when the input ends inside a frame.
///
/// lz4_flex's decoder reports both a frame's EndMark and an end of input
/// met between blocks (or inside the frame header) as the end of its
/// stream, so a file cut at a block boundary would read as whole, rows lost
/// and the content checksum (checked at the EndMark) never verified. Here
/// the end of input counts only where no byte was read since the last
/// EndMark (LZ4 frame format §2: a frame ends with its EndMark, then the
/// optional content checksum).
pub(crate) struct Lz4Reader<R: Read> {
    dec: lz4_flex::frame::FrameDecoder<EofWatch<R>>,
    /// Bytes of input read when the last frame ended (or at the start).
    clean_at: u64,
}

impl<R: Read> Lz4Reader<R> {
    pub(crate) fn new(r: R) -> Self {
        Lz4Reader {
            dec: lz4_flex::frame::FrameDecoder::new(EofWatch { r, n: 0, eof: false }),
            clean_at: 0,
        }
    }
}

impl<R: Read> Read for Lz4Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            self.dec.get_mut().eof = false;
            let n = self.dec.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            let w = self.dec.get_ref();
            if !w.eof {
                // An EndMark (and checksum) read: the frame is whole.
                self.clean_at = w.n;
                continue;
            }
            if w.n == self.clean_at {
                return Ok(0);
            }
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "truncated LZ4 data: the input ends {} bytes into a frame, before its EndMark",
                    w.n - self.clean_at
                ),
            ));
        }
    }
}

/// Counts the bytes read and notes an end of input.
struct EofWatch<R> {
    r: R,
    n: u64,
    eof: bool,
}

impl<R: Read> Read for EofWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.r.read(buf)?;
        if k == 0 && !buf.is_empty() {
            self.eof = true;
        }
        self.n += k as u64;
        Ok(k)
    }
}

/// How far a decoder has read its compressed source, and whether it met
/// the source's end: what a decompression error is reported with.
#[derive(Default)]
struct SourcePos {
    /// Compressed bytes the decoder has taken.
    taken: AtomicU64,
    /// The end of the compressed bytes last handed to the decoder: a
    /// decoder that fails has taken these, or has them in hand.
    seen: AtomicU64,
    /// The source returned its end to the decoder.
    ended: std::sync::atomic::AtomicBool,
}

/// The compressed source as its decoder sees it, counting what the decoder
/// takes (read, or consumed after `fill_buf`).
struct Tracked<B> {
    inner: B,
    at: Arc<SourcePos>,
}

impl<B: BufRead> Read for Tracked<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.at.ended.store(true, Ordering::Relaxed);
        }
        let taken = self.at.taken.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        self.at.seen.fetch_max(taken, Ordering::Relaxed);
        Ok(n)
    }
}

impl<B: BufRead> BufRead for Tracked<B> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let b = self.inner.fill_buf()?;
        if b.is_empty() {
            self.at.ended.store(true, Ordering::Relaxed);
        }
        let end = self.at.taken.load(Ordering::Relaxed) + b.len() as u64;
        self.at.seen.fetch_max(end, Ordering::Relaxed);
        Ok(b)
    }
    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.at.taken.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The decompressed stream, whose errors say what a DBA needs instead of
/// the library's bare text (`failed to fill whole buffer`,
/// `ContentChecksumError`, `incomplete frame`): truncated or corrupt, at
/// which compressed byte, and how far the decompressed text had got.
struct Decoded<'a> {
    inner: Box<dyn Read + Send + 'a>,
    compression: Compression,
    at: Arc<SourcePos>,
    /// Decompressed bytes returned so far.
    bytes: u64,
    /// Newlines among them.
    lines: u64,
    /// An error met after some bytes of a read, reported by the next read.
    pending: Option<io::Error>,
}

/// Bytes asked of the decoder at a time. A decoder that fails drops the
/// text it decompressed in that call, so smaller steps lose less of what
/// the error message can say was read.
const DECODE_STEP: usize = 64 << 10;

impl Read for Decoded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.pending.take() {
            return Err(e);
        }
        let mut n = 0;
        while n < buf.len() {
            let end = buf.len().min(n + DECODE_STEP);
            match self.inner.read(&mut buf[n..end]) {
                Ok(0) => break,
                Ok(k) => {
                    self.bytes += k as u64;
                    self.lines += count_newlines(&buf[n..n + k]);
                    n += k;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if n == 0 => return Err(self.explain(e)),
                Err(e) => {
                    self.pending = Some(self.explain(e));
                    break;
                }
            }
        }
        Ok(n)
    }
}

/// Newlines in `b`, counted in byte-wide lanes over runs of 255 bytes (no
/// lane can overflow), which the compiler vectorises: about five times
/// faster than a filtered count, a few per cent of the time it takes to
/// decompress the same bytes.
fn count_newlines(b: &[u8]) -> u64 {
    b.chunks(255)
        .map(|run| u64::from(run.iter().fold(0u8, |n, &c| n.wrapping_add(u8::from(c == b'\n')))))
        .sum()
}

impl Decoded<'_> {
    fn explain(&self, e: io::Error) -> io::Error {
        let alg = self.compression;
        let what = if self.at.ended.load(Ordering::Relaxed) {
            format!(
                "truncated {alg} input: the compressed data ends at byte {} in the middle of a {alg} {} \
                 (the file was cut short, or is damaged before that point)",
                self.at.taken.load(Ordering::Relaxed),
                if alg == Compression::Gzip { "member" } else { "frame" }
            )
        } else {
            let seen = self.at.seen.load(Ordering::Relaxed);
            format!("corrupt {alg} input: damaged compressed data at or before compressed byte {seen}")
        };
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{what}; the decompressed text read before the error ends at line {}, byte {} ({alg} decoder: {e})",
                self.lines + 1,
                self.bytes
            ),
        )
    }
}
