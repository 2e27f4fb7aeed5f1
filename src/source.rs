//! A dump opened once: a pg_dump directory archive, or a file, FIFO,
//! `<(…)`, `/dev/stdin` or stdin whose first bytes say whether it is a
//! pg_dump archive (custom or tar) or a plain dump.
//!
//! A FIFO or pipe can be read only once: the bytes looked at are handed on
//! in front of the rest, never read again by reopening the name (which
//! blocks on a FIFO whose writer is gone, or skips what was read). A
//! regular file is read from its start again with a seek.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use crate::archive::{self, run::{Archive, ArchiveKind}};
use crate::error::{Error, Result};
use crate::io::input::{self, read_full, Compression, Input};

/// A dump to rewrite, as its first bytes show it.
pub enum Source<'a> {
    /// A plain dump (pg_dump plain output or sqlite3 `.dump`), maybe
    /// compressed.
    Plain(Dump<'a>),
    /// A pg_dump archive (custom, tar or directory format).
    Archive(Archive),
}

/// A plain dump, decompressed as it is read.
pub struct Dump<'a>(pub(crate) Input<'a>);

/// Bytes looked at: a tar header block (512) and the `PGDMP` of the
/// `toc.dat` member after it (`archive::tar::is_tar_archive`).
const HEAD: usize = 517;

impl Source<'static> {
    /// Opens `path` (stdin for `None` or `-`) once. A plain, uncompressed
    /// regular file is mapped into memory when `mmap` allows (the output is
    /// the same; the file must not change while it is read).
    pub fn open(path: Option<&Path>, mmap: bool) -> Result<Self> {
        let Some(p) = path.filter(|p| *p != Path::new("-")) else {
            return from_stream(Box::new(std::io::stdin()), "stdin", None);
        };
        if p.is_dir() {
            if p.join("toc.dat").is_file() {
                return Ok(Source::Archive(Archive {
                    kind: ArchiveKind::Directory(p.into()),
                    path: Some(p.into()),
                }));
            }
            return Err(Error::Unsupported(format!(
                "{} is a directory without toc.dat, not a pg_dump directory-format archive",
                p.display()
            )));
        }
        let mut f = File::open(p).map_err(|e| Error::io(format!("opening {}", p.display()), e))?;
        let regular = f.metadata().is_ok_and(|m| m.is_file());
        if !regular {
            // A FIFO, `<(…)`, `/dev/stdin` on a pipe, a device.
            return from_stream(Box::new(f), &p.display().to_string(), Some(p));
        }
        let head = read_head(&mut f, &p.display().to_string())?;
        f.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
        Ok(match archive_kind(&head) {
            Some(kind) => Source::Archive(Archive {
                kind: kind(Box::new(BufReader::with_capacity(1 << 20, f))),
                path: Some(p.into()),
            }),
            None => Source::Plain(Dump(input::from_file(f, mmap)?)),
        })
    }
}

/// An input that cannot seek: its head, then the rest of it.
fn from_stream(mut r: Box<dyn Read + Send>, name: &str, path: Option<&Path>) -> Result<Source<'static>> {
    let head = read_head(&mut r, name)?;
    let kind = archive_kind(&head);
    let whole: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(r));
    Ok(match kind {
        Some(kind) => Source::Archive(Archive {
            kind: kind(Box::new(BufReader::with_capacity(1 << 20, whole))),
            path: path.map(Into::into),
        }),
        None => Source::Plain(Dump(input::from_reader(whole, None)?)),
    })
}

/// Which archive format `head` starts, if any.
fn archive_kind(head: &[u8]) -> Option<fn(Box<dyn Read + Send>) -> ArchiveKind> {
    if archive::is_archive(head) {
        return Some(ArchiveKind::Custom);
    }
    // A tar archive whose first header is damaged still goes to the tar
    // reader, which says what is wrong with it.
    if archive::tar::is_tar_archive(head) || head.starts_with(b"toc.dat\0") {
        return Some(ArchiveKind::Tar);
    }
    None
}

/// Up to [`HEAD`] bytes: fewer only at the end of the input.
fn read_head(r: &mut dyn Read, name: &str) -> Result<Vec<u8>> {
    let mut head = vec![0u8; HEAD];
    let n = read_full(r, &mut head).map_err(|e| Error::io(format!("reading {name}"), e))?;
    head.truncate(n);
    Ok(head)
}

impl Dump<'static> {
    /// Opens the plain dump at `path` (stdin for `-`), read, not mapped.
    pub fn open(path: &Path) -> Result<Self> {
        input::open(Some(path)).map(Dump)
    }
}

impl<'a> Dump<'a> {
    /// A plain dump read from `r` (compression detected from its first
    /// bytes). `r` may borrow: the rewrite's threads end before it returns.
    pub fn from_reader(r: impl Read + Send + 'a) -> Result<Self> {
        input::from_reader(Box::new(r), None).map(Dump)
    }

    /// How the dump is compressed.
    pub fn compression(&self) -> Compression {
        self.0.compression
    }

    /// The size of its file in bytes (compressed), when known.
    pub fn size(&self) -> Option<u64> {
        self.0.size
    }

    /// A counter of the file's bytes (compressed) read so far, for a
    /// progress bar of [`Dump::size`].
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        self.0.consumed.clone()
    }

    /// The dump's decompressed bytes, to read as they are.
    pub fn into_reader(self) -> Box<dyn Read + Send + 'a> {
        self.0.reader
    }
}
