//! The reader: cuts a dump into chunks of whole records and decides, for
//! every byte range, what the workers must do with it.
//!
//! It runs on one thread, ahead of the workers. The framer (`frame::dump`)
//! finds where records end (lexing SQL, searching COPY data for its end
//! marker, so untouched data is never parsed field by field); the reader
//! owns the buffer, asks the framer for frames and the decider
//! (`decide::dump`) what to do with each statement. Each [`Chunk`] it emits
//! starts at a record boundary and carries the decisions ([`Segment`]s) for
//! its bytes, so workers need no state from earlier chunks and the output
//! does not depend on how the input was cut.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::frame::chunk_buf::ChunkBuf;
use crate::error::{Error, LocalError, Remedy};
use crate::decide::dump::Decider;
pub use crate::decide::dump::{Action, ColumnEdits, Edit};
pub use crate::observe::facts::DumpFacts;
use crate::frame::dump::{Frame, FrameError, Framer, Kind};
use crate::frame::lexer::Dialect;
use crate::decide::plan::Plan;

/// A byte range of a chunk and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub start: usize,
    pub end: usize,
    pub action: Action,
}

/// A piece of the input cut at a record boundary, with its decisions.
#[derive(Debug)]
pub struct Chunk {
    /// Position in the output order.
    pub seq: u64,
    /// Offset of `data[0]` in the (decompressed) input.
    pub offset: u64,
    pub data: ChunkBuf,
    pub segments: Vec<Segment>,
    /// Set on the last chunk when the input is malformed at `at`.
    pub error: Option<LocalError>,
    /// The rules every segment of this chunk is applied with. PostgreSQL:
    /// one plan for the run, Django's many-to-many tables found in the
    /// pre-data read ahead. SQLite (and PostgreSQL past a cut read-ahead):
    /// the plan as of the chunk's end, a table found in a `CREATE TABLE`
    /// appended; nothing before that statement names the table (see
    /// `Decider::plan`) and renames are only appended, so the segments
    /// decided before it apply the same with this plan.
    pub plan: Arc<Plan>,
    /// What the dump said up to the end of this chunk, for the checks:
    /// the values in force (its worker decodes with `facts.encoding`) and
    /// what was first seen in this chunk (`DumpFacts::ship`).
    pub facts: DumpFacts,
    /// Permits of the pipeline this chunk holds (pipeline.rs): 1, or all
    /// of them for a huge chunk (one huge record), which then is the only
    /// chunk in flight.
    pub permits: usize,
}

/// Tunables of the reader.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// Target chunk size in bytes.
    pub chunk_size: usize,
    /// Largest single statement or row accepted, in bytes.
    pub max_record: usize,
    /// Column lists for tables whose `CREATE TABLE` is not in the dump.
    pub columns: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    /// Go on when a check fails (e.g. a rename's target name exists).
    pub force: bool,
    /// Timestamp for `django_migrations` rows added by the rules.
    pub now: String,
    /// Accept a dump that lacks its closing marker (hand-made, or known cut).
    pub allow_truncated: bool,
    /// Add Django's effects beyond the schema at the end (false: the input
    /// is one part of an archive, which gets them as a TOC entry).
    pub appendix: bool,
    /// The rules are reversed Django rules and the input a whole dump: it
    /// is the output of a forward run, whose appendix
    /// ([`crate::decide::django::APPENDIX_MARKER`] and the statements after it, to
    /// the end of a PostgreSQL dump or to SQLite's `COMMIT;`) is taken out,
    /// and nothing is added. A dump without one is refused.
    pub undo_appendix: bool,
}

impl Default for ReaderConfig {
    fn default() -> Self {
        ReaderConfig {
            chunk_size: 2 << 20,
            max_record: 1 << 30,
            columns: HashMap::new(),
            force: false,
            now: String::new(),
            allow_truncated: false,
            appendix: true,
            undo_appendix: false,
        }
    }
}

