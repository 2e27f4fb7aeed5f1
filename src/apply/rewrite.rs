//! The rewriter: applies a chunk's decisions. Runs on worker threads, one
//! chunk at a time, needing nothing but the chunk and the plan.
//!
//! Output is described as pieces that refer to the input chunk wherever
//! bytes are unchanged, so untouched data is never copied here; the writer
//! copies it once, straight from the input buffer.

use std::collections::BTreeMap;

use crate::codec::copy_text;
use crate::codec::escaped;
use crate::error::LocalError;
use crate::observe::sample::Sample;
use crate::codec::ident;
use crate::frame::lexer::{Bailed, Dialect, Quick, Token, TokenKind, Tokens};
use crate::decide::pg::resolve::Replacement;
use crate::decide::plan::Plan;
use crate::codec::postgres;
use crate::decide::reader::{Action, Chunk, ColumnEdits, Edit};
use crate::codec::sqlite;

/// Counters of one chunk (summed by the writer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Identifiers (and table-name values) renamed, per rename rule.
    pub renamed: Vec<u64>,
    /// Values rewritten, per value rule.
    pub rewritten: Vec<u64>,
    /// Rows or tuples examined for value rules.
    pub rows_examined: u64,
    /// Values, per value rule, that rewriting with the reversed rules would
    /// not give back (e.g. `CAPA-SAP-1` → `SAP-SAP-1` → `CAPA-CAPA-1`, or an
    /// untouched `SAP-1` that the reverse would change).
    pub irreversible: Vec<Irreversible>,
    /// The first few values rewritten, per value rule, as `(old, new)`
    /// samples.
    pub examples: Vec<Vec<(Sample, Sample)>>,
    /// Kinds of statement where a table was renamed, and how often.
    pub renamed_in: BTreeMap<String, u64>,
    /// With `plan.report`: places that mention an old name or a rule's
    /// FROM text and that no rule rewrites (strings, comments, function
    /// bodies, longer names, data), and how often.
    pub left_alone: BTreeMap<String, u64>,
    /// With `plan.report`: rows and bytes of data per table.
    pub tables: BTreeMap<Vec<u8>, TableStats>,
    /// With `plan.report`: the rows of Django's `django_migrations` table,
    /// in input order (see [`MigrationRow`]).
    pub django_migrations: Vec<MigrationRow>,
    /// With `plan.log_changes`: every value rewritten.
    pub changes: Vec<Change>,
    /// Final values that may collide in a unique column (see `checks`).
    pub finals: Vec<crate::observe::checks::Final>,
    /// Offsets (in the input) of statements that PostgreSQL's parser
    /// rejects and `--force` passed through unchanged (the first 20).
    pub forced: Vec<u64>,
    /// Length checks count a byte as a character (the dump's encoding is a
    /// single-byte one, `SET client_encoding = 'LATIN1'`); else UTF-8.
    pub lengths_in_bytes: bool,
    /// Values longer than their column's `varchar(N)` after the rewrite,
    /// per value rule.
    pub too_long: Vec<Irreversible>,
}

/// One row of Django's `django_migrations` (`django/db/migrations/recorder.py`:
/// `app`, `name`, `applied`), decoded from the dump; `None` is NULL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationRow {
    /// The app label (`app`).
    pub app: Option<Vec<u8>>,
    /// The migration's name (`name`).
    pub name: Option<Vec<u8>>,
    /// When it was applied (`applied`), as the dump has it.
    pub applied: Option<Vec<u8>>,
}

/// Where `app`, `name` and `applied` are among the columns of `edits`'
/// table, when it is `django_migrations` and the report is on; `None`
/// otherwise (every other table, or columns not known).
fn migration_columns(plan: &Plan, edits: &ColumnEdits) -> Option<[Option<usize>; 3]> {
    if !plan.report || !ident::same_name(plan.dialect, &edits.table, b"django_migrations") {
        return None;
    }
    let at = |c: &[u8]| edits.columns.iter().position(|n| ident::same_name(plan.dialect, n, c));
    let cols = [at(b"app"), at(b"name"), at(b"applied")];
    cols[0].and(cols[1]).map(|_| cols)
}

impl MigrationRow {
    /// Sets field `col` (of the table's columns `cols`) to `value`.
    fn set(&mut self, cols: &[Option<usize>; 3], col: usize, value: Option<Vec<u8>>) {
        let slot = match cols.iter().position(|&c| c == Some(col)) {
            Some(0) => &mut self.app,
            Some(1) => &mut self.name,
            Some(2) => &mut self.applied,
            _ => return,
        };
        *slot = value;
    }
}

/// Size of one table's data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    pub rows: u64,
    pub bytes: u64,
}

/// One rewritten value, for `--log-changes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Index of the value rule.
    pub rule: usize,
    /// Offset of the row (COPY) or tuple (INSERT) in the chunk.
    pub at: usize,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
    /// Set instead of `old` and `new` for a huge value that stands
    /// unescaped in the chunk: where it is. The writer reads it there and
    /// rewrites it again when it logs it (pipeline.rs), so the log costs
    /// no copy while the chunk waits to be written.
    pub input: Option<std::ops::Range<usize>>,
}

/// Values that a `--reverse` run would not restore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Irreversible {
    pub count: u64,
    /// The first few, as samples of `(input value, output value, what the
    /// reversed rule makes of the output)` (the third: irreversible values
    /// only).
    pub examples: Vec<(Sample, Sample, Sample)>,
}

/// How many values are kept as examples.
const EXAMPLES: usize = 5;

impl Irreversible {
    /// Counts one more value, keeping samples of it if there is room for
    /// examples (`back`: what the reversed rule makes of `new`, if wanted).
    fn note(&mut self, old: &[u8], new: &[u8], back: Option<&crate::rules::ValueRewrite>) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            let back = back.map(|u| u.apply_sample(new)).unwrap_or_default();
            self.examples.push((Sample::of(old), Sample::of(new), back));
        }
    }

    /// [`Irreversible::note`] with the samples made by `samples`, called
    /// only when there is room for them.
    fn note_with(&mut self, samples: impl FnOnce() -> (Sample, Sample, Sample)) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(samples());
        }
    }

    /// Adds `other[i]` into `all[i]` for every rule.
    fn merge_all(all: &mut Vec<Irreversible>, other: &[Irreversible]) {
        if all.len() < other.len() {
            all.resize(other.len(), Irreversible::default());
        }
        for (a, b) in all.iter_mut().zip(other) {
            a.count += b.count;
            let room = EXAMPLES.saturating_sub(a.examples.len());
            a.examples.extend(b.examples.iter().take(room).cloned());
        }
    }
}

impl Counts {
    fn for_plan(plan: &Plan) -> Counts {
        Counts {
            renamed: vec![0; plan.renames.len()],
            rewritten: vec![0; plan.rewrites.len()],
            rows_examined: 0,
            irreversible: vec![Irreversible::default(); plan.rewrites.len()],
            examples: vec![Vec::new(); plan.rewrites.len()],
            too_long: vec![Irreversible::default(); plan.rewrites.len()],
            ..Counts::default()
        }
    }

    fn mention(&mut self, what: String) {
        *self.left_alone.entry(what).or_default() += 1;
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        if self.renamed.len() < other.renamed.len() {
            self.renamed.resize(other.renamed.len(), 0);
        }
        if self.rewritten.len() < other.rewritten.len() {
            self.rewritten.resize(other.rewritten.len(), 0);
        }
        for (a, b) in self.renamed.iter_mut().zip(&other.renamed) {
            *a += b;
        }
        for (a, b) in self.rewritten.iter_mut().zip(&other.rewritten) {
            *a += b;
        }
        self.rows_examined += other.rows_examined;
        Irreversible::merge_all(&mut self.irreversible, &other.irreversible);
        if self.examples.len() < other.examples.len() {
            self.examples.resize(other.examples.len(), Vec::new());
        }
        for (a, b) in self.examples.iter_mut().zip(&other.examples) {
            let room = EXAMPLES.saturating_sub(a.len());
            a.extend(b.iter().take(room).cloned());
        }
        Irreversible::merge_all(&mut self.too_long, &other.too_long);
        for &at in &other.forced {
            if self.forced.len() < 20 {
                self.forced.push(at);
            }
        }
        for (k, v) in &other.renamed_in {
            *self.renamed_in.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.left_alone {
            *self.left_alone.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.tables {
            let t = self.tables.entry(k.clone()).or_default();
            t.rows += v.rows;
            t.bytes += v.bytes;
        }
        self.django_migrations.extend(other.django_migrations.iter().cloned());
    }
}

/// A piece of output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// `chunk.data[start..end]`, unchanged.
    Input(usize, usize),
    /// `Rewritten::owned[start..end]`, new bytes.
    Owned(usize, usize),
}

/// A rewritten chunk.
#[derive(Debug, Default)]
pub struct Rewritten {
    pub pieces: Vec<Piece>,
    pub owned: Vec<u8>,
    pub counts: Counts,
    /// Newlines in the chunk (the writer numbers lines across chunks).
    pub lines: u64,
}

/// Counts the newlines of `data` and finds its first NUL byte, in one pass
/// over every byte of the chunk (memchr counts or finds, not both at once;
/// this loop of byte compares into 32 lane counters is what the compiler
/// vectorises well). The count is only meaningful when no NUL is found.
pub fn lines_and_nul(data: &[u8]) -> (u64, Option<usize>) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { lines_and_nul_avx2(data) };
    }
    lines_and_nul_in(data)
}

