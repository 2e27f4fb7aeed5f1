//! Directory format (`pg_dump -Fd`), read and written
//! (`src/bin/pg_dump/pg_backup_directory.c`).
//!
//! Layout: `toc.dat` holds the header and TOC, never compressed; each TOC
//! entry ends with a Str file name (`_WriteExtraToc`): `NNNN.dat` for table
//! data, `blobs.toc` (`blobs_NNNN.toc` from 1.16) for large objects, or
//! empty. The data file is stored under that name plus the compression's
//! suffix (`.gz`, real gzip files; `.lz4`; `.zst`), as `_PrintFileData` /
//! `InitDiscoverCompressFile` look for it. Large objects are
//! `blob_OID.dat[.gz]`, listed in the blobs TOC file.
//!
//! The output directory is built beside the target under a temporary name
//! and renamed into place only when every file was written, so no partial
//! archive is ever left at the target. Data files are rewritten in
//! parallel; files no edit touches are copied byte for byte.

use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use rayon::prelude::*;

use super::toc::{self, Extra, In, Out};
use super::Tee;
use super::{Algorithm, ArchiveError, Edit, Stats, TocEntry};
use crate::error::{Error, Result};

/// An error in a file of the directory: a byte offset in `toc.dat`, or,
/// in a data file, the offset in its decompressed stream.
fn err(file: &Path, entry: Option<&TocEntry>, offset: u64, msg: impl Into<String>) -> Error {
    let msg = msg.into();
    match entry {
        Some(te) if file.file_name().is_some_and(|f| f != "toc.dat") => Error::Archive(format!(
            "{}, {te}: {msg}",
            file.display(),
            te = te.describe()
        )),
        _ => ArchiveError {
            offset,
            entry: Some(file.display().to_string()),
            msg,
        }
        .into(),
    }
}

/// The suffix pg_dump gives a data file for this compression.
fn suffix(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::None => "",
        Algorithm::Gzip => ".gz",
        Algorithm::Lz4 => ".lz4",
        Algorithm::Zstd => ".zst",
    }
}

/// Finds `name` as stored: plain or with a compression suffix.
fn find(dir: &Path, name: &str) -> Option<(PathBuf, Algorithm)> {
    for alg in [Algorithm::None, Algorithm::Gzip, Algorithm::Lz4, Algorithm::Zstd] {
        let p = dir.join(format!("{name}{}", suffix(alg)));
        if p.is_file() {
            return Some((p, alg));
        }
    }
    None
}