/// Frames an input stream into [`Chunk`]s.
pub struct Reader<R> {
    input: R,
    config: ReaderConfig,
    framer: Framer,
    /// The action for the rows of the COPY being read.
    copy_rows: Action,
    buf: ChunkBuf,
    /// Bytes of `buf` before `done` are covered by `segments`.
    done: usize,
    segments: Vec<Segment>,
    eof: bool,
    finished: bool,
    offset: u64,
    seq: u64,
    /// Index in `segments` of the last `-- Name:` comment, until the
    /// statement it describes is read (its tag may need that statement's
    /// renames); no chunk is cut in between.
    last_header: Option<usize>,
    /// How far the dump has got towards its closing marker.
    ending: Ending,
    /// Chunk buffers the writer is done with, to frame the next chunks in
    /// (no fresh 2 MiB allocation, page faults and zeroing per chunk).
    recycled: Option<crossbeam_channel::Receiver<ChunkBuf>>,
    /// Mapped input: the bytes taken into `buf` so far, for progress.
    mapped_consumed: Option<Arc<AtomicU64>>,
    /// PostgreSQL with column renames: the pre-data was read ahead
    /// (`read_predata`).
    predata_read: bool,
    /// What is decided about each statement (the rules, what the dump said).
    decider: Decider,
    /// `undo_appendix`: where the forward run's appendix starts (absolute
    /// offset of its marker comment), once found.
    undo_found: Option<u64>,
    /// `undo_appendix`: inside the forward run's appendix, whose bytes are
    /// dropped (PostgreSQL: to the end; SQLite: to the `COMMIT;`).
    undo_dropping: bool,
}

const READ_SIZE: usize = 256 << 10;

/// How much pre-data (the schema before the first row) is read ahead at
/// most, within `--max-record-size`: it stays in memory until framed, and
/// an owned buffer's remainder is copied at each chunk cut.
const PREDATA_LOOKAHEAD: usize = 64 << 20;

impl<R: Read> Reader<R> {
    /// A reader of `input` (already decompressed) with `plan`'s dialect.
    pub fn new(input: R, plan: Arc<Plan>, config: ReaderConfig) -> Reader<R> {
        let dialect = plan.dialect;
        let mut decider = Decider::new(plan, &config.columns, config.force);
        decider.django_shapes = !config.undo_appendix && config.appendix;
        Reader {
            decider,
            input,
            buf: ChunkBuf::default(),
            recycled: None,
            mapped_consumed: None,
            config,
            framer: Framer::new(dialect),
            copy_rows: Action::Keep,
            done: 0,
            segments: Vec::new(),
            eof: false,
            finished: false,
            offset: 0,
            seq: 0,
            last_header: None,
            ending: Ending::default(),
            predata_read: false,
            undo_found: None,
            undo_dropping: false,
        }
    }

    /// Pre-loads bytes already read from the input (e.g. by format
    /// detection), to be framed before the rest.
    pub fn with_prefix(mut self, prefix: Vec<u8>) -> Self {
        self.buf = ChunkBuf::from(prefix);
        self
    }

