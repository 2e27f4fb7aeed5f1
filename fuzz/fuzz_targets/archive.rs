//! The pg_dump archive readers and writers (`archive::custom`, `tar`):
//! header, TOC, data blocks (zlib / lz4 / zstd streams), on any bytes.
//!
//! Input: byte 0 picks the path: 0 custom → stream, 1 custom → seekable
//! (offsets rewritten at the end), 2 custom with every block decompressed
//! and recompressed (`Recompress`: the block reader and writer), 3 tar;
//! then the archive.
//!
//! Checks: never panics, never hangs (libFuzzer's timeout); and when an
//! identity rewrite to a stream succeeds, rewriting its output again gives
//! the same bytes (the writer's output is what the reader reads back).
#![no_main]

use dumpsed::internals::archive::{custom, tar, Identity, Recompress, Sink};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, archive)) = data.split_first() else {
        return;
    };
    match ctl % 4 {
        0 => {
            let mut out = Vec::new();
            if custom::rewrite(archive, Sink::Stream(&mut out), &mut Identity).is_ok() {
                let mut again = Vec::new();
                let second = custom::rewrite(&out[..], Sink::Stream(&mut again), &mut Identity);
                assert!(second.is_ok(), "our own output is refused: {second:?}");
                assert!(again == out, "a second identity rewrite changed the bytes");
            }
        }
        1 => {
            let mut out = std::io::Cursor::new(Vec::new());
            let _ = custom::rewrite(archive, Sink::Seekable(&mut out), &mut Identity);
        }
        2 => {
            let mut out = Vec::new();
            let _ = custom::rewrite(archive, Sink::Stream(&mut out), &mut Recompress);
        }
        _ => {
            let mut out = Vec::new();
            let _ = tar::rewrite(archive, &mut out, &mut Identity);
        }
    }
});