/// [`lines_and_nul`] compiled for AVX2: the same loop, 32 lanes per
/// instruction instead of 16 (half the instructions per byte).
///
/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn lines_and_nul_avx2(data: &[u8]) -> (u64, Option<usize>) {
    lines_and_nul_in(data)
}

#[inline(always)]
fn lines_and_nul_in(data: &[u8]) -> (u64, Option<usize>) {
    // A lane counts at most 255 newlines: one per 32-byte group of a block.
    const BLOCK: usize = 32 * 255;
    let mut lines = 0u64;
    for (b, block) in data.chunks(BLOCK).enumerate() {
        let mut nl = [0u8; 32];
        let mut zero = [0u8; 32];
        let mut groups = block.chunks_exact(32);
        for g in &mut groups {
            for k in 0..32 {
                nl[k] += u8::from(g[k] == b'\n');
                zero[k] |= u8::from(g[k] == 0);
            }
        }
        let tail = groups.remainder();
        if zero.iter().any(|&z| z != 0) || tail.contains(&0) {
            let at = memchr::memchr(0, block).unwrap_or(0);
            return (lines, Some(b * BLOCK + at));
        }
        lines += nl.iter().map(|&n| u64::from(n)).sum::<u64>()
            + tail.iter().filter(|&&c| c == b'\n').count() as u64;
    }
    (lines, None)
}

impl Rewritten {
    /// Calls `f` with each output slice in order.
    pub fn for_each_slice<'a, E>(
        &'a self,
        input: &'a [u8],
        mut f: impl FnMut(&'a [u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        for p in &self.pieces {
            match *p {
                Piece::Input(s, e) => f(&input[s..e])?,
                Piece::Owned(s, e) => f(&self.owned[s..e])?,
            }
        }
        Ok(())
    }
}

/// Collects replacements in input order.
struct Emit {
    out: Rewritten,
    copied_to: usize,
    /// The new value of the field being edited ([`edited`]), kept from
    /// field to field.
    scratch: Vec<u8>,
    /// [`IN_PLACE`] (any length in tests, to compare the two ways).
    in_place: usize,
}

impl Emit {
    fn replace(&mut self, start: usize, end: usize, write: impl FnOnce(&mut Vec<u8>)) {
        debug_assert!(start >= self.copied_to);
        if start > self.copied_to {
            self.out.pieces.push(Piece::Input(self.copied_to, start));
        }
        let o = self.out.owned.len();
        write(&mut self.out.owned);
        self.out.pieces.push(Piece::Owned(o, self.out.owned.len()));
        self.copied_to = end;
    }

    /// Edits the field `start..end` of the input, whose value is `value`,
    /// under `edit`; `encode` writes the new value, when there is one, in
    /// the field's syntax. `at` is where its row starts (the change log).
    /// `value_at`: where `value` stands in the input when its bytes are the
    /// field's own, unescaped (`None` when decoding changed them).
    /// `escaped`: the field's raw bytes when `value` was decoded from them,
    /// whose escapes a huge value can keep ([`Escaped`]).
    #[allow(clippy::too_many_arguments)]
    fn edit_field(
        &mut self,
        plan: &Plan,
        edit: Edit,
        value: &[u8],
        value_at: Option<usize>,
        at: usize,
        max_len: Option<usize>,
        (start, end): (usize, usize),
        escaped: Option<Escaped<'_>>,
        encode: impl FnOnce(&[u8], &mut Vec<u8>),
    ) {
        // A huge value is written in place, as the input's bytes around
        // TO, when they are the bytes `encode` would write: it stands
        // unescaped, or its field is escaped exactly as `encode` escapes
        // (issue 28, item 11: a copy of the new value and an encoded one
        // cost three times a value with a few escapes). Its checks read
        // the new value in pieces ([`edited_in_place`]).
        if let Edit::Rule(i) = edit {
            let rule = &plan.rewrites[i];
            if value.len() >= self.in_place && needs_no_escape(&rule.to) {
                if let Some(v) = value_at {
                    if edited_in_place(plan, i, value, Some(v), at, max_len, &mut self.out.counts) {
                        self.replace_in_place(v, value, rule, |k| k);
                    }
                    return;
                }
                let kept = escaped.filter(|e| e.keeps_form(&rule.applied(value)));
                if let Some((open, mut map)) = kept.and_then(Escaped::canonical) {
                    if edited_in_place(plan, i, value, None, at, max_len, &mut self.out.counts) {
                        self.replace_in_place(start + open, value, rule, |k| map.raw_offset(k));
                    }
                    return;
                }
            }
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        if let Some(new) = edited(plan, edit, value, value_at, at, max_len, &mut self.out.counts, &mut scratch) {
            self.replace(start, end, |o| encode(new, o));
        }
        // A huge value's copy is not kept for the rest of the chunk.
        if scratch.capacity() > IN_PLACE {
            scratch = Vec::new();
        }
        self.scratch = scratch;
    }

    /// Writes the rewrite of `value`, whose field starts at `field_at` in
    /// the input, as the input's own bytes between the replaced FROMs and
    /// TO for each: no copy of the value (the rule's TO needs no escape, so
    /// these are the bytes `encode` would write). `raw` maps an offset in
    /// the value to one in the field, in increasing order (the identity
    /// for an unescaped value).
    fn replace_in_place(
        &mut self,
        field_at: usize,
        value: &[u8],
        rule: &crate::rules::ValueRewrite,
        mut raw: impl FnMut(usize) -> usize,
    ) {
        rule.for_each_replaced(value, |i| {
            let s = field_at + raw(i);
            if s > self.copied_to {
                self.out.pieces.push(Piece::Input(self.copied_to, s));
            }
            let o = self.out.owned.len();
            self.out.owned.extend_from_slice(&rule.to);
            self.out.pieces.push(Piece::Owned(o, self.out.owned.len()));
            self.copied_to = field_at + raw(i + rule.from.len());
        });
    }
}

/// Values at least this long that stand in the input as their encoder
/// writes them are rewritten in place ([`Emit::replace_in_place`]), their
/// checks read from the new value's pieces ([`edited_in_place`]): a value
/// of 100 MiB then costs no copy, or the one decoded copy of an escaped
/// one, not that, a new one and an encoded one (issue 28, item 11). Shorter
/// ones are copied, as one output piece is cheaper to write than several.
const IN_PLACE: usize = 1 << 20;

/// True when `text` is written as itself in every value syntax: COPY text
/// (backslash and control characters are escaped), SQL string literals
/// (quote and backslash), the sqlite3 shell's literals (quote, newline).
fn needs_no_escape(text: &[u8]) -> bool {
    text.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b'\'' && b != b'\\')
}

