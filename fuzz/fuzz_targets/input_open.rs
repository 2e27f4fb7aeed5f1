//! Input opening on any bytes, as `dumpsed rewrite` and `Rewriter::run`
//! open an input: the archive sniff of the first 517 bytes
//! (`archive::is_archive`, `archive::tar::is_tar_archive`, as
//! `src/cmd/input.rs` does), then for anything else
//! `input::from_reader` (refused formats, gzip / zstd / LZ4 detection and
//! decompression, truncation checks) and the plain or SQLite reader
//! (`job::rewrite`: format detection on the first bytes, then the dump).
//!
//! Input: byte 0: bits 0-3 seed the sizes of the pieces the source hands
//! out per `read` (0 = all it is asked for; otherwise 1..=15 bytes, as a
//! pipe or socket may), bit 4: go through the archive sniff first (the
//! command's path) or straight to `from_reader` (`Rewriter::run`'s); then
//! the input bytes (seeded with plain, gzip, zstd and lz4 dumps and the
//! archives of `fixtures/`).
//!
//! Checks: never panics; the decompressed bytes, and the result of a
//! rewrite under rules that cannot match, do not depend on how the source
//! hands out its bytes (both fail, with any message, or both give the same
//! bytes); such a
//! rewrite, when it succeeds, gives back the decompressed bytes exactly.
#![no_main]

mod common;

use std::io::{Cursor, Read};

use dumpsed::internals::archive::{self, custom, tar, Identity, Sink};
use dumpsed::internals::input;
use dumpsed::internals::job::{self, Options};
use libfuzzer_sys::fuzz_target;

/// Decompressed output above this is not compared (a bomb of a few KiB
/// can expand to gigabytes): only read until here.
const LIMIT: u64 = 16 << 20;

/// Hands out `data` in pieces of 1..=15 bytes chosen from `seed`.
struct Trickle {
    data: Cursor<Vec<u8>>,
    state: u32,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.state = self.state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = 1 + (self.state >> 16) as usize % 15;
        let n = n.min(buf.len());
        self.data.read(&mut buf[..n])
    }
}

fn source(data: &[u8], seed: u8) -> Box<dyn Read + Send> {
    match seed {
        0 => Box::new(Cursor::new(data.to_vec())),
        s => Box::new(Trickle { data: Cursor::new(data.to_vec()), state: u32::from(s) }),
    }
}

/// The decompressed bytes (`None` past [`LIMIT`]), or the error's text.
fn decompressed(data: &[u8], seed: u8) -> Option<Result<Vec<u8>, String>> {
    let mut i = match input::from_reader(source(data, seed), None) {
        Ok(i) => i,
        Err(e) => return Some(Err(e.to_string())),
    };
    let mut out = Vec::new();
    match (&mut i.reader).take(LIMIT + 1).read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > LIMIT => None,
        Ok(_) => Some(Ok(out)),
        Err(e) => Some(Err(e.to_string())),
    }
}

fn rewrite(data: &[u8], seed: u8) -> Result<Vec<u8>, String> {
    let i = input::from_reader(source(data, seed), None).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let options = Options { threads: 1, chunk_size: 4096, ..Default::default() };
    job::rewrite(i, &mut out, &common::never_rules(), &options, ()).map_err(|e| e.to_string())?;
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, body)) = data.split_first() else { return };
    let seed = ctl & 0x0f;
    if ctl & 0x10 != 0 {
        // The command's sniff (`src/cmd/input.rs`: 517 bytes, then the
        // archive readers or the plain path).
        let head = &body[..body.len().min(517)];
        if archive::is_archive(head) {
            let mut out = Vec::new();
            let _ = custom::rewrite(source(body, seed), Sink::Stream(&mut out), &mut Identity);
            return;
        }
        if tar::is_tar_archive(head) || head.starts_with(b"toc.dat\0") {
            let mut out = Vec::new();
            let _ = tar::rewrite(source(body, seed), &mut out, &mut Identity);
            return;
        }
    }
    let Some(whole) = decompressed(body, 0) else { return };
    if seed != 0 {
        // Errors compare as errors: their offsets ("at or before compressed
        // byte N") may depend on how far the decoder had read.
        let pieces = decompressed(body, seed);
        assert!(
            pieces.as_ref().map(|r| r.as_ref().ok()) == Some(whole.as_ref().ok()),
            "decompression depends on the read sizes: whole: {:?}; in pieces (seed {seed}): {:?}",
            whole.as_ref().map(|v| v.len()),
            pieces.as_ref().map(|r| r.as_ref().map(|v| v.len()))
        );
    }
    let Ok(plain) = whole else { return };
    let out = rewrite(body, seed);
    if seed != 0 {
        let again = rewrite(body, 0);
        assert!(
            out.is_ok() == again.is_ok() && (out.is_err() || out == again),
            "the rewrite depends on the read sizes: whole: {again:?}; in pieces (seed {seed}): {out:?}"
        );
    }
    if let Ok(out) = out {
        if !common::may_name_never(&plain) {
            assert!(out == plain, "rules that cannot match changed the decompressed input");
        }
    }
});
