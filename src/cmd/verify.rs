//! `dumpsed verify`: proves that AFTER is exactly BEFORE with the rules
//! applied.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use dumpsed::{Archive, Dump, Error, Rewriter, Source};

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
    let rewriter = Rewriter::new(rules)
        .format(args.rules.format())
        .columns(args.rules.columns()?)
        .force(true);
    let before = match Source::open(Some(&args.before), false)? {
        Source::Archive(before) => return verify_archive(&args, rewriter, before),
        Source::Plain(before) => before,
    };
    let after = Dump::open(&args.after)?;
    let mut cmp = Compare {
        other: after.into_reader(),
        buf: Vec::new(),
        offset: 0,
        line: 0,
        line_start: Vec::new(),
        mismatch: None,
    };
    let summary = rewriter.run_dump(before, &mut cmp)?;
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
    let mut text = String::new();
    let code = match cmp.mismatch {
        None => {
            say(&mut text, format_args!("OK: {} is {} with the rules applied", args.after.display(), args.before.display()));
            for r in &summary.renames {
                say(&mut text, format_args!("  {} → {}: {} references", r.old, r.new, r.references));
            }
            for w in &summary.rewrites {
                say(&mut text, format_args!("  {} ({}): {} values", w.column, w.change, w.rewritten));
            }
            ExitCode::SUCCESS
        }
        Some(m) => {
            let show = |b: &[u8]| String::from_utf8_lossy(b).trim_end_matches('\n').to_string();
            say(
                &mut text,
                format_args!(
                    "DIFFERENT: {} is not {} with the rules applied; first difference at line {}, byte {} of {}:",
                    args.after.display(),
                    args.before.display(),
                    m.line,
                    m.offset,
                    args.after.display()
                ),
            );
            say(&mut text, format_args!("  expected: {}", show(&m.expected)));
            say(&mut text, format_args!("  found:    {}", show(&m.found)));
            ExitCode::from(1)
        }
    };
    verdict(&text, code)
}

/// Appends a line to the verdict's text.
fn say(text: &mut String, line: std::fmt::Arguments<'_>) {
    use std::fmt::Write as _;
    let _ = writeln!(text, "{line}");
}

/// Prints the verdict and returns its exit status. The status is the
/// answer: a reader that closes the pipe early (`verify … | head -1`) does
/// not change it (`println!` panicked there), other write errors do.
fn verdict(text: &str, code: ExitCode) -> Result<ExitCode, Error> {
    match super::report::emit(text) {
        Err(e) if !e.is_broken_pipe() => Err(e),
        _ => Ok(code),
    }
}

/// `verify` of a pg_dump archive: BEFORE rewritten into a temporary
/// archive, compared with AFTER.
fn verify_archive(args: &Args, rewriter: Rewriter<'_>, before: Archive) -> Result<ExitCode, Error> {
    let (difference, summary) = rewriter.verify_archive(before, &args.after)?;
    let mut text = String::new();
    let code = match difference {
        None => {
            say(&mut text, format_args!("OK: {} is {} with the rules applied", args.after.display(), args.before.display()));
            for r in &summary.renames {
                say(&mut text, format_args!("  {} → {}: {} references", r.old, r.new, r.references));
            }
            for w in &summary.rewrites {
                say(&mut text, format_args!("  {}: {} values", w.rule, w.rewritten));
            }
            ExitCode::SUCCESS
        }
        Some(d) => {
            say(
                &mut text,
                format_args!(
                    "DIFFERENT: {} is not {} with the rules applied; first difference at {d}",
                    args.after.display(),
                    args.before.display()
                ),
            );
            ExitCode::from(1)
        }
    };
    verdict(&text, code)
}
