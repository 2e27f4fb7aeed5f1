//! pg_dump archives: custom (`-Fc`), directory (`-Fd`) and tar (`-Ft`)
//! formats, read and written without PostgreSQL.
//!
//! The codec is lossless: every header and TOC field is kept as stored
//! (NULL and empty strings distinct, dependencies, sections, dump ids), and
//! data blocks that the [`Edit`] leaves alone are copied byte for byte
//! without decompressing them. Edited data is streamed: decompressed,
//! rewritten and recompressed chunk by chunk, never held whole.
//!
//! Sources: `src/bin/pg_dump/pg_backup_archiver.c` (header, TOC,
//! primitives), `pg_backup_custom.c` (data blocks, offsets),
//! `pg_backup_directory.c`, `pg_backup_tar.c`, `compress_io.c` /
//! `compress_gzip.c` (zlib streams in custom format).

use std::io::{self, Read, Seek, Write};

pub mod compress;
pub mod par_zlib;
pub mod custom;
pub mod directory;
pub mod plain;
pub mod run;
pub mod tar;
pub mod toc;

pub use toc::{Algorithm, Header, TocEntry};

/// A problem in an archive, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveError {
    /// Byte offset in the archive file (or, for directory format, in the
    /// file named in `entry`).
    pub offset: u64,
    /// The TOC entry or part of the archive being read.
    pub entry: Option<String>,
    pub msg: String,
}

impl std::fmt::Display for ArchiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.entry {
            Some(e) => write!(f, "archive byte {}, {}: {}", self.offset, e, self.msg),
            None => write!(f, "archive byte {}: {}", self.offset, self.msg),
        }
    }
}

impl std::error::Error for ArchiveError {}

impl From<ArchiveError> for crate::Error {
    fn from(e: ArchiveError) -> crate::Error {
        crate::Error::Archive(e.to_string())
    }
}

/// True when `head` starts like a pg_dump archive (custom format, or a
/// directory format's `toc.dat`).
pub fn is_archive(head: &[u8]) -> bool {
    head.starts_with(b"PGDMP")
}

/// A TOC text field an [`Edit`] may rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Tag,
    Defn,
    DropStmt,
    CopyStmt,
}

/// The field-count check of a TABLE DATA entry's COPY rows, for data no
/// rule edits (edited data goes through the rewriter, which checks it):
/// when its COPY statement names the columns and uses pg_dump's default
/// text format (`dumpTableData_copy` in pg_dump.c).
pub fn row_check(te: &TocEntry) -> Option<crate::codec::copy_text::RowStream> {
    use crate::decide::statement::Head;
    if !te.desc_is("TABLE DATA") {
        return None;
    }
    let stmt = te.copy_stmt.as_deref()?.trim_ascii_end();
    match crate::decide::statement::head(crate::Dialect::Postgres, stmt) {
        Head::Copy { table, columns: Some(c), options: false } if !c.is_empty() => {
            Some(crate::codec::copy_text::RowStream::new(&table.name, c.len()))
        }
        _ => None,
    }
}

/// What the caller changes in an archive.
///
/// The archive code calls [`Edit::toc`] once with the whole TOC before any
/// data is read (its default calls [`Edit::sql`] on each non-NULL field),
/// then [`Edit::data`] for each data block, with the entry as it was in the
/// input.
pub trait Edit: Sync {
    /// Rewrites the TOC in place. NULL fields must stay NULL. Entries may
    /// be added (with a new dump id and no data); none may be removed or
    /// moved, and no data entry added.
    fn toc(&mut self, _header: &Header, toc: &mut Vec<TocEntry>) -> crate::Result<()> {
        for te in toc.iter_mut() {
            for field in [Field::Tag, Field::Defn, Field::DropStmt, Field::CopyStmt] {
                let slot = match field {
                    Field::Tag => &te.tag,
                    Field::Defn => &te.defn,
                    Field::DropStmt => &te.drop_stmt,
                    Field::CopyStmt => &te.copy_stmt,
                };
                let Some(text) = slot.clone() else { continue };
                if let Some(new) = self.sql(te, field, &text)? {
                    match field {
                        Field::Tag => te.tag = Some(new),
                        Field::Defn => te.defn = Some(new),
                        Field::DropStmt => te.drop_stmt = Some(new),
                        Field::CopyStmt => te.copy_stmt = Some(new),
                    }
                }
            }
        }
        Ok(())
    }

