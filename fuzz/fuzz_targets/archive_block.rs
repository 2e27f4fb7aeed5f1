//! The custom-format data block reader (`archive::compress`: `ChunkReader`
//! over the Int-length chunks ended by an Int 0, as `pg_backup_custom.c`
//! `_PrintData` reads them, and the zlib / LZ4F / zstd decoders of
//! `compress_gzip.c`, `compress_lz4.c`, `compress_zstd.c`) on any bytes.
//!
//! Input: byte 0 picks the compression (none, gzip, lz4, zstd), the rest is
//! the block. Checks: never panics or hangs; a block that decodes, encoded
//! again by `Encoder` + `ChunkWriter` (the block writer), decodes to the
//! same bytes; `copy_chunks` (the copy path for untouched blocks) keeps the
//! data of what it copies.
#![no_main]

use std::io::Read;

use dumpsed::internals::archive::compress::{copy_chunks, decoder, ChunkReader, ChunkWriter, Encoder, ErrSlot};
use dumpsed::internals::archive::toc::{In, Out};
use dumpsed::internals::archive::Algorithm;
use libfuzzer_sys::fuzz_target;

/// Decoded bytes kept at most (a small input can inflate a lot).
const LIMIT: u64 = 8 << 20;

fn out() -> Out<Vec<u8>> {
    Out { w: Vec::new(), pos: 0, int_size: 4, off_size: 8 }
}

fn decode(alg: Algorithm, block: &[u8]) -> Option<Vec<u8>> {
    let mut i = In::new(block);
    let chunks = ChunkReader::new(&mut i, ErrSlot::default());
    let d = decoder(alg, chunks).ok()?;
    let mut plain = Vec::new();
    d.take(LIMIT + 1).read_to_end(&mut plain).ok()?;
    (plain.len() as u64 <= LIMIT).then_some(plain)
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, block)) = data.split_first() else { return };
    let alg = [Algorithm::None, Algorithm::Gzip, Algorithm::Lz4, Algorithm::Zstd][usize::from(ctl % 4)];
    if alg == Algorithm::None {
        // The copy writes each length as pg_dump's WriteInt does: the same
        // bytes, except that a "-0" (sign byte 1, magnitude 0; never
        // written by pg_dump) comes out as 0. So compare what it holds.
        let mut o = out();
        if copy_chunks(&mut In::new(block), &mut o, None, None).is_ok() {
            assert!(decode(alg, &o.w) == decode(alg, block), "copy_chunks changed the data");
        }
    }
    let Some(plain) = decode(alg, block) else { return };
    let mut o = out();
    let mut e = Encoder::new(alg, 6, ChunkWriter::new(&mut o)).expect("encoder");
    std::io::Write::write_all(&mut e, &plain).expect("encoding to memory");
    e.finish().expect("encoding to memory").finish().expect("encoding to memory");
    let again = decode(alg, &o.w).expect("our own block is refused");
    assert!(again == plain, "a block encoded again decodes to other bytes");
});
