//! Deciding: what to do with each statement of a dump (rename its
//! identifiers through the dialect's resolver, edit its rows' values, add
//! Django's effects), from the rules and from what the dump said before
//! it. The framer (`frame::dump`) finds the statements; the reader glues
//! the two and cuts chunks. No byte is framed here: every method is given
//! the buffer and the statement's range in it (offsets for messages).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{LocalError, Remedy};
use crate::codec::ident;
use crate::frame::lexer::{Dialect, TokenKind};
use crate::decide::plan::Plan;
use crate::decide::statement::{self, Head, QualName};

/// An edit of one column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Apply `plan.rewrites[i]`.
    Rule(usize),
    /// The value is a table name (SQLite's `sqlite_sequence.name`): rename it.
    TableName,
    /// A PostgreSQL `regclass` (or `regclass[]`) column: its text is a
    /// relation name as `regclassout` prints it, which a live rename changes;
    /// names are quoted for the keywords of the server version given.
    Regclass(u32),
}

/// The edits that apply to rows of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnEdits {
    /// Table name as written in the input, for messages.
    pub table: Vec<u8>,
    /// Number of columns a row must have (0: not known, not checked).
    pub ncols: usize,
    /// Column names, when known (for reports).
    pub columns: Vec<Vec<u8>>,
    /// `varchar(N)` limits of edited columns, by column index.
    pub max_len: Vec<(usize, usize)>,
    /// `(column index, edit)`, sorted by column.
    pub edits: Vec<(usize, Edit)>,
    /// SQLite: the values of each row in a new order, value `order[i]` at
    /// place `i` (a table Django rebuilds in another column order).
    pub order: Option<Arc<Vec<usize>>>,
}

impl ColumnEdits {
    /// The `varchar(N)` limit of column `col`, if known.
    pub fn max_len(&self, col: usize) -> Option<usize> {
        self.max_len
            .iter()
            .find(|(c, _)| *c == col)
            .map(|&(_, n)| n)
    }

    /// Only the shape of rows of a table no rule targets: a value count
    /// to check, nothing to edit, no column names (a report's edits of an
    /// untargeted table have its names).
    pub fn is_shape_only(&self) -> bool {
        self.edits.is_empty() && self.columns.is_empty()
    }

    /// The edit of column `col`, if any.
    pub fn of(&self, col: usize) -> Option<Edit> {
        self.edits.iter().find(|(c, _)| *c == col).map(|&(_, e)| e)
    }
}

/// Identifiers renamed in one statement only, exactly as written (the
/// constraint and index names a Django model rename recomputes).
pub type Extra = Arc<Vec<(Vec<u8>, Vec<u8>)>>;

/// What to do with a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Copy unchanged.
    Keep,
    /// A statement that may name a renamed table: rename its identifiers.
    Rename(Option<Extra>),
    /// A pg_dump `-- Name: …` header comment, until the statement after it
    /// is read (`settle_header` then decides it: never seen by workers).
    PendingHeader,
    /// Bytes dumpsed adds (an empty range of the input): SQL doing what
    /// Django's migrate does beyond the schema.
    Generated(Arc<Vec<u8>>),
    /// Input bytes left out of the output: what a forward run of the
    /// Django rules added, taken out by `--reverse`
    /// ([`crate::decide::reader::ReaderConfig::undo_appendix`]).
    Drop,
    /// Replace exactly these byte ranges (offsets from the segment start),
    /// decided by the PostgreSQL reference resolver (`pg_resolve`) or from
    /// a pg_dump header tag (`pg_tag`).
    Edits(Arc<crate::decide::pg::resolve::Resolved>),
    /// COPY text rows of a table with value edits.
    CopyRows(Arc<ColumnEdits>),
    /// An INSERT statement: rename in its head, edit its values.
    Insert {
        edits: Option<Arc<ColumnEdits>>,
        rename: bool,
        /// PostgreSQL: the resolved renames in the head (before `VALUES`).
        head: Option<Arc<Vec<crate::decide::pg::resolve::Replacement>>>,
        /// Offset of the end of `VALUES` in the statement.
        values_at: usize,
        /// Plain `'…'` strings take backslash escapes
        /// (`standard_conforming_strings = off`).
        escapes: bool,
    },
}

use crate::observe::facts::Trigger;

/// The head decision of the last INSERT classified (see `classify`).
struct InsertMemo {
    plan: Arc<Plan>,
    escapes: bool,
    /// The statement up to and including `VALUES`.
    head: Vec<u8>,
    edits: Option<Arc<ColumnEdits>>,
    /// The head is only words, `"…"` identifiers, spaces and `.(),`: the
    /// lexer reads it as `statement::head` does (no comment, string or
    /// dollar sign to disagree on), its parentheses are balanced (a column
    /// list) and it ends at a token boundary, so the statement's end can
    /// be looked for from the end of the head.
    plain: bool,
    /// The head may name a renamed table (`Plan::may_mention`). Only the
    /// head is renamed in an INSERT (its values are data: a rename or a
    /// value rule reaches them through `edits`), so the rows that follow
    /// are not searched again.
    mentions: bool,
    /// PostgreSQL: the head's renames, once resolved (`resolve_pg_head`).
    pg_head: Option<Option<Arc<Vec<crate::decide::pg::resolve::Replacement>>>>,
}

impl InsertMemo {
    /// True when `stmt` has this head, under the same rules: `statement::head`
    /// reads no further than the byte after `VALUES` (a keyword must not run
    /// on into an identifier), so it would parse the same.
    fn applies(&self, plan: &Arc<Plan>, escapes: bool, stmt: &[u8]) -> bool {
        Arc::ptr_eq(&self.plan, plan) && self.escapes == escapes && self.frames(stmt)
    }

    /// True when `text` starts with this head, as a whole (not `VALUESX`).
    fn frames(&self, text: &[u8]) -> bool {
        text.starts_with(&self.head) && text.get(self.head.len()).is_some_and(|&b| !statement::is_ident_byte(b))
    }
}

/// The decisions' state: the rules in force and what the dump has said so
/// far (column lists, inheritance, Django tables, facts for the checks).
pub struct Decider {
    /// The rules, with the Django many-to-many tables found in the schema
    /// (`with_m2m`): for PostgreSQL all found in the pre-data read ahead
    /// (`predata_create`), before the first statement is decided; for
    /// SQLite (and past a cut read-ahead) appended at each table's `CREATE
    /// TABLE`, before its rows, which is the first statement that can
    /// name it (`.dump`: each table's CREATE then its rows; indexes,
    /// triggers and views last, `shell.c.in`).
    pub(crate) plan: Arc<Plan>,
    pub(crate) escapes: bool,
    /// Column names of tables that value edits target, from `CREATE TABLE`.
    /// Keyed by `(schema, table)`; the schema is the dialect's default when
    /// the dump does not qualify the name.
    pub(crate) tables: HashMap<(Vec<u8>, Vec<u8>), Vec<Vec<u8>>>,
    pub(crate) edits_cache: HashMap<(Vec<u8>, Vec<u8>), Option<Arc<ColumnEdits>>>,
    /// The shape (value count, no edits) of an INSERT row of every table
    /// whose `CREATE TABLE` gives its column count for sure, keyed as
    /// `tables` (SQLite: the name in lower case): the rows of tables no rule
    /// targets are checked against it.
    pub(crate) row_shapes: HashMap<(Vec<u8>, Vec<u8>), Arc<ColumnEdits>>,
    /// What the PostgreSQL resolver learned (inheritance, column lists).
    pub(crate) facts: crate::decide::pg::resolve::Facts,
    /// Resolved renames of INSERT heads, by the head's bytes (a dump
    /// repeats the same head for every row).
    pub(crate) head_cache: HashMap<Vec<u8>, Arc<Vec<crate::decide::pg::resolve::Replacement>>>,
    /// Tables seen in the dump that the Django appendix touches.
    pub(crate) django: crate::decide::django::Seen,
    /// The facts for the checks: the single values in force, and the
    /// lists gathered since the last chunk (`DumpFacts::ship`).
    pub(crate) observed: crate::observe::facts::DumpFacts,
    /// Every table seen so far (the new ones go to `observed.tables`).
    pub(crate) seen_tables: std::collections::HashSet<(Vec<u8>, Vec<u8>)>,
    /// SQLite: the dump's schema in an in-memory SQLite, which performs the
    /// renames itself (`sqlite_schema`); made at the first schema statement.
    pub(crate) shadow: Option<crate::decide::sqlite::schema::Shadow>,
    /// The renames in the form the shadow runs them.
    pub(crate) sqlite_renames: crate::decide::sqlite::schema::SqliteRenames,
    /// Check the shape of Django's own tables the rules add rows to, at
    /// their `CREATE TABLE` (off when the appendix is not added here:
    /// an archive's part, or `--reverse`, which takes it out).
    pub(crate) django_shapes: bool,
    /// The table of the last COPY / INSERT / CREATE TABLE head, as written.
    pub(crate) last_seen: (Option<Vec<u8>>, Vec<u8>),
    /// `varchar(N)` of each value rule's column, from `CREATE TABLE`.
    pub(crate) limits: HashMap<usize, usize>,
    insert_memo: Option<InsertMemo>,
    /// Go on when a check fails (e.g. a rename's target name exists).
    force: bool,
    /// The statement just decided is a `COPY … FROM stdin`: what to do
    /// with its rows (taken by the reader, which tells the framer).
    pub(crate) copy_follows: Option<Action>,
    /// The statement just decided set `standard_conforming_strings`.
    pub(crate) std_strings: Option<bool>,
}

