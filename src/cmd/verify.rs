//! `dumpsed verify`: proves that AFTER is exactly BEFORE with the rules
//! applied.

use std::fs;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use dumpsed::internals::archive::toc::{self, Extra, In, K_OFFSET_POS_SET};
use dumpsed::internals::archive::{self, custom, plain::PlainEdit, TocEntry};
use dumpsed::internals::job::{self, Options};
use dumpsed::internals::input;
use dumpsed::Error;

use super::input::{read_full, ArchiveInput, Opened};

use super::rule_args::RuleArgs;

const AFTER_HELP: &str = "\
Rewrites BEFORE with the rules in memory and compares the result, byte by
byte as both stream, with AFTER (each may be gzip'd). Equal means: the same
tables and rows, every byte of untouched tables identical, every targeted
value mapped by the rule, no value left that the rule should have
rewritten. Exit status 0 when AFTER is exactly that, 1 with the first
difference otherwise.

Give the same rules as for the rewrite (with --mark-applied, also the same
--applied-at). AFTER must be dumpsed's output, not a fresh dump of a
restored database (pg_dump orders objects by name, so a renamed table moves).

pg_dump archives (custom, directory, tar): BEFORE is rewritten into a
temporary archive of its format, as `rewrite -o` writes it (a custom
archive without data offsets, as written to a pipe, is compared as such),
and compared byte for byte with AFTER; a difference is named by its byte
offset, file (directory format) and TOC entry.

EXAMPLE:
  dumpsed rewrite --preset capa-to-sap before.sql -o after.sql
  dumpsed verify --preset capa-to-sap before.sql after.sql";

/// Check that AFTER is BEFORE rewritten by the rules; write nothing.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The original dump.
    pub before: PathBuf,
    /// The dump to check.
    pub after: PathBuf,

    #[command(flatten)]
    pub rules: RuleArgs,
}

/// A writer that compares what it is given with another stream.
struct Compare {
    other: Box<dyn Read + Send>,
    buf: Vec<u8>,
    offset: u64,
    line: u64,
    /// The current line so far (capped), on the expected side.
    line_start: Vec<u8>,
    mismatch: Option<Mismatch>,
}

struct Mismatch {
    offset: u64,
    line: u64,
    expected: Vec<u8>,
    found: Vec<u8>,
}

const CONTEXT: usize = 160;
/// Bytes compared per call of `Compare::write`.
const COMPARE_BLOCK: usize = 1 << 20;

impl Compare {
    /// Up to `CONTEXT` bytes of `other` to the end of its line.
    fn rest_of_line(&mut self, start: &[u8]) -> Vec<u8> {
        let mut v = start.to_vec();
        let mut b = [0u8; 1];
        while v.len() < CONTEXT && !v.ends_with(b"\n") && matches!(self.other.read(&mut b), Ok(1)) {
            v.push(b[0]);
        }
        v
    }
}

