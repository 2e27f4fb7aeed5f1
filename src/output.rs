//! Writing the output: stdout, or a file written atomically.
//!
//! The file is created unnamed in the target's directory (Linux
//! `O_TMPFILE`, open(2)): until the run succeeds it has no name, so no
//! signal, not even SIGKILL or a power cut, can leave it behind. At the
//! end it is synced, linked under a hidden temporary name (`linkat` of
//! `/proc/self/fd/N`, as open(2) documents) and renamed over the target.
//! Where the filesystem refuses `O_TMPFILE` a named temporary file is used,
//! and SIGINT/SIGTERM/SIGHUP remove it before the process ends.

use std::fs;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

/// Named temporary files to remove if a signal ends the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs, once, the handler that removes pending temporary files on
/// SIGINT, SIGTERM or SIGHUP and exits 130 (128 + SIGINT; see
/// `SIGNAL_EXIT_CODE`).
fn install_cleanup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let set = ctrlc::set_handler(|| {
            if let Ok(list) = PENDING.lock() {
                for p in list.iter() {
                    let _ = fs::remove_file(p);
                }
            }
            std::process::exit(SIGNAL_EXIT_CODE.load(std::sync::atomic::Ordering::Relaxed));
        });
        CLEANUP_ON_SIGTERM.store(set.is_ok(), std::sync::atomic::Ordering::Relaxed);
    });
}

/// Whether SIGTERM runs the handler above: input.rs's SIGBUS handler then
/// ends the process through it, else with `_exit` (a signal handler may
/// load an atomic, signal-safety(7)).
/// The status the handler above exits with: 130 (128 + SIGINT) for a
/// signal from outside, 4 (a read failure) when input.rs's SIGBUS handler
/// sent it.
pub(crate) static SIGNAL_EXIT_CODE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(130);

pub(crate) static CLEANUP_ON_SIGTERM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The temporary output file: unnamed (`O_TMPFILE`) or named.
pub enum TmpFile {
    /// No name until [`Output::commit`] links it.
    Unnamed(fs::File),
    /// A named temporary file (fallback), deleted on drop.
    Named(NamedTempFile),
}

impl TmpFile {
    fn file(&self) -> &fs::File {
        match self {
            TmpFile::Unnamed(f) => f,
            TmpFile::Named(t) => t.as_file(),
        }
    }
}

impl Write for TmpFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            TmpFile::Unnamed(f) => f.write(buf),
            TmpFile::Named(t) => t.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            TmpFile::Unnamed(f) => f.write_vectored(bufs),
            TmpFile::Named(t) => t.as_file_mut().write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            TmpFile::Unnamed(f) => f.flush(),
            TmpFile::Named(t) => t.flush(),
        }
    }
}

/// Standard output as a plain file (a duplicate of descriptor 1) where
/// there is one: `io::Stdout` is a `LineWriter`, which looks for the last
/// newline of every write and copies what follows it into its buffer, work
/// the dump's chunk-sized writes do not need.
pub enum StdoutSink {
    /// Descriptor 1, duplicated.
    File(fs::File),
    /// `io::Stdout`, when descriptor 1 could not be duplicated.
    Std(io::Stdout),
}

impl StdoutSink {
    fn open() -> StdoutSink {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            if let Ok(fd) = io::stdout().as_fd().try_clone_to_owned() {
                return StdoutSink::File(fs::File::from(fd));
            }
        }
        StdoutSink::Std(io::stdout())
    }
}

impl Write for StdoutSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            StdoutSink::File(f) => f.write(buf),
            StdoutSink::Std(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            StdoutSink::File(f) => f.write_vectored(bufs),
            StdoutSink::Std(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            StdoutSink::File(f) => f.flush(),
            StdoutSink::Std(s) => s.flush(),
        }
    }
}

impl Seek for TmpFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            TmpFile::Unnamed(f) => f.seek(pos),
            TmpFile::Named(t) => t.seek(pos),
        }
    }
}

/// Opens an unnamed file in `dir`, readable by its owner only, or `None`
/// when the filesystem (or OS) does not support `O_TMPFILE`.
fn open_unnamed(dir: &Path) -> Option<fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        fs::OpenOptions::new()
            .write(true)
            .read(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE)
            .open(dir)
            .ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        None
    }
}