/// Rewrites the directory archive `input` into a new directory `output`.
pub fn rewrite(input: &Path, output: &Path, edit: &mut dyn Edit) -> Result<Stats> {
    let toc_path = input.join("toc.dat");
    let f = fs::File::open(&toc_path).map_err(|e| Error::io(format!("opening {}", toc_path.display()), e))?;
    let toc_len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut i = In::new(BufReader::new(f));
    let header = toc::read_header(&mut i).map_err(|e| with_file(e, &toc_path))?;
    let orig = toc::read_toc(&mut i, &header).map_err(|e| with_file(e, &toc_path))?;
    if i.pos != toc_len {
        return Err(err(&toc_path, None, i.pos, format!("{} bytes after the TOC's last entry (corrupt toc.dat?)", toc_len - i.pos)));
    }
    let level = header.compression.gzip_level();
    let mut new_toc = orig.clone();
    edit.toc(&header, &mut new_toc).map_err(|e| e.within(&format!("archive byte 0, {}", toc_path.display())))?;

    // The target: refused if it is the input or holds anything.
    if output.exists() {
        let empty = output.is_dir()
            && fs::read_dir(output).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !empty {
            return Err(Error::Output {
                path: output.into(),
                reason: "it exists and is not an empty directory (pg_dump -Fd needs the same)".into(),
            });
        }
    }
    let parent = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".dumpsed-")
        .suffix(".tmp")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(format!("creating a temporary directory in {}", parent.display()), e))?;

    #[cfg(unix)]
    {
        // pg_dump makes the directory with mode 0700 (`mkdir(…, S_IRWXU)`).
        use std::os::unix::fs::PermissionsExt;
        let _ = fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o700));
    }
    // toc.dat
    let toc_out;
    {
        let p = tmp.path().join("toc.dat");
        let f = fs::File::create(&p).map_err(|e| Error::io(format!("creating {}", p.display()), e))?;
        let mut o = Out::new(BufWriter::new(f), &header);
        toc::write_header(&mut o, &header)
            .and_then(|_| toc::write_toc(&mut o, &header, &new_toc))
            .and_then(|_| o.w.flush())
            .map_err(|e| Error::io(format!("writing {}", p.display()), e))?;
        o.w.get_ref().sync_all().map_err(|e| Error::io(format!("syncing {}", p.display()), e))?;
        toc_out = o.pos;
    }

    // Data files named by the TOC; the rest of the directory is copied.
    let mut jobs: Vec<(usize, PathBuf, Algorithm, bool)> = Vec::new();
    let mut named = std::collections::HashSet::new();
    for (n, te) in orig.iter().enumerate() {
        let Extra::File(Some(name)) = &te.extra else { continue };
        if name.is_empty() {
            continue;
        }
        let name_s = String::from_utf8_lossy(name).into_owned();
        if name_s.contains('/') || name_s.contains("..") {
            return Err(err(&toc_path, Some(te), te.at, format!("data file name {name_s:?} leaves the directory")));
        }
        let Some((path, alg)) = find(input, &name_s) else {
            return Err(err(
                &input.join(&name_s),
                Some(te),
                0,
                format!("the data file {name_s} (or {name_s}.gz/.lz4/.zst) is missing from the directory"),
            ));
        };
        named.insert(path.file_name().map(|f| f.to_os_string()).unwrap_or_default());
        let edited = te.desc_is("TABLE DATA") && edit.data(te).is_some();
        jobs.push((n, path, alg, edited));
    }
    let mut others = Vec::new();
    for d in fs::read_dir(input).map_err(|e| Error::io(format!("listing {}", input.display()), e))? {
        let d = d.map_err(|e| Error::io(format!("listing {}", input.display()), e))?;
        let name = d.file_name();
        if name == "toc.dat" || named.contains(&name) || !d.path().is_file() {
            continue;
        }
        others.push(d.path());
    }
    let edit: &dyn Edit = edit;
    let edited = jobs.iter().filter(|j| j.3).count();
    let results: Vec<Result<(u64, u64)>> = jobs
        .par_iter()
        .map(|(n, path, alg, edited)| {
            let te = &orig[*n];
            let Some(fname) = path.file_name() else {
                return Err(err(path, Some(te), 0, "no file name"));
            };
            let target = tmp.path().join(fname);
            if *edited {
                if let Some(de) = edit.data(te) {
                    return edit_file(path, &target, te, *alg, level, de);
                }
            }
            copy_checked(path, &target, te, *alg)
        })
        .chain(others.par_iter().map(|p| {
            let target = tmp.path().join(p.file_name().unwrap_or_default());
            copy_file(p, &target)
        }))
        .collect();
    let (mut bytes_in, mut bytes_out) = (toc_len, toc_out);
    for r in results {
        let (a, b) = r?;
        bytes_in += a;
        bytes_out += b;
    }
    let tmp_path = tmp.keep();
    if output.exists() {
        let _ = fs::remove_dir(output);
    }
    if let Err(e) = fs::rename(&tmp_path, output) {
        let _ = fs::remove_dir_all(&tmp_path);
        return Err(Error::io(format!("renaming the temporary directory to {}", output.display()), e));
    }
    if let Ok(d) = fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    let alg = header.compression.algorithm().unwrap_or(Algorithm::None);
    Ok(Stats {
        format: "directory",
        version: format!("{}.{}-{}", header.vmaj, header.vmin, header.vrev),
        compression: alg.to_string(),
        entries: new_toc.len(),
        blocks: jobs.len(),
        blocks_edited: edited,
        bytes_in,
        bytes_out,
    })
}

fn with_file(mut e: ArchiveError, file: &Path) -> Error {
    e.entry = Some(match e.entry {
        Some(x) => format!("{} ({x})", file.display()),
        None => file.display().to_string(),
    });
    e.into()
}

/// Copies a data file byte for byte, decompressing it on the way (to
/// nowhere) so that a corrupt file is found now, not at restore time.
fn copy_checked(from: &Path, to: &Path, te: &TocEntry, alg: Algorithm) -> Result<(u64, u64)> {
    // The COPY rows of a table no rule edits are framed on the way too.
    let rows = super::row_check(te);
    if alg == Algorithm::None && rows.is_none() {
        return copy_file(from, to);
    }
    let f = fs::File::open(from).map_err(|e| Error::io(format!("opening {}", from.display()), e))?;
    let out = fs::File::create(to).map_err(|e| Error::io(format!("creating {}", to.display()), e))?;
    let mut tee = Tee {
        r: BufReader::with_capacity(256 << 10, f),
        w: BufWriter::with_capacity(256 << 10, out),
    };
    let checked = {
        let mut dec: Box<dyn Read> = match alg {
            Algorithm::None => Box::new(&mut tee),
            Algorithm::Gzip => Box::new(MultiGzDecoder::new(&mut tee)),
            Algorithm::Lz4 => Box::new(crate::io::input::Lz4Reader::new(&mut tee)),
            _ => Box::new(
                zstd::stream::read::Decoder::new(&mut tee).map_err(|e| err(from, Some(te), 0, e.to_string()))?,
            ),
        };
        super::compress::read_rows(&mut dec, rows)
    };
    checked
        .map_err(|e| err(from, Some(te), 0, format!("corrupt or truncated data file: {e}")))?
        .map_err(|e| {
            let at = if alg == Algorithm::None { e.at } else { 0 };
            err(from, Some(te), at, super::compress::rows_msg(&e))
        })?;
    // Whatever follows the compressed stream is copied too.
    io::copy(&mut tee.r, &mut tee.w).map_err(|e| Error::io(format!("copying {}", from.display()), e))?;
    let w = tee.w.into_inner().map_err(|e| Error::io(format!("writing {}", to.display()), e.into_error()))?;
    let size = w.metadata().map(|m| m.len()).unwrap_or(0);
    Ok((size, size))
}

