//! Custom format (`pg_dump -Fc`), read and written
//! (`src/bin/pg_dump/pg_backup_custom.c`).
//!
//! Layout: the header and TOC (`pg_backup_archiver.c`), each entry ending
//! with its data offset; then the data blocks, each a type byte
//! (`BLK_DATA` 1, `BLK_BLOBS` 3), an Int dump id, and chunks ended by an
//! Int 0 (for BLOBS: repeated Int oid + chunks, ended by oid 0).
//!
//! Reading is sequential, block after block, so an archive from a pipe
//! (offsets `K_OFFSET_POS_NOT_SET`) reads as well as one with offsets.
//! Writing follows `_CloseArchive`: header and TOC with offsets unset, the
//! data, then, on a seekable output, back to rewrite the TOC with the
//! offsets (fixed width, so the TOC's size does not change).

use std::collections::HashMap;
use std::io::{Read, SeekFrom, Write};

use super::compress::{self, write_err, ChunkReader, ChunkWriter, Encoder, ErrSlot};
use super::toc::{self, Extra, In, Out, K_OFFSET_NO_DATA, K_OFFSET_POS_NOT_SET, K_OFFSET_POS_SET};
use super::{ArchiveError, Edit, Header, Sink, Stats, TocEntry};

/// `BLK_DATA` and `BLK_BLOBS` in `pg_backup_archiver.h`.
pub const BLK_DATA: u8 = 1;
pub const BLK_BLOBS: u8 = 3;

/// A custom archive's header and TOC.
pub struct Archive {
    pub header: Header,
    pub toc: Vec<TocEntry>,
}

/// Reads the header and TOC; `i` is left at the first data block.
pub fn read_head<R: Read>(i: &mut In<R>) -> Result<Archive, ArchiveError> {
    let header = toc::read_header(i)?;
    if header.format != toc::FMT_CUSTOM {
        return Err(i.err(10, format!("archive format {} is not the custom format", header.format)));
    }
    let toc = toc::read_toc(i, &header)?;
    Ok(Archive { header, toc })
}

fn offsets_unset(toc: &mut [TocEntry]) {
    for te in toc {
        if let Extra::Offset { state, pos } = &mut te.extra {
            if *state != K_OFFSET_NO_DATA {
                *state = K_OFFSET_POS_NOT_SET;
                *pos = 0;
            }
        }
    }
}

/// Rewrites a custom archive from `input` to `out` under `edit`.
pub fn rewrite<R: Read + Send>(
    input: R,
    out: Sink<'_>,
    edit: &mut dyn Edit,
) -> crate::Result<Stats> {
    rewrite_as(input, out, edit, None)
}