impl Write for Compare {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.mismatch.is_some() {
            return Ok(data.len());
        }
        // A block at a time: the pipeline hands a huge value's unchanged
        // run over in one piece, and AFTER's side of it would be read into
        // a buffer as large (issue 28, item 11). `write_all` gives the rest.
        let data = &data[..data.len().min(COMPARE_BLOCK)];
        self.buf.resize(data.len(), 0);
        let mut got = 0;
        while got < data.len() {
            match self.other.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let same = data[..got]
            .iter()
            .zip(&self.buf[..got])
            .position(|(a, b)| a != b)
            .unwrap_or(got);
        let upto = if same < got || got < data.len() {
            same
        } else {
            data.len()
        };
        for &b in &data[..upto] {
            if b == b'\n' {
                self.line += 1;
                self.line_start.clear();
            } else if self.line_start.len() < CONTEXT {
                self.line_start.push(b);
            }
        }
        if upto < data.len() {
            let mut expected = self.line_start.clone();
            expected.extend(
                data[upto..]
                    .iter()
                    .take_while(|&&b| b != b'\n')
                    .take(CONTEXT),
            );
            let mut found_start = self.line_start.clone();
            found_start.extend_from_slice(&self.buf[upto..got]);
            let cut = found_start
                .iter()
                .position(|&b| b == b'\n')
                .map_or(found_start.len(), |i| i + 1);
            found_start.truncate(cut.min(CONTEXT));
            let found = self.rest_of_line(&found_start);
            self.mismatch = Some(Mismatch {
                offset: self.offset + upto as u64,
                line: self.line + 1,
                expected,
                found,
            });
        }
        self.offset += upto as u64;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Runs `dumpsed verify`.
pub fn run(args: Args) -> Result<ExitCode, Error> {
    let rules = args.rules.rules()?;
    // Without --applied-at the rows' `applied` is the time of each run, so
    // no rewrite could ever be verified: say so rather than "DIFFERENT".
    if !rules.mark_applied().is_empty() && rules.applied_at().is_none() {
        return Err(Error::Rule(
            "verify with --mark-applied needs the rewrite's --applied-at: without it each run writes \
             its own time into django_migrations.applied, so no two runs agree"
                .into(),
        ));
    }
    let options = Options {
        format: args.rules.format(),
        columns: args.rules.columns()?,
        force: true,
        ..Options::default()
    };
    let before = match super::input::open(Some(&args.before), false)? {
        Opened::Archive(before) => return verify_archive(&args, &rules, &options, before),
        Opened::Plain(before) => before,
    };
    let after = input::open(Some(&args.after))?;
    let mut cmp = Compare {
        other: after.reader,
        buf: Vec::new(),
        offset: 0,
        line: 0,
        line_start: Vec::new(),
        mismatch: None,
    };
    let summary = job::rewrite(before, &mut cmp, &rules, &options, ())?;
    if cmp.mismatch.is_none() {
        // AFTER must end where the rewrite ends.
        let mut extra = [0u8; 1];
        if matches!(cmp.other.read(&mut extra), Ok(1)) {
            let found = cmp.rest_of_line(&extra);
            cmp.mismatch = Some(Mismatch {
                offset: cmp.offset,
                line: cmp.line + 1,
                expected: b"(end of dump)".to_vec(),
                found,
            });
        }
    }
    match cmp.mismatch {
        None => {
            println!(
                "OK: {} is {} with the rules applied",
                args.after.display(),
                args.before.display()
            );
            for (old, new, n) in &summary.renames {
                println!("  {old} → {new}: {n} references");
            }
            for w in &summary.rewrites {
                println!("  {} ({}): {} values", w.column, w.change, w.rewritten);
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(m) => {
            let show = |b: &[u8]| {
                String::from_utf8_lossy(b)
                    .trim_end_matches('\n')
                    .to_string()
            };
            println!(
                "DIFFERENT: {} is not {} with the rules applied; first difference at line {}, byte {} of {}:",
                args.after.display(),
                args.before.display(),
                m.line,
                m.offset,
                args.after.display()
            );
            println!("  expected: {}", show(&m.expected));
            println!("  found:    {}", show(&m.found));
            Ok(ExitCode::from(1))
        }
    }
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

fn open(p: &Path) -> Result<BufReader<fs::File>, Error> {
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
fn dir_files(dir: &Path) -> Result<Vec<String>, Error> {
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
        .find(|t| matches!(&t.extra, Extra::File(Some(n)) if n == file.as_bytes() || file.strip_suffix(".gz").is_some_and(|s| n == s.as_bytes())))
        .map(|t| format!(", {}", t.describe()))
        .unwrap_or_default()
}

/// `verify` of a pg_dump archive: BEFORE rewritten into a temporary
/// archive, compared with AFTER.
fn verify_archive(
    args: &Args,
    rules: &dumpsed::Rules,
    options: &Options,
    before: ArchiveInput,
) -> Result<ExitCode, Error> {
    let mut edit = PlainEdit::new(rules, options).map_err(Error::Rule)?;
    let tmp = tempfile::Builder::new()
        .prefix("dumpsed-verify-")
        .tempdir()
        .map_err(|e| Error::io("creating a temporary directory", e))?;
    let tmp_file = || {
        tempfile::tempfile_in(tmp.path()).map_err(|e| Error::io("creating a temporary file", e))
    };
    let difference: Option<String> = match before {
        ArchiveInput::Custom(r) => {
            // As written to a file (data offsets set) or to a pipe (unset).
            let mut after = open(&args.after)?;
            let seekable = match custom::read_head(&mut In::new(&mut after)) {
                Ok(a) => a.toc.iter().any(|t| matches!(t.extra, Extra::Offset { state, .. } if state == K_OFFSET_POS_SET)),
                Err(e) => return Err(Error::Archive(format!("{}: {e}", args.after.display()))),
            };
            let mut f = tmp_file()?;
            if seekable {
                custom::rewrite(r, archive::Sink::Seekable(&mut f), &mut edit)?;
            } else {
                custom::rewrite(r, archive::Sink::Stream(&mut f), &mut edit)?;
            }
            f.seek(SeekFrom::Start(0)).map_err(|e| Error::io("reading the temporary archive", e))?;
            let mut after = open(&args.after)?;
            let at = first_difference(&mut BufReader::new(&mut f), &mut after)
                .map_err(|e| Error::io("comparing", e))?;
            at.map(|at| format!("byte {at}{}", custom_place(&mut f, at)))
        }
        ArchiveInput::Tar(r) => {
            let mut f = tmp_file()?;
            archive::tar::rewrite(r, &mut f, &mut edit)?;
            f.seek(SeekFrom::Start(0)).map_err(|e| Error::io("reading the temporary archive", e))?;
            let mut after = open(&args.after)?;
            first_difference(&mut BufReader::new(&mut f), &mut after)
                .map_err(|e| Error::io("comparing", e))?
                .map(|at| format!("byte {at}"))
        }
        ArchiveInput::Directory(dir) => {
            let want = tmp.path().join("out");
            archive::directory::rewrite(&dir, &want, &mut edit)?;
            if !args.after.is_dir() {
                return Err(Error::Unsupported(format!(
                    "{} is a directory-format archive; {} is not a directory",
                    args.before.display(),
                    args.after.display()
                )));
            }
            let (w, g) = (dir_files(&want)?, dir_files(&args.after)?);
            if w != g {
                let only = |a: &[String], b: &[String]| a.iter().filter(|x| !b.contains(x)).cloned().collect::<Vec<_>>();
                Some(format!(
                    "the files: expected but missing {:?}, not expected {:?}",
                    only(&w, &g),
                    only(&g, &w)
                ))
            } else {
                let mut found = None;
                for name in &w {
                    let at = first_difference(&mut open(&want.join(name))?, &mut open(&args.after.join(name))?)
                        .map_err(|e| Error::io("comparing", e))?;
                    if let Some(at) = at {
                        found = Some(format!("byte {at} of {name}{}", dir_entry_of(&want, name)));
                        break;
                    }
                }
                found
            }
        }
    };
    match difference {
        None => {
            println!(
                "OK: {} is {} with the rules applied",
                args.after.display(),
                args.before.display()
            );
            let (renames, rewrites) = edit.totals();
            for (old, new, n) in renames {
                println!("  {old} → {new}: {n} references");
            }
            for (what, n, _) in rewrites {
                println!("  {what}: {n} values");
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(d) => {
            println!(
                "DIFFERENT: {} is not {} with the rules applied; first difference at {d}",
                args.after.display(),
                args.before.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}