/// Gives the unnamed file `f` the name `to` (which must not exist).
#[cfg(target_os = "linux")]
fn link_unnamed(f: &fs::File, to: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::AsRawFd;
    let from = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let to = CString::new(to.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    // SAFETY: both paths are NUL-terminated C strings that outlive the call.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn link_unnamed(_f: &fs::File, _to: &Path) -> io::Result<()> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "O_TMPFILE"))
}

/// Where the rewritten dump goes.
pub enum Output {
    Stdout(BufWriter<StdoutSink>),
    /// A FIFO, socket or device named by `-o` (`/dev/null`, a pipe to
    /// `pg_restore`): written in place, as stdout is.
    Stream {
        path: PathBuf,
        w: BufWriter<StdoutSink>,
    },
    /// A temporary file, gone on drop unless [`Output::commit`] is called.
    File {
        path: PathBuf,
        tmp: BufWriter<TmpFile>,
        /// fsync before the rename (off: `--no-sync`, pg_dump's name).
        sync: bool,
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
                    StdoutSink::open(),
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
        // Not a regular file: renaming a temporary file over it would
        // replace the node itself (`-o /dev/null` once left a regular
        // /dev/null behind), and it cannot be replaced atomically anyway.
        if fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            let f = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
            return Ok(Output::Stream {
                path: path.into(),
                w: BufWriter::with_capacity(1 << 20, StdoutSink::File(f)),
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = match open_unnamed(dir) {
            Some(f) => TmpFile::Unnamed(f),
            None => {
                install_cleanup();
                let t = tempfile::Builder::new()
                    .prefix(".dumpsed-")
                    .suffix(".tmp")
                    .tempfile_in(dir)
                    .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
                if let Ok(mut list) = PENDING.lock() {
                    list.push(t.path().to_path_buf());
                }
                TmpFile::Named(t)
            }
        };
        Ok(Output::File {
            path: path.into(),
            tmp: BufWriter::with_capacity(1 << 20, tmp),
            sync: true,
        })
    }

    /// Skips the fsync of the file before it is renamed into place (for
    /// scratch outputs; a crash may then leave a partly written file).
    pub fn no_sync(mut self) -> Self {
        if let Output::File { sync, .. } = &mut self {
            *sync = false;
        }
        self
    }

    /// True when writing to stdout.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Output::Stdout(_))
    }

    /// The writer to send bytes to.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Output::Stdout(w) | Output::Stream { w, .. } => w,
            Output::File { tmp, .. } => tmp,
        }
    }

    /// The output without its buffer, for a writer that hands over whole
    /// chunks (the pipeline): its vectored writes then go to the file as
    /// they are, not through a copy into the buffer. What was written
    /// through [`Output::writer`] before is flushed first.
    pub fn direct(&mut self) -> Result<&mut dyn Write> {
        let w: &mut dyn Write = match self {
            Output::Stdout(w) => {
                w.flush().map_err(|e| Error::io("writing to stdout", e))?;
                w.get_mut()
            }
            Output::Stream { path, w } => {
                w.flush().map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                w.get_mut()
            }
            Output::File { path, tmp, .. } => {
                tmp.flush()
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                tmp.get_mut()
            }
        };
        Ok(w)
    }

    /// The output as an archive sink: a file can seek (so the archive gets
    /// data offsets), stdout is a stream.
    pub fn sink(&mut self) -> crate::archive::Sink<'_> {
        match self {
            Output::Stdout(w) | Output::Stream { w, .. } => crate::archive::Sink::Stream(w),
            Output::File { tmp, .. } => crate::archive::Sink::Seekable(tmp),
        }
    }

    /// Flushes, syncs and (for a file) renames the temporary file into
    /// place. Dropping an uncommitted output removes the temporary file.
    pub fn commit(self) -> Result<()> {
        match self {
            Output::Stdout(mut w) => w.flush().map_err(|e| Error::io("writing to stdout", e)),
            Output::Stream { path, mut w } => w.flush().map_err(|e| Error::io(format!("writing {}", path.display()), e)),
            Output::File { path, tmp, sync } => {
                let shown = path.display().to_string();
                let tmp = tmp
                    .into_inner()
                    .map_err(|e| Error::io(format!("writing {shown}"), e.into_error()))?;
                if sync {
                    tmp.file()
                        .sync_all()
                        .map_err(|e| Error::io(format!("syncing {shown}"), e))?;
                }
                match tmp {
                    TmpFile::Named(t) => {
                        let name = t.path().to_path_buf();
                        t.persist(&path).map_err(|e| {
                            Error::io(format!("renaming the temporary file to {shown}"), e.error)
                        })?;
                        if let Ok(mut list) = PENDING.lock() {
                            list.retain(|p| *p != name);
                        }
                    }
                    TmpFile::Unnamed(f) => {
                        // A name of its own first (linkat cannot replace a
                        // file), then the rename over the target.
                        let dir = match path.parent() {
                            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                            _ => PathBuf::from("."),
                        };
                        let name = dir.join(format!(".dumpsed-{}-{}.tmp", std::process::id(), unique()));
                        link_unnamed(&f, &name)
                            .map_err(|e| Error::io(format!("naming the output file {shown}"), e))?;
                        if let Err(e) = fs::rename(&name, &path) {
                            let _ = fs::remove_file(&name);
                            return Err(Error::io(format!("renaming the temporary file to {shown}"), e));
                        }
                    }
                }
                if let Some(dir) = path.parent().filter(|d| sync && !d.as_os_str().is_empty()) {
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

/// A number that differs between calls (for temporary names).
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    t ^ N.fetch_add(1, Ordering::Relaxed).rotate_left(32)
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