/// A field's raw bytes, when its value was decoded from escapes of one
/// value byte each ([`crate::codec::escaped`]).
#[derive(Clone, Copy)]
enum Escaped<'a> {
    /// A COPY text field.
    Copy(&'a [u8]),
    /// A PostgreSQL string literal token, and whether plain literals take
    /// backslash escapes (`standard_conforming_strings` off).
    PgLiteral(&'a [u8], bool),
    /// A `'…'` literal token of the sqlite3 shell.
    SqliteLiteral(&'a [u8]),
    /// The sqlite3 shell's `replace('…','\n',char(10))`: its literal's
    /// body, where that starts in the field, and the form, which writes
    /// the field back from the value ([`sqlite::ShellForm::writes`]).
    SqliteShell { body: &'a [u8], body_at: usize, form: &'a sqlite::ShellForm },
}

/// A map of value offsets to field offsets ([`escaped::RawOffsets`]).
type Offsets<'a> = escaped::RawOffsets<'a, Box<dyn FnMut(&[u8]) -> Option<(usize, usize)> + 'a>>;

impl<'a> Escaped<'a> {
    /// When the field is exactly what its encoder writes for its value
    /// (`copy_text::encode`, `postgres::encode_literal`,
    /// `sqlite::encode_text`): where its escaped body starts in it, and the
    /// map of value offsets to body offsets.
    fn canonical(self) -> Option<(usize, Offsets<'a>)> {
        match self {
            Escaped::Copy(raw) => copy_text::is_canonical(raw)
                .then(|| (0, Offsets::new(raw, Box::new(|rest: &[u8]| memchr::memchr(b'\\', rest).map(|i| (i, 2)))))),
            Escaped::PgLiteral(raw, escapes) => {
                let open = postgres::canonical_body(raw, escapes)?;
                Some((open, Offsets::new(&raw[open..raw.len() - 1], Box::new(postgres::escape_finder(raw, escapes)))))
            }
            Escaped::SqliteLiteral(raw) => sqlite::canonical_literal(raw)
                .then(|| (1, Offsets::new(&raw[1..raw.len() - 1], Box::new(escaped::next_quote)))),
            Escaped::SqliteShell { body, body_at, form } => Some((body_at, Offsets::new(body, Box::new(form.escapes(body))))),
        }
    }

    /// True when the new value `new` is written in the same form as the
    /// old one, so that the field's bytes around it stay: the shell's
    /// `replace(…)` markers depend on the text (a TO that needs no escape
    /// keeps every other form).
    fn keeps_form(self, new: &crate::rules::Applied<'_>) -> bool {
        match self {
            Escaped::SqliteShell { form, .. } => sqlite::ShellForm::of(|s| new.contains(s)) == *form,
            _ => true,
        }
    }
}

/// The body of a plain string literal `raw` (`'…'`, or `E'…'` where the
/// dialect allows it) when it holds no quote and no backslash, so that the
/// body is the value, byte for byte, with its offset in `raw`.
fn plain_literal(raw: &[u8], e_prefix: bool) -> Option<(usize, &[u8])> {
    let open = match raw.first() {
        Some(b'E' | b'e') if e_prefix => 2,
        _ => 1,
    };
    if raw.len() < open + 1 || raw[open - 1] != b'\'' || raw[raw.len() - 1] != b'\'' {
        return None;
    }
    let body = &raw[open..raw.len() - 1];
    memchr::memchr2(b'\'', b'\\', body).is_none().then_some((open, body))
}

/// How a renamed table name is written back in a piece of SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Schema SQL: pg's `fmtId`, or SQLite's stored-SQL rename.
    Schema,
    /// The sqlite3 shell's `INSERT INTO` name.
    ShellInsert,
}

/// Applies every segment of `chunk`, with the rules it carries.
pub fn rewrite_chunk(chunk: &Chunk) -> Result<Rewritten, LocalError> {
    let plan: &Plan = &chunk.plan;
    // Neither PostgreSQL text nor an SQL script can hold a NUL byte: it is
    // damage, not data, and would only fail later, at restore.
    let (lines, nul) = lines_and_nul(&chunk.data);
    if let Some(at) = nul {
        return Err(LocalError::new(
            at,
            "NUL byte: not valid anywhere in a SQL dump (damaged file?)",
        ));
    }
    // Single-byte server encodings (PostgreSQL's encoding list; SQLite
    // dumps are UTF-8).
    let single_byte = chunk.facts.encoding.as_deref().is_some_and(|e| {
        let e = e.to_ascii_uppercase();
        e == "SQL_ASCII" || e.starts_with("LATIN") || e.starts_with("WIN") || e.starts_with("ISO_8859")
            || e.starts_with("KOI8") || e == "ALT" || e == "ISO88591"
    });
    let mut emit = Emit {
        out: Rewritten {
            lines,
            counts: Counts {
                lengths_in_bytes: single_byte,
                ..Counts::for_plan(plan)
            },
            ..Default::default()
        },
        copied_to: 0,
        scratch: Vec::new(),
        in_place: IN_PLACE,
    };
    let data = &chunk.data;
    // The last renamed INSERT head: its bytes and its renames.
    let mut head_memo: Option<(&Plan, std::ops::Range<usize>, Vec<Replacement>)> = None;
    for seg in &chunk.segments {
        let (s, e) = (seg.start, seg.end);
        match &seg.action {
            Action::Keep => {}
            Action::Rename(extra) => {
                rename_sql(
                plan,
                data,
                s,
                e,
                false,
                Style::Schema,
                extra.as_deref(),
                &mut emit,
            )?;
            }
            // Decided by the reader before the chunk is shipped.
            Action::PendingHeader => {}
            Action::Generated(sql) => emit.replace(s, s, |o| o.extend_from_slice(sql)),
            Action::Drop => emit.replace(s, e, |_| {}),
            Action::Edits(r) => {
                if r.forced && emit.out.counts.forced.len() < 20 {
                    emit.out.counts.forced.push(chunk.offset + s as u64);
                }
                apply_edits(data, s, e, &r.reps, None, &mut emit);
                if !r.left_alone.is_empty() {
                    let kind = statement_kind(&data[s..e]);
                    for what in &r.left_alone {
                        emit.out.counts.mention(format!("{what} in {kind}"));
                    }
                }
            }
            Action::CopyRows(edits) => copy_rows(plan, data, s, e, edits, &mut emit)?,
            Action::Insert {
                edits,
                rename,
                head,
                values_at,
                escapes,
            } => {
                // Every statement of an INSERT dump is an INSERT: no need
                // to find its kind again for the report.
                if let Some(reps) = head {
                    apply_edits(data, s, s + values_at, reps, Some("INSERT"), &mut emit);
                }
                if *rename {
                    let text = &data[s..s + values_at];
                    // Rows repeat their head: renamed once per run of equal
                    // heads (the report's mentions are counted per statement).
                    match &head_memo {
                        Some((p, h, reps)) if std::ptr::eq(*p, plan) && !plan.report && &data[h.clone()] == text => {
                            apply_edits(data, s, s + values_at, reps, Some("INSERT"), &mut emit);
                        }
                        _ => {
                            let style = match plan.dialect {
                                Dialect::Postgres => Style::Schema,
                                Dialect::Sqlite => Style::ShellInsert,
                            };
                            let reps = rename_sql(plan, data, s, s + values_at, *escapes, style, None, &mut emit)?;
                            head_memo = Some((plan, s..s + values_at, reps));
                        }
                    }
                }
                if let Some(edits) = edits.as_ref().filter(|e| e.is_shape_only() && !plan.report) {
                    insert_shape(plan, data, s + values_at, e, edits, *escapes)?;
                } else if let Some(edits) = edits {
                    if plan.report {
                        emit.out
                            .counts
                            .tables
                            .entry(edits.table.clone())
                            .or_default()
                            .bytes += (e - s) as u64;
                    }
                    insert_values(plan, data, s + values_at, e, edits, *escapes, &mut emit)?;
                }
            }
        }
    }
    if data.len() > emit.copied_to {
        emit.out
            .pieces
            .push(Piece::Input(emit.copied_to, data.len()));
    }
    Ok(emit.out)
}

/// Renames every identifier in `data[start..end]` that names a renamed
/// table: a whole bare or quoted identifier, unqualified or qualified by
/// the rule's schema (`s.old`), never part of a longer name, a string or a
/// comment. `x.old` with `x` not the schema is a column or another
/// schema's table and is left alone.
///
/// Also renames, after a renamed table's name, that table's renamed
/// columns (`plan.columns`), and anywhere the identifiers of `extra`
/// (names of this statement only).
#[allow(clippy::too_many_arguments)]
fn rename_sql(
    plan: &Plan,
    data: &[u8],
    start: usize,
    end: usize,
    escapes: bool,
    style: Style,
    extra: Option<&Vec<(Vec<u8>, Vec<u8>)>>,
    emit: &mut Emit,
) -> Result<Vec<Replacement>, LocalError> {
    let text = &data[start..end];
    let d = plan.dialect;
    // Offsets from `start`, applied (and counted) by `apply_edits` at the end.
    let mut reps: Vec<Replacement> = Vec::new();
    let mut rep = |t: &Token, rule: Option<usize>, write: &dyn Fn(&mut Vec<u8>)| {
        let mut o = Vec::new();
        write(&mut o);
        reps.push(Replacement { start: t.start, end: t.end, text: o, rule });
    };
    // The last two significant tokens (not comments), oldest first.
    let mut prev: [Option<Token>; 2] = [None, None];
    // The old name of the table whose columns are being named, if any: a
    // renamed table, or the table of a `.dump --preserve-rowids` INSERT
    // head (`INSERT INTO t(rowid,a,b)`, `dump_callback` in src/shell.c.in),
    // whose column list names the columns as they are after the renames.
    let mut table: Option<&[u8]> = None;
    let kind_of = || statement_kind(text);
    let word = |t: &Option<Token>, w: &str| {
        t.is_some_and(|t| {
            t.kind == TokenKind::Word && text[t.start..t.end].eq_ignore_ascii_case(w.as_bytes())
        })
    };
    let write = |o: &mut Vec<u8>, new: &[u8], t: &Token| {
        let from = o.len();
        match (d, style) {
            // PostgreSQL statements are decided by `pg_resolve`; the newest
            // keywords quote at least as much as any older version's.
            (Dialect::Postgres, _) => ident::push_pg(new, crate::codec::pg_keywords::LAST_MAJOR, o),
            (Dialect::Sqlite, Style::ShellInsert) => ident::push_sqlite_shell(new, o),
            (Dialect::Sqlite, _) => ident::push_sqlite_schema(new, o),
        }
        // A quoted name written where a bare one stood must not run into a
        // quoted neighbour: `"a"old` must become `"a" "new"`, not `"a""new"`.
        let same_quote = |x: Option<&u8>, y: Option<&u8>| matches!((x, y), (Some(&a), Some(&b)) if a == b && (a == b'"' || a == b'`'));
        if same_quote(
            o.get(from),
            t.start.checked_sub(1).and_then(|i| text.get(i)),
        ) {
            o.insert(from, b' ');
        }
        if same_quote(o.last(), text.get(t.end)) {
            o.push(b' ');
        }
    };
    for tok in Tokens::with_escapes(d, escapes, text) {
        let t = tok.map_err(|(at, msg)| LocalError::new(start + at, msg))?;
        match t.kind {
            TokenKind::Space => continue,
            TokenKind::Word | TokenKind::QuotedIdent => {
                let raw = &text[t.start..t.end];
                let qualifier = match prev {
                    [Some(q), Some(dot)]
                        if dot.kind == TokenKind::Punct && text[dot.start] == b'.' =>
                    {
                        Some(ident::name_of(d, q.kind, &text[q.start..q.end]))
                    }
                    _ => None,
                };
                let name = ident::name_of(d, t.kind, raw);
                let hit = plan.rename_of(qualifier.as_deref(), &name);
                if let Some(new) =
                    extra.and_then(|x| x.iter().find(|(old, _)| ident::same_name(d, old, &name)))
                {
                    rep(&t, None, &|o| write(o, &new.1, &t));
                } else if let Some(i) = hit {
                    let new = &plan.renames[i].new;
                    // The sqlite3 shell dumps a table whose stored SQL starts
                    // `CREATE TABLE "` as `CREATE TABLE IF NOT EXISTS "…`
                    // (`dump_callback` in src/shell.c.in); SQLite's rename
                    // quotes the name, so a live rename then dumps that way.
                    let if_not_exists = d == Dialect::Sqlite
                        && style == Style::Schema
                        && word(&prev[0], "CREATE")
                        && word(&prev[1], "TABLE");
                    rep(&t, Some(i), &|o| {
                        if if_not_exists {
                            o.extend_from_slice(b"IF NOT EXISTS ");
                        }
                        write(o, new, &t)
                    });
                    table = Some(&plan.renames[i].old);
                } else if style == Style::ShellInsert
                    && word(&prev[0], "INSERT")
                    && word(&prev[1], "INTO")
                {
                    let owner = plan
                        .columns
                        .iter()
                        .find(|c| ident::same_name(d, &c.table, &name));
                    table = owner.map(|c| c.table.as_slice());
                } else if let Some(c) = table
                    // In an INSERT head, only the column list's names
                    // (after `(` or `,`), never `VALUES`.
                    .filter(|_| {
                        style != Style::ShellInsert
                            || prev[1].is_some_and(|p| {
                                p.kind == TokenKind::Punct && matches!(text[p.start], b'(' | b',')
                            })
                    })
                    .and_then(|owner| {
                        plan.columns
                            .iter()
                            .find(|c| c.table == owner && ident::same_name(d, &c.old, &name))
                    })
                {
                    rep(&t, None, &|o| write(o, &c.new, &t));
                } else if plan.report && mentions_rules(plan, raw) {
                    emit.out.counts.mention(format!(
                        "name {} in {}",
                        String::from_utf8_lossy(raw),
                        kind_of()
                    ));
                }
            }
            TokenKind::Str | TokenKind::DollarString | TokenKind::Comment if plan.report => {
                if mentions_rules(plan, &text[t.start..t.end]) {
                    let what = match t.kind {
                        TokenKind::Str => "string literal",
                        TokenKind::DollarString => "function body ($…$)",
                        _ => "comment",
                    };
                    emit.out.counts.mention(format!("{what} in {}", kind_of()));
                }
            }
            _ => {}
        }
        if t.kind != TokenKind::Comment {
            prev = [prev[1], Some(t)];
        }
    }
    apply_edits(data, start, end, &reps, None, emit);
    Ok(reps)
}

/// Applies resolved replacements (offsets from `start`) to `data[start..end]`.
fn apply_edits(
    data: &[u8],
    start: usize,
    end: usize,
    reps: &[Replacement],
    // The statement's kind when the caller knows it (`statement_kind`).
    kind: Option<&str>,
    emit: &mut Emit,
) {
    let mut hits = 0;
    for r in reps {
        emit.replace(start + r.start, start + r.end, |o| o.extend_from_slice(&r.text));
        if let Some(i) = r.rule {
            if let Some(c) = emit.out.counts.renamed.get_mut(i) {
                *c += 1;
            }
            hits += 1;
        }
    }
    if hits > 0 {
        let text = &data[start..end];
        let kind = match kind {
            Some(k) => k.to_string(),
            None if text.starts_with(b"--") => "pg_dump header comment".to_string(),
            None => statement_kind(text),
        };
        *emit.out.counts.renamed_in.entry(kind).or_default() += hits;
    }
}

/// True when `text` holds an old table name or a value rule's FROM text.
fn mentions_rules(plan: &Plan, text: &[u8]) -> bool {
    plan.may_mention(text)
        || plan
            .rewrites
            .iter()
            .any(|w| memchr::memmem::find(text, &w.from).is_some())
}

/// A statement's kind for reports: its first keyword, with the object
/// type for CREATE/ALTER/COMMENT/DROP (`CREATE INDEX`, `COMMENT ON`).
fn statement_kind(stmt: &[u8]) -> String {
    const SKIP: &[&str] = &[
        "UNIQUE",
        "OR",
        "REPLACE",
        "TEMP",
        "TEMPORARY",
        "UNLOGGED",
        "MATERIALIZED",
        "ONLY",
        "IF",
    ];
    let mut words = Tokens::new(Dialect::Postgres, stmt)
        .flatten()
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| String::from_utf8_lossy(&stmt[t.start..t.end]).to_ascii_uppercase());
    let first = words.next().unwrap_or_default();
    match first.as_str() {
        "CREATE" | "ALTER" | "DROP" | "COMMENT" => {
            let second = words
                .find(|w| !SKIP.contains(&w.as_str()))
                .unwrap_or_default();
            format!("{first} {second}")
        }
        _ => first,
    }
}

