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
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Mutex;

use tempfile::NamedTempFile;

use crate::error::{Error, Result};

// Signals. This module owns every handler dumpsed installs and the state
// they share: input.rs asks for the SIGBUS guard of a mapped input, and
// outputs register what a signal must remove.

/// Temporary files and directories to remove if a signal ends the process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The status the cleanup handler exits with: 130 (128 + SIGINT) for a
/// signal from outside, 4 (a read failure) when the SIGBUS handler sent it.
static SIGNAL_EXIT_CODE: AtomicI32 = AtomicI32::new(130);

/// Whether SIGTERM runs the cleanup handler: the SIGBUS handler then ends
/// the process through it, else with `_exit` (a signal handler may load an
/// atomic, signal-safety(7)).
static CLEANUP_ON_SIGTERM: AtomicBool = AtomicBool::new(false);

/// Installs, once, the handler that removes pending temporary files and
/// directories on SIGINT, SIGTERM or SIGHUP and exits with
/// `SIGNAL_EXIT_CODE`. ctrlc runs it on a thread of its own, not inside
/// the signal handler, so it may take locks and remove directories.
fn install_cleanup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let set = ctrlc::set_handler(|| {
            if let Ok(list) = PENDING.lock() {
                for p in list.iter() {
                    remove_pending(p);
                }
            }
            std::process::exit(SIGNAL_EXIT_CODE.load(Ordering::Relaxed));
        });
        CLEANUP_ON_SIGTERM.store(set.is_ok(), Ordering::Relaxed);
    });
}

