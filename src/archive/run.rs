//! A whole pg_dump archive rewritten under rules ([`PlainEdit`]): to its
//! output (same format and compression, written atomically), for a report
//! only, or into a temporary archive compared with an expected one.

use std::fs;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::plain::{PlainEdit, RewriteTotal};
use super::toc::{self, Extra, In, K_OFFSET_POS_SET};
use super::{custom, directory, tar, Edit, Sink, Stats, TocEntry};
use crate::error::{Error, Result};
use crate::io::input::read_full;
use crate::job::{RenameSummary, Summary};
use crate::io::output::{Output, StagingDir, Target};

/// A pg_dump archive to rewrite (a [`Source`](crate::Source) that its
/// first bytes, or its `toc.dat`, show to be one).
pub struct Archive {
    pub(crate) kind: ArchiveKind,
    /// The path it was opened from (none for stdin), which the output must
    /// not be.
    pub(crate) path: Option<PathBuf>,
}

/// The three archive formats, as read.
pub(crate) enum ArchiveKind {
    Custom(Box<dyn Read + Send>),
    Tar(Box<dyn Read + Send>),
    Directory(PathBuf),
}

impl Archive {
    /// `custom`, `tar` or `directory`.
    pub fn format(&self) -> &'static str {
        match self.kind {
            ArchiveKind::Custom(_) => "custom",
            ArchiveKind::Tar(_) => "tar",
            ArchiveKind::Directory(_) => "directory",
        }
    }
}

/// What the rewrite of an archive did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ArchiveSummary {
    /// `custom`, `tar` or `directory`.
    pub format: &'static str,
    /// The archive version (`1.16`).
    pub version: String,
    /// The archive's compression, as its header says.
    pub compression: String,
    /// TOC entries.
    pub entries: usize,
    /// Data blocks (or files).
    pub blocks: usize,
    /// Of them, those rewritten (the rest were copied).
    pub blocks_edited: usize,
    /// The archive's bytes read.
    pub bytes_in: u64,
    /// The archive's bytes written.
    pub bytes_out: u64,
    /// Per rename rule, over the whole archive.
    pub renames: Vec<RenameSummary>,
    /// Per value rule, over the whole archive.
    pub rewrites: Vec<RewriteTotal>,
    /// TOC entries added (Django's effects beyond the schema), one line each.
    pub added: Vec<String>,
    /// Things the user should know (statistics dropped, rules let pass),
    /// as the TOC's SQL said them.
    pub warnings: Vec<crate::Problem>,
    /// With a report asked for: the archive's SQL text's report, as one
    /// plain dump's would be.
    pub report: Option<Summary>,
}

fn summary(edit: &PlainEdit<'_>, stats: Stats, report: bool) -> ArchiveSummary {
    let (renames, rewrites) = edit.totals();
    ArchiveSummary {
        format: stats.format,
        version: stats.version,
        compression: stats.compression,
        entries: stats.entries,
        blocks: stats.blocks,
        blocks_edited: stats.blocks_edited,
        bytes_in: stats.bytes_in,
        bytes_out: stats.bytes_out,
        renames,
        rewrites,
        added: edit.added.clone(),
        warnings: edit.warnings.clone(),
        report: if report { edit.merged() } else { None },
    }
}

/// Rewrites `input` to `output` (stdout for `None` or `-`; a directory
/// for a directory archive), in place once whole; then, with a
/// `change_log`, every rewritten value to it as CSV lines.
pub(crate) fn write(
    mut edit: PlainEdit<'_>,
    input: Archive,
    output: Option<&Path>,
    change_log: Option<&mut dyn Write>,
) -> Result<ArchiveSummary> {
    if change_log.is_some() {
        edit.log_changes();
    }
    // The edit's errors keep their kind (a failed check, a rule that does
    // not fit the archive), said where in the archive.
    let stats = write_archive(&mut edit, input, output)?;
    if let Some(w) = change_log {
        edit.write_change_log(w).map_err(|e| Error::io("writing the change log", e))?;
    }
    Ok(summary(&edit, stats, false))
}