/// True when `value` does not fit a `varchar(n)` / `char(n)`: more than
/// `n` characters, unless the excess is all spaces, which PostgreSQL cuts
/// off silently (datatype-character.html). Characters are bytes in a
/// single-byte encoding, else UTF-8 sequences.
fn too_long(value: &[u8], n: usize, bytes: bool) -> bool {
    let cut = if bytes {
        if value.len() <= n {
            return false;
        }
        n
    } else {
        let mut chars = 0;
        let mut cut = None;
        for (i, &b) in value.iter().enumerate() {
            if b & 0xC0 != 0x80 {
                if chars == n {
                    cut = Some(i);
                    break;
                }
                chars += 1;
            }
        }
        match cut {
            Some(c) => c,
            None => return false,
        }
    };
    value[cut..].iter().any(|&b| b != b' ')
}

/// The new value of a field under `edit`, if it changes. A value rule
/// writes it into `scratch`, which the caller keeps from field to field so
/// that a row costs no allocation.
#[allow(clippy::too_many_arguments)]
fn edited<'a>(
    plan: &'a Plan,
    edit: Edit,
    value: &[u8],
    value_at: Option<usize>,
    at: usize,
    max_len: Option<usize>,
    counts: &mut Counts,
    scratch: &'a mut Vec<u8>,
) -> Option<&'a [u8]> {
    match edit {
        Edit::Rule(i) => {
            let rule = &plan.rewrites[i];
            let changed = rule.apply_into(value, scratch);
            let out: &[u8] = if changed { scratch } else { value };
            if changed {
                if counts.examples[i].len() < EXAMPLES {
                    counts.examples[i].push((Sample::of(value), Sample::of(out)));
                }
                if plan.log_changes {
                    counts.changes.push(match value_at.filter(|_| value.len() >= IN_PLACE) {
                        Some(v) => Change { rule: i, at, old: Vec::new(), new: Vec::new(), input: Some(v..v + value.len()) },
                        None => Change { rule: i, at, old: value.to_vec(), new: out.to_vec(), input: None },
                    });
                }
            }
            let reversible = rule.reversible(value, out);
            let undo = plan.undo.get(i);
            if !reversible {
                counts.irreversible[i].note(value, out, undo);
            }
            // Only values starting with TO can take part in a collision.
            if out.starts_with(&rule.to) {
                counts.finals.push(crate::observe::checks::Final {
                    rule: i,
                    hash: crate::observe::checks::value_hash(out),
                    irreversible: (!reversible).then(|| {
                        // A kept value is named with its partner, the value
                        // that the rule turns into it; a changed one with
                        // the input value.
                        let other = match (changed, undo) {
                            (true, _) => Sample::of(value),
                            (false, Some(u)) => u.apply_sample(out),
                            (false, None) => Sample::default(),
                        };
                        Box::new(crate::observe::checks::Named { new: Sample::of(out), other, kept: !changed })
                    }),
                });
            }
            if max_len.is_some_and(|n| too_long(out, n, counts.lengths_in_bytes)) {
                counts.too_long[i].note(value, out, None);
            }
            counts.rewritten[i] += u64::from(changed);
            changed.then_some(&scratch[..])
        }
        Edit::TableName => {
            let i = plan.rename_of(None, value)?;
            counts.renamed[i] += 1;
            Some(&plan.renames[i].new)
        }
        Edit::Regclass(major) => {
            let (new, hits) = crate::decide::pg::resolve::rename_regclass_text(plan, value, major)?;
            for i in hits {
                counts.renamed[i] += 1;
            }
            *scratch = new;
            Some(&scratch[..])
        }
    }
}