    /// A new text for one field, or `None` to keep it.
    fn sql(&self, _entry: &TocEntry, _field: Field, _text: &[u8]) -> crate::Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// An editor for this entry's data, or `None` to copy the data block
    /// unchanged (byte for byte, still compressed).
    fn data(&self, entry: &TocEntry) -> Option<Box<dyn DataEdit + '_>>;

    /// An editor for the tar format's `restore.sql` (a plain script), or
    /// `None` to copy it.
    fn script(&self) -> Option<Box<dyn DataEdit + '_>> {
        None
    }
}

/// Rewrites one entry's decompressed data stream: for TABLE DATA, the
/// COPY rows ending with the `\.` line (`dumpTableData_copy` in pg_dump.c),
/// or the INSERT statements of an `--inserts` archive. It reads `input` to
/// its end and writes the new stream to `out`. Its error keeps its kind (a
/// rule that does not fit, a failed check); the archive code adds where.
pub trait DataEdit: Send {
    fn run(
        self: Box<Self>,
        input: &mut (dyn Read + Send),
        out: &mut (dyn Write + Send),
    ) -> crate::Result<()>;
}

/// Changes nothing.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
pub struct Identity;

impl Edit for Identity {
    fn data(&self, _entry: &TocEntry) -> Option<Box<dyn DataEdit + '_>> {
        None
    }
}

/// Passes the data through (decompressed and recompressed); for tests of
/// the streaming path.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
pub struct Recompress;

pub(crate) struct CopyAll;

impl DataEdit for CopyAll {
    fn run(
        self: Box<Self>,
        input: &mut (dyn Read + Send),
        out: &mut (dyn Write + Send),
    ) -> crate::Result<()> {
        // A read error is the archive's data (the decoder's); a write error
        // the archive writers' output watch reports as such.
        io::copy(input, out).map(|_| ()).map_err(|e| crate::Error::Archive(e.to_string()))
    }
}

impl Edit for Recompress {
    fn data(&self, _entry: &TocEntry) -> Option<Box<dyn DataEdit + '_>> {
        Some(Box::new(CopyAll))
    }
}

/// Writes what is read through it to `w` (a copy checked on the way).
pub(crate) struct Tee<R, W> {
    pub r: R,
    pub w: W,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.r.read(buf)?;
        self.w.write_all(&buf[..n])?;
        Ok(n)
    }
}

/// An output that can seek, as a file can.
pub trait WriteSeek: Write + Seek + Send {}
impl<T: Write + Seek + Send> WriteSeek for T {}

/// Where an archive is written: a seekable file gets data offsets in its
/// TOC (written last, as `_CloseArchive` in `pg_backup_custom.c` does); a
/// stream gets the TOC once, with offsets unset, as pg_dump writes to a pipe.
pub enum Sink<'a> {
    Seekable(&'a mut dyn WriteSeek),
    Stream(&'a mut (dyn Write + Send)),
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Seekable(w) => w.write(buf),
            Sink::Stream(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Seekable(w) => w.flush(),
            Sink::Stream(w) => w.flush(),
        }
    }
}

/// What an archive rewrite did.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub format: &'static str,
    pub version: String,
    pub compression: String,
    pub entries: usize,
    pub blocks: usize,
    /// Data blocks decompressed and rewritten (the rest were copied).
    pub blocks_edited: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
}