/// [`rewrite`], writing the data with `compression` instead of the
/// input's (every block is then decompressed and recompressed; lz4 and
/// zstd need archive version 1.15 or later, whose header records them).
pub fn rewrite_as<R: Read + Send>(
    input: R,
    mut out: Sink<'_>,
    edit: &mut dyn Edit,
    compression: Option<toc::CompressionSpec>,
) -> crate::Result<Stats> {
    let mut i = In::new(input);
    let Archive { header: in_header, toc: orig } = read_head(&mut i)?;
    let alg = in_header
        .compression
        .algorithm()
        .map_err(|m| i.err(11, m))?;
    let mut header = in_header.clone();
    if let Some(c) = compression {
        let ok = match c {
            toc::CompressionSpec::Algorithm(_) => header.at_least(1, 15),
            toc::CompressionSpec::Level(_) => !header.at_least(1, 15),
        };
        if !ok {
            return Err(crate::Error::from(i.err(11, format!("compression {c:?} cannot be recorded in an archive of version {}.{}", header.vmaj, header.vmin))));
        }
        header.compression = c;
    }
    let out_alg = header.compression.algorithm().map_err(|m| i.err(11, m))?;
    let transcode = out_alg != alg;
    let level = header.compression.gzip_level();
    let mut toc = orig.clone();
    edit.toc(&header, &mut toc).map_err(|e| e.within("archive byte 0, rewriting the TOC"))?;
    offsets_unset(&mut toc);
    let by_id: HashMap<i64, usize> = orig.iter().enumerate().map(|(n, t)| (t.dump_id, n)).collect();
    // The edit may add entries (without data): the output TOC's position
    // of each entry is looked up by dump id.
    let out_at: HashMap<i64, usize> = toc.iter().enumerate().map(|(n, t)| (t.dump_id, n)).collect();
    let seekable = matches!(out, Sink::Seekable(_));
    let mut o = Out::new(&mut out, &header);
    toc::write_header(&mut o, &header).map_err(|e| write_err(o.pos, e))?;
    let toc_at = o.pos;
    toc::write_toc(&mut o, &header, &toc).map_err(|e| write_err(o.pos, e))?;

    let mut stats = Stats {
        format: "custom",
        version: format!("{}.{}-{}", header.vmaj, header.vmin, header.vrev),
        compression: out_alg.to_string(),
        entries: toc.len(),
        ..Stats::default()
    };
    let mut seen = vec![false; orig.len()];
    loop {
        let block_at = i.pos;
        i.context = "the data blocks".into();
        let Some(kind) = i.byte_or_eof()? else { break };
        let id = i.int("a data block's dump id")?;
        let Some(&n) = by_id.get(&id) else {
            return Err(crate::Error::from(i.err(block_at, format!("data block for dump id {id}, which is not in the TOC (corrupt archive?)"))));
        };
        let te = &orig[n];
        i.context = format!("{}, data block", te.describe());
        if seen[n] {
            return Err(crate::Error::from(i.err(block_at, "a second data block for this entry (corrupt archive?)")));
        }
        seen[n] = true;
        if let Extra::Offset { state: K_OFFSET_POS_SET, pos } = te.extra {
            if pos != block_at {
                return Err(crate::Error::from(i.err(block_at, format!("the TOC puts this block at byte {pos} (corrupt archive?)"))));
            }
        }
        if let (true, Some(&k)) = (seekable, out_at.get(&id)) {
            if let Extra::Offset { state, pos } = &mut toc[k].extra {
                *state = K_OFFSET_POS_SET;
                *pos = o.pos;
            }
        }
        o.byte(kind).map_err(|e| write_err(o.pos, e))?;
        o.int(id).map_err(|e| write_err(o.pos, e))?;
        stats.blocks += 1;
        match kind {
            BLK_DATA => match edit.data(te).or_else(|| transcode.then(|| Box::new(super::CopyAll) as Box<dyn super::DataEdit>)) {
                None => compress::copy_block(&mut i, &mut o, alg, super::row_check(te))?,
                Some(de) => {
                    stats.blocks_edited += 1;
                    edit_block(&mut i, &mut o, te, (alg, out_alg), level, block_at, de)?;
                }
            },
            BLK_BLOBS => loop {
                // Large objects pass through untouched.
                let oid = i.int("a large object's oid")?;
                o.int(oid).map_err(|e| write_err(o.pos, e))?;
                if oid == 0 {
                    break;
                }
                if transcode {
                    edit_block(&mut i, &mut o, te, (alg, out_alg), level, block_at, Box::new(super::CopyAll))?;
                    continue;
                }
                compress::copy_block(&mut i, &mut o, alg, None)?;
            },
            k => return Err(crate::Error::from(i.err(block_at, format!("unrecognized data block type {k} (corrupt archive?)")))),
        }
    }
    missing_blocks(&orig, &seen, i.pos)?;
    stats.bytes_in = i.pos;
    stats.bytes_out = o.pos;
    if let Sink::Seekable(w) = &mut out {
        let mut o = Out::new(&mut **w, &header);
        o.w.flush().map_err(|e| write_err(toc_at, e))?;
        o.w.seek(SeekFrom::Start(toc_at)).map_err(|e| write_err(toc_at, e))?;
        toc::write_toc(&mut o, &header, &toc).map_err(|e| write_err(toc_at, e))?;
        o.w.seek(SeekFrom::End(0)).map_err(|e| write_err(toc_at, e))?;
        o.w.flush().map_err(|e| write_err(toc_at, e))?;
    } else {
        out.flush().map_err(|e| write_err(stats.bytes_out, e))?;
    }
    Ok(stats)
}