    /// The next chunk, or `None` after the last. A malformed input yields
    /// a final chunk whose `error` is set.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, Error> {
        if self.finished {
            return Ok(None);
        }
        if !self.predata_read {
            self.predata_read = true;
            let pg = self.decider.plan.dialect == Dialect::Postgres;
            // Value rules too: a rule on a partitioned parent reaches the
            // partitions' rows, which the ATTACH names.
            let attach = pg && (!self.decider.plan.columns.is_empty() || !self.decider.plan.rewrites.is_empty());
            // Django's many-to-many tables: found before anything is decided.
            let django = pg && self.decider.derives_tables();
            if attach || django {
                self.read_predata(attach)?;
            }
        }
        loop {
            if self.done >= self.config.chunk_size && self.last_header.is_none() {
                return Ok(Some(self.ship(None)));
            }
            if self.framer.wants_input(self.buf.len()) {
                if self.eof {
                    return Ok(Some(self.finish()));
                }
                if self.buf.len() - self.done > self.config.max_record {
                    let mib = self.config.max_record >> 20;
                    let msg = format!(
                        "a single statement or row is larger than {mib} MiB, the record size limit; \
                         raise the limit if this is real data"
                    );
                    let remedy = Remedy::MaxRecordSize { suggested_mib: mib * 4 };
                    return Ok(Some(self.fail_with(LocalError::new(self.done, msg).with_remedy(remedy))));
                }
                self.fill()?;
                continue;
            }
            let step = match self.framer.next(&self.buf, self.eof, self.decider.known_head()) {
                Ok(Some(frame)) => self.on_frame(frame),
                Ok(None) => Ok(()),
                Err(e) => Err(e.into()),
            };
            if let Err(e) = step {
                return Ok(Some(self.fail_with(e)));
            }
        }
    }

    /// Takes the buffers of written chunks back from `rx` to frame new
    /// chunks in. Their old bytes are never read: a buffer is cleared first.
    pub fn recycle_from(&mut self, rx: crossbeam_channel::Receiver<ChunkBuf>) {
        self.recycled = Some(rx);
    }

    /// Frames the input from `map`, the whole (uncompressed) input file
    /// mapped, instead of reading it: chunks are windows of the mapping
    /// (`chunk_buf`). `consumed` counts the bytes taken in, for progress,
    /// as `input::Counting` does for a read input.
    pub fn with_map(mut self, map: Arc<memmap2::Mmap>, consumed: Arc<AtomicU64>) -> Self {
        self.buf = ChunkBuf::mapped(map);
        self.mapped_consumed = Some(consumed);
        self
    }

    /// Reads the pre-data into the buffer before anything is decided and
    /// learns from it what a later statement says about an earlier one
    /// (`pg_predata`): which tables are partitions of which. A column
    /// rename of a partitioned parent then reaches the partition's own
    /// `CREATE TABLE` and everything that names its columns, as the live
    /// rename does. Past `PREDATA_LOOKAHEAD` (or `--max-record-size`) it
    /// stops reading ahead; an `ATTACH PARTITION` found later is refused
    /// where the rename would need it (`pg_resolve::attach_partition`).
    ///
    /// With Django rules it also derives, from each `CREATE TABLE`, the
    /// many-to-many tables the model renames reach (`Decider::predata_create`),
    /// so the plan is whole before the first statement is decided. A table
    /// past a cut read-ahead is found at its `CREATE TABLE`, still before
    /// its rows (`Chunk::plan`). `attach`: note the `ATTACH` edges (the
    /// rules rename columns or rewrite values).
    fn read_predata(&mut self, attach: bool) -> Result<(), Error> {
        use crate::decide::pg::predata::{PreData, PreStmt, Progress};
        let limit = PREDATA_LOOKAHEAD.min(self.config.max_record);
        let mut scan = PreData::default();
        let django = self.decider.derives_tables();
        let mut created = std::collections::HashSet::new();
        loop {
            let decider = &mut self.decider;
            let progress = scan.scan(&self.buf, self.eof, |kind, stmt, escapes, grammar| match kind {
                PreStmt::Attach if attach => decider.facts.note_predata(stmt, escapes, grammar),
                PreStmt::Create if django => decider.predata_create(stmt, &mut created),
                _ => {}
            });
            if progress == Progress::Done {
                return Ok(());
            }
            if self.buf.len() > limit {
                if attach {
                    self.decider.facts.read_ahead_cut = Some(limit);
                }
                return Ok(());
            }
            self.fill()?;
        }
    }

    fn fill(&mut self) -> Result<(), Error> {
        // Mapped: the same steps as reading, without the copy.
        if let Some(n) = self.buf.grow_mapped(READ_SIZE) {
            if let Some(c) = &self.mapped_consumed {
                c.fetch_add(n as u64, Ordering::Relaxed);
            }
            self.eof = n == 0;
            return Ok(());
        }
        let len = self.buf.len();
        let n = loop {
            match self.input.read(self.buf.spare(READ_SIZE)) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let at = self.offset + len as u64;
                    return Err(Error::io(
                        format!("reading input (after decompressed byte {at})"),
                        e,
                    ));
                }
            }
        };
        self.buf.advance(n);
        self.eof = n == 0;
        Ok(())
    }

    /// Marks `buf[done..end]` as handled by `action`, merging with the
    /// previous segment when both are plain copies or rows of one block.
    fn push(&mut self, action: Action, end: usize) {
        let start = self.done;
        if end <= start {
            return;
        }
        self.done = end;
        // Shape checks of a run of INSERTs into one untargeted table, apart
        // only by white space, are one segment: one scan of their values
        // (heads hold no separator but a column list, itself as long as a
        // row must be), not a segment and a scan set up per statement.
        if let Action::Insert { edits: Some(b), rename: false, head: None, escapes: eb, .. } = &action {
            let n = self.segments.len();
            if b.is_shape_only() && n >= 2 {
                let (prev, gap) = (&self.segments[n - 2], &self.segments[n - 1]);
                let joins = gap.action == Action::Keep
                    && gap.end == start
                    && prev.end == gap.start
                    && matches!(&prev.action, Action::Insert { edits: Some(a), rename: false, head: None, escapes: ea, .. }
                        if Arc::ptr_eq(a, b) && ea == eb)
                    && self.buf[gap.start..gap.end].iter().all(u8::is_ascii_whitespace);
                if joins {
                    self.segments.pop();
                    if let Some(prev) = self.segments.last_mut() {
                        prev.end = end;
                    }
                    return;
                }
            }
        }
        if let Some(last) = self.segments.last_mut() {
            let mergeable = match (&last.action, &action) {
                (Action::Keep, Action::Keep) => true,
                (Action::CopyRows(a), Action::CopyRows(b)) => Arc::ptr_eq(a, b),
                _ => false,
            };
            if mergeable && last.end == start {
                last.end = end;
                return;
            }
        }
        self.segments.push(Segment { start, end, action });
    }

    /// Decides one frame and pushes its segment.
    fn on_frame(&mut self, f: Frame) -> Result<(), LocalError> {
        if self.config.undo_appendix && self.undo_frame(&f)? {
            return Ok(());
        }
        // A line break `undo_frame` kept back is a segment of its own: an
        // action's offsets count from its frame's start.
        if self.done < f.start {
            self.push(Action::Keep, f.start);
        }
        match f.kind {
            Kind::Space | Kind::CopyHeaderRest | Kind::CopyEnd => self.push(Action::Keep, f.end),
            Kind::Meta => {
                self.ending.meta(&self.buf[f.start..f.end]);
                self.push(Action::Keep, f.end);
            }
            Kind::CopyRows => {
                let action = self.copy_rows.clone();
                self.push(action, f.end);
            }
            Kind::Comment => self.on_comment(f.start, f.end),
            Kind::Statement => {
                self.end_statement(f.start, f.end)?;
                // The line break the framer found with it: no cut between.
                if let Some(q) = self.framer.take_queued() {
                    let action = if self.undo_dropping { Action::Drop } else { Action::Keep };
                    self.push(action, q.end);
                }
            }
        }
        // Segments cover exactly what was framed (but for a line break
        // `undo_frame` keeps back).
        debug_assert!(
            self.done <= self.framer.done() && self.framer.done() - self.done <= usize::from(self.config.undo_appendix)
        );
        Ok(())
    }

    /// A comment between statements: pg_dump's version lines, the dump's
    /// opening and closing lines, or a `-- Name:` header (decided with the
    /// statement after it).
    fn on_comment(&mut self, start: usize, end: usize) {
        let pg = self.decider.plan.dialect == Dialect::Postgres;
        let text = &self.buf[start..end];
        self.ending.comment(text);
        // pg_backup_archiver.c: "-- Dumped from database version %s".
        for prefix in [&b"-- Dumped from database version "[..], b"-- Dumped by pg_dump version "] {
            if let Some(v) = text.strip_prefix(prefix) {
                let v = String::from_utf8_lossy(v.trim_ascii_end()).into_owned();
                let what = if prefix.starts_with(b"-- Dumped from") { "server" } else { "pg_dump" };
                self.decider.facts.versions.note_comment(text);
                let entry = format!("{what} {v}");
                self.decider.observed.versions = Some(match self.decider.observed.versions.take() {
                    Some(prev) => format!("{prev}, {entry}"),
                    None => entry,
                });
            }
        }
        let header =
            text.starts_with(b"-- Name: ") || text.starts_with(b"-- Data for Name: ");
        self.push(Action::Keep, start);
        if pg && header {
            // A header with no statement before the next one (a TABLE DATA
            // entry of an empty table in an `--inserts` dump; in an
            // archive's TOC pass every data entry's, whose rows are not
            // SQL there): its tag takes the plan's renames alone. Left
            // pending, an archive kept the old tag, and `pg_restore -j`
            // TRUNCATEs a data entry's table by its tag (`restore_toc_entry`,
            // pg_backup_archiver.c): the old table, which is gone.
            self.settle_header(&Action::Keep);
            // Decided with the statement that follows.
            self.segments.push(Segment {
                start,
                end,
                action: Action::PendingHeader,
            });
            self.done = end;
            self.last_header = Some(self.segments.len() - 1);
        } else {
            self.push(Action::Keep, end);
        }
    }

    /// Decides the complete statement `buf[stmt_start..end]` (a frame of
    /// `frame::dump`) and pushes its segment.
    fn end_statement(&mut self, stmt_start: usize, end: usize) -> Result<bool, LocalError> {
        let pg = self.decider.plan.dialect == Dialect::Postgres;
        if self.undo_dropping {
            if !pg && self.is_commit(stmt_start, end) {
                // The appendix ends before SQLite's COMMIT; (django::appendix).
                self.undo_dropping = false;
            } else if crate::decide::django::is_appendix_statement(self.decider.plan.dialect, &self.buf[stmt_start..end]) {
                self.push(Action::Drop, end);
                return Ok(true);
            } else {
                return Err(LocalError::new(
                    stmt_start,
                    "a statement that dumpsed's Django SQL does not hold, after its opening comment: not \
                     the output of a forward run of Django rules, so --reverse cannot tell what to take back",
                ));
            }
        }
        let action = self.decider.classify(&self.buf, stmt_start, end)?;
        if let Some(rows) = self.decider.copy_follows.take() {
            self.copy_rows = rows;
            self.framer.expect_copy_data();
        }
        if let Some(on) = self.decider.std_strings.take() {
            self.framer.set_standard_conforming_strings(on);
        }
        self.settle_header(&action);
        if !pg && self.is_commit(stmt_start, end) {
            self.ending.committed = true;
            // The whole schema is read: would the live rename of the
            // database have worked (a trigger naming a missing table)?
            if let Some(shadow) = &self.decider.shadow {
                // Rules whose table the dump lacks are reported by
                // the strict check, in the rules' own words.
                let has = |t: &[u8]| {
                    let t = t.to_ascii_lowercase();
                    self.decider.seen_tables.iter().any(|(_, n)| *n == t)
                };
                let present = crate::decide::sqlite::schema::SqliteRenames {
                    tables: self.decider.sqlite_renames.tables.iter().filter(|(o, _)| has(o)).cloned().collect(),
                    // A column the table lacks is the strict check's too;
                    // the shadow follows renames in order (a chain).
                    columns: self
                        .decider
                        .sqlite_renames
                        .columns
                        .iter()
                        .filter(|c| has(&c.table))
                        .cloned()
                        .collect(),
                };
                let present = shadow.without_missing_columns(&present).unwrap_or(present);
                shadow.finish(&present).map_err(|m| {
                    LocalError::new(stmt_start, format!("SQLite's own ALTER TABLE refuses the rename: {m}"))
                })?;
            }
            self.push_generated(stmt_start)?;
        } else if !pg
            && (self.buf[stmt_start..end].eq_ignore_ascii_case(b"BEGIN TRANSACTION;")
                // `.dump` opens with this pragma, then BEGIN TRANSACTION
                // (shell.c.in): a dump cut between the two is cut short too.
                || (!self.ending.any && self.buf[stmt_start..end].eq_ignore_ascii_case(b"PRAGMA foreign_keys=OFF;")))
        {
            self.ending.began = true;
        }
        self.ending.any = true;
        self.push(action, end);
        Ok(true)
    }

    /// Fixes the action of the header comment before the statement just
    /// read: it names what the statement creates, so it needs the same
    /// renames (and only when the tag mentions something renamed).
    fn settle_header(&mut self, stmt_action: &Action) {
        let Some(i) = self.last_header.take() else {
            return;
        };
        let Some(seg) = self.segments.get_mut(i) else {
            return;
        };
        let extra = match stmt_action {
            Action::Rename(e) => e.clone(),
            _ => None,
        };
        let text = &self.buf[seg.start..seg.end];
        if self.decider.plan.dialect == Dialect::Postgres {
            let extra_names: &[(Vec<u8>, Vec<u8>)] = extra.as_deref().map_or(&[], |e| e.as_slice());
            let reps = crate::decide::pg::tag::parse_header(text).map(|h| {
                crate::decide::pg::tag::rename_tag(&self.decider.plan, h.desc, h.schema, h.tag, extra_names, self.decider.facts.versions)
                    .into_iter()
                    .map(|mut r| {
                        r.start += h.tag_at;
                        r.end += h.tag_at;
                        r
                    })
                    .collect::<Vec<_>>()
            });
            seg.action = match reps {
                Some(r) if !r.is_empty() => Action::Edits(Arc::new(crate::decide::pg::resolve::Resolved {
                    reps: r,
                    ..Default::default()
                })),
                _ => Action::Keep,
            };
            return;
        }
        seg.action = Action::Keep; // headers are pg_dump's only
    }

    /// True for SQLite's closing `COMMIT;` (or `END TRANSACTION;`).
    fn is_commit(&self, start: usize, end: usize) -> bool {
        let s = &self.buf[start..end];
        s.eq_ignore_ascii_case(b"COMMIT;") || s.eq_ignore_ascii_case(b"END TRANSACTION;")
    }

    /// `undo_appendix`: a frame between statements, where a forward run's
    /// appendix may start (its own line break, then its marker comment) or
    /// go on. True when handled here; false: as usual.
    fn undo_frame(&mut self, f: &Frame) -> Result<bool, LocalError> {
        let (start, end) = (f.start, f.end);
        if self.undo_dropping {
            if f.kind == Kind::Meta {
                return Err(LocalError::new(
                    start,
                    "a psql meta-command after dumpsed's Django SQL (which a forward run adds last): \
                     not the output of a forward run, so --reverse cannot tell what to take back",
                ));
            }
            if matches!(f.kind, Kind::Space | Kind::Comment) {
                if f.kind == Kind::Comment && self.is_appendix_marker(start, end) {
                    return Err(LocalError::new(
                        start,
                        "a second block of dumpsed's Django SQL: the output of two forward runs? \
                         --reverse takes back one",
                    ));
                }
                self.push(Action::Drop, end);
                return Ok(true);
            }
            return Ok(false);
        }
        match f.kind {
            // The appendix opens with a line break of its own
            // (`django::appendix`): a space's last one is kept back until
            // the next frame shows whether the appendix follows (every
            // other way on pushes it with what comes next).
            Kind::Space if self.buf[end - 1] == b'\n' => {
                self.push(Action::Keep, end - 1);
                Ok(true)
            }
            Kind::Comment if self.is_appendix_marker(start, end) => {
                let from = if self.done + 1 == start && self.buf[self.done] == b'\n' { self.done } else { start };
                self.push(Action::Keep, from);
                self.push(Action::Drop, end);
                self.undo_found = Some(self.offset + start as u64);
                self.undo_dropping = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// True when the comment `buf[start..end]` is the appendix's marker line.
    fn is_appendix_marker(&self, start: usize, end: usize) -> bool {
        let line = &self.buf[start..end];
        line.strip_suffix(b"\r").unwrap_or(line) == crate::decide::django::APPENDIX_MARKER.as_bytes()
    }

    /// Inserts the SQL that finishes a Django rename, once. Under
    /// `undo_appendix` nothing is added (its checks still hold).
    fn push_generated(&mut self, at: usize) -> Result<(), LocalError> {
        if self.decider.django.generated || !self.decider.plan.rules.has_django() || !self.config.appendix {
            return Ok(());
        }
        self.decider.django.generated = true;
        if !self.config.undo_appendix {
            // Django's own tables that the added SQL writes to: in the
            // dump (their shape is checked at their CREATE TABLE), when the
            // dump is a Django database's (`django::tables_missing`).
            let django = &self.decider.django;
            if let Some((table, rule)) =
                crate::decide::django::tables_missing(&self.decider.plan.rules, |t| django.has(t)).into_iter().next()
            {
                return Err(LocalError::rule(
                    at,
                    format!(
                        "{rule}: the dump has no {table} table (neither its CREATE TABLE nor its data: a dump \
                         made with -t, -n or -T, or not of a Django database?), and the Django rules add to it \
                         what manage.py migrate adds"
                    ),
                ));
            }
        }
        let sql = crate::decide::django::appendix(&self.decider.plan, &self.decider.django, &self.config.now)
            .map_err(|m| LocalError::rule(at, m))?;
        if self.config.undo_appendix {
            return Ok(());
        }
        if !sql.is_empty() {
            self.push(Action::Keep, at);
            self.segments.push(Segment {
                start: at,
                end: at,
                action: Action::Generated(Arc::new(sql)),
            });
        }
        Ok(())
    }

    /// Ends the input: resolves what is still open.
    fn finish(&mut self) -> Chunk {
        match self.framer.finish(&self.buf) {
            Err(e) => return self.fail_with(e.into()),
            // A meta-command line the input ends in: only kept.
            Ok(Some(f)) if f.kind == Kind::Meta => self.push(Action::Keep, f.end),
            Ok(Some(f)) => {
                if let Err(e) = self.on_frame(f) {
                    return self.fail_with(e);
                }
            }
            Ok(None) => {}
        }
        self.settle_header(&Action::Keep);
        if !self.config.allow_truncated {
            if let Some(what) = self.ending.missing(self.decider.plan.dialect) {
                let msg = format!("the dump ends here without {what}: it looks cut short (a truncated backup?)");
                return self.fail_with(LocalError::new(self.buf.len(), msg).with_remedy(Remedy::AllowTruncated));
            }
        }
        if self.config.undo_appendix {
            if self.undo_found.is_none() {
                let msg = format!(
                    "--reverse with Django rules: this dump has no \"{}\" block, which a forward run of Django \
                     rules adds (at the end of a PostgreSQL dump, before the COMMIT; of an SQLite one); it is not \
                     the output of one, so there is nothing of Django's to take back",
                    crate::decide::django::APPENDIX_MARKER
                );
                return self.fail_with(LocalError::rule(self.buf.len(), msg));
            }
            // A line break kept back at the end (undo_frame).
            let action = if self.undo_dropping { Action::Drop } else { Action::Keep };
            self.push(action, self.buf.len());
        }
        if self.decider.plan.dialect == Dialect::Postgres {
            self.push(Action::Keep, self.buf.len());
            if let Err(e) = self.push_generated(self.buf.len()) {
                return self.fail_with(e);
            }
        } else if !self.decider.django.generated && !self.decider.plan.rules.mark_applied().is_empty() {
            return self.fail(
                self.buf.len(),
                "migrations marked applied: no COMMIT; at the end of this SQLite dump to add the rows before"
                    .into(),
            );
        }
        self.finished = true;
        self.ship(None)
    }

    fn fail(&mut self, at: usize, msg: String) -> Chunk {
        self.fail_with(LocalError::new(at, msg))
    }

    fn fail_with(&mut self, e: LocalError) -> Chunk {
        self.finished = true;
        self.ship(Some(e))
    }

    /// Hands over everything framed so far as a chunk and keeps the rest.
    fn ship(&mut self, error: Option<LocalError>) -> Chunk {
        let cut = if error.is_some() {
            self.buf.len()
        } else {
            self.done
        };
        // (A mapped input gets no buffers back: pipeline.rs drops its windows.)
        let spare = self.recycled.as_ref().and_then(|rx| rx.try_recv().ok()).unwrap_or_default();
        let data = self.buf.split_front(cut, spare);
        let chunk = Chunk {
            seq: self.seq,
            offset: self.offset,
            data,
            segments: std::mem::take(&mut self.segments),
            error,
            plan: self.decider.plan.clone(),
            facts: self.decider.observed.ship(),
            permits: 1,
        };
        self.seq += 1;
        self.offset += cut as u64;
        self.done = self.done.saturating_sub(cut);
        self.framer.rebase(cut);
        chunk
    }
}

impl From<FrameError> for LocalError {
    fn from(e: FrameError) -> LocalError {
        LocalError::new(e.at, e.msg)
    }
}

/// The markers a complete dump ends with, as seen so far. pg_dump writes
/// `-- PostgreSQL database dump complete` after its opening `-- PostgreSQL
/// database dump` (pg_backup_archiver.c, `RestoreArchive`; also with
/// `--no-comments`), and since 15.14/16.10/17.6 `\unrestrict KEY` for its
/// `\restrict KEY`; sqlite3's `.dump` ends the `BEGIN TRANSACTION;` it
/// opened with `COMMIT;` (shell.c.in).
#[derive(Debug, Clone, Default)]
struct Ending {
    header: bool,
    complete: bool,
    restrict: Option<Vec<u8>>,
    began: bool,
    committed: bool,
    /// A statement was read.
    any: bool,
}

impl Ending {
    fn comment(&mut self, text: &[u8]) {
        let line = text.strip_suffix(b"\n").unwrap_or(text);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line == b"-- PostgreSQL database dump" || line == b"-- PostgreSQL database cluster dump" {
            self.header = true;
        } else if line == b"-- PostgreSQL database dump complete"
            || line == b"-- PostgreSQL database cluster dump complete"
        {
            self.complete = true;
        }
    }

    fn meta(&mut self, line: &[u8]) {
        let line = line.trim_ascii_end();
        if let Some(key) = line.strip_prefix(b"\\restrict ") {
            self.restrict = Some(key.to_vec());
        } else if let Some(key) = line.strip_prefix(b"\\unrestrict ") {
            if self.restrict.as_deref() == Some(key) {
                self.restrict = None;
            }
        }
    }

    /// What a complete dump would still have, if anything.
    fn missing(&self, dialect: Dialect) -> Option<&'static str> {
        match dialect {
            Dialect::Postgres if self.restrict.is_some() => {
                Some("the \\unrestrict line that closes pg_dump's \\restrict")
            }
            Dialect::Postgres if self.header && !self.complete => {
                Some("pg_dump's closing \"-- PostgreSQL database dump complete\" comment")
            }
            Dialect::Sqlite if self.began && !self.committed => {
                Some("the COMMIT; that closes sqlite3 .dump's BEGIN TRANSACTION;")
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pg_dump-shaped dump: the renamed model's table, its many-to-many
    /// table (named after it, `<model>_id` column), and their rows.
    const DUMP: &[u8] = b"--\n-- PostgreSQL database dump\n--\n\nSET standard_conforming_strings = on;\n\n\
CREATE TABLE public.app_tag (\n    id integer NOT NULL\n);\n\n\
CREATE TABLE public.app_zebra (\n    id integer NOT NULL\n);\n\n\
CREATE TABLE public.app_zebra_tags (\n    id integer NOT NULL,\n    zebra_id integer NOT NULL,\n    tag_id integer NOT NULL\n);\n\n\
COPY public.app_zebra_tags (id, zebra_id, tag_id) FROM stdin;\n1\t1\t1\n\\.\n\n\
--\n-- PostgreSQL database dump complete\n--\n\n";

    fn chunks(dump: &[u8], chunk_size: usize) -> Vec<Chunk> {
        let mut rules = crate::rules::Rules::new();
        rules.add_django_model("app.Zebra=Animal", None).expect("rule");
        let plan = Arc::new(Plan::new(&rules, Dialect::Postgres));
        let config = ReaderConfig { chunk_size, appendix: false, ..ReaderConfig::default() };
        let mut reader = Reader::new(dump, plan, config);
        let mut out = Vec::new();
        while let Some(c) = reader.next_chunk().expect("chunk") {
            assert!(c.error.is_none(), "{:?}", c.error);
            out.push(c);
        }
        out
    }

    /// PostgreSQL: the many-to-many table a model rename reaches is in the
    /// plan of the first chunk, and every chunk has that one plan, however
    /// small the chunks (the plan is fixed before the first statement is
    /// decided, not swapped at the table's CREATE TABLE).
    #[test]
    fn pg_django_m2m_is_in_one_plan_before_the_first_chunk() {
        for size in [1, 7, 64, 1 << 20] {
            let cs = chunks(DUMP, size);
            assert!(cs.len() > 1 || size == 1 << 20, "size {size}: {} chunks", cs.len());
            let first = &cs[0].plan;
            let m2m = first.rename_of(Some(b"public"), b"app_zebra_tags").map(|i| first.renames[i].new.clone());
            assert_eq!(m2m.as_deref(), Some(&b"app_animal_tags"[..]), "size {size}");
            assert_eq!(first.new_column_name(b"app_zebra_tags", b"zebra_id"), b"animal_id", "size {size}");
            for c in &cs {
                assert!(Arc::ptr_eq(&c.plan, first), "size {size}: chunk {} has another plan", c.seq);
            }
        }
    }
}