fn same_path(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn write_archive(edit: &mut PlainEdit<'_>, input: Archive, output: Option<&Path>) -> Result<Stats> {
    let source = input.path.as_deref();
    let edit: &mut dyn Edit = edit;
    Ok(match input.kind {
        ArchiveKind::Custom(r) => {
            let mut output = Output::open(output, source)?;
            let name = output.name();
            let stats = match output.target() {
                Target::Seekable(w) => {
                    let mut w = Watched::new(w);
                    let done = custom::rewrite(r, Sink::Seekable(&mut w), edit);
                    w.blame(done, &name)?
                }
                Target::Stream(w) => {
                    let mut w = Watched::new(w);
                    let done = custom::rewrite(r, Sink::Stream(&mut w), edit);
                    w.blame(done, &name)?
                }
            };
            output.commit()?;
            stats
        }
        ArchiveKind::Tar(r) => {
            let mut output = Output::open(output, source)?;
            let name = output.name();
            let stats = {
                let mut w = match output.target() {
                    Target::Seekable(w) => Watched::new(w as &mut (dyn Write + Send)),
                    Target::Stream(w) => Watched::new(w),
                };
                let done = tar::rewrite(r, &mut w, edit);
                w.blame(done, &name)?
            };
            output.commit()?;
            stats
        }
        ArchiveKind::Directory(dir) => {
            let Some(out) = output.filter(|p| *p != Path::new("-")) else {
                return Err(Error::Output {
                    path: "-".into(),
                    reason: "a directory-format archive is written to a directory".into(),
                });
            };
            if out.exists() && same_path(out, &dir) {
                return Err(Error::Output {
                    path: out.into(),
                    reason: "it is the input directory; dumpsed never modifies its input".into(),
                });
            }
            // As directory::rewrite checks its own target, which is now
            // inside the staging directory.
            if out.exists() && !(out.is_dir() && fs::read_dir(out).is_ok_and(|mut d| d.next().is_none())) {
                return Err(Error::Output {
                    path: out.into(),
                    reason: "it exists and is not an empty directory (pg_dump -Fd needs the same)".into(),
                });
            }
            // Built inside a staging directory that signals and the next
            // run clean up (output.rs, `StagingDir`).
            let stage = StagingDir::create(out)?;
            let built = stage.path().join("out");
            let stats = directory::rewrite(&dir, &built, edit)?;
            stage.commit(&built, out)?;
            stats
        }
    })
}

/// The output of an archive writer, keeping its first write error: the
/// archive writers report a failed write as a malformed archive at an
/// input byte, which a full disk or a closed pipe is not.
struct Watched<W> {
    inner: W,
    failed: Option<io::Error>,
}

impl<W> Watched<W> {
    fn new(inner: W) -> Self {
        Watched { inner, failed: None }
    }

    fn note<T>(&mut self, r: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &r {
            if e.kind() != io::ErrorKind::Interrupted && self.failed.is_none() {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
            }
        }
        r
    }

    /// The writer's result, or the write error behind it: an I/O error
    /// naming the output (a closed pipe is then [`Error::is_broken_pipe`]).
    fn blame<T, E: Into<Error>>(self, done: std::result::Result<T, E>, name: &str) -> Result<T> {
        match (self.failed, done) {
            (Some(e), _) => Err(Error::io(format!("writing {name}"), e)),
            (None, done) => done.map_err(Into::into),
        }
    }
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let r = self.inner.write_vectored(bufs);
        self.note(r)
    }
    fn flush(&mut self) -> io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

impl<W: Seek> Seek for Watched<W> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let r = self.inner.seek(pos);
        self.note(r)
    }
}

