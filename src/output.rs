//! Writing the output: stdout, or a file written atomically (a temporary
//! file beside it, renamed over the target only when everything succeeded).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Where the rewritten dump goes.
pub enum Output {
    Stdout(BufWriter<io::Stdout>),
    /// A temporary file, deleted on drop unless [`Output::commit`] is called.
    File {
        path: PathBuf,
        tmp: BufWriter<NamedTempFile>,
    },
}

impl Output {
    /// Opens the output: stdout for `None` or `-`, else a temporary file in
    /// the target's directory. Refuses a target that is the input.
    pub fn open(target: Option<&Path>, input: Option<&Path>) -> Result<Output> {
        let path = match target {
            Some(p) if p != Path::new("-") => p,
            _ => {
                return Ok(Output::Stdout(BufWriter::with_capacity(
                    1 << 20,
                    io::stdout(),
                )))
            }
        };
        if let Some(input) = input.filter(|i| *i != Path::new("-")) {
            if same_file(input, path) {
                return Err(Error::Output {
                    path: path.into(),
                    reason: "it is the input file; dumpsed never modifies its input, write to another path".into(),
                });
            }
        }
        if path.is_dir() {
            return Err(Error::Output {
                path: path.into(),
                reason: "it is a directory".into(),
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".dumpsed-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
        Ok(Output::File {
            path: path.into(),
            tmp: BufWriter::with_capacity(1 << 20, tmp),
        })
    }

    /// True when writing to stdout.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Output::Stdout(_))
    }

    /// The writer to send bytes to.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) => w,
            Output::File { tmp, .. } => tmp,
        }
    }

    /// The output as an archive sink: a file can seek (so the archive gets
    /// data offsets), stdout is a stream.
    pub fn sink(&mut self) -> crate::archive::Sink<'_> {
        match self {
            Output::Stdout(w) => crate::archive::Sink::Stream(w),
            Output::File { tmp, .. } => crate::archive::Sink::Seekable(tmp),
        }
    }

    /// Flushes, syncs and (for a file) renames the temporary file into
    /// place. Dropping an uncommitted output removes the temporary file.
    pub fn commit(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| Error::io("writing to stdout", e)),
            Output::File { path, tmp } => {
                let shown = path.display().to_string();
                let tmp = tmp
                    .into_inner()
                    .map_err(|e| Error::io(format!("writing {shown}"), e.into_error()))?;
                tmp.as_file()
                    .sync_all()
                    .map_err(|e| Error::io(format!("syncing {shown}"), e))?;
                tmp.persist(&path).map_err(|e| {
                    Error::io(format!("renaming the temporary file to {shown}"), e.error)
                })?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    // Make the rename itself durable; not all filesystems allow it.
                    if let Ok(d) = fs::File::open(dir) {
                        let _ = d.sync_all();
                    }
                }
                Ok(())
            }
        }
    }
}

/// True when both paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(ma), Ok(mb)) = (fs::metadata(a), fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
