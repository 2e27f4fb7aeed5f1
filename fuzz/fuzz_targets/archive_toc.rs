//! The custom-format header and TOC reader (`archive::toc::read_header`,
//! `read_toc`; `pg_backup_archiver.c` `ReadHead` / `ReadToc`) on any bytes.
//!
//! Checks: never panics, never hangs, never allocates past libFuzzer's RSS
//! limit (lengths and counts come from the input); and what it reads, written
//! back by `write_header` / `write_toc`, reads back the same and writes the
//! same bytes again.
#![no_main]

use dumpsed::internals::archive::toc::{self, In, Out};
use dumpsed::internals::archive::TocEntry;
use libfuzzer_sys::fuzz_target;

fn write(h: &toc::Header, t: &[TocEntry]) -> Vec<u8> {
    let mut o = Out::new(Vec::new(), h);
    toc::write_header(&mut o, h).expect("writing to memory");
    toc::write_toc(&mut o, h, t).expect("writing to memory");
    o.w
}

fn without_positions(t: &[TocEntry]) -> Vec<TocEntry> {
    t.iter().map(|e| TocEntry { at: 0, ..e.clone() }).collect()
}

fuzz_target!(|data: &[u8]| {
    let mut i = In::new(data);
    let Ok(h) = toc::read_header(&mut i) else { return };
    let Ok(t) = toc::read_toc(&mut i, &h) else { return };
    let bytes = write(&h, &t);
    let mut j = In::new(&bytes[..]);
    let h2 = toc::read_header(&mut j).expect("our own header is refused");
    let t2 = toc::read_toc(&mut j, &h2).expect("our own TOC is refused");
    assert_eq!(h, h2, "header changed on a round trip");
    assert!(without_positions(&t) == without_positions(&t2), "TOC changed on a round trip");
    assert!(write(&h2, &t2) == bytes, "writing the TOC read back gave other bytes");
});