/// The whole rewrite of an archive, written nowhere, with its report (for
/// a dry run): a directory archive is built in a staging directory in the
/// temporary directory, which signals and later runs clean up.
pub(crate) fn report(mut edit: PlainEdit<'_>, input: Archive) -> Result<ArchiveSummary> {
    let stats = match input.kind {
        ArchiveKind::Custom(r) => custom::rewrite(r, Sink::Stream(&mut io::sink()), &mut edit)?,
        ArchiveKind::Tar(r) => tar::rewrite(r, &mut io::sink(), &mut edit)?,
        ArchiveKind::Directory(dir) => {
            let stage = StagingDir::create(&std::env::temp_dir().join("dumpsed-dry-run"))?;
            directory::rewrite(&dir, &stage.path().join("out"), &mut edit)?
        }
    };
    Ok(summary(&edit, stats, true))
}

/// `before` rewritten into a temporary archive of its format (a custom
/// archive as `after` was written: to a file, with data offsets, or to a
/// pipe, without), compared byte for byte with the archive at `after`:
/// where the first difference is (byte offset, file, TOC entry), if any.
pub(crate) fn compare(
    mut edit: PlainEdit<'_>,
    before: Archive,
    after: &Path,
) -> Result<(Option<String>, ArchiveSummary)> {
    let tmp = tempfile::Builder::new()
        .prefix("dumpsed-verify-")
        .tempdir()
        .map_err(|e| Error::io("creating a temporary directory", e))?;
    let tmp_file = || tempfile::tempfile_in(tmp.path()).map_err(|e| Error::io("creating a temporary file", e));
    let (difference, stats) = match before.kind {
        ArchiveKind::Custom(r) => {
            // AFTER is opened once and its head kept for the comparison:
            // a FIFO or `<(…)` cannot be opened again (it would block, or
            // start past what was read).
            let mut head = super::Tee { r: open(after)?, w: Vec::new() };
            let seekable = match custom::read_head(&mut In::new(&mut head)) {
                Ok(a) => a
                    .toc
                    .iter()
                    .any(|t| matches!(t.extra, Extra::Offset { state, .. } if state == K_OFFSET_POS_SET)),
                Err(e) => return Err(Error::Archive(format!("{}: {e}", after.display()))),
            };
            let mut f = tmp_file()?;
            let stats = if seekable {
                custom::rewrite(r, Sink::Seekable(&mut f), &mut edit)?
            } else {
                custom::rewrite(r, Sink::Stream(&mut f), &mut edit)?
            };
            f.seek(SeekFrom::Start(0))
                .map_err(|e| Error::io("reading the temporary archive", e))?;
            let super::Tee { r: rest, w: head } = head;
            let mut found = io::Cursor::new(head).chain(rest);
            let at = first_difference(&mut BufReader::new(&mut f), &mut found).map_err(|e| Error::io("comparing", e))?;
            (at.map(|at| format!("byte {at}{}", custom_place(&mut f, at))), stats)
        }
        ArchiveKind::Tar(r) => {
            let mut f = tmp_file()?;
            let stats = tar::rewrite(r, &mut f, &mut edit)?;
            f.seek(SeekFrom::Start(0))
                .map_err(|e| Error::io("reading the temporary archive", e))?;
            let mut found = open(after)?;
            let at = first_difference(&mut BufReader::new(&mut f), &mut found).map_err(|e| Error::io("comparing", e))?;
            (at.map(|at| format!("byte {at}")), stats)
        }
        ArchiveKind::Directory(dir) => {
            let want = tmp.path().join("out");
            let stats = directory::rewrite(&dir, &want, &mut edit)?;
            if !after.is_dir() {
                return Err(Error::Unsupported(format!(
                    "{} is a directory-format archive; {} is not a directory",
                    dir.display(),
                    after.display()
                )));
            }
            (compare_dirs(&want, after)?, stats)
        }
    };
    Ok((difference, summary(&edit, stats, false)))
}