impl Decider {
    /// The head of the INSERT decided last, when the lexer reads it as
    /// `statement::head` does (see `frame::dump::Framer::next`).
    pub(crate) fn known_head(&self) -> Option<&[u8]> {
        self.insert_memo.as_ref().filter(|m| m.plain).map(|m| m.head.as_slice())
    }

    /// A decider for `plan`'s dialect; `columns` are the column lists of
    /// tables whose `CREATE TABLE` is not in the dump (`TABLE` or
    /// `SCHEMA.TABLE`); `force`: go on when a check fails.
    pub fn new(plan: Arc<Plan>, columns: &HashMap<Vec<u8>, Vec<Vec<u8>>>, force: bool) -> Decider {
        let dialect = plan.dialect;
        let default_schema = dialect.default_schema();
        let tables = columns
            .iter()
            .map(|(k, v)| {
                let key = match k.iter().position(|&b| b == b'.') {
                    Some(i) => (k[..i].to_vec(), k[i + 1..].to_vec()),
                    None => (default_schema.to_vec(), k.clone()),
                };
                (key, v.clone())
            })
            .collect();
        Decider {
            escapes: false,
            tables,
            edits_cache: HashMap::new(),
            row_shapes: HashMap::new(),
            facts: crate::decide::pg::resolve::Facts::default(),
            head_cache: HashMap::new(),
            django: crate::decide::django::Seen::default(),
            observed: crate::observe::facts::DumpFacts::default(),
            seen_tables: std::collections::HashSet::new(),
            shadow: None,
            sqlite_renames: sqlite_renames(&plan),
            django_shapes: false,
            last_seen: (None, Vec::new()),
            limits: HashMap::new(),
            insert_memo: None,
            force,
            copy_follows: None,
            std_strings: None,
            plan,
        }
    }

    /// Notes a table the dump has (schema resolved to the default).
    fn saw(
        seen: &mut std::collections::HashSet<(Vec<u8>, Vec<u8>)>,
        new: &mut Vec<(Vec<u8>, Vec<u8>)>,
        last: &mut (Option<Vec<u8>>, Vec<u8>),
        dialect: Dialect,
        table: &QualName<'_>,
    ) {
        // An INSERT dump names the same table row after row: no key built
        // (and no allocation) while it stays the same.
        if last.1 == *table.name && last.0.as_deref() == table.schema.as_deref() {
            return;
        }
        *last = (table.schema.as_deref().map(<[u8]>::to_vec), table.name.to_vec());
        let norm = |b: &[u8]| match dialect {
            // SQLite compares names case-insensitively.
            Dialect::Postgres => b.to_vec(),
            Dialect::Sqlite => b.to_ascii_lowercase(),
        };
        let default = dialect.default_schema();
        let key = (
            table.schema.as_deref().map_or_else(|| default.to_vec(), norm),
            norm(&table.name),
        );
        if !seen.contains(&key) {
            seen.insert(key.clone());
            new.push(key);
        }
    }