/// [`edited`] of value rule `i` for a huge value written in place: the
/// same counts, samples and checks, read from the new value's pieces
/// ([`crate::rules::Applied`]) rather than from a copy of it. True when the
/// value changes. `value_at`: where the value stands unescaped in the input
/// (the change log reads it there).
fn edited_in_place(
    plan: &Plan,
    i: usize,
    value: &[u8],
    value_at: Option<usize>,
    at: usize,
    max_len: Option<usize>,
    counts: &mut Counts,
) -> bool {
    let rule = &plan.rewrites[i];
    let new = rule.applied(value);
    let changed = new.changed();
    if changed {
        if counts.examples[i].len() < EXAMPLES {
            counts.examples[i].push((Sample::of(value), new.sample()));
        }
        if plan.log_changes {
            counts.changes.push(match value_at {
                Some(v) => Change { rule: i, at, old: Vec::new(), new: Vec::new(), input: Some(v..v + value.len()) },
                // Escaped in the input: the log holds copies, as the
                // writer cannot decode the field again.
                None => Change { rule: i, at, old: value.to_vec(), new: rule.apply(value).unwrap_or_default(), input: None },
            });
        }
    }
    let reversible = new.reversible();
    let undo = plan.undo.get(i);
    if !reversible {
        counts.irreversible[i].note_with(|| {
            (Sample::of(value), new.sample(), undo.map(|u| new.sample_under(u)).unwrap_or_default())
        });
    }
    if new.starts_with(&rule.to) {
        let mut hash = xxhash_rust::xxh3::Xxh3::new();
        new.for_each(|p| hash.update(p));
        counts.finals.push(crate::observe::checks::Final {
            rule: i,
            // `value_hash` of the new value: the streamed XXH3 is the
            // one-shot one (unit test `streamed_hash_is_value_hash`).
            hash: hash.digest(),
            irreversible: (!reversible).then(|| {
                let other = match (changed, undo) {
                    (true, _) => Sample::of(value),
                    (false, Some(u)) => new.sample_under(u),
                    (false, None) => Sample::default(),
                };
                Box::new(crate::observe::checks::Named { new: new.sample(), other, kept: !changed })
            }),
        });
    }
    if let Some(n) = max_len {
        let mut check = TooLong::new(n, counts.lengths_in_bytes);
        new.for_each(|p| check.push(p));
        if check.too_long {
            counts.too_long[i].note_with(|| (Sample::of(value), new.sample(), Sample::default()));
        }
    }
    counts.rewritten[i] += u64::from(changed);
    changed
}

/// [`too_long`] of a value read in pieces.
struct TooLong {
    n: usize,
    bytes: bool,
    /// Characters (bytes) seen before the cut.
    seen: usize,
    /// Past the `n`th character: only spaces may follow.
    past: bool,
    too_long: bool,
}

impl TooLong {
    fn new(n: usize, bytes: bool) -> TooLong {
        TooLong { n, bytes, seen: 0, past: false, too_long: false }
    }

    fn push(&mut self, piece: &[u8]) {
        for (k, &b) in piece.iter().enumerate() {
            if self.too_long {
                return;
            }
            if !self.past {
                if !self.bytes && b & 0xC0 == 0x80 {
                    continue;
                }
                if self.seen < self.n {
                    self.seen += 1;
                    continue;
                }
                self.past = true;
            }
            self.too_long = piece[k..].iter().any(|&c| c != b' ');
            return;
        }
    }
}

/// A COPY row whose field count is not its header's.
fn misframed(row_start: usize, table: &[u8], fields: usize, ncols: usize) -> LocalError {
    LocalError::new(
        row_start,
        format!(
            "COPY row of table {} has {fields} fields, its header lists {ncols} columns",
            String::from_utf8_lossy(table)
        ),
    )
}

/// Rewrites the edited fields of COPY text rows in `data[start..end]`
/// (whole rows, each ending in a newline); with no edits (a table no rule
/// targets), only checks each row's field count.
fn copy_rows(
    plan: &Plan,
    data: &[u8],
    start: usize,
    end: usize,
    edits: &ColumnEdits,
    emit: &mut Emit,
) -> Result<(), LocalError> {
    if edits.edits.is_empty() && edits.ncols != 0 && !plan.report {
        return match copy_text::first_misframed_row(data, start, end, edits.ncols) {
            None => Ok(()),
            Some((row_start, fields)) => Err(misframed(row_start, &edits.table, fields, edits.ncols)),
        };
    }
    let mut fields = Vec::with_capacity(edits.ncols + 1);
    let mut value = Vec::new();
    if plan.report {
        let t = emit
            .out
            .counts
            .tables
            .entry(edits.table.clone())
            .or_default();
        t.bytes += (end - start) as u64;
        t.rows += copy_text::count_rows(&data[start..end]);
    }
    // Only the fields up to the last edited one are needed (all of them
    // for the report, which looks for mentions in each); the rest are
    // counted, for the check below.
    let keep = match plan.report {
        true => usize::MAX,
        false => edits.edits.iter().map(|&(col, _)| col + 1).max().unwrap_or(0),
    };
    let capture = migration_columns(plan, edits);
    let mut rows = copy_text::RowSplitter::new(data, start, end);
    while let Some((row_start, nl)) = rows.next_row_keeping(&mut fields, keep) {
        let row = &data[row_start..nl];
        if edits.ncols != 0 && rows.fields() != edits.ncols {
            return Err(misframed(row_start, &edits.table, rows.fields(), edits.ncols));
        }
        emit.out.counts.rows_examined += 1;
        if let Some(cols) = &capture {
            let mut m = MigrationRow::default();
            for col in cols.iter().flatten() {
                let (fs, fe) = fields[*col];
                let v = copy_text::decode(&row[fs..fe], &mut value)
                    .map_err(|e| LocalError::new(row_start + fs + e.at, e.msg))?;
                m.set(cols, *col, v.map(<[u8]>::to_vec));
            }
            emit.out.counts.django_migrations.push(m);
        }
        if plan.report {
            for (col, &(fs, fe)) in fields.iter().enumerate() {
                if edits.of(col).is_none() && mentions_rules(plan, &row[fs..fe]) {
                    let name = edits.columns.get(col).map_or_else(
                        || col.to_string(),
                        |c| String::from_utf8_lossy(c).into_owned(),
                    );
                    emit.out.counts.mention(format!(
                        "data in {}.{name}",
                        String::from_utf8_lossy(&edits.table)
                    ));
                }
            }
        }
        for &(col, edit) in &edits.edits {
            let (fs, fe) = fields[col];
            match copy_text::decode(&row[fs..fe], &mut value) {
                Err(e) => return Err(LocalError::new(row_start + fs + e.at, e.msg)),
                Ok(None) => {}
                Ok(Some(value)) => emit.edit_field(
                    plan,
                    edit,
                    value,
                    // Decoded without a copy: the field's own bytes.
                    std::ptr::eq(value.as_ptr(), row[fs..].as_ptr()).then_some(row_start + fs),
                    row_start,
                    edits.max_len(col),
                    (row_start + fs, row_start + fe),
                    Some(Escaped::Copy(&row[fs..fe])),
                    copy_text::encode,
                ),
            }
        }
    }
    Ok(())
}