/// Removes a pending temporary file, or a directory with everything in it.
/// Worker threads may still be creating files in a directory while it is
/// removed, so it is tried again until it is gone.
fn remove_pending(p: &Path) {
    for _ in 0..50 {
        let gone = match fs::symlink_metadata(p) {
            Err(_) => true,
            Ok(m) if m.is_dir() => fs::remove_dir_all(p).is_ok(),
            Ok(_) => fs::remove_file(p).is_ok(),
        };
        if gone {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn add_pending(p: &Path) {
    if let Ok(mut list) = PENDING.lock() {
        list.push(p.to_path_buf());
    }
}

fn drop_pending(p: &Path) {
    if let Ok(mut list) = PENDING.lock() {
        list.retain(|x| x != p);
    }
}

/// Installs, once, a SIGBUS handler for mapped inputs: when a mapped file
/// is truncated while dumpsed reads it, reading a lost page raises SIGBUS
/// (mmap(2), "Errors"), which would end the process with only "Bus error".
/// The handler says what happened and exits 4 (a read failure, README
/// "Exit status"); when the SIGTERM handler above is installed (a named
/// temporary file or directory to remove; an unnamed file goes with the
/// process), it ends the process through that instead, and `_exit`s if that has not happened
/// within a few seconds. It calls only async-signal-safe functions
/// (signal-safety(7)).
pub(crate) fn guard_sigbus() {
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

/// How the front end reads an input without mapping it, which the SIGBUS
/// message names (the command line names its flag; the library's way is
/// `Source::open` with `mmap` false). Set once, before any input is mapped.
static MMAP_ADVICE: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Sets the front end's advice that ends the message of a mapped input
/// truncated during the run (see [`guard_sigbus`]): how to read the input
/// without mapping it, in the front end's own terms. The first call wins.
pub fn set_mmap_advice(advice: &'static str) {
    let _ = MMAP_ADVICE.set(advice);
}

extern "C" fn on_sigbus(_signal: libc::c_int) {
    const MSG: &[u8] = b"dumpsed: error: reading the memory-mapped input failed (SIGBUS): the input file shrank \
while it was being read, or its device failed. No output file was made (what went to stdout, a pipe or \
a device is incomplete: discard it). Rewrite a copy that nothing else writes to, or read the input \
without mapping it into memory";
    // SAFETY: write(2), kill(2), nanosleep(2) and _exit(2) are
    // async-signal-safe; MSG and the advice are static (OnceLock::get is an
    // atomic load once set, and it is set before any input is mapped).
    unsafe {
        libc::write(2, MSG.as_ptr().cast(), MSG.len());
        if let Some(a) = MMAP_ADVICE.get() {
            libc::write(2, b" (".as_ptr().cast(), 2);
            libc::write(2, a.as_ptr().cast(), a.len());
            libc::write(2, b")".as_ptr().cast(), 1);
        }
        libc::write(2, b"\n".as_ptr().cast(), 1);
        if CLEANUP_ON_SIGTERM.load(Ordering::Relaxed) {
            SIGNAL_EXIT_CODE.store(4, Ordering::Relaxed);
            libc::kill(libc::getpid(), libc::SIGTERM);
            let pause = libc::timespec { tv_sec: 0, tv_nsec: 100_000_000 };
            for _ in 0..50 {
                libc::nanosleep(&pause, std::ptr::null_mut());
            }
        }
        libc::_exit(4);
    }
}

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

/// The output as [`Output::target`] hands it to an archive writer.
pub enum Target<'a> {
    /// A temporary file: it can seek.
    Seekable(&'a mut BufWriter<TmpFile>),
    /// Stdout, a pipe or a device.
    Stream(&'a mut (dyn Write + Send)),
}

/// Where the rewritten dump goes ([`Output`]'s three cases).
enum Dest {
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

impl Dest {
    /// Opens the output: stdout for `None` or `-`, else a temporary file in
    /// the target's directory. Refuses a target that is the input.
    fn open(target: Option<&Path>, input: Option<&Path>) -> Result<Dest> {
        let path = match target {
            Some(p) if p != Path::new("-") => p,
            _ => {
                return Ok(Dest::Stdout(BufWriter::with_capacity(
                    1 << 20,
                    StdoutSink::open(),
                )))
            }
        };
        match input.filter(|i| *i != Path::new("-")) {
            Some(input) if same_file(input, path) => {
                return Err(Error::Output {
                    path: path.into(),
                    reason: "it is the input file; dumpsed never modifies its input, write to another path".into(),
                });
            }
            Some(_) => {}
            None if stdin_is(path) => {
                return Err(Error::Output {
                    path: path.into(),
                    reason: "it is the file standard input reads; dumpsed never modifies its input, write to \
                             another path"
                        .into(),
                });
            }
            None => {}
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
            return Ok(Dest::Stream {
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
                add_pending(t.path());
                TmpFile::Named(t)
            }
        };
        Ok(Dest::File {
            path: path.into(),
            tmp: BufWriter::with_capacity(1 << 20, tmp),
            sync: true,
        })
    }

    /// Skips the fsync of the file before it is renamed into place (for
    /// scratch outputs; a crash may then leave a partly written file).
    pub fn no_sync(mut self) -> Self {
        if let Dest::File { sync, .. } = &mut self {
            *sync = false;
        }
        self
    }

    /// True when writing to stdout.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Dest::Stdout(_))
    }

    /// The writer to send bytes to.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Dest::Stdout(w) | Dest::Stream { w, .. } => w,
            Dest::File { tmp, .. } => tmp,
        }
    }

    /// The output without its buffer, for a writer that hands over whole
    /// chunks (the pipeline): its vectored writes then go to the file as
    /// they are, not through a copy into the buffer. What was written
    /// through [`Output::writer`] before is flushed first.
    pub fn direct(&mut self) -> Result<&mut dyn Write> {
        let w: &mut dyn Write = match self {
            Dest::Stdout(w) => {
                w.flush().map_err(|e| Error::io("writing to stdout", e))?;
                w.get_mut()
            }
            Dest::Stream { path, w } => {
                w.flush().map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                w.get_mut()
            }
            Dest::File { path, tmp, .. } => {
                tmp.flush()
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                tmp.get_mut()
            }
        };
        Ok(w)
    }

    /// The output for an archive writer: a file can seek (so the archive
    /// gets data offsets), stdout and devices are streams.
    pub fn target(&mut self) -> Target<'_> {
        match self {
            Dest::Stdout(w) | Dest::Stream { w, .. } => Target::Stream(w),
            Dest::File { tmp, .. } => Target::Seekable(tmp),
        }
    }

    /// The output as error messages name it.
    pub fn name(&self) -> String {
        match self {
            Dest::Stdout(_) => "stdout".into(),
            Dest::Stream { path, .. } | Dest::File { path, .. } => path.display().to_string(),
        }
    }

    /// Flushes, syncs and (for a file) renames the temporary file into
    /// place. Dropping an uncommitted output removes the temporary file.
    pub fn commit(self) -> Result<()> {
        match self {
            Dest::Stdout(mut w) => w.flush().map_err(|e| Error::io("writing to stdout", e)),
            Dest::Stream { path, mut w } => w.flush().map_err(|e| Error::io(format!("writing {}", path.display()), e)),
            Dest::File { path, tmp, sync } => {
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
                        drop_pending(&name);
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

/// True when standard input is a redirection from the regular file at
/// `path` (`< F`): the same device and inode. A pipe or a device read as
/// stdin is never a file a rename could replace.
fn stdin_is(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let stdin = io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map(fs::File::from)
            .and_then(|f| f.metadata());
        if let (Ok(a), Ok(b)) = (stdin, fs::metadata(path)) {
            return a.is_file() && a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    let _ = path;
    false
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

/// Where a rewritten dump goes, written so that a file appears whole or
/// not at all: stdout for `None` or `-`; a FIFO, socket or device in
/// place; a regular file through a temporary file beside it, renamed into
/// place by [`Output::commit`] (dropped uncommitted, it leaves nothing).
pub struct Output(Dest);

impl Output {
    /// Opens the output: stdout for `None` or `-`, else a temporary file in
    /// the target's directory. Refuses a target that is `input` (the input
    /// is never modified) or a directory.
    pub fn open(target: Option<&Path>, input: Option<&Path>) -> Result<Output> {
        Dest::open(target, input).map(Output)
    }

    /// Skips the fsync of the file before it is renamed into place (for
    /// scratch outputs; a crash may then leave a partly written file).
    pub fn no_sync(self) -> Self {
        Output(self.0.no_sync())
    }

    /// True when writing to stdout.
    pub fn is_stdout(&self) -> bool {
        self.0.is_stdout()
    }

    /// The (buffered) writer to send bytes to.
    pub fn writer(&mut self) -> &mut dyn Write {
        self.0.writer()
    }

    /// The output without its buffer, for a writer that hands over whole
    /// chunks; what was written through [`Output::writer`] is flushed first.
    pub fn direct(&mut self) -> Result<&mut dyn Write> {
        self.0.direct()
    }

    /// The output for an archive writer: a file can seek, the rest cannot.
    pub(crate) fn target(&mut self) -> Target<'_> {
        self.0.target()
    }

    /// The output as error messages name it (`stdout` or its path).
    pub fn name(&self) -> String {
        self.0.name()
    }

    /// Flushes, syncs and (for a file) renames the temporary file into
    /// place.
    pub fn commit(self) -> Result<()> {
        self.0.commit()
    }
}

/// Where a directory output (`pg_dump -Fd`'s format) is built: a hidden
/// directory beside the target, `.dumpsed-stage-XXXXXX.tmp`, renamed into
/// place when every file is written. A directory has no `O_TMPFILE`, so:
/// SIGINT, SIGTERM and SIGHUP remove it (the cleanup handler above), an
/// error removes it on drop, and for SIGKILL or a crash the next staging
/// directory made in the same place removes what a dead run left: each run
/// holds an flock(2) on its own, which the kernel releases however the
/// process ends, so a staging directory that can be locked is abandoned.
pub struct StagingDir {
    path: PathBuf,
    /// The open directory holding the lock, for as long as the run lasts.
    _lock: fs::File,
}

const STAGE_PREFIX: &str = ".dumpsed-stage-";

impl StagingDir {
    /// Makes a staging directory beside `target`, after removing the ones
    /// dead runs left there.
    pub fn create(target: &Path) -> Result<StagingDir> {
        let parent = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        sweep_stages(parent);
        install_cleanup();
        let path = tempfile::Builder::new()
            .prefix(STAGE_PREFIX)
            .suffix(".tmp")
            .tempdir_in(parent)
            .map_err(|e| Error::io(format!("creating a temporary directory in {}", parent.display()), e))?
            .keep();
        add_pending(&path);
        let lock = fs::File::open(&path).and_then(|f| lock_dir(&f, true).map(|_| f));
        match lock {
            Ok(f) => Ok(StagingDir { path, _lock: f }),
            Err(e) => {
                let _ = fs::remove_dir_all(&path);
                drop_pending(&path);
                Err(Error::io(format!("locking the temporary directory {}", path.display()), e))
            }
        }
    }

    /// The staging directory; build the output at a name inside it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves `built` (inside the staging directory) to `target`, which
    /// must not exist or be an empty directory, and removes the staging
    /// directory.
    pub fn commit(self, built: &Path, target: &Path) -> Result<()> {
        if target.exists() {
            let _ = fs::remove_dir(target);
        }
        fs::rename(built, target)
            .map_err(|e| Error::io(format!("renaming the temporary directory to {}", target.display()), e))?;
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename durable; not all filesystems allow it.
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
        drop_pending(&self.path);
    }
}

/// flock(2) on an open directory: exclusive, waiting or not.
fn lock_dir(f: &fs::File, wait: bool) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        let op = if wait { libc::LOCK_EX } else { libc::LOCK_EX | libc::LOCK_NB };
        // SAFETY: flock on a descriptor that `f` keeps open.
        if unsafe { libc::flock(f.as_raw_fd(), op) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
    // Without flock no run can tell a live staging directory from an
    // abandoned one: the sweep then leaves them all.
    #[cfg(not(unix))]
    {
        let _ = f;
        if wait {
            Ok(())
        } else {
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
    }
}

/// Removes the staging directories in `dir` that no live run holds (their
/// run was killed or crashed).
fn sweep_stages(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !name.starts_with(STAGE_PREFIX) || !name.ends_with(".tmp") {
            continue;
        }
        let p = e.path();
        if !fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            continue;
        }
        // Locked by a live run: leave it.
        if let Ok(f) = fs::File::open(&p) {
            if lock_dir(&f, false).is_ok() {
                let _ = fs::remove_dir_all(&p);
            }
        }
    }
}