    /// Decides what to do with the complete statement `buf[start..end]`.
    pub(crate) fn classify(&mut self, buf: &[u8], start: usize, end: usize) -> Result<Action, LocalError> {
        // An INSERT dump repeats the same head row after row: the decision
        // for the head is kept from the INSERT just before (and only while
        // no other statement came between, which could change the facts).
        let memo = self.insert_memo.take();
        if let Some(mut m) = memo.filter(|m| m.applies(&self.plan, self.escapes, &buf[start..end])) {
            let action = self.insert_action(buf, start, &mut m)?;
            self.insert_memo = Some(m);
            return Ok(action);
        }
        let dialect = self.plan.dialect;
        let head = statement::head(dialect, &buf[start..end]);
        match &head {
            Head::Copy { table, .. } | Head::Insert { table, .. } | Head::CreateTable { table, .. } => {
                Self::saw(&mut self.seen_tables, &mut self.observed.tables, &mut self.last_seen, dialect, table);
                // A data-only dump has Django's tables by their data.
                self.django.saw_table(&table.name);
            }
            _ => {}
        }
        let stmt = &buf[start..end];
        let mentions = self.plan.may_mention(stmt);
        let rename_or_keep = if mentions {
            Action::Rename(None)
        } else {
            Action::Keep
        };
        match head {
            Head::Copy { table, columns, options } => {
                let cols: Option<Vec<Vec<u8>>> =
                    columns.map(|c| c.into_iter().map(|c| c.into_owned()).collect());
                // Rows of a table no rule targets are still framed: each must
                // have as many fields as the header names columns, or the
                // restore fails on it (copyfromparse.c, "extra data after last
                // expected column" / "missing data for column").
                let shape = match (&cols, options) {
                    (Some(c), false) if !c.is_empty() => Some(Arc::new(ColumnEdits {
                        table: table.name.to_vec(),
                        ncols: c.len(),
                        columns: Vec::new(),
                        max_len: Vec::new(),
                        edits: Vec::new(),
                        order: None,
                    })),
                    _ => None,
                };
                let edits = self
                    .edits_for(&table.to_owned_parts(), cols)
                    .map_err(|e| LocalError { at: start, ..e })?;
                // Value edits decode pg_dump's text format (tab, `\N`,
                // backslash escapes); CSV or other options are another codec.
                let edits = match edits {
                    Some(e) if options && e.edits.iter().any(|(_, x)| matches!(x, Edit::Rule(_))) => {
                        return Err(LocalError::new(
                            start,
                            format!(
                                "COPY of table {} has options (CSV, DELIMITER, …): its values cannot be \
                                 rewritten; only pg_dump's default text format is supported",
                                String::from_utf8_lossy(&e.table)
                            ),
                        ))
                    }
                    Some(_) if options => None,
                    e => e,
                };
                self.copy_follows = Some(match edits.or(shape) {
                    Some(e) => Action::CopyRows(e),
                    None => Action::Keep,
                });
                if dialect == Dialect::Postgres {
                    return if mentions { self.resolve_pg(buf, start, end, None) } else { Ok(Action::Keep) };
                }
                Ok(rename_or_keep)
            }
            Head::Insert {
                table,
                columns,
                values_at,
            } => {
                let cols: Option<Vec<Vec<u8>>> =
                    columns.map(|c| c.into_iter().map(|c| c.into_owned()).collect());
                let schema_row = table.name.eq_ignore_ascii_case(b"sqlite_schema")
                    || table.name.eq_ignore_ascii_case(b"sqlite_master");
                // The rows of a table no rule targets are still counted: a
                // value lost or added fails the restore ("INSERT has more
                // expressions than target columns", or a value in the wrong
                // column). The count is the statement's column list, else
                // the table's `CREATE TABLE`; with neither, nothing is checked.
                let shape = match &cols {
                    Some(c) if !c.is_empty() => Some(Arc::new(ColumnEdits {
                        table: table.name.to_vec(),
                        ncols: c.len(),
                        columns: Vec::new(),
                        max_len: Vec::new(),
                        edits: Vec::new(),
                        order: None,
                    })),
                    Some(_) => None,
                    None => self.row_shapes.get(&self.shape_key(table.schema.as_deref(), &table.name)).cloned(),
                };
                let edits = self
                    .edits_for(&table.to_owned_parts(), cols)
                    .map_err(|e| LocalError { at: start, ..e })?;
                // Every virtual table's row goes to the shadow while tables or
                // columns are renamed, not only the rows naming a renamed
                // table: a trigger or view using the virtual table must
                // resolve when SQLite's ALTER re-parses the whole schema.
                let renaming = !self.plan.renames.is_empty() || !self.plan.columns.is_empty();
                if schema_row && dialect == Dialect::Sqlite && (edits.is_some() || mentions || renaming) {
                    self.refuse_virtual_table_rename(buf, start, end)?;
                    return self.resolve_sqlite(buf, start, end, None);
                }
                let edits = edits.or(shape);
                let mut memo = InsertMemo {
                    pg_head: None,
                    mentions: self.plan.may_mention(&buf[start..start + values_at]),
                    plan: self.plan.clone(),
                    escapes: self.escapes,
                    head: buf[start..start + values_at].to_vec(),
                    edits,
                    plain: buf[start..start + values_at].iter().all(|&b| {
                        b.is_ascii_alphanumeric()
                            || b >= 0x80
                            || matches!(b, b'_' | b'"' | b'.' | b'(' | b')' | b',' | b' ' | b'\t' | b'\n' | b'\r')
                    }),
                };
                let action = self.insert_action(buf, start, &mut memo);
                if !schema_row {
                    self.insert_memo = Some(memo);
                }
                action
            }
            Head::CreateTable { table, body_at } => {
                let (schema, name) = table.to_owned_parts();
                let mut cols = statement::table_columns(dialect, stmt, body_at);
                // The rows' value count, where the statement gives it for sure.
                let mut sure = !cols.is_empty() && !statement::has_word(dialect, stmt, b"OF");
                if dialect == Dialect::Sqlite {
                    // `.dump` leaves generated columns out of its INSERTs
                    // (shell.c.in, tableColumnList: PRAGMA table_info lists
                    // no hidden column): `AS` marks one (`c AS (expr)`).
                    sure &= !statement::has_word(dialect, stmt, b"AS");
                }
                if dialect == Dialect::Sqlite && (!self.sqlite_renames.is_empty() || !self.plan.rewrites.is_empty()) {
                    if let Some(c) = self.sqlite_insert_columns(buf, start, end, &name) {
                        cols = c;
                    }
                }
                if dialect == Dialect::Postgres {
                    // `INHERITS (parent)` / `PARTITION OF parent`: the rows
                    // have the parents' columns first, which this CREATE
                    // TABLE does not list (`--inserts` rows name none).
                    let text = &buf[start..end];
                    if crate::decide::plan::contains_ignore_case(text, b"INHERITS")
                        || crate::decide::plan::contains_ignore_case(text, b"PARTITION")
                    {
                        let parents = crate::decide::pg::resolve::inherits_from(text, self.escapes, self.facts.versions.grammar());
                        sure &= !parents.is_empty() && parents.iter().all(|p| self.facts.columns.contains_key(p));
                        cols = self.facts.merged_columns(&parents, cols);
                        // The edge, for value rules on a parent (`rewrites_for`),
                        // also where the statement is not parsed.
                        let key = (schema.clone().unwrap_or_else(|| self.default_schema().to_vec()), name.clone());
                        let list = self.facts.parents.entry(key).or_default();
                        for p in parents {
                            if !list.contains(&p) {
                                list.push(p);
                            }
                        }
                    }
                    let key = (schema.clone().unwrap_or_else(|| self.default_schema().to_vec()), name.clone());
                    self.facts.columns.entry(key).or_insert_with(|| cols.clone());
                }
                // The columns of a table a column rule names, where the
                // statement gives them all (SQLite: as declared, generated
                // ones too), for the check that the rule's column exists.
                let named = self.plan.rewrites_of(schema.as_deref(), &name).next().is_some()
                    || self.plan.rules.column_renames().iter().any(|c| {
                        !c.django
                            && ident::same_name(dialect, &c.table, &name)
                            && c.schema.as_deref().is_none_or(|s| schema.as_deref().is_none_or(|t| ident::same_name(dialect, s, t)))
                    });
                if named {
                    let declared = match dialect {
                        Dialect::Sqlite => statement::table_columns(dialect, &buf[start..end], body_at),
                        Dialect::Postgres if sure => cols.clone(),
                        Dialect::Postgres => Vec::new(),
                    };
                    if !declared.is_empty() {
                        let key = (schema.clone().unwrap_or_else(|| self.default_schema().to_vec()), name.clone());
                        self.observed.columns.push((key, declared));
                    }
                }
                let shape_key = self.shape_key(schema.as_deref(), &name);
                if sure {
                    self.row_shapes.insert(
                        shape_key,
                        Arc::new(ColumnEdits {
                            table: name.clone(),
                            ncols: cols.len(),
                            columns: Vec::new(),
                            max_len: Vec::new(),
                            edits: Vec::new(),
                            order: None,
                        }),
                    );
                } else {
                    self.row_shapes.remove(&shape_key);
                }
                // The shape of Django's own tables that the Django rules
                // add rows to (as the archive path checks its TOC entry).
                if self.django_shapes {
                    for (table, rule) in crate::decide::django::tables_needed(&self.plan.rules) {
                        if ident::same_name(dialect, table.as_bytes(), &name) {
                            if let Some(why) = crate::decide::django::older_shape(dialect, table, &buf[start..end]) {
                                return Err(LocalError::rule(start, format!("{rule}: {why}")));
                            }
                        }
                    }
                }
                let rules = &self.plan.rules;
                if rules.django_tables().iter().any(|t| ident::same_name(dialect, t, &name))
                    || rules
                        .column_renames()
                        .iter()
                        .any(|c| c.django && ident::same_name(dialect, &c.table, &name))
                    || rules.django_models().iter().any(|d| {
                        d.old_table == d.new_table
                            && ident::same_name(dialect, d.old_table.as_bytes(), &name)
                    })
                    || rules
                        .django_rebuilds()
                        .iter()
                        .any(|(t, _)| ident::same_name(dialect, t, &name))
                {
                    self.django.targets.push((name.clone(), cols.clone()));
                }
                if self.derives_tables() {
                    self.django_table(buf, &name, &cols, start, end, body_at)?;
                }
                let taken = self.plan.renames.iter().find(|r| {
                    ident::same_name(dialect, &name, &r.new)
                        && schema
                            .as_deref()
                            .is_none_or(|s| ident::same_name(dialect, s, &r.schema))
                });
                if let (Some(r), false) = (taken, self.force) {
                    return Err(LocalError::new(
                        start,
                        format!(
                            "the dump already has a table {}, the new name of {}; renaming would make two",
                            String::from_utf8_lossy(&r.new),
                            String::from_utf8_lossy(&r.old)
                        ),
                    )
                    .with_remedy(Remedy::Force));
                }
                let plan = self.plan.clone();
                let inherited = self.rewrites_for(schema.as_deref(), &name);
                for &i in &inherited {
                    let facts = statement::column_facts(
                        dialect,
                        &buf[start..end],
                        body_at,
                        &plan.rewrites[i].column,
                    );
                    if let Some(n) = facts.max_len {
                        self.limits.insert(i, n);
                    }
                    if facts.unique && !self.observed.unique_rules.contains(&i) {
                        self.observed.unique_rules.push(i);
                    }
                }
                let reordered = self.rebuild_order(&name).is_some();
                if self.plan.report || self.plan.is_rewrite_target(&name) || !inherited.is_empty() || reordered {
                    let key = (schema.clone().unwrap_or_else(|| self.default_schema().to_vec()), name.clone());
                    self.edits_cache.remove(&key);
                    self.tables.insert(key, cols);
                }
                // A many-to-many table found just now is renamed too.
                let mentions = self.plan.may_mention(&buf[start..end]);
                if dialect == Dialect::Postgres {
                    // A regclass column's data names relations: its table is
                    // parsed for that fact even when it names nothing renamed.
                    let regclass = !self.plan.renames.is_empty()
                        && crate::decide::plan::contains_ignore_case(&buf[start..end], b"regclass");
                    return if mentions || regclass {
                        self.resolve_pg(buf, start, end, None)
                    } else {
                        Ok(Action::Keep)
                    };
                }
                let action = self.resolve_sqlite(buf, start, end, None)?;
                self.reorder_create_table(buf, start, end, &name, action)
            }
            Head::StdStrings(on) => {
                self.escapes = !on;
                self.std_strings = Some(on);
                Ok(Action::Keep)
            }
            Head::Other => {
                self.note_unique(buf, (start, end));
                if let Some(t) = trigger_of(dialect, &buf[start..end]) {
                    self.observed.triggers.push(t);
                }
                let stmt = &buf[start..end];
                // pg_dump: `SET client_encoding = 'UTF8';` (pg_backup_archiver.c).
                if let Some(rest) = stmt.strip_prefix(b"SET client_encoding = '") {
                    let value = rest.split(|&b| b == b'\'').next().unwrap_or_default();
                    self.observed.encoding = Some(String::from_utf8_lossy(value).into_owned());
                }
                let extra = if self.plan.django.is_empty()
                    && !self.plan.rules.column_renames().iter().any(|c| c.django)
                {
                    None
                } else {
                    self.django_names(stmt)
                };
                // pg 18's statistics of a column whose values are rewritten
                // are dropped (`pg_resolve`): such a call is parsed even when
                // it names nothing renamed.
                let stats = !self.plan.rewrites.is_empty()
                    && memchr::memmem::find(stmt, b"pg_restore_attribute_stats(").is_some();
                // An ATTACH PARTITION: the edge a value rule on the parent
                // follows, or a refusal if the read-ahead did not see it
                // (`decide::pg::resolve`, `attach_partition`).
                let attach = !self.plan.rewrites.is_empty()
                    && stmt.get(..12).is_some_and(|h| h.eq_ignore_ascii_case(b"ALTER TABLE "))
                    && crate::decide::plan::contains_ignore_case(stmt, b"ATTACH");
                if dialect == Dialect::Postgres {
                    return if mentions || extra.is_some() || stats || attach {
                        self.resolve_pg(buf, start, end, extra.map(Arc::new))
                    } else {
                        Ok(Action::Keep)
                    };
                }
                let create = buf[start..end]
                    .get(..6)
                    .is_some_and(|w| w.eq_ignore_ascii_case(b"CREATE"));
                if create {
                    return self.resolve_sqlite(buf, start, end, extra.as_deref());
                }
                match extra {
                    Some(e) => Ok(Action::Rename(Some(Arc::new(e)))),
                    None => Ok(rename_or_keep),
                }
            }
        }
    }