/// Checks the value count of every tuple of `VALUES (…), (…);` in
/// `data[start..end]`, an INSERT into a table no rule targets: the rows
/// are copied as they are, but one with a value lost or added would fail
/// the restore. The quick scan of separators decides a well-formed list;
/// anything else is lexed token by token, which names the row.
fn insert_shape(
    plan: &Plan,
    data: &[u8],
    start: usize,
    end: usize,
    shape: &ColumnEdits,
    escapes: bool,
) -> Result<(), LocalError> {
    if quick_values(plan.dialect, escapes, &data[start..end], shape).is_some() {
        return Ok(());
    }
    let mut scratch = Emit {
        out: Rewritten::default(),
        copied_to: 0,
        scratch: Vec::new(),
        in_place: IN_PLACE,
    };
    insert_values_lexed(plan, data, start, end, shape, escapes, &mut scratch)
}

/// Rewrites the edited values of the tuples of `VALUES (…), (…);` in
/// `data[start..end]`.
fn insert_values(
    plan: &Plan,
    data: &[u8],
    start: usize,
    end: usize,
    edits: &ColumnEdits,
    escapes: bool,
    emit: &mut Emit,
) -> Result<(), LocalError> {
    let text = &data[start..end];
    let d = plan.dialect;
    if plan.report && mentions_rules(plan, text) {
        emit.out
            .counts
            .mention(format!("data in {}", String::from_utf8_lossy(&edits.table)));
    }
    if let Some(order) = &edits.order {
        return insert_values_reordered(plan, data, start, end, edits, order, escapes, emit);
    }
    // django_migrations' rows are read whole, by the lexer (a few hundred).
    let quick = migration_columns(plan, edits).is_none();
    if let Some(found) = quick.then(|| quick_values(d, escapes, text, edits)).flatten() {
        emit.out.counts.rows_examined += found.rows;
        if plan.report {
            emit.out.counts.tables.entry(edits.table.clone()).or_default().rows += found.rows;
        }
        let mut value: Vec<Token> = Vec::new();
        for (tuple_at, col, edit, vs, ve) in found.values {
            // Only the edited value is lexed; its offsets are made `text`'s.
            value.clear();
            for tok in Tokens::with_escapes(d, escapes, &text[vs..ve]) {
                let t = tok.map_err(|(at, msg)| LocalError::new(start + vs + at, msg))?;
                if !matches!(t.kind, TokenKind::Space | TokenKind::Comment) {
                    value.push(Token { kind: t.kind, start: vs + t.start, end: vs + t.end });
                }
            }
            edit_value(plan, text, start, start + tuple_at, &value, edit, escapes, edits.max_len(col), emit)?;
        }
        return Ok(());
    }
    insert_values_lexed(plan, data, start, end, edits, escapes, emit)
}

/// [`insert_values`] token by token: every value lexed, every malformed
/// row reported.
fn insert_values_lexed(
    plan: &Plan,
    data: &[u8],
    start: usize,
    end: usize,
    edits: &ColumnEdits,
    escapes: bool,
    emit: &mut Emit,
) -> Result<(), LocalError> {
    let text = &data[start..end];
    let d = plan.dialect;
    let mut depth = 0u32;
    let mut col = 0usize;
    let mut tuple_at = 0usize;
    let mut edit = None;
    let mut value: Vec<Token> = Vec::new();
    let table = || String::from_utf8_lossy(&edits.table).into_owned();
    let capture = migration_columns(plan, edits);
    let captured = |col: usize| capture.as_ref().is_some_and(|c| c.contains(&Some(col)));
    let mut row = MigrationRow::default();
    // A row just closed: only `,` or `;` may follow it (two rows joined
    // are a syntax error at restore).
    let mut after_row = false;
    for tok in Tokens::with_escapes(d, escapes, text) {
        let t = tok.map_err(|(at, msg)| LocalError::new(start + at, msg))?;
        match t.kind {
            TokenKind::Space | TokenKind::Comment => continue,
            TokenKind::Punct => {
                let c = text[t.start];
                if depth == 0 {
                    if c == b'(' && after_row {
                        return Err(LocalError::new(
                            start + t.start,
                            format!("row of table {} follows the row before it without a comma", table()),
                        ));
                    }
                    after_row = false;
                }
                let ends_value = depth == 1 && (c == b',' || c == b')');
                if ends_value {
                    if let (Some(cols), true) = (&capture, captured(col)) {
                        row.set(cols, col, literal_value(plan, text, start, &value, escapes)?);
                    }
                    if let Some(e) = edit {
                        edit_value(
                            plan,
                            text,
                            start,
                            start + tuple_at,
                            &value,
                            e,
                            escapes,
                            edits.max_len(col),
                            emit,
                        )?;
                    }
                    if c == b')' {
                        depth = 0;
                        if capture.is_some() {
                            emit.out.counts.django_migrations.push(std::mem::take(&mut row));
                        }
                        after_row = true;
                        emit.out.counts.rows_examined += 1;
                        if plan.report {
                            emit.out
                                .counts
                                .tables
                                .entry(edits.table.clone())
                                .or_default()
                                .rows += 1;
                        }
                        if edits.ncols != 0 && col + 1 != edits.ncols {
                            return Err(LocalError::new(
                                start + tuple_at,
                                format!(
                                    "row of table {} has {} values, expected {}",
                                    table(),
                                    col + 1,
                                    edits.ncols
                                ),
                            ));
                        }
                    } else {
                        col += 1;
                        edit = edits.of(col);
                        value.clear();
                    }
                    continue;
                }
                if c == b'(' {
                    depth += 1;
                    if depth == 1 {
                        col = 0;
                        tuple_at = t.start;
                        edit = edits.of(0);
                        value.clear();
                        continue;
                    }
                } else if c == b')' {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| LocalError::new(start + t.start, "unbalanced ')'"))?;
                }
            }
            // A word after the rows (`ON CONFLICT …`) may have a list after it.
            _ if depth == 0 => after_row = false,
            _ => {}
        }
        if depth >= 1 && (edit.is_some() || captured(col)) {
            value.push(t);
        }
    }
    if depth != 0 {
        return Err(LocalError::new(start + tuple_at, "row not closed by ')'"));
    }
    Ok(())
}

/// SQLite: the tuples of `VALUES (…), (…);` in `data[start..end]` with
/// their values in a new order, value `order[i]` at place `i` (a table
/// Django rebuilds in another column order: its `INSERT … SELECT` moves
/// the values with the columns), edited values rewritten as
/// [`edit_value`] does. Values are joined by `,`, as `.dump` writes them
/// (`dump_callback` in src/shell.c.in).
#[allow(clippy::too_many_arguments)]
fn insert_values_reordered(
    plan: &Plan,
    data: &[u8],
    start: usize,
    end: usize,
    edits: &ColumnEdits,
    order: &[usize],
    escapes: bool,
    emit: &mut Emit,
) -> Result<(), LocalError> {
    let text = &data[start..end];
    let d = plan.dialect;
    let table = || String::from_utf8_lossy(&edits.table).into_owned();
    let mut depth = 0u32;
    let mut tuple_at = 0usize;
    let mut values: Vec<Vec<Token>> = Vec::new();
    let mut current: Vec<Token> = Vec::new();
    let mut out = Vec::new();
    for tok in Tokens::with_escapes(d, escapes, text) {
        let t = tok.map_err(|(at, msg)| LocalError::new(start + at, msg))?;
        match t.kind {
            TokenKind::Space | TokenKind::Comment => continue,
            TokenKind::Punct => {
                let c = text[t.start];
                if depth == 1 && (c == b',' || c == b')') {
                    values.push(std::mem::take(&mut current));
                    if c == b')' {
                        depth = 0;
                        emit.out.counts.rows_examined += 1;
                        if plan.report {
                            emit.out.counts.tables.entry(edits.table.clone()).or_default().rows += 1;
                        }
                        if values.len() != order.len() {
                            return Err(LocalError::new(
                                start + tuple_at,
                                format!("row of table {} has {} values, expected {}", table(), values.len(), order.len()),
                            ));
                        }
                        out.clear();
                        for (n, &i) in order.iter().enumerate() {
                            if n > 0 {
                                out.push(b',');
                            }
                            let toks = &values[i];
                            let (Some(first), Some(last)) = (toks.first(), toks.last()) else {
                                return Err(LocalError::new(start + tuple_at, "empty value in row"));
                            };
                            let raw = &text[first.start..last.end];
                            let value = match edits.of(i) {
                                Some(edit) => sqlite::eval_text(text, toks)
                                    .map_err(|m| LocalError::new(start + first.start, m))?
                                    .map(|v| (edit, v)),
                                None => None,
                            };
                            let Some((edit, value)) = value else {
                                out.extend_from_slice(raw);
                                continue;
                            };
                            let mut scratch = std::mem::take(&mut emit.scratch);
                            match edited(plan, edit, &value, None, start + tuple_at, edits.max_len(i), &mut emit.out.counts, &mut scratch) {
                                Some(new) => sqlite::encode_text(new, &mut out),
                                None => out.extend_from_slice(raw),
                            }
                            emit.scratch = scratch;
                        }
                        emit.replace(start + tuple_at + 1, start + t.start, |o| o.extend_from_slice(&out));
                        values.clear();
                    }
                    continue;
                }
                if c == b'(' {
                    depth += 1;
                    if depth == 1 {
                        tuple_at = t.start;
                        values.clear();
                        current.clear();
                        continue;
                    }
                } else if c == b')' {
                    depth = depth
                        .checked_sub(1)
                        .ok_or_else(|| LocalError::new(start + t.start, "unbalanced ')'"))?;
                }
            }
            _ => {}
        }
        if depth >= 1 {
            current.push(t);
        }
    }
    if depth != 0 {
        return Err(LocalError::new(start + tuple_at, "row not closed by ')'"));
    }
    Ok(())
}

