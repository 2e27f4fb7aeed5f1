//! The parallel pipeline: one reader thread frames chunks, worker threads
//! rewrite (and optionally compress) them, and the calling thread writes
//! them strictly in order. The workers wait for chunks on a channel and
//! sleep while there is none (a work-stealing pool spins a while first,
//! which on two cores takes the reader's CPU).
//!
//! Memory is bounded by a fixed number of permits: the reader takes one
//! before framing a chunk and the writer returns it after writing that
//! chunk, so at most `inflight` chunks exist at any time, whatever the size
//! of the input.

use std::collections::BTreeMap;
use std::io::{IoSlice, Read, Write};
use std::sync::Arc;

use crossbeam_channel::{bounded, unbounded};
use flate2::write::GzEncoder;

use crate::error::{Error, LocalError, Position, Result};
use crate::observe::{Observer, ValueChange};
use crate::decide::plan::Plan;
use crate::decide::reader::{Chunk, Reader};
use crate::observe::facts::DumpFacts;
use crate::apply::rewrite::{rewrite_chunk, Counts, Rewritten};

/// Settings of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Worker threads.
    pub threads: usize,
    /// Chunks in flight at most (reading, rewriting or waiting to be written).
    pub inflight: usize,
    /// How to compress the output, if at all.
    pub compress: Option<OutputCompression>,
}

/// Compression of a plain dump written out. Each chunk becomes one
/// complete gzip member, zstd frame or LZ4 frame, compressed by its worker;
/// members and frames concatenate into one valid file (RFC 1952 §2.2;
/// RFC 8878 §3.1; the LZ4 frame format's "multiple frames" section), as
/// pigz and `zstd -T` write them, and as `gzip -d`, `zstd -d`, `lz4 -d`
/// and dumpsed itself read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputCompression {
    /// gzip at a level 1–9.
    Gzip(u32),
    /// zstd at a level 1–19 (pg_dump's default is 3, `ZSTD_CLEVEL_DEFAULT`).
    Zstd(i32),
    /// LZ4 frames (lz4's default block settings).
    Lz4,
}

impl OutputCompression {
    /// Compresses one chunk's output pieces into a self-contained member
    /// or frame.
    fn chunk(self, rw: &Rewritten, data: &[u8]) -> std::io::Result<Vec<u8>> {
        let cap = data.len() / 3;
        match self {
            OutputCompression::Gzip(level) => {
                let mut enc = GzEncoder::new(Vec::with_capacity(cap), flate2::Compression::new(level));
                rw.for_each_slice(data, |s| enc.write_all(s))?;
                enc.finish()
            }
            OutputCompression::Zstd(level) => {
                let mut enc = zstd::stream::write::Encoder::new(Vec::with_capacity(cap), level)?;
                rw.for_each_slice(data, |s| enc.write_all(s))?;
                enc.finish()
            }
            OutputCompression::Lz4 => {
                let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(cap));
                rw.for_each_slice(data, |s| enc.write_all(s))?;
                enc.finish().map_err(std::io::Error::other)
            }
        }
    }
}

enum Body {
    Pieces(Rewritten),
    Bytes(Vec<u8>),
}

/// A processed chunk.
struct Done {
    plan: Arc<Plan>,
    /// The chunk's facts, as it shipped them.
    facts: DumpFacts,
    seq: u64,
    offset: u64,
    data: crate::frame::chunk_buf::ChunkBuf,
    permits: usize,
    lines: u64,
    counts: Counts,
    body: std::result::Result<Body, LocalError>,
}

enum Msg {
    Done(Done),
    Fatal(Error),
}

/// Tells `observer` a chunk's rewritten values, each with the line and
/// byte offset of its row or tuple.
fn report_changes(observer: &mut dyn Observer, done: &Done, lines_before: u64) -> std::io::Result<()> {
    let (mut pos, mut line) = (0usize, lines_before + 1);
    for c in &done.counts.changes {
        let at = c.at.min(done.data.len());
        if at >= pos {
            line += count_lines(&done.data[pos..at]);
            pos = at;
        }
        let w = &done.plan.rewrites[c.rule];
        // A huge value is read from the chunk and rewritten again here,
        // one at a time (rewrite.rs, `Change::input`).
        let again;
        let (old, new) = match c.input.clone().and_then(|r| done.data.get(r)) {
            Some(old) => {
                again = w.apply(old).unwrap_or_else(|| old.to_vec());
                (old, &again[..])
            }
            None => (&c.old[..], &c.new[..]),
        };
        observer.change(&ValueChange {
            table: &w.table,
            column: &w.column,
            line,
            offset: done.offset + c.at as u64,
            old,
            new,
        })?;
    }
    Ok(())
}

