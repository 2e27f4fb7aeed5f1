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

/// Opens `path` (or stdin for `None` / `-`).
pub fn open(path: Option<&Path>) -> Result<Input> {
    match path {
        Some(p) if p != Path::new("-") => open_file(p, false),
        _ => from_reader(Box::new(io::stdin()), None),
    }
}

impl Input {
    /// Whether the input is framed from a mapping of its file
    /// ([`open_mapped`]) rather than read.
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
/// truncation raise SIGBUS, which [`guard_sigbus`] turns into an error
/// message and an exit without an output file, and the run fails when the
/// file's size or times changed (`Mapped::check_unchanged`).
pub fn open_mapped(path: &Path) -> Result<Input> {
    match path == Path::new("-") {
        true => open(None),
        false => open_file(path, true),
    }
}

/// Opens the file at `path`, mapped if `map` allows and it can be.
fn open_file(path: &Path, map: bool) -> Result<Input> {
    let f = File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let meta = f.metadata().ok().filter(|m| m.is_file());
    let size = meta.as_ref().map(|m| m.len());
    // SAFETY: the mapping is read-only; the file changing under it is the
    // documented hazard above (a lost page raises SIGBUS, handled by
    // `guard_sigbus`; any other change fails `Mapped::check_unchanged` at
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
        guard_sigbus();
        // Detection read the head through `reader`; the mapping is framed
        // from its first byte and counts its own progress.
        input.consumed.store(0, Ordering::Relaxed);
        input.mapped = Some(mapped);
    }
    Ok(input)
}

/// Installs, once, a SIGBUS handler for mapped inputs: when a mapped file
/// is truncated while dumpsed reads it, reading a lost page raises SIGBUS
/// (mmap(2), "Errors"), which would end the process with only "Bus error".
/// The handler says what happened and exits 4 (a read failure, README
/// "Exit status"); when output.rs has a SIGTERM handler (a named temporary
/// output file to remove; an unnamed one goes with the process), it ends
/// the process through that instead, and `_exit`s if that has not happened
/// within a few seconds. It calls only async-signal-safe functions
/// (signal-safety(7)).
fn guard_sigbus() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction with an empty mask and a plain
        // handler is a valid argument to sigaction(2).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut());
        }
    });
}

extern "C" fn on_sigbus(_signal: libc::c_int) {
    const MSG: &[u8] = b"dumpsed: error: reading the memory-mapped input failed (SIGBUS): the input file shrank \
while it was being read, or its device failed. No output file was made (what went to stdout, a pipe or \
a device is incomplete: discard it). Rewrite a copy that nothing else writes to, or read the input with \
`dumpsed rewrite --no-mmap`\n";
    // SAFETY: write(2), kill(2), nanosleep(2) and _exit(2) are
    // async-signal-safe; MSG is static.
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
        if crate::output::CLEANUP_ON_SIGTERM.load(Ordering::Relaxed) {
            crate::output::SIGNAL_EXIT_CODE.store(4, Ordering::Relaxed);
            libc::kill(libc::getpid(), libc::SIGTERM);
            let pause = libc::timespec { tv_sec: 0, tv_nsec: 100_000_000 };
            for _ in 0..50 {
                libc::nanosleep(&pause, std::ptr::null_mut());
            }
        }
        libc::_exit(4);
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
        (Box::new(Lz4Reader::new(buffered)), Compression::Lz4)
    } else {
        (Box::new(buffered), Compression::None)
    };
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