/// What [`quick_values`] found in a `VALUES` list.
struct QuickValues {
    rows: u64,
    /// `(tuple start, column, edit, value start, value end)` of every
    /// edited value, in order; offsets in the text.
    values: Vec<(usize, usize, Edit, usize, usize)>,
}

/// The edited values of `text` (`(…), (…);` after `VALUES`) found from
/// separator to separator without lexing the values in between: with
/// [`crate::frame::lexer::MaskedStops`] where strings take no escapes, else (or
/// when that bails) with [`crate::frame::lexer::quick_stop`]. `None` when both
/// bail or the rows are not well formed: `insert_values` then lexes every
/// token and reports what is wrong exactly as before.
fn quick_values(d: Dialect, escapes: bool, text: &[u8], edits: &ColumnEdits) -> Option<QuickValues> {
    use crate::frame::lexer::{stepped_stops, MaskedStops, Stops};
    if let Some(mut masked) = MaskedStops::new(d, !escapes, Stops::Values, text, 0) {
        if let Ok(found) = values_among(edits, || masked.next_stop()) {
            return found;
        }
    }
    values_among(edits, stepped_stops(d, !escapes, Stops::Values, text, 0)).unwrap_or(None)
}

/// [`quick_values`] among the stops `next` gives in order: `Err` when the
/// scan bailed, `Ok(None)` when the rows are not well formed.
fn values_among(edits: &ColumnEdits, mut next: impl FnMut() -> Quick) -> Result<Option<QuickValues>, Bailed> {
    let mut out = QuickValues { rows: 0, values: Vec::new() };
    let (mut depth, mut col, mut tuple_at, mut value_at) = (0u32, 0usize, 0usize, 0usize);
    // A row just closed: only `,` or `;` may follow it.
    let mut after_row = false;
    loop {
        match next() {
            Quick::Stop(at, c) => {
                if depth == 0 {
                    if c == b'(' && after_row {
                        return Ok(None);
                    }
                    after_row = false;
                }
                if depth == 1 && (c == b',' || c == b')') {
                    if let Some(e) = edits.of(col) {
                        out.values.push((tuple_at, col, e, value_at, at));
                    }
                    if c == b')' {
                        depth = 0;
                        after_row = true;
                        out.rows += 1;
                        if edits.ncols != 0 && col + 1 != edits.ncols {
                            return Ok(None);
                        }
                    } else {
                        col += 1;
                        value_at = at + 1;
                    }
                    continue;
                }
                match c {
                    b'(' => {
                        depth += 1;
                        if depth == 1 {
                            (col, tuple_at, value_at) = (0, at, at + 1);
                        }
                    }
                    b')' => match depth.checked_sub(1) {
                        Some(d) => depth = d,
                        None => return Ok(None),
                    },
                    _ => {}
                }
            }
            Quick::End => return Ok((depth == 0).then_some(out)),
            Quick::Bail => return Err(Bailed),
        }
    }
}

/// The text of one value of an INSERT (given by its significant tokens),
/// decoded as [`edit_value`] decodes it; `None` for NULL or a value that
/// is not text.
fn literal_value(plan: &Plan, text: &[u8], base: usize, toks: &[Token], escapes: bool) -> Result<Option<Vec<u8>>, LocalError> {
    let Some(first) = toks.first() else {
        return Err(LocalError::new(base, "empty value in row"));
    };
    match plan.dialect {
        Dialect::Postgres if first.kind != TokenKind::Str => Ok(None),
        Dialect::Postgres => postgres::decode_literal(&text[first.start..first.end], escapes)
            .map(Some)
            .map_err(|m| LocalError::new(base + first.start, m)),
        Dialect::Sqlite => sqlite::eval_text(text, toks).map_err(|m| LocalError::new(base + first.start, m)),
    }
}