/// The first difference between directory archives `want` and `got`.
fn compare_dirs(want: &Path, got: &Path) -> Result<Option<String>> {
    let (w, g) = (dir_files(want)?, dir_files(got)?);
    if w != g {
        let only = |a: &[String], b: &[String]| a.iter().filter(|x| !b.contains(x)).cloned().collect::<Vec<_>>();
        return Ok(Some(format!(
            "the files: expected but missing {:?}, not expected {:?}",
            only(&w, &g),
            only(&g, &w)
        )));
    }
    for name in &w {
        let at = first_difference(&mut open(&want.join(name))?, &mut open(&got.join(name))?)
            .map_err(|e| Error::io("comparing", e))?;
        if let Some(at) = at {
            return Ok(Some(format!("byte {at} of {name}{}", dir_entry_of(want, name))));
        }
    }
    Ok(None)
}

/// The first byte where `a` and `b` differ (`None`: the same bytes).
fn first_difference(a: &mut dyn Read, b: &mut dyn Read) -> io::Result<Option<u64>> {
    let (mut x, mut y) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    let mut at = 0u64;
    loop {
        let n = read_full(a, &mut x)?;
        let m = read_full(b, &mut y)?;
        if let Some(i) = x[..n.min(m)].iter().zip(&y[..n.min(m)]).position(|(p, q)| p != q) {
            return Ok(Some(at + i as u64));
        }
        if n != m {
            return Ok(Some(at + n.min(m) as u64));
        }
        if n == 0 {
            return Ok(None);
        }
        at += n as u64;
    }
}

fn open(p: &Path) -> Result<BufReader<fs::File>> {
    fs::File::open(p)
        .map(BufReader::new)
        .map_err(|e| Error::io(format!("opening {}", p.display()), e))
}

/// Where byte `at` of a custom archive lies: its header, a TOC entry, or
/// the data block of an entry (by the data offsets of the expected archive).
fn custom_place(expected: &mut fs::File, at: u64) -> String {
    if expected.seek(SeekFrom::Start(0)).is_err() {
        return String::new();
    }
    let mut i = In::new(BufReader::new(&mut *expected));
    let Ok(a) = custom::read_head(&mut i) else { return String::new() };
    if at < i.pos {
        return match a.toc.iter().rev().find(|t| t.at <= at) {
            Some(t) => format!(" (in the TOC, {})", t.describe()),
            None => " (in the archive header)".into(),
        };
    }
    let data_of = |t: &&TocEntry| match t.extra {
        Extra::Offset { state, pos } if state == K_OFFSET_POS_SET && pos <= at => Some(pos),
        _ => None,
    };
    match a.toc.iter().filter(|t| data_of(t).is_some()).max_by_key(|t| data_of(t)) {
        Some(t) => format!(" (in the data of {})", t.describe()),
        None => " (in the data blocks)".into(),
    }
}

/// A directory archive's file names, sorted.
fn dir_files(dir: &Path) -> Result<Vec<String>> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))? {
        let e = e.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        v.push(e.file_name().to_string_lossy().into_owned());
    }
    v.sort();
    Ok(v)
}

/// The TOC entry whose data file is `file` in directory archive `dir`.
fn dir_entry_of(dir: &Path, file: &str) -> String {
    let Ok(f) = fs::File::open(dir.join("toc.dat")) else { return String::new() };
    let mut i = In::new(BufReader::new(f));
    let Ok(h) = toc::read_header(&mut i) else { return String::new() };
    let Ok(t) = toc::read_toc(&mut i, &h) else { return String::new() };
    t.iter()
        .find(|t| {
            matches!(&t.extra, Extra::File(Some(n))
                if n == file.as_bytes() || file.strip_suffix(".gz").is_some_and(|s| n == s.as_bytes()))
        })
        .map(|t| format!(", {}", t.describe()))
        .unwrap_or_default()
}