fn copy_file(from: &Path, to: &Path) -> Result<(u64, u64)> {
    let n = fs::copy(from, to).map_err(|e| Error::io(format!("copying {}", from.display()), e))?;
    Ok((n, n))
}

/// Counts bytes read, and remembers the first read error.
struct Counted<R> {
    r: R,
    n: u64,
    failed: Option<String>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.r.read(buf) {
            Ok(k) => {
                self.n += k as u64;
                Ok(k)
            }
            Err(e) => {
                if self.failed.is_none() {
                    self.failed = Some(e.to_string());
                }
                Err(e)
            }
        }
    }
}

fn edit_file(
    from: &Path,
    to: &Path,
    te: &TocEntry,
    alg: Algorithm,
    level: u32,
    de: Box<dyn super::DataEdit + '_>,
) -> Result<(u64, u64)> {
    let f = fs::File::open(from).map_err(|e| Error::io(format!("opening {}", from.display()), e))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let raw = BufReader::with_capacity(256 << 10, f);
    let mut input: Counted<Box<dyn Read + Send>> = Counted {
        r: match alg {
            Algorithm::None => Box::new(raw),
            Algorithm::Gzip => Box::new(MultiGzDecoder::new(raw)),
            Algorithm::Lz4 => Box::new(crate::io::input::Lz4Reader::new(raw)),
            Algorithm::Zstd => Box::new(
                zstd::stream::read::Decoder::with_buffer(raw)
                    .map_err(|e| err(from, Some(te), 0, e.to_string()))?,
            ),
        },
        n: 0,
        failed: None,
    };
    let out = fs::File::create(to).map_err(|e| Error::io(format!("creating {}", to.display()), e))?;
    let out = BufWriter::with_capacity(256 << 10, out);
    let result = match alg {
        Algorithm::Gzip => {
            let mut enc = GzEncoder::new(out, flate2::Compression::new(level));
            de.run(&mut input, &mut enc)
                .and_then(|_| io::copy(&mut input, &mut io::sink()).map(|_| ()).map_err(|e| Error::Archive(e.to_string())))
                .and_then(|_| enc.finish().map_err(|e| Error::Archive(e.to_string())))
                .and_then(|mut w| w.flush().map_err(|e| Error::Archive(e.to_string())).map(|_| w))
        }
        Algorithm::Lz4 | Algorithm::Zstd => {
            let mut enc = super::compress::Encoder::new(alg, level, out).map_err(|m| err(from, Some(te), 0, m))?;
            de.run(&mut input, &mut enc)
                .and_then(|_| io::copy(&mut input, &mut io::sink()).map(|_| ()).map_err(|e| Error::Archive(e.to_string())))
                .and_then(|_| enc.finish().map_err(|e| Error::Archive(e.to_string())))
                .and_then(|mut w| w.flush().map_err(|e| Error::Archive(e.to_string())).map(|_| w))
        }
        Algorithm::None => {
            let mut w = out;
            de.run(&mut input, &mut w)
                .and_then(|_| io::copy(&mut input, &mut io::sink()).map(|_| ()).map_err(|e| Error::Archive(e.to_string())))
                .and_then(|_| w.flush().map_err(|e| Error::Archive(e.to_string())).map(|_| w))
        }
    };
    if let Some(m) = input.failed.take() {
        return Err(err(
            from,
            Some(te),
            input.n,
            format!("corrupt or truncated data file, after {} decompressed bytes: {m}", input.n),
        ));
    }
    // The edit's own error (a rule, a check) keeps its kind, said at the file.
    let w = result.map_err(|e| e.within(&format!("{}, {}", from.display(), te.describe())))?;
    let written = w.get_ref().metadata().map(|m| m.len()).unwrap_or(0);
    w.get_ref().sync_all().map_err(|e| Error::io(format!("syncing {}", to.display()), e))?;
    Ok((size, written))
}
