//! The rewriter: applies a chunk's decisions. Runs on worker threads, one
//! chunk at a time, needing nothing but the chunk and the plan.
//!
//! Output is described as pieces that refer to the input chunk wherever
//! bytes are unchanged, so untouched data is never copied here; the writer
//! copies it once, straight from the input buffer.

use crate::copy_text;
use crate::error::LocalError;
use crate::ident;
use crate::lexer::{Dialect, Token, TokenKind, Tokens};
use crate::plan::Plan;
use crate::postgres;
use crate::reader::{Action, Chunk, ColumnEdits, Edit};
use crate::sqlite;

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
}

/// Values that a `--reverse` run would not restore.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Irreversible {
    pub count: u64,
    /// The first few, as `(input value, output value)`.
    pub examples: Vec<(Vec<u8>, Vec<u8>)>,
}

/// How many irreversible values are kept as examples.
const EXAMPLES: usize = 5;

impl Counts {
    fn for_plan(plan: &Plan) -> Counts {
        Counts {
            renamed: vec![0; plan.renames.len()],
            rewritten: vec![0; plan.rewrites.len()],
            rows_examined: 0,
            irreversible: vec![Irreversible::default(); plan.rewrites.len()],
        }
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
        if self.irreversible.len() < other.irreversible.len() {
            self.irreversible.resize(other.irreversible.len(), Irreversible::default());
        }
        for (a, b) in self.irreversible.iter_mut().zip(&other.irreversible) {
            a.count += b.count;
            let room = EXAMPLES.saturating_sub(a.examples.len());
            a.examples.extend(b.examples.iter().take(room).cloned());
        }
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
}

/// How a renamed table name is written back in a piece of SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Schema SQL: pg's `fmtId`, or SQLite's stored-SQL rename.
    Schema,
    /// The sqlite3 shell's `INSERT INTO` name.
    ShellInsert,
    /// pg_dump header tags: raw bare words compared and written as stored.
    Tag,
}

