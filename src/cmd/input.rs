//! A command's input, opened once: a pg_dump directory archive, or a file,
//! FIFO, `<(…)`, `/dev/stdin` or stdin whose first bytes say whether it is
//! a pg_dump archive (custom or tar) or a plain dump.
//!
//! A FIFO or pipe can be read only once: the bytes looked at are handed on
//! in front of the rest, never read again by reopening the name (which
//! blocks on a FIFO whose writer is gone, or skips what was read). A
//! regular file is read from its start again with a seek.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use dumpsed::internals::archive;
use dumpsed::internals::input::{self, Input};
pub(super) use dumpsed::internals::input::read_full;
use dumpsed::Error;

/// A pg_dump archive input.
pub enum ArchiveInput {
    Custom(Box<dyn Read + Send>),
    Tar(Box<dyn Read + Send>),
    Directory(PathBuf),
}

/// The input, as its first bytes show it.
pub enum Opened {
    Archive(ArchiveInput),
    Plain(Input),
}

/// Bytes looked at: a tar header block (512) and the `PGDMP` of the
/// `toc.dat` member after it (`archive::tar::is_tar_archive`).
const HEAD: usize = 517;

/// Opens `path` (stdin for `None` or `-`) once. A plain, uncompressed
/// regular file is mapped when `mmap` allows (`input::from_file`).
pub fn open(path: Option<&Path>, mmap: bool) -> Result<Opened, Error> {
    let Some(p) = path.filter(|p| *p != Path::new("-")) else {
        return from_stream(Box::new(std::io::stdin()), "stdin");
    };
    if p.is_dir() {
        if p.join("toc.dat").is_file() {
            return Ok(Opened::Archive(ArchiveInput::Directory(p.into())));
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
        return from_stream(Box::new(f), &p.display().to_string());
    }
    let head = read_head(&mut f, &p.display().to_string())?;
    f.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
    Ok(match archive_kind(&head) {
        Some(kind) => Opened::Archive(kind(Box::new(BufReader::with_capacity(1 << 20, f)))),
        None => Opened::Plain(input::from_file(f, mmap)?),
    })
}

/// An input that cannot seek: its head, then the rest of it.
fn from_stream(mut r: Box<dyn Read + Send>, name: &str) -> Result<Opened, Error> {
    let head = read_head(&mut r, name)?;
    let kind = archive_kind(&head);
    let whole: Box<dyn Read + Send> = Box::new(Cursor::new(head).chain(r));
    Ok(match kind {
        Some(kind) => Opened::Archive(kind(Box::new(BufReader::with_capacity(1 << 20, whole)))),
        None => Opened::Plain(input::from_reader(whole, None)?),
    })
}

/// Which archive format `head` starts, if any.
fn archive_kind(head: &[u8]) -> Option<fn(Box<dyn Read + Send>) -> ArchiveInput> {
    if archive::is_archive(head) {
        return Some(ArchiveInput::Custom);
    }
    // A tar archive whose first header is damaged still goes to the tar
    // reader, which says what is wrong with it.
    if archive::tar::is_tar_archive(head) || head.starts_with(b"toc.dat\0") {
        return Some(ArchiveInput::Tar);
    }
    None
}

/// Up to [`HEAD`] bytes: fewer only at the end of the input.
fn read_head(r: &mut dyn Read, name: &str) -> Result<Vec<u8>, Error> {
    let mut head = vec![0u8; HEAD];
    let n = read_full(r, &mut head).map_err(|e| Error::io(format!("reading {name}"), e))?;
    head.truncate(n);
    Ok(head)
}