/// Rewrites one value (given by its significant tokens) under `edit`.
#[allow(clippy::too_many_arguments)]
fn edit_value(
    plan: &Plan,
    text: &[u8],
    base: usize,
    // Where the value's tuple starts, for the change log's line.
    row_at: usize,
    toks: &[Token],
    edit: Edit,
    escapes: bool,
    max_len: Option<usize>,
    emit: &mut Emit,
) -> Result<(), LocalError> {
    let Some(first) = toks.first() else {
        return Err(LocalError::new(base, "empty value in row"));
    };
    let last = toks[toks.len() - 1];
    match plan.dialect {
        Dialect::Postgres => {
            // pg_dump writes text as a literal, possibly with a cast after
            // it; NULL, numbers and DEFAULT are not text.
            if first.kind != TokenKind::Str {
                return Ok(());
            }
            let raw = &text[first.start..first.end];
            let field = (base + first.start, base + first.end);
            let encode = |new: &[u8], o: &mut Vec<u8>| postgres::encode_literal(new, raw, escapes, o);
            // A literal without quotes or backslashes is its value: no
            // decoding copy (`decode_literal` gives the same bytes).
            if let Some((open, body)) = plain_literal(raw, true) {
                emit.edit_field(plan, edit, body, Some(field.0 + open), row_at, max_len, field, None, encode);
                return Ok(());
            }
            let value = postgres::decode_literal(raw, escapes)
                .map_err(|m| LocalError::new(base + first.start, m))?;
            let escaped = Escaped::PgLiteral(raw, escapes);
            emit.edit_field(plan, edit, &value, None, row_at, max_len, field, Some(escaped), encode);
        }
        Dialect::Sqlite => {
            let field = (base + first.start, base + last.end);
            if toks.len() == 1 && first.kind == TokenKind::Str {
                if let Some((open, body)) = plain_literal(&text[first.start..first.end], false) {
                    emit.edit_field(plan, edit, body, Some(field.0 + open), row_at, max_len, field, None, sqlite::encode_text);
                    return Ok(());
                }
            }
            // The shell's `replace(…)` of a text with newlines, decoded in
            // one pass (`eval_text` copies it once per `replace`): when the
            // value written back in the same form is this expression, the
            // value is the one `eval_text` gives (`encode_text` and
            // `eval_text` are inverses: sqlite.rs's proptest).
            if let Some((form, hay)) = sqlite::ShellForm::parse(text, toks) {
                let h = toks[hay];
                let body = &text[h.start + 1..h.end - 1];
                let value = form.decode(body);
                if form.writes(&value, &text[first.start..last.end]) {
                    let escaped = Escaped::SqliteShell { body, body_at: h.start + 1 - first.start, form: &form };
                    emit.edit_field(plan, edit, &value, None, row_at, max_len, field, Some(escaped), sqlite::encode_text);
                    return Ok(());
                }
            }
            let value = sqlite::eval_text(text, toks)
                .map_err(|m| LocalError::new(base + first.start, m))?;
            // One literal: its quotes are its only escapes.
            let escaped = (toks.len() == 1 && first.kind == TokenKind::Str)
                .then(|| Escaped::SqliteLiteral(&text[first.start..first.end]));
            if let Some(value) = value {
                emit.edit_field(plan, edit, &value, None, row_at, max_len, field, escaped, sqlite::encode_text);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn emit(plan: &Plan) -> Emit {
        Emit {
            out: Rewritten {
                counts: Counts::for_plan(plan),
                ..Default::default()
            },
            copied_to: 0,
            scratch: Vec::new(),
            in_place: IN_PLACE,
        }
    }

    proptest! {
        #[test]
        fn lines_and_nul_counts_and_finds_as_memchr_does(
            data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(0u8), Just(b'a')], 0..20_000),
            cut in 0usize..20_000,
        ) {
            // Mostly without NUL, so that the count is tested too.
            let data: Vec<u8> = data.iter().map(|&b| if b == 0 && cut % 7 != 0 { b'b' } else { b }).collect();
            let (lines, nul) = lines_and_nul(&data);
            // The portable loop too, where the CPU takes the AVX2 one.
            prop_assert_eq!(lines_and_nul_in(&data), (lines, nul));
            prop_assert_eq!(nul, memchr::memchr(0, &data));
            if nul.is_none() {
                prop_assert_eq!(lines, memchr::memchr_iter(b'\n', &data).count() as u64);
            }
        }
    }

    #[test]
    fn streamed_hash_is_value_hash() {
        let v: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for cuts in [&[][..], &[1, 17, 240, 4096][..], &[100_000, 100_001, 299_999][..]] {
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            let mut at = 0;
            for &c in cuts.iter().chain([&v.len()]) {
                h.update(&v[at..c]);
                at = c;
            }
            assert_eq!(h.digest(), crate::observe::checks::value_hash(&v));
        }
    }

    fn escaped_values() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            3 => Just(&b"CAPA-"[..]),
            2 => Just(&b"SAP-"[..]),
            1 => Just(&b"\\"[..]),
            1 => Just(&b"\t"[..]),
            1 => Just(&b"\n"[..]),
            1 => Just(&b"\r"[..]),
            1 => Just(&b"'"[..]),
            1 => Just(&b"''"[..]),
            3 => Just(&b"x"[..]),
            1 => Just(&b"n"[..]),
            1 => Just(&b" "[..]),
            1 => Just("é".as_bytes()),
        ];
        prop::collection::vec(piece, 0..14).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A value written in place, its checks read from the new value's
        /// pieces (the path of a huge value), gives the output and counts
        /// of decoding, rewriting and encoding it: in COPY text, the three
        /// styles of PostgreSQL literal and the sqlite3 shell's, with
        /// escapes anywhere, FROM holding escaped bytes, length limits, and
        /// a rewrite that changes the shell's `replace(…)` marker.
        #[test]
        fn in_place_agrees_with_decode_replace_encode(
            value in escaped_values(),
            form in 0usize..5,
            rule in 0usize..7,
            max_len in proptest::option::of(0usize..24),
            bytes in proptest::bool::ANY,
            log in proptest::bool::ANY,
            ignore in proptest::bool::ANY,
        ) {
            let d = if form == 4 { Dialect::Sqlite } else { Dialect::Postgres };
            let mut rules = crate::rules::Rules::new();
            rules.parse_rewrite("t.r:CAPA-=SAP-").expect("rule");
            let mut plan = Plan::new(&rules, d);
            let (from, to): (&[u8], &[u8]) = [
                (&b"CAPA-"[..], &b"SAP-"[..]),
                (b"CAPA-", b"SAPP-X"),
                (b"CAPA-", b"CAPA-"),
                (b"x", b"CAPA-"),
                (b"CAPA-\t", b"T"),
                (b"CAPA-'", b""),
                // `\x` becomes `\n`: the shell's newline marker changes.
                (b"x", b"n"),
            ][rule];
            plan.rewrites[0].from = from.to_vec();
            plan.rewrites[0].to = to.to_vec();
            plan.rewrites[0].prefix_ignores_case = ignore;
            plan.undo[0] = plan.rewrites[0].reversed();
            plan.log_changes = log;
            let original: &[u8] = [&b"'q'"[..], b"'q'", b"'q'", b"E'q'", b"'q'"][form];
            let escapes = form == 2;
            let encode = |v: &[u8], o: &mut Vec<u8>| match form {
                0 => copy_text::encode(v, o),
                1..=3 => postgres::encode_literal(v, original, escapes, o),
                _ => sqlite::encode_text(v, o),
            };
            let mut data = b"(".to_vec();
            let start = data.len();
            encode(&value, &mut data);
            let end = data.len();
            data.extend_from_slice(b")");
            let raw = &data[start..end];
            let mut got = Vec::new();
            for in_place in [0, usize::MAX] {
                let mut e = emit(&plan);
                e.in_place = in_place;
                e.out.counts.lengths_in_bytes = bytes;
                if form == 0 {
                    e.edit_field(&plan, Edit::Rule(0), &value, None, 0, max_len, (start, end), Some(Escaped::Copy(raw)), encode);
                } else {
                    // As an INSERT's value: its tokens, as `insert_values` gives them.
                    let toks: Vec<Token> = Tokens::with_escapes(d, escapes, &data)
                        .map(|t| t.expect("token"))
                        .filter(|t| !matches!(t.kind, TokenKind::Space | TokenKind::Comment) && t.start >= start && t.end <= end)
                        .collect();
                    edit_value(&plan, &data, 0, 0, &toks, Edit::Rule(0), escapes, max_len, &mut e).expect("edit");
                }
                e.out.pieces.push(Piece::Input(e.copied_to, data.len()));
                let mut out = Vec::new();
                e.out.for_each_slice(&data, |p| {
                    out.extend_from_slice(p);
                    Ok::<(), ()>(())
                }).expect("slices");
                // A change logged by place is the writer's to read (pipeline.rs).
                for c in &mut e.out.counts.changes {
                    if let Some(r) = c.input.take() {
                        c.old = data[r].to_vec();
                        c.new = plan.rewrites[c.rule].apply(&c.old).unwrap_or_default();
                    }
                }
                got.push((out, e.out.counts));
            }
            prop_assert_eq!(&got[0].0, &got[1].0);
            prop_assert_eq!(&got[0].1, &got[1].1);
        }
    }

    fn values() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"'CAPA-".to_vec()),
            Just(b"'".to_vec()),
            Just(b"''".to_vec()),
            Just(b"E'".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"(".to_vec()),
            Just(b")".to_vec()),
            Just(b"),(".to_vec()),
            Just(b",".to_vec()),
            Just(b"'x',".to_vec()),
            Just(b"'CAPA-1'".to_vec()),
            Just(b"replace('CAPA-a\\nb','\\n',char(10))".to_vec()),
            Just(b"NULL".to_vec()),
            Just(b"--".to_vec()),
            Just(b"/*c*/".to_vec()),
            Just(b"$$".to_vec()),
            Just(b"\"".to_vec()),
            Just("é🙂".as_bytes().to_vec()),
            Just(vec![0xff]),
            "[a-z0-9 ]{0,3}".prop_map(String::into_bytes),
        ];
        prop::collection::vec(piece, 0..16).prop_map(|v| {
            let mut s = b"(1,".to_vec();
            for p in v {
                s.extend_from_slice(&p);
            }
            s.extend_from_slice(b");");
            s
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// The quick path of `insert_values` (separators found by
        /// `quick_stop`, only edited values lexed) gives what lexing every
        /// token gives: the same replacements, counts, or error.
        #[test]
        fn quick_values_agree_with_lexing(text in values(), escapes in proptest::bool::ANY, sqlite in proptest::bool::ANY) {
            let d = if sqlite { Dialect::Sqlite } else { Dialect::Postgres };
            let mut rules = crate::rules::Rules::new();
            rules.parse_rewrite("t.r:CAPA-=SAP-").expect("rule");
            let plan = Plan::new(&rules, d);
            for ncols in [0, 3] {
                let edits = ColumnEdits {
                    table: b"t".to_vec(),
                    ncols,
                    columns: Vec::new(),
                    max_len: Vec::new(),
                    edits: vec![(1, Edit::Rule(0))],
                    order: None,
                };
                let (mut quick, mut lexed) = (emit(&plan), emit(&plan));
                let a = insert_values(&plan, &text, 0, text.len(), &edits, escapes, &mut quick);
                let b = insert_values_lexed(&plan, &text, 0, text.len(), &edits, escapes, &mut lexed);
                let failed = a.is_err();
                prop_assert_eq!(a.map_err(|e| (e.at, e.msg)), b.map_err(|e| (e.at, e.msg)));
                if failed {
                    // The chunk fails with that error: nothing else of it is used.
                    continue;
                }
                prop_assert_eq!(&quick.out.pieces, &lexed.out.pieces);
                prop_assert_eq!(&quick.out.owned, &lexed.out.owned);
                prop_assert_eq!(&quick.out.counts, &lexed.out.counts);
            }
        }
    }
}