/// Applies every segment of `chunk`.
pub fn rewrite_chunk(plan: &Plan, chunk: &Chunk) -> Result<Rewritten, LocalError> {
    let mut emit = Emit { out: Rewritten { counts: Counts::for_plan(plan), ..Default::default() }, copied_to: 0 };
    let data = &chunk.data;
    for seg in &chunk.segments {
        let (s, e) = (seg.start, seg.end);
        match &seg.action {
            Action::Keep => {}
            Action::Rename(extra) => rename_sql(plan, data, s, e, false, Style::Schema, extra.as_deref(), &mut emit)?,
            Action::HeaderComment(extra) => {
                if let Some((ts, te)) = postgres::header_tag(&data[s..e]) {
                    rename_sql(plan, data, s + ts, s + te, false, Style::Tag, extra.as_deref(), &mut emit)?;
                }
            }
            Action::Generated(sql) => emit.replace(s, s, |o| o.extend_from_slice(sql)),
            Action::CopyRows(edits) => copy_rows(plan, data, s, e, edits, &mut emit)?,
            Action::Insert { edits, rename, values_at, escapes } => {
                if *rename {
                    let style = match plan.dialect {
                        Dialect::Postgres => Style::Schema,
                        Dialect::Sqlite => Style::ShellInsert,
                    };
                    rename_sql(plan, data, s, s + values_at, *escapes, style, None, &mut emit)?;
                }
                if let Some(edits) = edits {
                    insert_values(plan, data, s + values_at, e, edits, *escapes, &mut emit)?;
                }
            }
        }
    }
    if data.len() > emit.copied_to {
        emit.out.pieces.push(Piece::Input(emit.copied_to, data.len()));
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
) -> Result<(), LocalError> {
    let text = &data[start..end];
    let d = plan.dialect;
    // The last two significant tokens, oldest first.
    let mut prev: [Option<Token>; 2] = [None, None];
    // The renamed table whose columns are being named, if any.
    let mut table: Option<usize> = None;
    let write = |o: &mut Vec<u8>, new: &[u8], kind: TokenKind| match (d, style) {
        (_, Style::Tag) if kind == TokenKind::Word => o.extend_from_slice(new),
        (Dialect::Postgres, _) => ident::push_pg(new, o),
        (Dialect::Sqlite, Style::ShellInsert) => ident::push_sqlite_shell(new, o),
        (Dialect::Sqlite, _) => ident::push_sqlite_schema(new, o),
    };
    for tok in Tokens::with_escapes(d, escapes, text) {
        let t = tok.map_err(|(at, msg)| LocalError::new(start + at, msg))?;
        match t.kind {
            TokenKind::Space | TokenKind::Comment => continue,
            TokenKind::Word | TokenKind::QuotedIdent => {
                let raw = &text[t.start..t.end];
                let qualifier = match prev {
                    [Some(q), Some(dot)] if dot.kind == TokenKind::Punct && text[dot.start] == b'.' => {
                        Some(ident::name_of(d, q.kind, &text[q.start..q.end]))
                    }
                    _ => None,
                };
                let name = ident::name_of(d, t.kind, raw);
                let hit = if style == Style::Tag && t.kind == TokenKind::Word {
                    if qualifier.is_some() {
                        None
                    } else {
                        postgres::raw_tag_rename(plan, raw).map(|(i, _)| i)
                    }
                } else {
                    plan.rename_of(qualifier.as_deref(), &name)
                };
                if let Some(new) = extra.and_then(|x| x.iter().find(|(old, _)| ident::same_name(d, old, &name))) {
                    emit.replace(start + t.start, start + t.end, |o| write(o, &new.1, t.kind));
                } else if let Some(i) = hit {
                    let new = &plan.renames[i].new;
                    emit.replace(start + t.start, start + t.end, |o| write(o, new, t.kind));
                    emit.out.counts.renamed[i] += 1;
                    table = Some(i);
                } else if let Some(c) = table.and_then(|i| {
                    let owner = &plan.renames[i].old;
                    plan.columns.iter().find(|c| &c.table == owner && ident::same_name(d, &c.old, &name))
                }) {
                    emit.replace(start + t.start, start + t.end, |o| write(o, &c.new, t.kind));
                }
            }
            _ => {}
        }
        prev = [prev[1], Some(t)];
    }
    Ok(())
}

/// The new value of a field under `edit`, if it changes.
fn edited(plan: &Plan, edit: Edit, value: &[u8], counts: &mut Counts) -> Option<Vec<u8>> {
    match edit {
        Edit::Rule(i) => {
            let new = plan.rewrites[i].apply(value);
            let out = new.as_deref().unwrap_or(value);
            let back = plan.undo[i].apply(out);
            if back.as_deref().unwrap_or(out) != value {
                let irr = &mut counts.irreversible[i];
                irr.count += 1;
                if irr.examples.len() < EXAMPLES {
                    irr.examples.push((value.to_vec(), out.to_vec()));
                }
            }
            counts.rewritten[i] += u64::from(new.is_some());
            new
        }
        Edit::TableName => {
            let i = plan.rename_of(None, value)?;
            counts.renamed[i] += 1;
            Some(plan.renames[i].new.clone())
        }
    }
}

/// Rewrites the edited fields of COPY text rows in `data[start..end]`
/// (whole rows, each ending in a newline).
fn copy_rows(
    plan: &Plan,
    data: &[u8],
    start: usize,
    end: usize,
    edits: &ColumnEdits,
    emit: &mut Emit,
) -> Result<(), LocalError> {
    let mut fields = Vec::with_capacity(edits.ncols + 1);
    let mut value = Vec::new();
    let mut row_start = start;
    let region = &data[..end];
    while row_start < end {
        let nl = copy_text::next_row_end(region, row_start).unwrap_or(end);
        // A CR before the newline is a CRLF line end: COPY escapes a CR in
        // data as `\r`, so a raw one can only end the line.
        let row_end = if nl > row_start && data[nl - 1] == b'\r' { nl - 1 } else { nl };
        let row = &data[row_start..row_end];
        copy_text::split_fields(row, &mut fields);
        if fields.len() != edits.ncols {
            return Err(LocalError::new(
                row_start,
                format!(
                    "COPY row of table {} has {} fields, its header lists {} columns",
                    String::from_utf8_lossy(&edits.table),
                    fields.len(),
                    edits.ncols
                ),
            ));
        }
        emit.out.counts.rows_examined += 1;
        for &(col, edit) in &edits.edits {
            let (fs, fe) = fields[col];
            match copy_text::decode(&row[fs..fe], &mut value) {
                Err(e) => return Err(LocalError::new(row_start + fs + e.at, e.msg)),
                Ok(false) => {}
                Ok(true) => {
                    if let Some(new) = edited(plan, edit, &value, &mut emit.out.counts) {
                        emit.replace(row_start + fs, row_start + fe, |o| copy_text::encode(&new, o));
                    }
                }
            }
        }
        row_start = nl + 1;
    }
    Ok(())
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
    let mut depth = 0u32;
    let mut col = 0usize;
    let mut tuple_at = 0usize;
    let mut edit = None;
    let mut value: Vec<Token> = Vec::new();
    let table = || String::from_utf8_lossy(&edits.table).into_owned();
    for tok in Tokens::with_escapes(d, escapes, text) {
        let t = tok.map_err(|(at, msg)| LocalError::new(start + at, msg))?;
        match t.kind {
            TokenKind::Space | TokenKind::Comment => continue,
            TokenKind::Punct => {
                let c = text[t.start];
                let ends_value = depth == 1 && (c == b',' || c == b')');
                if ends_value {
                    if let Some(e) = edit {
                        edit_value(plan, text, start, &value, e, escapes, emit)?;
                    }
                    if c == b')' {
                        depth = 0;
                        emit.out.counts.rows_examined += 1;
                        if col + 1 != edits.ncols {
                            return Err(LocalError::new(
                                start + tuple_at,
                                format!("row of table {} has {} values, expected {}", table(), col + 1, edits.ncols),
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
                    depth = depth.checked_sub(1).ok_or_else(|| LocalError::new(start + t.start, "unbalanced ')'"))?;
                }
            }
            _ => {}
        }
        if depth >= 1 && edit.is_some() {
            value.push(t);
        }
    }
    if depth != 0 {
        return Err(LocalError::new(start + tuple_at, "row not closed by ')'"));
    }
    Ok(())
}

/// Rewrites one value (given by its significant tokens) under `edit`.
fn edit_value(
    plan: &Plan,
    text: &[u8],
    base: usize,
    toks: &[Token],
    edit: Edit,
    escapes: bool,
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
            let value = postgres::decode_literal(raw, escapes).map_err(|m| LocalError::new(base + first.start, m))?;
            if let Some(new) = edited(plan, edit, &value, &mut emit.out.counts) {
                emit.replace(base + first.start, base + first.end, |o| postgres::encode_literal(&new, raw, escapes, o));
            }
        }
        Dialect::Sqlite => {
            let value = sqlite::eval_text(text, toks).map_err(|m| LocalError::new(base + first.start, m))?;
            if let Some(value) = value {
                if let Some(new) = edited(plan, edit, &value, &mut emit.out.counts) {
                    emit.replace(base + first.start, base + last.end, |o| sqlite::encode_text(&new, o));
                }
            }
        }
    }
    Ok(())
}