/// Writes a chunk's output pieces. Long pieces (unchanged runs of the
/// input) go straight from the chunk, in a vectored write with what came
/// before them; short ones (a rewritten value and the bytes between two of
/// them) are gathered into `stage` first: the kernel's copy into the page
/// cache costs per piece, and a rewritten table is a piece every few
/// hundred bytes. Returns the bytes written.
fn write_pieces(out: &mut dyn Write, rw: &Rewritten, data: &[u8], stage: &mut Vec<u8>) -> std::io::Result<u64> {
    const LONG: usize = 64 << 10;
    const STAGE: usize = 256 << 10;
    stage.clear();
    let mut total = 0u64;
    rw.for_each_slice(data, |s| {
        total += s.len() as u64;
        if s.len() >= LONG {
            write_all_vectored(out, &mut [IoSlice::new(stage), IoSlice::new(s)])?;
            stage.clear();
        } else {
            if stage.len() + s.len() > STAGE {
                out.write_all(stage)?;
                stage.clear();
            }
            stage.extend_from_slice(s);
        }
        Ok::<(), std::io::Error>(())
    })?;
    out.write_all(stage)?;
    Ok(total)
}

/// `Write::write_all_vectored`, which is not stable yet.
fn write_all_vectored(out: &mut dyn Write, mut bufs: &mut [IoSlice<'_>]) -> std::io::Result<()> {
    while !bufs.is_empty() {
        match out.write_vectored(bufs) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

fn process(chunk: Chunk, compress: Option<OutputCompression>) -> Done {
    let mut body = match &chunk.error {
        Some(e) => Err(e.clone()),
        None => rewrite_chunk(&chunk),
    };
    let mut counts = Counts::default();
    if let Ok(rw) = body.as_mut() {
        counts = std::mem::take(&mut rw.counts);
    }
    let lines = match &body {
        Err(e) => count_lines(&chunk.data[..e.at.min(chunk.data.len())]),
        Ok(rw) => rw.lines,
    };
    let body = match (body, compress) {
        (Ok(rw), Some(c)) => match c.chunk(&rw, &chunk.data) {
            Ok(v) => Ok(Body::Bytes(v)),
            Err(e) => Err(LocalError::new(0, format!("compressing output: {e}"))),
        },
        (Ok(rw), None) => Ok(Body::Pieces(rw)),
        (Err(e), _) => Err(e),
    };
    Done {
        plan: chunk.plan.clone(),
        facts: chunk.facts,
        seq: chunk.seq,
        offset: chunk.offset,
        data: chunk.data,
        permits: chunk.permits,
        lines,
        counts,
        body,
    }
}

/// A chunk larger than this holds every permit of the pipeline while it is
/// in flight (chunks are 2 MiB; only a single record makes one larger).
const HUGE_CHUNK: usize = 16 << 20;

/// What a run did.
pub struct Outcome {
    pub counts: Counts,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The plan in force at the end (with the tables found on the way).
    pub plan: Option<Arc<Plan>>,
    /// Values that collide with another value of their column.
    pub collisions: Vec<crate::observe::checks::Collision>,
    /// The collision check could not keep every irreversible value.
    pub check_incomplete: bool,
    /// What the dump said, every chunk's facts merged in input order.
    pub facts: DumpFacts,
}

/// Runs `reader` through the pool into `out`, telling `observer` each
/// chunk's progress (and its changes, when the plan collects them) once it
/// is written.
pub fn run<R: Read + Send>(
    mut reader: Reader<R>,
    out: &mut dyn Write,
    config: &PipelineConfig,
    observer: &mut dyn Observer,
) -> Result<Outcome> {
    let inflight = config.inflight.max(2);
    let (permit_tx, permit_rx) = bounded::<()>(inflight);
    for _ in 0..inflight {
        let _ = permit_tx.send(());
    }
    let (done_tx, done_rx) = unbounded::<Msg>();
    let (recycle_tx, recycle_rx) = bounded::<crate::frame::chunk_buf::ChunkBuf>(inflight);
    reader.recycle_from(recycle_rx);
    let compress = config.compress;

    std::thread::scope(|scope| {
        // The permits bound the chunks in flight, so the queue needs no bound.
        let (work_tx, work_rx) = unbounded::<Chunk>();
        for i in 0..config.threads.max(1) {
            let (rx, tx) = (work_rx.clone(), done_tx.clone());
            std::thread::Builder::new()
                .name(format!("dumpsed-worker-{i}"))
                .spawn_scoped(scope, move || {
                    for chunk in rx {
                        let seq = chunk.seq;
                        // A panic must not leave a hole in the output: it
                        // ends the run with an error instead.
                        let msg = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process(chunk, compress))) {
                            Ok(done) => Msg::Done(done),
                            Err(_) => Msg::Fatal(Error::io(
                                format!("rewriting chunk {seq}"),
                                std::io::Error::other("a worker thread panicked"),
                            )),
                        };
                        let _ = tx.send(msg);
                    }
                })
                .map_err(|e| Error::io("starting worker threads", e))?;
        }
        drop(work_rx);
        // Named, so that a profile tells the reader's CPU from the writer's.
        let framing = std::thread::Builder::new().name("dumpsed-reader".into());
        let spawned = framing.spawn_scoped(scope, move || {
            while permit_rx.recv().is_ok() {
                match reader.next_chunk() {
                    Ok(Some(mut chunk)) => {
                        // A huge chunk (a record of many MiB) waits for
                        // every permit, i.e. until the chunks before it are
                        // written, and keeps them until it is written: no
                        // other chunk is framed or rewritten beside it, so
                        // memory holds one huge record and its rewrite at
                        // most, not one per permit (issue 28, item 11).
                        if chunk.data.len() > HUGE_CHUNK {
                            for _ in 1..inflight {
                                if permit_rx.recv().is_err() {
                                    break;
                                }
                                chunk.permits += 1;
                            }
                        }
                        let last = chunk.error.is_some();
                        let _ = work_tx.send(chunk);
                        if last {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        let _ = done_tx.send(Msg::Fatal(e));
                        break;
                    }
                }
            }
        });
        if let Err(e) = spawned {
            return Err(Error::io("starting the reader thread", e));
        }

        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0u64;
        let mut lines = 0u64;
        let mut counts = Counts::default();
        let (mut bytes_in, mut bytes_out) = (0u64, 0u64);
        let mut last_plan = None;
        let mut facts = DumpFacts::default();
        // The collision check sorts and spills every final value: on a
        // thread of its own, so that the writer only writes. The channel
        // holds more chunks' values than there are permits: while the check
        // sorts a run, a full channel would stop the writer, and with it
        // the permits the reader waits for.
        let (check_tx, check_rx) = bounded::<Vec<crate::observe::checks::Final>>(crate::observe::checks::CHECK_QUEUE.max(inflight));
        let checker = std::thread::Builder::new()
            .name("dumpsed-check".into())
            .spawn_scoped(scope, move || -> std::io::Result<(Vec<crate::observe::checks::Collision>, bool)> {
                let mut check = crate::observe::checks::UniqueCheck::default();
                for finals in check_rx {
                    check.feed(&finals)?;
                }
                Ok((check.finish()?, check.gave_up))
            })
            .map_err(|e| Error::io("starting the collision check thread", e))?;
        let mut stage = Vec::new();
        let result = (|| {
            for msg in done_rx.iter() {
                let done = match msg {
                    Msg::Done(d) => d,
                    Msg::Fatal(e) => return Err(e),
                };
                pending.insert(done.seq, done);
                while let Some(mut done) = pending.remove(&next) {
                    match &done.body {
                        Err(e) => {
                            let pos = Position {
                                line: lines + done.lines + 1,
                                offset: done.offset + e.at as u64,
                            };
                            if e.rule {
                                return Err(Error::RuleAt { pos, msg: e.msg.clone(), remedy: e.remedy.clone() });
                            }
                            return Err(Error::Syntax {
                                pos,
                                msg: e.msg.clone(),
                                remedy: e.remedy.clone(),
                            })
                        }
                        Ok(Body::Bytes(b)) => {
                            out.write_all(b)
                                .map_err(|e| Error::io("writing output", e))?;
                            bytes_out += b.len() as u64;
                        }
                        Ok(Body::Pieces(rw)) => {
                            bytes_out += write_pieces(out, rw, &done.data, &mut stage)
                                .map_err(|e| Error::io("writing output", e))?;
                        }
                    }
                    if !done.counts.changes.is_empty() {
                        report_changes(observer, &done, lines)
                            .map_err(|e| Error::io("reporting rewritten values (the change log)", e))?;
                    }
                    if !done.counts.finals.is_empty() {
                        // A send fails only when the checker has stopped
                        // on an error, which its join below reports.
                        let _ = check_tx.send(std::mem::take(&mut done.counts.finals));
                    }
                    facts.merge(std::mem::take(&mut done.facts));
                    counts.add(&done.counts);
                    last_plan = Some(done.plan.clone());
                    lines += done.lines;
                    bytes_in += done.data.len() as u64;
                    next += 1;
                    observer.progress(bytes_in);
                    // Give the buffer back before the permit, so the
                    // reader finds it when it frames the next chunk. A
                    // window of a mapped input is dropped here instead,
                    // which unmaps its pages (chunk_buf.rs), and so is a
                    // huge chunk's buffer, not kept for the rest of the run.
                    // Everything of the chunk goes before its permits: a
                    // huge record must be gone before the reader, given
                    // them, frames the next one (seen under load: three
                    // 100 MiB records held at once).
                    let (data, permits) = (std::mem::take(&mut done.data), done.permits);
                    drop(done);
                    if !data.is_mapped() && data.capacity() <= HUGE_CHUNK {
                        let _ = recycle_tx.try_send(data);
                    } else {
                        drop(data);
                    }
                    for _ in 0..permits {
                        let _ = permit_tx.send(());
                    }
                }
            }
            drop(check_tx);
            let (collisions, gave_up) = match checker.join() {
                Ok(r) => r.map_err(|e| Error::io("checking for collisions", e))?,
                Err(_) => return Err(Error::io("checking for collisions", std::io::Error::other("the check thread panicked"))),
            };
            Ok(Outcome {
                counts,
                bytes_in,
                bytes_out,
                plan: last_plan,
                collisions,
                check_incomplete: gave_up,
                facts: std::mem::take(&mut facts),
            })
        })();
        // Unblock and end the reader thread whatever happened.
        drop(permit_tx);
        result
    })
}