    /// The action for an INSERT whose head was decided in `memo`.
    fn insert_action(&mut self, buf: &[u8], start: usize, memo: &mut InsertMemo) -> Result<Action, LocalError> {
        let dialect = self.plan.dialect;
        let mentions = memo.mentions;
        if memo.edits.is_none() && !mentions {
            return Ok(Action::Keep);
        }
        let values_at = memo.head.len();
        let head = match &memo.pg_head {
            _ if dialect != Dialect::Postgres || !mentions => None,
            Some(resolved) => resolved.clone(),
            None => {
                let resolved = self.resolve_pg_head(buf, start, start + values_at)?;
                memo.pg_head = Some(resolved.clone());
                resolved
            }
        };
        Ok(Action::Insert {
            edits: memo.edits.clone(),
            rename: mentions && dialect == Dialect::Sqlite,
            head,
            values_at,
            escapes: self.escapes,
        })
    }

    /// The key of `row_shapes` for a table as written.
    fn shape_key(&self, schema: Option<&[u8]>, name: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let schema = schema.unwrap_or(self.default_schema());
        match self.plan.dialect {
            Dialect::Postgres => (schema.to_vec(), name.to_vec()),
            // SQLite compares names case-insensitively.
            Dialect::Sqlite => (schema.to_ascii_lowercase(), name.to_ascii_lowercase()),
        }
    }