/// Refuses an archive that ended before every data block its TOC promises.
/// An entry has a block exactly when its offset state is not
/// `K_OFFSET_NO_DATA`: `_ArchiveEntry` in `pg_backup_custom.c` sets
/// `K_OFFSET_POS_NOT_SET` for an entry with a data dumper (the hadDumper
/// written by `WriteToc`) and `K_OFFSET_NO_DATA` otherwise, and `_StartData`
/// turns it to `K_OFFSET_POS_SET`. pg_restore looks such a block up and
/// fails (`could not find block ID`) when the file ends first, so a cut at a
/// block boundary, or right after the TOC, is a truncated archive. An entry
/// whose two fields disagree is not what pg_dump writes.
fn missing_blocks(toc: &[TocEntry], seen: &[bool], end: u64) -> Result<(), ArchiveError> {
    for (te, &seen) in toc.iter().zip(seen) {
        let Extra::Offset { state, pos } = te.extra else { continue };
        let has_data = state != K_OFFSET_NO_DATA;
        let fail = |offset: u64, msg: String| ArchiveError {
            offset,
            entry: Some(te.describe()),
            msg,
        };
        if has_data != (te.had_dumper != 0) {
            return Err(fail(
                te.at,
                format!(
                    "hadDumper is {} but the data offset state is {state} (corrupt TOC?)",
                    te.had_dumper
                ),
            ));
        }
        if has_data && !seen {
            return Err(match state {
                K_OFFSET_POS_SET if pos >= end => fail(
                    pos,
                    format!("the TOC puts this entry's data block at byte {pos}, past the archive's end at byte {end} (truncated?)"),
                ),
                K_OFFSET_POS_SET => fail(pos, format!("no data block at byte {pos}, where the TOC puts it (corrupt archive?)")),
                _ => fail(
                    end,
                    format!("the archive ends at byte {end} without this entry's data block (truncated?)"),
                ),
            });
        }
    }
    Ok(())
}

/// Decompresses one block, runs it through `de`, recompresses it.
fn edit_block<R: Read + Send, W: Write + Send>(
    i: &mut In<R>,
    o: &mut Out<W>,
    te: &TocEntry,
    (alg, out_alg): (toc::Algorithm, toc::Algorithm),
    level: u32,
    block_at: u64,
    de: Box<dyn super::DataEdit + '_>,
) -> crate::Result<()> {
    let slot: ErrSlot = Default::default();
    let where_ = |at: u64, msg: String| ArchiveError {
        offset: at,
        entry: Some(format!("{}, data block", te.describe())),
        msg,
    };
    let mut chunks = ChunkReader::new(i, slot.clone());
    let result = {
        let dec = compress::decoder(alg, &mut chunks).map_err(|m| where_(block_at, m))?;
        let mut dec = Guard { r: dec, slot: slot.clone(), block_at, what: te.describe() };
        let cw = ChunkWriter::new(o);
        let mut enc = Encoder::new(out_alg, level, cw).map_err(|m| where_(block_at, m))?;
        let r = de.run(&mut dec, &mut enc);
        let r = r.and_then(|()| {
            std::io::copy(&mut dec, &mut std::io::sink())
                .map(|_| ())
                .map_err(|e| crate::Error::Archive(e.to_string()))
        });
        match r {
            Ok(()) => {
                let cw = enc.finish().map_err(|e| where_(block_at, format!("writing: {e}")))?;
                cw.finish().map_err(|e| where_(block_at, format!("writing: {e}")))?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    };
    if let Some(e) = slot.lock().ok().and_then(|mut s| s.take()) {
        return Err(e.into());
    }
    // The edit's own error (a rule, a check) keeps its kind, said at the block.
    result.map_err(|e| e.within(&format!("archive byte {block_at}, {}, data block", te.describe())))?;
    chunks.drain().map_err(|e| where_(chunks.chunk_at, e.to_string()))?;
    Ok(())
}

/// Turns decompression errors into archive errors naming the block.
struct Guard<'a> {
    r: Box<dyn Read + Send + 'a>,
    slot: ErrSlot,
    block_at: u64,
    what: String,
}

impl Read for Guard<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.r.read(buf) {
            Ok(n) => Ok(n),
            Err(e) => {
                let mut s = self.slot.lock().map_err(|_| std::io::Error::other("lock"))?;
                if s.is_none() {
                    *s = Some(ArchiveError {
                        offset: self.block_at,
                        entry: Some(format!("{}, data block", self.what)),
                        msg: format!("corrupt compressed data: {e}"),
                    });
                }
                Err(e)
            }
        }
    }
}