    fn default_schema(&self) -> &'static [u8] {
        self.plan.dialect.default_schema()
    }

    /// The value rules for rows of `schema.name`: its own and its parents'
    /// (`Plan::rewrites_inherited`; the edges are known before the first
    /// row, `read_predata`).
    fn rewrites_for(&self, schema: Option<&[u8]>, name: &[u8]) -> Vec<usize> {
        if self.plan.rewrites.is_empty() {
            return Vec::new();
        }
        let key = (schema.unwrap_or(self.default_schema()).to_vec(), name.to_vec());
        self.plan.rewrites_inherited(schema, name, &self.facts.ancestors(&key))
    }

    /// SQLite: the statement `buf[start..end]` (a `CREATE …` or a virtual
    /// table's `sqlite_schema` row) as SQLite's own `ALTER TABLE … RENAME`
    /// leaves it, and `.dump` then writes it (`sqlite_schema`). Every
    /// schema statement goes through the shadow, renamed or not, so views
    /// and triggers later resolve against the whole schema.
    fn resolve_sqlite(
        &mut self,
        buf: &[u8],
        start: usize,
        end: usize,
        extra: Option<&[(Vec<u8>, Vec<u8>)]>,
    ) -> Result<Action, LocalError> {
        if self.plan.renames.is_empty() && self.plan.columns.is_empty() {
            return Ok(Action::Keep);
        }
        let action = self.resolve_sqlite_schema(buf, start, end)?;
        let Some(extra) = extra.filter(|e| !e.is_empty()) else {
            return Ok(action);
        };
        // Names of this statement only (the index names Django's schema
        // editor recomputes when it re-creates a table), on SQLite's result.
        let stmt = &buf[start..end];
        let text: Vec<u8> = match &action {
            Action::Edits(r) => r.reps.first().map_or_else(|| stmt.to_vec(), |x| x.text.clone()),
            _ => stmt.to_vec(),
        };
        let mut out = Vec::with_capacity(text.len());
        let mut at = 0;
        for t in crate::frame::lexer::Tokens::new(Dialect::Sqlite, &text).flatten() {
            if !matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent) {
                continue;
            }
            let name = ident::name_of(Dialect::Sqlite, t.kind, &text[t.start..t.end]);
            if let Some((_, new)) = extra.iter().find(|(old, _)| ident::same_name(Dialect::Sqlite, old, &name)) {
                out.extend_from_slice(&text[at..t.start]);
                ident::push_sqlite_schema(new, &mut out);
                at = t.end;
            }
        }
        out.extend_from_slice(&text[at..]);
        if out == stmt {
            return Ok(Action::Keep);
        }
        Ok(Action::Edits(Arc::new(crate::decide::pg::resolve::Resolved {
            reps: vec![crate::decide::pg::resolve::Replacement {
                start: 0,
                end: stmt.len(),
                text: out,
                rule: None,
            }],
            ..Default::default()
        })))
    }

    fn resolve_sqlite_schema(&mut self, buf: &[u8], start: usize, end: usize) -> Result<Action, LocalError> {
        // A Django many-to-many table found on the way joins the renames
        // (append-only: the plan only grows).
        if self.sqlite_renames.tables.len() != self.plan.renames.len()
            || self.sqlite_renames.columns.len() != self.plan.columns.len()
        {
            self.sqlite_renames = sqlite_renames(&self.plan);
        }
        let shadow = match self.shadow.as_mut() {
            Some(s) => s,
            None => self.shadow.insert(
                crate::decide::sqlite::schema::Shadow::new().map_err(|m| LocalError::new(start, m))?,
            ),
        };
        let stmt = &buf[start..end];
        match shadow.renamed(stmt, &self.sqlite_renames) {
            Ok(None) => Ok(Action::Keep),
            Ok(Some(new)) => Ok(Action::Edits(Arc::new(crate::decide::pg::resolve::Resolved {
                reps: vec![crate::decide::pg::resolve::Replacement {
                    start: 0,
                    end: stmt.len(),
                    text: new,
                    // Counted for the first renamed table it mentions.
                    rule: self
                        .plan
                        .renames
                        .iter()
                        .position(|r| crate::decide::plan::contains_ignore_case(stmt, &r.old)),
                }],
                ..Default::default()
            }))),
            Err(m) => Err(LocalError::new(
                start,
                format!("SQLite's own ALTER TABLE refuses the rename here: {m}"),
            )),
        }
    }

    /// SQLite: the values of a table's rows in `.dump`'s `INSERT`s are its
    /// columns that are not generated (`sqlite_schema::Shadow::columns`).
    fn sqlite_insert_columns(&mut self, buf: &[u8], start: usize, end: usize, name: &[u8]) -> Option<Vec<Vec<u8>>> {
        let shadow = match self.shadow.as_mut() {
            Some(s) => s,
            None => self.shadow.insert(crate::decide::sqlite::schema::Shadow::new().ok()?),
        };
        shadow.add(&buf[start..end]).ok()?;
        let cols = shadow.columns(name).ok()?;
        Some(cols.into_iter().filter(|(_, generated)| !generated).map(|(c, _)| c).collect())
    }

    /// PostgreSQL: the exact renames in statement `buf[start..end]`, by the
    /// server's own grammar (`pg_resolve`). A statement that mentions a
    /// renamed name and that the parser rejects stops the run: renaming it
    /// by guesswork could corrupt the schema silently.
    fn resolve_pg(&mut self, buf: &[u8], start: usize, end: usize, extra: Option<Extra>) -> Result<Action, LocalError> {
        let stmt = &buf[start..end];
        let extra_names: &[(Vec<u8>, Vec<u8>)] = extra.as_deref().map_or(&[], |e| e.as_slice());
        let resolved = crate::decide::pg::resolve::resolve(&self.plan, &mut self.facts, stmt, self.escapes, extra_names);
        for key in std::mem::take(&mut self.facts.created) {
            if !self.seen_tables.contains(&key) {
                self.seen_tables.insert(key.clone());
                self.observed.tables.push(key);
            }
        }
        if let Ok(crate::decide::pg::resolve::Resolved { stats_dropped: Some(c), .. }) = &resolved {
            self.observed.warnings.push(crate::observe::problem::Problem::StatisticsDropped { column: c.clone() });
        }
        match resolved {
            Ok(r) if r.reps.is_empty() && r.left_alone.is_empty() => Ok(Action::Keep),
            Ok(r) => Ok(Action::Edits(Arc::new(r))),
            Err(crate::decide::pg::resolve::ResolveError::Parse(_)) if self.force => {
                Ok(Action::Edits(Arc::new(crate::decide::pg::resolve::Resolved {
                    forced: true,
                    ..Default::default()
                })))
            }
            Err(crate::decide::pg::resolve::ResolveError::Parse(msg)) => Err(LocalError::new(
                start,
                format!(
                    "PostgreSQL's parser rejects this statement, which mentions a name the rules rename: {msg}; \
                     a forced run passes it through unchanged"
                ),
            )
            .with_remedy(Remedy::Force)),
            Err(crate::decide::pg::resolve::ResolveError::Rule(msg, remedy)) => Err(LocalError { remedy, ..LocalError::rule(start, msg) }),
        }
    }

    /// PostgreSQL: the renames in an INSERT's head `buf[start..values_end]`
    /// (up to and including `VALUES`), parsed once per distinct head with a
    /// stand-in row, so row data is never parsed.
    fn resolve_pg_head(
        &mut self,
        buf: &[u8],
        start: usize,
        values_end: usize,
    ) -> Result<Option<Arc<Vec<crate::decide::pg::resolve::Replacement>>>, LocalError> {
        let head = &buf[start..values_end];
        if let Some(hit) = self.head_cache.get(head) {
            return Ok((!hit.is_empty()).then(|| hit.clone()));
        }
        let mut probe = head.to_vec();
        probe.extend_from_slice(b" (NULL);");
        let reps = crate::decide::pg::resolve::resolve(&self.plan, &mut self.facts, &probe, self.escapes, &[])
            .map_err(|msg| LocalError::new(start, format!("PostgreSQL's parser rejects this INSERT's head: {msg}")))?;
        let reps: Vec<_> = reps.reps.into_iter().filter(|r| r.end <= head.len()).collect();
        let reps = Arc::new(reps);
        if self.head_cache.len() > 4096 {
            self.head_cache.clear();
        }
        self.head_cache.insert(head.to_vec(), reps.clone());
        Ok((!reps.is_empty()).then_some(reps))
    }

    /// `.dump` writes virtual tables as rows of `sqlite_schema`
    /// (`INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)`,
    /// `src/shell.c.in`). Renaming one is its module's business (FTS5 also
    /// renames its shadow tables), which dumpsed does not imitate: refuse
    /// rather than leave it half renamed.
    fn refuse_virtual_table_rename(&self, buf: &[u8], start: usize, end: usize) -> Result<(), LocalError> {
        let stmt = &buf[start..end];
        let strings: Vec<&[u8]> = crate::frame::lexer::Tokens::new(Dialect::Sqlite, stmt)
            .flatten()
            .filter(|t| t.kind == TokenKind::Str)
            .map(|t| &stmt[t.start + 1..t.end - 1])
            .collect();
        match strings.get(1) {
            Some(name) if self.plan.rename_of(None, name).is_some() => Err(LocalError::new(
                start,
                format!(
                    "{} is a virtual table; renaming one is not supported (SQLite's module renames it and \
                     its shadow tables); rename it live with ALTER TABLE, or leave it out of the rules",
                    String::from_utf8_lossy(name)
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Notes a one-column UNIQUE / PRIMARY KEY constraint or unique index on
    /// a value rule's column (pg_dump adds them after the data).
    fn note_unique(&mut self, buf: &[u8], (start, end): (usize, usize)) {
        if self.plan.rewrites.is_empty() {
            return;
        }
        let d = self.plan.dialect;
        let stmt = &buf[start..end];
        let found = match statement::unique_constraint(d, stmt) {
            Some((t, cols)) if cols.len() == 1 => Some((t.to_owned_parts(), cols[0].to_vec())),
            _ => match statement::index(d, stmt) {
                Some(ix) if ix.unique && ix.columns.len() == 1 => {
                    Some((ix.table.to_owned_parts(), ix.columns[0].to_vec()))
                }
                _ => None,
            },
        };
        let Some(((schema, table), col)) = found else {
            return;
        };
        let plan = self.plan.clone();
        for i in self.rewrites_for(schema.as_deref(), &table) {
            if ident::same_name(d, &plan.rewrites[i].column, &col)
                && !self.observed.unique_rules.contains(&i)
            {
                self.observed.unique_rules.push(i);
            }
        }
    }

    /// Django: notes a table the rename affects beyond its own name: an
    /// auto-created many-to-many table of a renamed model (named
    /// `<model table>_<field>`, with a `<model>_id` column), renamed with
    /// its column; or, on SQLite, a table Django's backend rebuilds.
    fn django_table(
        &mut self,
        buf: &[u8],
        name: &[u8],
        cols: &[Vec<u8>],
        start: usize,
        end: usize,
        body_at: usize,
    ) -> Result<(), LocalError> {
        let plan = self.plan.clone();
        let dialect = plan.dialect;
        if self
            .django
            .rebuilt
            .iter()
            .any(|t| ident::same_name(dialect, &t.table, name))
        {
            return Ok(()); // a second CREATE TABLE of a table already seen
        }
        let found = self.django_m2m(&self.seen_tables, buf, name, cols, start, end, body_at)?;
        let stmt = &buf[start..end];
        // The last RenameModel step (rules in the migrations' order) that
        // rebuilds this table on SQLite.
        let mut last = None;
        for (i, d) in plan.django.iter().enumerate() {
            let moved = d.old_table != d.new_table;
            if found.as_ref().is_some_and(|f| f.owner == Some(i)) {
                last = Some(i);
                continue;
            }
            if dialect != Dialect::Sqlite {
                continue;
            }
            // `RenameModel.database_forwards` alters every field pointing to
            // the model, the model's own (a key to itself) included, and an
            // alteration happens where the key's target table or its column
            // changes (`_field_should_be_altered`, base/schema.py); SQLite
            // alters a foreign key by rebuilding its table (`_alter_field`,
            // `_alter_many_to_many` → `_remake_table`, sqlite3/schema.py).
            let keys =
                statement::referencing_columns(dialect, stmt, body_at, d.old_table.as_bytes());
            let altered = moved
                || keys
                    .iter()
                    .any(|c| plan.new_column_name(name, c) != c.as_slice());
            if !keys.is_empty() && altered {
                last = Some(i);
            }
        }
        // A `RenameField` of a foreign key (`--django-field`) rebuilds its
        // table too (`_alter_field`: a plain column's is an in-place `RENAME
        // COLUMN`); its step is not known, so its indexes are named from the
        // table's final name.
        let fields: Vec<&crate::rules::ColumnRenameRule> = plan
            .rules
            .column_renames()
            .iter()
            .filter(|c| c.django && ident::same_name(dialect, &c.table, name))
            .collect();
        let keys = statement::foreign_key_columns(dialect, &buf[start..end], body_at);
        let is_key = |c: &[u8]| keys.iter().any(|k| ident::same_name(dialect, k, c));
        let last_key = fields.iter().rposition(|c| is_key(&c.old));
        let given = plan
            .rules
            .django_rebuilds()
            .iter()
            .find(|(t, _)| ident::same_name(dialect, t, name));
        if dialect == Dialect::Sqlite && (last.is_some() || last_key.is_some() || given.is_some()) {
            let name_then = last.and_then(|i| {
                plan.django[i]
                    .names_at_step
                    .iter()
                    .find(|(input, _)| ident::same_name(dialect, input.as_bytes(), name))
                    .map(|(_, then)| then.clone())
            });
            let order = match given {
                Some((_, order)) => given_order(dialect, name, cols, order).map_err(|m| LocalError::rule(start, m))?,
                None => derived_order(dialect, name, cols, &fields, last_key, last.map(|i| &plan.django[i]))
                    .map_err(|m| LocalError::rule(start, m))?,
            };
            let identity = order.iter().enumerate().all(|(i, &c)| i == c);
            self.django.rebuilt.push(crate::decide::django::Rebuilt {
                table: name.to_vec(),
                name_then,
                order: (!identity).then(|| Arc::new(order)),
            });
        }
        if let Some(f) = found {
            self.add_m2m(name, f);
        }
        Ok(())
    }

    /// True when the rules make Django's renames reach tables they do not
    /// name (`django_table`: many-to-many tables, SQLite rebuilds).
    pub(crate) fn derives_tables(&self) -> bool {
        let rules = &self.plan.rules;
        !self.plan.django.is_empty()
            || rules.column_renames().iter().any(|c| c.django)
            || !rules.django_rebuilds().is_empty()
    }

    /// PostgreSQL: a `CREATE …` statement of the pre-data read ahead
    /// (`decide::pg::predata`): when it creates a Django many-to-many table
    /// of a renamed model, its renames join the plan now, before anything
    /// is decided, as `django_table` would find them at its `CREATE TABLE`
    /// (`seen`: the tables created before it, as `seen_tables` then holds
    /// them). A table with parents is left to `django_table` (its columns
    /// are merged from them there), and so is one whose derivation fails:
    /// its `CREATE TABLE` is refused there, where the offset is the dump's.
    pub(crate) fn predata_create(&mut self, stmt: &[u8], seen: &mut std::collections::HashSet<(Vec<u8>, Vec<u8>)>) {
        let dialect = self.plan.dialect;
        let Head::CreateTable { table, body_at } = statement::head(dialect, stmt) else {
            return;
        };
        // Keyed as `saw` keys them (PostgreSQL: the names as written).
        let schema = table.schema.as_deref().unwrap_or(self.default_schema()).to_vec();
        let name = table.name.to_vec();
        seen.insert((schema, name.clone()));
        if crate::decide::plan::contains_ignore_case(stmt, b"INHERITS")
            || crate::decide::plan::contains_ignore_case(stmt, b"PARTITION")
        {
            return;
        }
        let cols = statement::table_columns(dialect, stmt, body_at);
        if let Ok(Some(f)) = self.django_m2m(seen, stmt, &name, &cols, 0, stmt.len(), body_at) {
            self.add_m2m(&name, f);
        }
    }

    /// The plan with the many-to-many table `name` renamed as `f` says (in
    /// its owner model's schema), if that adds anything.
    fn add_m2m(&mut self, name: &[u8], f: DerivedM2m) {
        let dialect = self.plan.dialect;
        let model_table = f.owner.map(|i| self.plan.django[i].old_table.clone());
        let schema = self
            .plan
            .renames
            .iter()
            .find(|r| model_table.as_ref().is_some_and(|t| ident::same_name(dialect, &r.old, t.as_bytes())))
            .map(|r| r.schema.clone())
            .unwrap_or_else(|| self.default_schema().to_vec());
        if let Some(p) = self.plan.with_m2m(&schema, name, f.new_table.as_deref(), &f.columns) {
            self.plan = Arc::new(p);
        }
    }

    /// Django: what the `--django-model` rules do to `name` when it is an
    /// auto-created many-to-many table (a `ManyToManyField` without
    /// `through`, `create_many_to_many_intermediary_model` in
    /// fields/related.py): named `<owner's table>_<field>`
    /// (`_get_m2m_db_table`), with the columns `id`, `<owner model>_id`,
    /// `<target model>_id` in that order, or `from_<model>_id`,
    /// `to_<model>_id` when the model is its own target. Its table follows
    /// a renamed owner's; each column naming a renamed model follows the
    /// model's new name (`RenameModel.database_forwards`: the M2M fields
    /// of and to the model are altered). A table of another shape or name
    /// (an explicit `through` model's) keeps its columns, as in Django.
    /// On SQLite a column's `REFERENCES` must name the model's table. What
    /// rules give explicitly (the helper's) is left to them.
    #[allow(clippy::too_many_arguments)]
    fn django_m2m(
        &self,
        seen: &std::collections::HashSet<(Vec<u8>, Vec<u8>)>,
        buf: &[u8],
        name: &[u8],
        cols: &[Vec<u8>],
        start: usize,
        end: usize,
        body_at: usize,
    ) -> Result<Option<DerivedM2m>, LocalError> {
        let plan = &self.plan;
        let d = plan.dialect;
        // Its new name given by a rule: only its columns are derived (those
        // a rule renames are left to it, `Plan::with_m2m`).
        let named = plan.rename_of(None, name).is_some();
        let rest: Vec<&Vec<u8>> = cols.iter().filter(|c| !ident::same_name(d, c, b"id")).collect();
        let [a, b] = rest[..] else {
            return Ok(None);
        };
        if cols.len() != 3 {
            return Ok(None);
        }
        let lower = |x: &[u8]| x.to_ascii_lowercase();
        let (a, b) = (lower(a), lower(b));
        let stmt = &buf[start..end];
        // SQLite writes the keys in the CREATE TABLE: the column must point
        // at the model's table (PostgreSQL adds them after the data).
        let keys = statement::foreign_key_columns(d, stmt, body_at);
        let points_at = |col: &[u8], table: &str| {
            !keys.iter().any(|k| k.eq_ignore_ascii_case(col))
                || statement::referencing_columns(d, stmt, body_at, table.as_bytes())
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(col))
        };
        let starts = |prefix: &[u8]| {
            name.len() > prefix.len() + 1
                && name[..prefix.len()].eq_ignore_ascii_case(prefix)
                && name[prefix.len()] == b'_'
        };
        let model_col = |d: &crate::rules::DjangoModel, pre: &str, new: bool| {
            let m = if new { &d.new_model } else { &d.old_model };
            format!("{pre}{}_id", m.to_lowercase()).into_bytes()
        };
        let mut out = DerivedM2m::default();
        // The owner: a renamed model (its table prefixes the name), or any
        // table of the dump named `<app>_<model>` for the `<model>_id` column.
        for (i, m) in plan.django.iter().enumerate() {
            let selfish = a == model_col(m, "from_", false) && b == model_col(m, "to_", false);
            if !starts(m.old_table.as_bytes()) || !(selfish || a == model_col(m, "", false)) {
                continue;
            }
            if !points_at(&a, &m.old_table) {
                continue;
            }
            out.owner = Some(i);
            if m.old_table != m.new_table {
                out.new_table = Some([m.new_table.as_bytes(), &name[m.old_table.len()..]].concat());
            }
            if selfish {
                out.columns.push((a.clone(), model_col(m, "from_", true)));
                out.columns.push((b.clone(), model_col(m, "to_", true)));
                return self.checked_m2m(name, out, named, start);
            }
            out.columns.push((a.clone(), model_col(m, "", true)));
            break;
        }
        // An AlterModelTable (`--django-table`) renames the M2M tables named
        // from the model's table (`AlterModelTable.database_forwards`).
        let altered = plan.rules.django_tables().iter().find(|t| starts(t));
        if let (None, Some(t)) = (out.owner, altered) {
            out.new_table = Some([plan.new_table_name(t), &name[t.len()..]].concat());
        } else if out.owner.is_none() {
            let Some(model) = a.strip_suffix(b"_id") else {
                return Ok(None);
            };
            let fits = seen.iter().any(|(_, t)| {
                t.len() > model.len() + 1
                    && lower(t).ends_with(model)
                    && t[t.len() - model.len() - 1] == b'_'
                    && starts(t)
            });
            if !fits {
                return Ok(None);
            }
        }
        // The target: a renamed model named by the other column.
        if let Some(m) = plan
            .django
            .iter()
            .find(|m| b == model_col(m, "", false) && points_at(&b, &m.old_table))
        {
            out.columns.push((b.clone(), model_col(m, "", true)));
        }
        if out.columns.is_empty() && out.new_table.is_none() {
            return Ok(None);
        }
        self.checked_m2m(name, out, named, start)
    }

    /// PostgreSQL cuts a name over 63 bytes (`truncate_name`,
    /// db/backends/utils.py, a hash of the whole name at the end): a table
    /// name of 63 may be cut from a longer one, whose rest (the field's
    /// name) the dump no longer has, and a longer new name would be cut
    /// with a hash of itself: refused, naming the rule that gives it.
    fn checked_m2m(
        &self,
        name: &[u8],
        mut out: DerivedM2m,
        named: bool,
        start: usize,
    ) -> Result<Option<DerivedM2m>, LocalError> {
        if named {
            out.new_table = None;
        }
        let max = crate::decide::django::PG_MAX_NAME;
        if let (Dialect::Postgres, Some(new)) = (self.plan.dialect, &out.new_table) {
            if name.len() >= max || new.len() > max {
                let table = String::from_utf8_lossy(name).into_owned();
                return Err(LocalError::rule(
                    start,
                    format!(
                        "the many-to-many table {table} of a renamed model has a name Django may have cut to {max} \
                         characters, so its new name is not known from the dump: add a table rename {table}=NEW (the \
                         name Django gives it: `manage.py sqlmigrate` shows it) and column renames for its columns \
                         ({}), or use the rules helper dumpsed-django",
                        out.columns
                            .iter()
                            .map(|(o, n)| format!("{}={}", String::from_utf8_lossy(o), String::from_utf8_lossy(n)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .with_remedy(Remedy::RenameTable { table }));
            }
        }
        Ok(Some(out))
    }

    /// SQLite: the new order of the values of `table`'s rows, when Django
    /// rebuilds it in another column order (see [`derived_order`]).
    fn rebuild_order(&self, table: &[u8]) -> Option<Arc<Vec<usize>>> {
        let d = self.plan.dialect;
        self.django
            .rebuilt
            .iter()
            .find(|t| ident::same_name(d, &t.table, table))
            .and_then(|t| t.order.clone())
    }

    /// SQLite: the `CREATE TABLE` of a table Django rebuilds in another
    /// column order, as `action` (the renames) leaves it, with its column
    /// definitions in that order, as the rebuild's `CREATE TABLE` has them.
    fn reorder_create_table(
        &mut self,
        buf: &[u8],
        start: usize,
        end: usize,
        table: &[u8],
        action: Action,
    ) -> Result<Action, LocalError> {
        let Some(order) = self.rebuild_order(table) else {
            return Ok(action);
        };
        let stmt = &buf[start..end];
        let (text, rule) = match &action {
            Action::Edits(r) if r.reps.len() == 1 && r.reps[0].start == 0 && r.reps[0].end == stmt.len() => {
                (r.reps[0].text.clone(), r.reps[0].rule)
            }
            Action::Keep => (stmt.to_vec(), None),
            _ => return Err(LocalError::new(start, "internal: a rebuilt table's CREATE TABLE was not renamed whole")),
        };
        let shown = String::from_utf8_lossy(table).into_owned();
        let new = match statement::head(Dialect::Sqlite, &text) {
            Head::CreateTable { body_at, .. }
                if statement::table_columns(Dialect::Sqlite, &text, body_at).len() == order.len() =>
            {
                statement::reorder_columns(Dialect::Sqlite, &text, body_at, &order)
            }
            _ => None,
        }
        .ok_or_else(|| {
            LocalError::rule(
                start,
                format!(
                    "table {shown}: Django rebuilds it in another column order, but its CREATE TABLE's \
                     columns are not its rows' values (generated columns?): not supported"
                ),
            )
        })?;
        Ok(Action::Edits(Arc::new(crate::decide::pg::resolve::Resolved {
            reps: vec![crate::decide::pg::resolve::Replacement {
                start: 0,
                end: stmt.len(),
                text: new,
                rule,
            }],
            ..Default::default()
        })))
    }

    /// Django: the constraint (PostgreSQL) or index (SQLite) names in this
    /// statement that Django's schema editor recomputes on a model rename.
    fn django_names(&self, stmt: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        let plan = &self.plan;
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match plan.dialect {
            Dialect::Postgres => {
                // Foreign keys to a renamed model are dropped and re-created
                // under the name `_fk_constraint_name` gives
                // (`BaseDatabaseSchemaEditor._alter_field`).
                let fk = statement::foreign_key(plan.dialect, stmt)?;
                let column_renamed =
                    plan.new_column_name(&fk.table.name, &fk.column) != &*fk.column;
                let d = plan.django.iter().find(|d| {
                    ident::same_name(plan.dialect, &fk.ref_table.name, d.old_table.as_bytes())
                        // A model keeping its `Meta.db_table`: Django alters
                        // only the keys whose column changes (its M2M tables').
                        && (d.old_table != d.new_table || column_renamed)
                });
                // A Django `RenameField` of the foreign key's column: the
                // constraint is re-created for the new column, too.
                let field = plan.rules.column_renames().iter().any(|c| {
                    c.django
                        && ident::same_name(plan.dialect, &c.table, &fk.table.name)
                        && ident::same_name(plan.dialect, &c.old, &fk.column)
                });
                if d.is_none() && !field {
                    return None;
                }
                // The tables' names when Django re-creates the key: their
                // final ones unless a later operation renames them
                // (names_at_step; the model's own table too, when an
                // AlterModelTable follows the RenameModel).
                let at_step = |table: &[u8]| {
                    d.and_then(|d| {
                        d.names_at_step
                            .iter()
                            .find(|(input, _)| {
                                ident::same_name(plan.dialect, input.as_bytes(), table)
                            })
                            .map(|(_, then)| then.clone())
                    })
                };
                let to_table = match d {
                    Some(d) => at_step(&fk.ref_table.name).unwrap_or_else(|| d.new_table.clone()),
                    None => text(plan.new_table_name(&fk.ref_table.name)),
                };
                let table = at_step(&fk.table.name)
                    .unwrap_or_else(|| text(plan.new_table_name(&fk.table.name)));
                let column = plan.new_column_name(&fk.table.name, &fk.column);
                let new = crate::decide::django::fk_constraint_name(
                    &table,
                    &text(column),
                    &to_table,
                    &text(&fk.ref_column),
                    crate::decide::django::PG_MAX_NAME,
                );
                (new.as_bytes() != &*fk.name).then(|| vec![(fk.name.to_vec(), new.into_bytes())])
            }
            Dialect::Sqlite => {
                // A table Django rebuilds gets its indexes re-created
                // (`_remake_table`): those from `db_index` and
                // `unique_together` under the names `_create_index_name`
                // computes from the table's name and columns at that step.
                let ix = statement::index(plan.dialect, stmt)?;
                let rebuilt = self
                    .django
                    .rebuilt
                    .iter()
                    .find(|t| ident::same_name(plan.dialect, &t.table, &ix.table.name))?;
                let old_cols: Vec<String> = ix.columns.iter().map(|c| text(c)).collect();
                let new_cols: Vec<String> = ix
                    .columns
                    .iter()
                    .map(|c| text(plan.new_column_name(&ix.table.name, c)))
                    .collect();
                let old_refs: Vec<&str> = old_cols.iter().map(String::as_str).collect();
                let new_refs: Vec<&str> = new_cols.iter().map(String::as_str).collect();
                let table = text(&ix.table.name);
                let then = rebuilt
                    .name_then
                    .clone()
                    .unwrap_or_else(|| text(plan.new_table_name(&ix.table.name)));
                let max = crate::decide::django::SQLITE_MAX_NAME;
                let name = text(&ix.name);
                // Only an index Django named (a custom one, say from RunSQL,
                // is not Django's to re-create).
                ["", "_uniq"]
                    .iter()
                    .find_map(|suffix| {
                        let generated =
                            crate::decide::django::create_index_name(&table, &old_refs, suffix, max)
                                == name
                                || crate::decide::django::is_generated_index_name(&name, &old_refs, suffix);
                        generated.then(|| {
                            crate::decide::django::create_index_name(&then, &new_refs, suffix, max)
                        })
                    })
                    .filter(|new| *new != name)
                    .map(|new| vec![(ix.name.to_vec(), new.into_bytes())])
            }
        }
    }

    /// The value edits for rows of `table`, whose columns are `columns`
    /// when the statement lists them.
    fn edits_for(
        &mut self,
        (schema, name): &(Option<Vec<u8>>, Vec<u8>),
        columns: Option<Vec<Vec<u8>>>,
    ) -> Result<Option<Arc<ColumnEdits>>, LocalError> {
        let plan = &self.plan;
        let mut wanted: Vec<(Vec<u8>, Edit)> = self
            .rewrites_for(schema.as_deref(), name)
            .into_iter()
            .map(|i| (plan.rewrites[i].column.clone(), Edit::Rule(i)))
            .collect();
        // SQLite keeps AUTOINCREMENT counters by table name, and its
        // `ALTER TABLE … RENAME` renames the row (`src/alter.c`).
        if plan.dialect == Dialect::Sqlite
            && name.eq_ignore_ascii_case(b"sqlite_sequence")
            && !plan.renames.is_empty()
        {
            wanted.push((b"name".to_vec(), Edit::TableName));
        }
        if plan.dialect == Dialect::Postgres && !plan.renames.is_empty() {
            let key = (
                schema.clone().unwrap_or_else(|| b"public".to_vec()),
                name.clone(),
            );
            if let Some(cols) = self.facts.regclass_columns.get(&key) {
                for c in cols {
                    wanted.push((c.clone(), Edit::Regclass(self.facts.versions.server.unwrap_or(crate::codec::pg_keywords::LAST_MAJOR))));
                }
            }
        }
        let order = self.rebuild_order(name);
        if wanted.is_empty() && !plan.report && order.is_none() {
            return Ok(None);
        }
        if order.is_some() && columns.is_some() {
            // sqlite3's own `.dump --preserve-rowids` names the columns.
            return Err(LocalError::rule(
                0,
                format!(
                    "an INSERT into {} names its columns (.dump --preserve-rowids?), and Django's rebuild of the \
                     table reorders them: not supported; dump without --preserve-rowids",
                    String::from_utf8_lossy(name)
                ),
            ));
        }
        let key = (
            schema.clone().unwrap_or_else(|| self.default_schema().to_vec()),
            name.clone(),
        );
        if columns.is_none() {
            if let Some(hit) = self.edits_cache.get(&key) {
                return Ok(hit.clone());
            }
        }
        let shown = String::from_utf8_lossy(name).into_owned();
        let cols = match columns
            .as_ref()
            .or_else(|| self.tables.get(&key))
            .or_else(|| self.facts.columns.get(&key))
        {
            Some(c) => c.clone(),
            None if name.eq_ignore_ascii_case(b"sqlite_sequence") => vec![b"name".to_vec(), b"seq".to_vec()],
            // Reports only: rows are counted without knowing the columns.
            None if wanted.is_empty() => Vec::new(),
            None => {
                return Err(LocalError::rule(
                    0,
                    format!(
                        "rows of table {shown} have no column list and the dump has no CREATE TABLE for it \
                         (a data-only dump?): give its columns in order"
                    ),
                )
                .with_remedy(Remedy::Columns { table: shown }))
            }
        };
        let mut edits = Vec::new();
        for (col, edit) in wanted {
            match cols
                .iter()
                .position(|c| ident::same_name(plan.dialect, c, &col))
            {
                Some(i) => edits.push((i, edit)),
                // A generated regclass column is not in the data at all.
                None if matches!(edit, Edit::Regclass(_)) => {}
                // A value rule's column the table lacks: the strict check
                // at the end refuses it as it refuses a missing table
                // (job.rs), naming the rule; these are the columns it sees.
                None if matches!(edit, Edit::Rule(_)) => {
                    if !self.observed.columns.iter().any(|(k, c)| *k == key && *c == cols) {
                        self.observed.columns.push((key.clone(), cols.clone()));
                    }
                }
                None => {
                    let list: Vec<_> = cols
                        .iter()
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect();
                    return Err(LocalError::rule(
                        0,
                        format!(
                            "table {shown} has no column {} (its columns here: {})",
                            String::from_utf8_lossy(&col),
                            list.join(", ")
                        ),
                    ));
                }
            }
        }
        edits.sort_by_key(|e| e.0);
        let max_len = edits
            .iter()
            .filter_map(|&(c, e)| match e {
                Edit::Rule(i) => self.limits.get(&i).map(|&n| (c, n)),
                Edit::TableName | Edit::Regclass(_) => None,
            })
            .collect();
        let result = Some(Arc::new(ColumnEdits {
            table: name.clone(),
            ncols: cols.len(),
            columns: cols,
            max_len,
            edits,
            order,
        }));
        if columns.is_none() {
            self.edits_cache.insert(key, result.clone());
        }
        Ok(result)
    }
}

/// The plan's table and column renames as `ALTER TABLE` statements for
/// the SQLite shadow. A column rename names the table by its old name and
/// runs first (`sqlite_schema`); Django spells new names quoted, a person
/// typing `RENAME COLUMN a TO b` bare, which is how SQLite then writes them.
fn sqlite_renames(plan: &Plan) -> crate::decide::sqlite::schema::SqliteRenames {
    if plan.dialect != Dialect::Sqlite {
        return Default::default();
    }
    crate::decide::sqlite::schema::SqliteRenames {
        tables: plan.renames.iter().map(|r| (r.old.clone(), r.new.clone())).collect(),
        columns: plan
            .columns
            .iter()
            .map(|c| crate::decide::sqlite::schema::ColumnRename {
                table: c.table.clone(),
                old: c.old.clone(),
                new: c.new.clone(),
                quoted: !plan.django.is_empty(),
            })
            .collect(),
    }
}

/// The trigger a `CREATE [OR REPLACE] [CONSTRAINT] TRIGGER [IF NOT EXISTS]
/// name {BEFORE|AFTER|INSTEAD OF} events ON table …` defines (the grammar
/// of both dialects: PostgreSQL's `CreateTrigStmt`, SQLite's
/// lang_createtrigger.html).
fn trigger_of(dialect: Dialect, stmt: &[u8]) -> Option<Trigger> {
    let toks: Vec<crate::frame::lexer::Token> = crate::frame::lexer::Tokens::new(dialect, stmt)
        .flatten()
        .filter(|t| !matches!(t.kind, TokenKind::Space | TokenKind::Comment))
        .take(64)
        .collect();
    let word = |i: usize| -> Option<String> {
        let t = toks.get(i)?;
        (t.kind == TokenKind::Word).then(|| String::from_utf8_lossy(&stmt[t.start..t.end]).to_ascii_uppercase())
    };
    if word(0).as_deref() != Some("CREATE") {
        return None;
    }
    let mut i = 1;
    while matches!(word(i).as_deref(), Some("OR" | "REPLACE" | "CONSTRAINT" | "TEMP" | "TEMPORARY")) {
        i += 1;
    }
    if word(i).as_deref() != Some("TRIGGER") {
        return None;
    }
    i += 1;
    if word(i).as_deref() == Some("IF") {
        i += 3; // IF NOT EXISTS
    }
    let name_tok = toks.get(i)?;
    let name = ident::name_of(dialect, name_tok.kind, &stmt[name_tok.start..name_tok.end]).into_owned();
    let mut events = Vec::new();
    i += 1;
    while let Some(t) = toks.get(i) {
        match word(i).as_deref() {
            Some("ON") => {
                let mut table = Vec::new();
                let mut j = i + 1;
                while let Some(t) = toks.get(j) {
                    let part = &stmt[t.start..t.end];
                    if t.kind == TokenKind::Punct && part == b"." {
                        table.push(b'.');
                    } else if matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent) && (table.is_empty() || table.ends_with(b".")) {
                        table.extend_from_slice(&ident::name_of(dialect, t.kind, part));
                    } else {
                        break;
                    }
                    j += 1;
                }
                return Some(Trigger { table, name, events });
            }
            Some(w @ ("INSERT" | "UPDATE" | "DELETE" | "TRUNCATE")) => {
                if !events.iter().any(|e| e == w) {
                    events.push(w.to_owned());
                }
            }
            _ => {}
        }
        let _ = t;
        i += 1;
    }
    None
}

impl QualName<'_> {
    fn to_owned_parts(&self) -> (Option<Vec<u8>>, Vec<u8>) {
        (self.schema.as_ref().map(|s| s.to_vec()), self.name.to_vec())
    }
}

/// The order of a rebuilt table's columns (indexes into `cols`, its columns
/// in the dump) that a `[[django_rebuild]]` gives by their names in the dump.
fn given_order(d: Dialect, table: &[u8], cols: &[Vec<u8>], given: &[Vec<u8>]) -> Result<Vec<usize>, String> {
    let text = |v: &[Vec<u8>]| v.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(", ");
    let order: Option<Vec<usize>> = given
        .iter()
        .map(|g| cols.iter().position(|c| ident::same_name(d, c, g)))
        .collect();
    match order {
        Some(o) if o.len() == cols.len() => Ok(o),
        _ => Err(format!(
            "django_rebuild {}: columns [{}] are not the table's columns in this dump [{}]",
            String::from_utf8_lossy(table),
            text(given),
            text(cols)
        )),
    }
}

/// The order Django's SQLite schema editor writes a rebuilt table's columns
/// in (indexes into `cols`, its columns in the dump), from the rules alone.
///
/// `_remake_table` (django/db/backends/sqlite3/schema.py) creates the new
/// table with the model's fields as the migration state orders them, and
/// `RenameField` moves the renamed field to the end of the state's fields
/// (`ProjectState.rename_field`, django/db/migrations/state.py). The dump's
/// order is taken as the state's; each `--django-field` on the table (in
/// the rules' order) moves its column last when a rebuild follows it: the
/// last of a foreign key (`fields[last_key]`, whose own rename rebuilds)
/// and those before it. A plain column's rename after it stays in place
/// (an in-place `RENAME COLUMN`) unless a RenameModel (`model`) rebuilds
/// the table too: whether it ran before or after that is not in the rules,
/// so that is refused, naming the rule that says it.
fn derived_order(
    d: Dialect,
    table: &[u8],
    cols: &[Vec<u8>],
    fields: &[&crate::rules::ColumnRenameRule],
    last_key: Option<usize>,
    model: Option<&crate::rules::DjangoModel>,
) -> Result<Vec<usize>, String> {
    let shown = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let moved = last_key.map_or(0, |k| k + 1);
    if let (Some(late), Some(m)) = (fields.get(moved), model) {
        return Err(format!(
            "Django field rename {}.{}={}: Django rebuilds table {} on SQLite for the Django model rename {}.{}={}, and whether \
             this RenameField ran before that (the column then moves last, the migration state's order) or after \
             it (the column stays) is not in these rules; give the rebuilt order with a [[django_rebuild]] rule \
             (table, columns by their names in the dump), which the rules helper dumpsed-django writes, or \
             rewrite once per migration",
            shown(&late.table),
            shown(&late.old),
            shown(&late.new),
            shown(table),
            m.app,
            m.old_model,
            m.new_model
        ));
    }
    let mut order: Vec<usize> = (0..cols.len()).collect();
    for f in &fields[..moved] {
        let Some(at) = order.iter().position(|&i| ident::same_name(d, &cols[i], &f.old)) else {
            continue; // not in the dump: the appendix names it
        };
        let c = order.remove(at);
        order.push(c);
    }
    Ok(order)
}

/// What [`Decider::django_m2m`] derives for an auto-created many-to-many table.
#[derive(Debug, Default)]
struct DerivedM2m {
    /// The renamed model (index in `plan.django`) whose field it is.
    owner: Option<usize>,
    /// Its new name, when the owner's table is renamed.
    new_table: Option<Vec<u8>>,
    /// Its columns renamed (lower case, as Django names them).
    columns: Vec<(Vec<u8>, Vec<u8>)>,
}
