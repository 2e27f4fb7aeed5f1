//! Renames in SQLite schema text done by SQLite itself.
//!
//! Matching identifier spelling is not what `ALTER TABLE … RENAME` does:
//! SQLite parses every schema object, resolves names, and edits only the
//! tokens that resolve to the renamed table or column (`renameTableFunc`,
//! `renameColumnFunc` and `renameEditSql` in SQLite's `src/alter.c`). A
//! column that happens to be spelled like the table, a view's output alias,
//! a string literal: none of them change. So this module keeps the dump's
//! schema in an in-memory database (the bundled SQLite of `rusqlite`) and,
//! for each statement, runs the real `ALTER TABLE` statements inside a
//! SAVEPOINT, reads back the object's `sqlite_schema.sql`, and rolls back.
//!
//! ```
//! // A private module: its doctest reaches it as the tests do, through `internals`.
//! use dumpsed::internals::sqlite_schema::{Shadow, SqliteRenames};
//! let renames = SqliteRenames { tables: vec![(b"category".to_vec(), b"cat".to_vec())], columns: vec![] };
//! let mut shadow = Shadow::new()?;
//! // Each schema statement of the dump, in order, exactly as `.dump` wrote it:
//! let out = shadow.renamed(b"CREATE TABLE category(category TEXT);", &renames)?;
//! assert_eq!(out.as_deref(), Some(&b"CREATE TABLE IF NOT EXISTS \"cat\"(category TEXT);"[..]));
//! let view = b"CREATE VIEW v AS SELECT category.category AS category FROM category;";
//! let out = shadow.renamed(view, &renames)?;
//! assert_eq!(out.as_deref(), Some(&b"CREATE VIEW v AS SELECT \"cat\".category AS category FROM \"cat\";"[..]));
//! // Once the schema is read: would the live rename of the whole database work?
//! shadow.finish(&renames)?;
//! # Ok::<(), String>(())
//! ```
//!
//! # Streaming
//!
//! `.dump` writes objects in `sqlite_schema` rowid order, tables first, then
//! indexes, triggers and views. Call [`Shadow::renamed`] on each schema
//! statement as it comes, then [`Shadow::finish`] once the schema is read.
//!
//! * A `CREATE TABLE` or `CREATE INDEX` is renamed alone in a scratch
//!   database (an index with its table): what `ALTER` makes of it depends on
//!   it only. Renamed tables that are not there get a stub (with the renamed
//!   columns), which is what a forward foreign key (a `REFERENCES` to a table
//!   created later) needs.
//! * A view or trigger is renamed in the shadow holding everything seen so
//!   far, which is what it resolves against, with one exception: a view or
//!   trigger that uses a view created after it (SQLite accepts `CREATE VIEW
//!   v1 AS SELECT * FROM v2` before `v2` exists). If such an object also
//!   names a renamed table or column, the `ALTER` fails with SQLite's "error
//!   in view v1: no such table: main.v2" where the live rename of the whole
//!   database succeeds. Not handled: reported as that error.
//! * A statement that cannot change (it names no renamed table or column,
//!   see `may_change`) is not run through `ALTER` at all.
//! * So an error that the live rename would raise because of *another*
//!   object (a trigger naming a missing table, a circular view) may not
//!   show at the statement being renamed: [`Shadow::finish`] runs the
//!   renames once over the whole schema and reports it.
//!
//! # What the caller does with it
//!
//! * Every schema statement of the dump (each `CREATE …`, and the
//!   `INSERT INTO sqlite_schema(…)` row of a virtual table) goes through
//!   [`Shadow::renamed`], in dump order, as the bytes `.dump` wrote (with or
//!   without the final newline); `Some(new)` replaces the statement up to
//!   and including its `;` (the newline after it is not part of `new`).
//! * `INSERT INTO sqlite_sequence VALUES('<name>',<n>);` rows: the name
//!   becomes [`Shadow::sequence_name`] when that is `Some`.
//! * `INSERT INTO sqlite_stat1 …` rows: left as they are (below).
//! * `INSERT INTO <table> VALUES(…)`: the table name changes as the shell
//!   writes it; the values do not move (no column list, see
//!   [`Shadow::columns`]).
//! * After the last schema statement, [`Shadow::finish`]: an error there
//!   means the live migration would have failed, so the output is wrong.
//!
//! # What a live rename does besides `sqlite_schema.sql`
//!
//! * `sqlite_sequence`: `sqlite3AlterRenameTable` runs
//!   `UPDATE sqlite_sequence SET name = <new> WHERE name = <old>`, the old
//!   name being the table's stored name, compared exactly (binary). See
//!   [`Shadow::sequence_name`].
//! * `sqlite_stat1` (and stat4): not touched by `alter.c`; after a live
//!   rename its rows keep the old table name. To match the live result the
//!   caller leaves those rows alone.
//! * Auto-index names (`sqlite_autoindex_<table>_N`) are renamed, but they
//!   have no SQL and `.dump` does not write them.
//! * Data `INSERT`s: `.dump` writes `INSERT INTO <table> VALUES(…)` without
//!   a column list, so a column rename changes no data line; a table rename
//!   changes the INSERT's table name (the caller's business).
//!
//! # Quoting of new names (as SQLite writes them)
//!
//! * Table renames: SQLite always writes the new name double-quoted
//!   (`"new"`), wherever it replaces the old one.
//! * Column renames: `renameEditSql` writes the new name bare when the
//!   `ALTER` spelled it bare *and* the replaced token was bare; otherwise
//!   double-quoted. [`ColumnRename::quoted`] says how the `ALTER` spells it.
//! * A column rename also rewrites double-quoted *strings* (not identifiers)
//!   in the whole schema into single-quoted ones (`renameFixQuotes` in
//!   `alter.c`), so it can change statements unrelated to the table. The
//!   shadow reproduces that because it reads back whatever SQLite stored.
//!
//! # Bytes
//!
//! SQLite text is bytes: schema statements are prepared with the raw C API
//! (`sqlite3_prepare_v2` with an explicit length), names are bound as blobs
//! and `CAST` to text, and `sql` is read back as bytes. Nothing requires
//! UTF-8; only a NUL byte is refused (SQLite's SQL text cannot hold one).

use std::collections::HashMap;
use std::ffi::{c_char, c_int, CStr};
use std::ptr;

use rusqlite::types::ValueRef;
use rusqlite::{ffi, Connection};

/// One `ALTER TABLE <table> RENAME COLUMN <old> TO <new>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnRename {
    /// The table's name before any table rename (compared ASCII-case-insensitively).
    pub table: Vec<u8>,
    /// The column's current name (compared ASCII-case-insensitively).
    pub old: Vec<u8>,
    /// The new column name, unquoted.
    pub new: Vec<u8>,
    /// Whether the `ALTER` spells the new name quoted (`"new"`). When it is
    /// spelled bare SQLite writes it bare where the old token was bare
    /// (`renameEditSql`). A name that no `ALTER` could spell bare is always
    /// quoted: one not shaped `[A-Za-z_][A-Za-z0-9_]*`, and a keyword that
    /// SQLite's parser does not take as a name there (`order`, `select`;
    /// fallback keywords such as `key` or `abort` stay bare, see
    /// `takes_bare_column_name`).
    pub quoted: bool,
}

/// Renames to apply, by old name (SQLite names compare ASCII-case-insensitively).
///
/// Applied as a migration would run them: first every column rename, in
/// order (tables still under their old names), then every table rename, in
/// order. A chain or swap (`a→b` while `b→c`) must be ordered by the caller
/// so that each step is valid; SQLite reports a clash otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqliteRenames {
    /// `(old table name, new table name)`, both unquoted.
    pub tables: Vec<(Vec<u8>, Vec<u8>)>,
    pub columns: Vec<ColumnRename>,
}

impl SqliteRenames {
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.columns.is_empty()
    }

    /// The `ALTER TABLE` statements this module runs, in order, each
    /// without a trailing `;`.
    pub fn alter_statements(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(self.tables.len() + self.columns.len());
        for c in &self.columns {
            let mut s = b"ALTER TABLE ".to_vec();
            push_quoted(&c.table, &mut s);
            s.extend_from_slice(b" RENAME COLUMN ");
            push_quoted(&c.old, &mut s);
            s.extend_from_slice(b" TO ");
            if c.quoted || !is_bare_identifier(&c.new) || !takes_bare_column_name(&c.new) {
                push_quoted(&c.new, &mut s);
            } else {
                s.extend_from_slice(&c.new);
            }
            out.push(s);
        }
        for (old, new) in &self.tables {
            let mut s = b"ALTER TABLE ".to_vec();
            push_quoted(old, &mut s);
            s.extend_from_slice(b" RENAME TO ");
            push_quoted(new, &mut s);
            out.push(s);
        }
        out
    }

    /// Old names of the tables the renames touch, first mention first,
    /// each with the columns a stub of it needs: the renamed columns as
    /// they are before the first rename (in a chain `d→x`, `x→y` only `d`).
    fn touched_tables(&self) -> Vec<(&[u8], Vec<&[u8]>)> {
        fn slot<'a>(out: &mut Vec<(&'a [u8], Vec<&'a [u8]>)>, t: &'a [u8]) -> usize {
            match out.iter().position(|(n, _)| n.eq_ignore_ascii_case(t)) {
                Some(i) => i,
                None => {
                    out.push((t, Vec::new()));
                    out.len() - 1
                }
            }
        }
        let mut out: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
        // Per table: the columns' current names, in step with `out`.
        let mut current: Vec<Vec<&[u8]>> = Vec::new();
        for c in &self.columns {
            let i = slot(&mut out, &c.table);
            if current.len() < out.len() {
                current.resize(out.len(), Vec::new());
            }
            let now = &mut current[i];
            match now.iter().position(|x| x.eq_ignore_ascii_case(&c.old)) {
                Some(k) => now[k] = &c.new,
                None => {
                    out[i].1.push(&c.old);
                    now.push(&c.new);
                }
            }
        }
        for (old, _) in &self.tables {
            slot(&mut out, old);
        }
        out
    }
}

/// The dump's schema, loaded (no data) into an in-memory database.
///
/// Two connections: `conn` holds every statement seen (views and triggers
/// are renamed there, as they resolve names against the whole schema), and
/// `scratch`, empty between calls, where a table or index is renamed alone
/// (with its table, for an index): what `ALTER TABLE` makes of a `CREATE
/// TABLE`/`CREATE INDEX` depends on that statement only (`renameTableFunc`
/// and `renameColumnFunc` in `alter.c` compare a table's REFERENCES by
/// name, resolve its CHECK/generated expressions against itself). Each
/// `ALTER` rewrites and re-parses every schema row, so renaming in the full
/// schema would cost O(schema) per statement, O(schema²) per dump.
/// Errors an unrelated object would raise in the live rename surface in the
/// first view or trigger renamed, or in [`Shadow::finish`].
pub struct Shadow {
    conn: Connection,
    scratch: Connection,
    /// Statement as given to [`Shadow::add`] (without its `;`) → the rowid
    /// of its `sqlite_schema` row, which `ALTER TABLE` keeps (it UPDATEs the
    /// row in place; `.dump`'s order relies on the same fact).
    objects: HashMap<Vec<u8>, i64>,
    /// Virtual tables recorded with [`Shadow::add_virtual_table`].
    virtual_tables: Vec<Vec<u8>>,
    /// Statements that create nothing of the dump's own (see `add`).
    passthrough: std::collections::HashSet<Vec<u8>>,
}

const SAVEPOINT: &[u8] = b"SAVEPOINT dumpsed_shadow";
const ROLLBACK: &[u8] = b"ROLLBACK TO dumpsed_shadow; RELEASE dumpsed_shadow";

fn open() -> Result<Connection, String> {
    let conn = Connection::open_in_memory()
        .map_err(|e| format!("opening the in-memory SQLite shadow database: {e}"))?;
    // Modern ALTER TABLE: views, triggers and other tables' REFERENCES
    // are rewritten too (legacy_alter_table=ON would skip them, see
    // https://sqlite.org/pragma.html#pragma_legacy_alter_table).
    // foreign_keys OFF as in the sqlite3 CLI and in `.dump` output
    // (libsqlite3-sys builds with SQLITE_DEFAULT_FOREIGN_KEYS=1).
    exec(
        &conn,
        b"PRAGMA legacy_alter_table=OFF; PRAGMA foreign_keys=OFF",
    )?;
    // Double-quoted strings stay accepted in DDL (on by default, as in the
    // 3.40 CLI) so that old schemas load.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DQS_DDL, true)
        .map_err(|e| format!("enabling double-quoted strings in DDL: {e}"))?;
    Ok(conn)
}

impl Shadow {
    pub fn new() -> Result<Self, String> {
        Ok(Shadow {
            conn: open()?,
            scratch: open()?,
            objects: HashMap::new(),
            virtual_tables: Vec::new(),
            passthrough: std::collections::HashSet::new(),
        })
    }

    /// Records one schema statement exactly as `.dump` wrote it, with or
    /// without its `;` and trailing newline: `CREATE TABLE [IF NOT EXISTS]`,
    /// `CREATE [UNIQUE] INDEX`, `CREATE VIEW`, `CREATE TRIGGER`, or the
    /// `INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql)VALUES(…)`
    /// that `.dump` writes for a virtual table (`dump_callback` in
    /// `src/shell.c.in`, under `PRAGMA writable_schema=ON`; older shells
    /// say `sqlite_master`). The virtual table is entered the same way, so
    /// views and triggers using it resolve, if its module is in the bundled
    /// SQLite (FTS3/4/5, R*Tree, …); its shadow tables (`name_data`, …) come
    /// as ordinary `CREATE TABLE` statements.
    pub fn add(&mut self, stmt: &[u8]) -> Result<(), String> {
        let text = statement_text(stmt);
        if self.objects.contains_key(text) || self.passthrough.contains(text) {
            return Ok(());
        }
        // Newer shells (not 3.40) write `CREATE TABLE IF NOT EXISTS
        // sqlite_sequence(name,seq);` before refilling it (`dump_callback`
        // in trunk's shell.c.in, citing forum posts from 2024-10 on): an
        // internal table, made here by AUTOINCREMENT tables and never
        // renamed (`isAlterableTable` in alter.c refuses `sqlite_*`).
        if let Some(rest) = text.strip_prefix(b"CREATE TABLE IF NOT EXISTS ") {
            if leading_name(rest)
                .is_some_and(|n| n.len() >= 7 && n[..7].eq_ignore_ascii_case(b"sqlite_"))
            {
                self.passthrough.insert(text.to_vec());
                return Ok(());
            }
        }
        let head: Vec<u8> = text.iter().take(26).map(u8::to_ascii_uppercase).collect();
        let rowid = if head.starts_with(b"INSERT INTO SQLITE_SCHEMA(")
            || head.starts_with(b"INSERT INTO SQLITE_MASTER(")
        {
            self.add_virtual(text)?
        } else if !head.starts_with(b"CREATE ") {
            return Err(format!("not a schema statement: {}", show(text, 80)));
        } else if head.starts_with(b"CREATE VIRTUAL TABLE") {
            return Err(format!(
                "CREATE VIRTUAL TABLE is not what `.dump` writes (it writes INSERT INTO \
                 sqlite_schema, which creates no shadow tables): {}",
                show(text, 80)
            ));
        } else if let Some(rowid) = self.existing_shadow_table(text)? {
            rowid
        } else {
            create(&self.conn, text).map_err(|e| format!("loading {}: {e}", show(text, 80)))?
        };
        self.objects.insert(text.to_vec(), rowid);
        Ok(())
    }

    /// `.dump`'s row for a virtual table. The row's SQL is run as the
    /// `CREATE VIRTUAL TABLE` it is, so that the module creates its shadow
    /// tables and their contents (FTS5's `_config` version row, without
    /// which a view using the table does not resolve); the dump's own
    /// `CREATE TABLE IF NOT EXISTS 'x_data'…` for them then change nothing
    /// (see `add`). When the bundled SQLite lacks the module, the row is
    /// inserted as `.dump` does (`writable_schema`), which records the name
    /// but leaves objects using the table unresolvable.
    fn add_virtual(&mut self, text: &[u8]) -> Result<i64, String> {
        let ctx = |e: String| format!("loading virtual table row {}: {e}", show(text, 80));
        let open = text
            .iter()
            .position(|&b| b == b'(')
            .ok_or_else(|| ctx("no column list".into()))?;
        let mut insert = b"INSERT INTO temp.dumpsed_vtab".to_vec();
        insert.extend_from_slice(&text[open..]);
        exec(
            &self.conn,
            b"CREATE TEMP TABLE dumpsed_vtab(type, name, tbl_name, rootpage, sql)",
        )
        .map_err(ctx)?;
        let row = exec(&self.conn, &insert).and_then(|()| {
            self.conn
                .query_row("SELECT type, name, sql FROM temp.dumpsed_vtab", [], |r| {
                    Ok((
                        bytes(r.get_ref(0)?),
                        bytes(r.get_ref(1)?),
                        bytes(r.get_ref(2)?),
                    ))
                })
                .map_err(|e| e.to_string())
        });
        exec(&self.conn, b"DROP TABLE temp.dumpsed_vtab").map_err(ctx)?;
        let (kind, name, sql) = row.map_err(ctx)?;
        let is_virtual = sql.len() >= 20 && sql[..20].eq_ignore_ascii_case(b"CREATE VIRTUAL TABLE");
        if kind != b"table" || !is_virtual {
            return Err(ctx("not a virtual table".into()));
        }
        self.virtual_tables.push(name);
        match create(&self.conn, &sql) {
            Ok(rowid) => Ok(rowid),
            Err(_) => {
                let before: i64 = self
                    .conn
                    .query_row(
                        "SELECT coalesce(max(rowid), 0) FROM sqlite_schema",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(|e| ctx(e.to_string()))?;
                exec(&self.conn, b"PRAGMA writable_schema=ON").map_err(ctx)?;
                let inserted = exec(&self.conn, text);
                // RESET: writable_schema off and the schema reloaded (pragma.c).
                exec(&self.conn, b"PRAGMA writable_schema=RESET").map_err(ctx)?;
                inserted.map_err(ctx)?;
                self.conn
                    .query_row(
                        "SELECT rowid FROM sqlite_schema WHERE rowid > ?1 ORDER BY rowid LIMIT 1",
                        [before],
                        |r| r.get(0),
                    )
                    .map_err(|e| ctx(e.to_string()))
            }
        }
    }

    /// For `CREATE TABLE IF NOT EXISTS <name>…` naming a table that exists
    /// already (a virtual table's shadow table, made by its module): that
    /// table's row. SQLite would do nothing with the statement either.
    fn existing_shadow_table(&self, text: &[u8]) -> Result<Option<i64>, String> {
        let Some(rest) = text.strip_prefix(b"CREATE TABLE IF NOT EXISTS ") else {
            return Ok(None);
        };
        let Some(name) = leading_name(rest) else {
            return Ok(None);
        };
        if !self
            .virtual_tables
            .iter()
            .any(|v| name.len() > v.len() && name[..v.len()].eq_ignore_ascii_case(v))
        {
            return Ok(None);
        }
        let found = self
            .conn
            .query_row(
                "SELECT rowid FROM sqlite_schema WHERE type = 'table' AND name = CAST(?1 AS TEXT) COLLATE NOCASE",
                [&name[..]],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(|e| format!("looking up table {}: {e}", show(&name, 80)))?;
        Ok(found)
    }

    /// Records that `name` is a virtual table without entering it in the
    /// shadow (for a caller that does not hand over `.dump`'s row), so that
    /// renaming it is refused. Views and triggers that use it will not
    /// resolve; prefer [`Shadow::add`] with the row.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn add_virtual_table(&mut self, name: &[u8]) {
        self.virtual_tables.push(name.to_vec());
    }

    /// The statement as `sqlite3 .dump` would write it after the live
    /// renames (ending in `;`, no newline), or `None` when unchanged.
    /// Adds the statement first if [`Shadow::add`] has not seen it.
    ///
    /// An error carries SQLite's message, e.g. `error in trigger tr1: no
    /// such table: main.t2`, when the live `ALTER` would fail too.
    pub fn renamed(
        &mut self,
        stmt: &[u8],
        renames: &SqliteRenames,
    ) -> Result<Option<Vec<u8>>, String> {
        if renames.is_empty() {
            return Ok(None);
        }
        let text = statement_text(stmt);
        if !self.objects.contains_key(text) {
            self.add(stmt)?;
        }
        if self.passthrough.contains(text) {
            return Ok(None);
        }
        let rowid = *self
            .objects
            .get(text)
            .ok_or_else(|| format!("statement not recorded: {}", show(text, 80)))?;
        self.refuse_virtual(renames)?;
        let applicable = self.without_missing_columns(renames);
        let renames = applicable.as_ref().unwrap_or(renames);
        if !may_change(text, renames) {
            return Ok(None);
        }
        let (kind, mut before, tbl_name) = object(&self.conn, rowid)?;
        if kind == b"table" {
            // The dump's own text, as SQLite stores it (`CREATE TABLE IF NOT
            // EXISTS` is stored without the clause): it differs from the
            // shadow's row only for a virtual table's shadow table, whose
            // row the bundled module wrote.
            if let Some(rest) = text.strip_prefix(b"CREATE TABLE IF NOT EXISTS ") {
                before = [&b"CREATE TABLE "[..], rest].concat();
            } else if !text.starts_with(b"CREATE VIRTUAL TABLE") && !text.starts_with(b"INSERT ") {
                before = text.to_vec();
            }
        }
        if self
            .virtual_tables
            .iter()
            .any(|v| v.eq_ignore_ascii_case(&tbl_name))
            && before.len() >= 20
            && before[..20].eq_ignore_ascii_case(b"CREATE VIRTUAL TABLE")
        {
            // alter.c's UPDATE passes a virtual table's SQL through
            // sqlite_rename_table, which edits only the table's own name
            // (refused above) and never its module arguments.
            return Ok(None);
        }
        let alone = kind == b"table" || kind == b"index";
        let conn = if alone { &self.scratch } else { &self.conn };
        exec(conn, SAVEPOINT)?;
        let result = if alone {
            self.rename_alone(&kind, &before, &tbl_name, renames)
        } else {
            rename_in(conn, rowid, renames)
        };
        let undo = exec(conn, ROLLBACK);
        let after = result.map_err(|e| format!("renaming in {}: {e}", show(text, 80)))?;
        undo.map_err(|e| format!("rolling back the shadow database: {e}"))?;
        if after == before {
            return Ok(None);
        }
        Ok(Some(dump_form(&kind, &after)))
    }

    /// Runs the renames once over the whole schema seen, as the live
    /// migration would, and reports SQLite's error if it would fail (an
    /// object that no longer resolves, a renamed table or column that is not
    /// in the dump, …). Call it when the dump's schema has been read.
    pub fn finish(&self, renames: &SqliteRenames) -> Result<(), String> {
        if renames.is_empty() {
            return Ok(());
        }
        self.refuse_virtual(renames)?;
        exec(&self.conn, SAVEPOINT)?;
        let mut result = Ok(());
        for alter in renames.alter_statements() {
            if let Err(e) = exec(&self.conn, &alter) {
                result = Err(format!("{}: {e}", show(&alter, 200)));
                break;
            }
        }
        let undo = exec(&self.conn, ROLLBACK);
        result?;
        undo.map_err(|e| format!("rolling back the shadow database: {e}"))
    }

    fn refuse_virtual(&self, renames: &SqliteRenames) -> Result<(), String> {
        for (old, _) in &renames.tables {
            if self
                .virtual_tables
                .iter()
                .any(|v| v.eq_ignore_ascii_case(old))
            {
                return Err(format!(
                    "{} is a virtual table: renaming it needs its module's xRename, not done",
                    show(old, 80)
                ));
            }
        }
        Ok(())
    }

    /// In `scratch` (inside its savepoint): the table or index alone (an
    /// index with its table), stubs for the renamed tables that are not
    /// there, then the ALTERs; returns the object's new SQL.
    fn rename_alone(
        &self,
        kind: &[u8],
        sql: &[u8],
        tbl_name: &[u8],
        renames: &SqliteRenames,
    ) -> Result<Vec<u8>, String> {
        if kind == b"index" {
            let table_sql: Vec<u8> = self
                .conn
                .query_row(
                    "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = CAST(?1 AS TEXT)",
                    [tbl_name],
                    |r| Ok(bytes(r.get_ref(0)?)),
                )
                .map_err(|e| format!("reading the table {} of an index: {e}", show(tbl_name, 80)))?;
            create(&self.scratch, &table_sql)?;
        }
        let rowid = create(&self.scratch, sql)?;
        // Tables renamed in the same migration but not here: a forward
        // REFERENCES (a table created before the one it references) needs
        // its target to exist for the ALTER to run at all.
        for (table, cols) in renames.touched_tables() {
            if lookup_table(&self.scratch, table)?.is_none() {
                let mut s = b"CREATE TABLE ".to_vec();
                push_quoted(table, &mut s);
                s.push(b'(');
                if cols.is_empty() {
                    s.extend_from_slice(b"\"dumpsed stub\"");
                }
                for (i, c) in cols.iter().enumerate() {
                    if i > 0 {
                        s.push(b',');
                    }
                    push_quoted(c, &mut s);
                }
                s.push(b')');
                exec(&self.scratch, &s)
                    .map_err(|e| format!("creating stub table {}: {e}", show(table, 80)))?;
            }
        }
        rename_in(&self.scratch, rowid, renames)
    }

    /// The stored name of the table (or view) named `name`, compared as
    /// SQLite compares names (ASCII case folded), or `None`.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn table_name(&self, name: &[u8]) -> Result<Option<Vec<u8>>, String> {
        lookup_table(&self.conn, name)
    }

    /// `renames` without the column renames of a column that its table, in
    /// the shadow, lacks (`None`: none such): SQLite's ALTER would refuse
    /// them wherever the table is re-parsed, and the strict check (job.rs)
    /// refuses them as rules whose column the dump lacks, naming the rule.
    /// Renames apply in order, so a chain (`d` → `x`, then `x` → `y`) names
    /// a column an earlier rename made (SQLite's `altercol.test` has such).
    pub(crate) fn without_missing_columns(&self, renames: &SqliteRenames) -> Option<SqliteRenames> {
        let mut names: std::collections::HashMap<Vec<u8>, Vec<Vec<u8>>> = std::collections::HashMap::new();
        let mut kept = Vec::new();
        for c in &renames.columns {
            let cols = names.entry(c.table.to_ascii_lowercase()).or_insert_with(|| {
                self.columns(&c.table)
                    .map(|cols| cols.into_iter().map(|(n, _)| n).collect())
                    .unwrap_or_default()
            });
            // A table the shadow does not know (yet) is not judged here.
            if cols.is_empty() {
                kept.push(c.clone());
                continue;
            }
            if let Some(i) = cols.iter().position(|n| n.eq_ignore_ascii_case(&c.old)) {
                cols[i] = c.new.clone();
                kept.push(c.clone());
            }
        }
        if kept.len() == renames.columns.len() {
            return None;
        }
        Some(SqliteRenames { tables: renames.tables.clone(), columns: kept })
    }

    /// Columns of a table in order, with whether each is generated
    /// (`PRAGMA table_xinfo` hidden 2 = VIRTUAL, 3 = STORED).
    ///
    /// How `.dump` writes the rows of a table with generated columns
    /// (`dump_callback` and `tableColumnList` in `src/shell.c.in`):
    /// `tableColumnList` reads `PRAGMA table_info=%Q`, and `table_info`
    /// skips every column flagged `COLFLAG_NOINSERT` (hidden or generated;
    /// `PragTyp_TABLE_INFO` in `src/pragma.c`). The rows are read with
    /// `SELECT <those columns> FROM t` and written as `INSERT INTO t
    /// VALUES(…)` with **no column list**; only `.dump --preserve-rowids`
    /// (when the rowid is not an INTEGER PRIMARY KEY) adds one,
    /// `INSERT INTO t(rowid,a,b) VALUES(…)`, still without generated
    /// columns. SQLite accepts the list-less form because an INSERT without
    /// a column list takes values for the non-generated columns only. So the
    /// N-th value of a dumped row belongs to the N-th entry here that is not
    /// generated.
    pub fn columns(&self, table: &[u8]) -> Result<Vec<(Vec<u8>, bool)>, String> {
        let ctx = |e: rusqlite::Error| format!("reading the columns of {}: {e}", show(table, 80));
        let mut st = self
            .conn
            .prepare_cached("SELECT name, hidden FROM pragma_table_xinfo(CAST(?1 AS TEXT))")
            .map_err(ctx)?;
        let mut rows = st.query([table]).map_err(ctx)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(ctx)? {
            let name = bytes(r.get_ref(0).map_err(ctx)?);
            let hidden: i64 = r.get(1).map_err(ctx)?;
            out.push((name, hidden == 2 || hidden == 3));
        }
        if out.is_empty() {
            return Err(format!("no table {} in the shadow schema", show(table, 80)));
        }
        Ok(out)
    }

    /// What a live rename makes of the `name` value of a `sqlite_sequence`
    /// row: `sqlite3AlterRenameTable` in `alter.c` runs
    /// `UPDATE sqlite_sequence SET name = <new> WHERE name = <stored name>`,
    /// an exact (binary) comparison with the table's name as stored, so a
    /// row spelled in another case is left alone. `None`: unchanged.
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn sequence_name(
        &self,
        name: &[u8],
        renames: &SqliteRenames,
    ) -> Result<Option<Vec<u8>>, String> {
        let mut current = name.to_vec();
        let mut changed = false;
        for (old, new) in &renames.tables {
            if !old.eq_ignore_ascii_case(&current) {
                continue;
            }
            // Table renames apply in order; after the first, the stored
            // name is the new name exactly as written in the ALTER.
            let stored = if changed {
                Some(current.clone())
            } else {
                self.table_name(old)?
            };
            if stored.as_deref() == Some(&current[..]) {
                current = new.clone();
                changed = true;
            }
        }
        Ok(changed.then_some(current))
    }
}

/// Whether the renames can change `stmt` at all. `ALTER TABLE` edits only
/// tokens that resolve to the renamed table or column (`renameEditSql`),
/// so such a token spells the old name, maybe quoted, with its quote
/// character doubled inside: the statement then contains every run of the
/// name between quote characters (ASCII case folded, like `sqlite3StrICmp`).
/// A column rename also turns double-quoted strings into single-quoted ones
/// in every object (`renameFixQuotes`), so any `"` counts. Skipping a
/// statement here skips no error: [`Shadow::finish`] runs the whole rename.
fn may_change(stmt: &[u8], renames: &SqliteRenames) -> bool {
    // SQLite's identifier characters (`sqlite3IsIdChar`, plus `$`).
    fn id_char(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
    }
    fn mentions(stmt: &[u8], name: &[u8]) -> bool {
        let quote = |b: &u8| matches!(b, b'"' | b'\'' | b'`');
        if name.is_empty() {
            return true;
        }
        if !name.iter().any(quote) {
            // A whole token: bare, or between quotes, which are not id chars.
            return (0..stmt.len().saturating_sub(name.len() - 1)).any(|i| {
                stmt[i..i + name.len()].eq_ignore_ascii_case(name)
                    && (i == 0 || !id_char(stmt[i - 1]))
                    && stmt.get(i + name.len()).is_none_or(|&b| !id_char(b))
            });
        }
        let mut runs = name.split(quote).filter(|r| !r.is_empty()).peekable();
        if runs.peek().is_none() {
            return true;
        }
        runs.all(|r| stmt.windows(r.len()).any(|w| w.eq_ignore_ascii_case(r)))
    }
    renames.tables.iter().any(|(old, _)| mentions(stmt, old))
        || renames
            .columns
            .iter()
            .any(|c| mentions(stmt, &c.old) || stmt.contains(&b'"'))
}

/// Runs the ALTERs in `conn` and returns the new SQL of row `rowid`.
fn rename_in(conn: &Connection, rowid: i64, renames: &SqliteRenames) -> Result<Vec<u8>, String> {
    for alter in renames.alter_statements() {
        exec(conn, &alter).map_err(|e| format!("{}: {e}", show(&alter, 200)))?;
    }
    Ok(object(conn, rowid)?.1)
}

/// Runs one CREATE statement and returns the rowid of the schema row it
/// made (AUTOINCREMENT also creates `sqlite_sequence`, skipped).
///
/// `sql` is run with a `;` after it, as it was when first created: an
/// index's stored SQL runs to its `;` and can end in a line comment and
/// its newline (`sqlite3CreateIndex` keeps the text up to the last token).
fn create(conn: &Connection, sql: &[u8]) -> Result<i64, String> {
    let before: i64 = conn
        .query_row(
            "SELECT coalesce(max(rowid), 0) FROM sqlite_schema",
            [],
            |r| r.get(0),
        )
        .map_err(|e| format!("reading sqlite_schema: {e}"))?;
    exec(conn, &[sql, &b";"[..]].concat())?;
    let rowid: Option<i64> = conn
        .query_row(
            "SELECT rowid FROM sqlite_schema WHERE rowid > ?1 AND sql IS NOT NULL \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid LIMIT 1",
            [before],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(|e| format!("reading back the new schema row: {e}"))?;
    rowid.ok_or_else(|| {
        "statement created no schema object (IF NOT EXISTS of an existing one?)".to_string()
    })
}

/// `(type, sql, tbl_name)` of a `sqlite_schema` row.
type SchemaRow = (Vec<u8>, Vec<u8>, Vec<u8>);

/// The `sqlite_schema` row `rowid`.
fn object(conn: &Connection, rowid: i64) -> Result<SchemaRow, String> {
    conn.query_row(
        "SELECT type, sql, tbl_name FROM sqlite_schema WHERE rowid = ?1",
        [rowid],
        |r| {
            Ok((
                bytes(r.get_ref(0)?),
                bytes(r.get_ref(1)?),
                bytes(r.get_ref(2)?),
            ))
        },
    )
    .map_err(|e| format!("reading sqlite_schema row {rowid}: {e}"))
}

/// The stored name of table or view `name` (ASCII case folded, as SQLite
/// compares names), or `None`.
fn lookup_table(conn: &Connection, name: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let ctx = |e: rusqlite::Error| format!("looking up table {}: {e}", show(name, 80));
    let mut st = conn
        .prepare_cached(
            "SELECT name FROM sqlite_schema WHERE type IN ('table','view') \
             AND name = CAST(?1 AS TEXT) COLLATE NOCASE",
        )
        .map_err(ctx)?;
    let mut rows = st.query([name]).map_err(ctx)?;
    match rows.next().map_err(ctx)? {
        Some(r) => Ok(Some(bytes(r.get_ref(0).map_err(ctx)?))),
        None => Ok(None),
    }
}

/// Runs `sql` (one or more statements) as bytes, via the C API so that no
/// UTF-8 is required.
fn exec(conn: &Connection, sql: &[u8]) -> Result<(), String> {
    if sql.contains(&0) {
        return Err("SQL text contains a NUL byte".into());
    }
    // SAFETY: the handle is valid for the life of `conn`, used on this
    // thread only, and every statement prepared is finalized before return.
    let db = unsafe { conn.handle() };
    let mut rest = sql;
    while !rest.is_empty() {
        let len =
            c_int::try_from(rest.len()).map_err(|_| "SQL text longer than 2 GiB".to_string())?;
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let mut tail: *const c_char = ptr::null();
        // SAFETY: `rest` is valid for `len` bytes; SQLite reads no further.
        let rc =
            unsafe { ffi::sqlite3_prepare_v2(db, rest.as_ptr().cast(), len, &mut stmt, &mut tail) };
        if rc != ffi::SQLITE_OK {
            return Err(errmsg(db));
        }
        let used = if tail.is_null() {
            rest.len()
        } else {
            (tail as usize).saturating_sub(rest.as_ptr() as usize)
        };
        rest = &rest[used.min(rest.len())..];
        if stmt.is_null() {
            // Only whitespace or comments were left.
            if used == 0 {
                break;
            }
            continue;
        }
        let result = loop {
            // SAFETY: `stmt` is a live prepared statement.
            match unsafe { ffi::sqlite3_step(stmt) } {
                ffi::SQLITE_ROW => continue,
                ffi::SQLITE_DONE => break Ok(()),
                _ => break Err(errmsg(db)),
            }
        };
        // SAFETY: finalized once, not used afterwards.
        unsafe { ffi::sqlite3_finalize(stmt) };
        result?;
    }
    Ok(())
}

fn errmsg(db: *mut ffi::sqlite3) -> String {
    // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by SQLite,
    // valid until the next call on `db`; we copy it at once.
    let p = unsafe { ffi::sqlite3_errmsg(db) };
    if p.is_null() {
        return "unknown SQLite error".into();
    }
    // SAFETY: non-null, NUL-terminated (above).
    let b = unsafe { CStr::from_ptr(p) }.to_bytes();
    b.escape_ascii().to_string()
}

fn bytes(v: ValueRef<'_>) -> Vec<u8> {
    match v {
        ValueRef::Text(b) | ValueRef::Blob(b) => b.to_vec(),
        ValueRef::Null => Vec::new(),
        ValueRef::Integer(i) => i.to_string().into_bytes(),
        ValueRef::Real(f) => f.to_string().into_bytes(),
    }
}

/// The identifier at the start of `s` (bare, `"…"`, `'…'`, `` `…` `` with
/// the quote doubled inside, or `[…]`), dequoted.
fn leading_name(s: &[u8]) -> Option<Vec<u8>> {
    let (&q, rest) = s.split_first()?;
    let close = match q {
        b'"' | b'\'' | b'`' => q,
        b'[' => b']',
        _ => {
            let n = s.iter().position(|&b| {
                !(b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80)
            })?;
            return (n > 0).then(|| s[..n].to_vec());
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == close {
            if close != b']' && rest.get(i + 1) == Some(&close) {
                out.push(close);
                i += 2;
                continue;
            }
            return Some(out);
        }
        out.push(rest[i]);
        i += 1;
    }
    None
}

/// The stored SQL a `.dump` statement was written from (see [`dump_form`]):
/// without the line end, the final `;`, and for an index, trigger or view
/// holding `--`, the newline `.dump` put before that `;`.
fn statement_text(stmt: &[u8]) -> &[u8] {
    let mut s = stmt.strip_suffix(b"\n").unwrap_or(stmt);
    s = s.strip_suffix(b";").unwrap_or(s);
    let is_table = s.len() >= 12 && s[..12].eq_ignore_ascii_case(b"CREATE TABLE");
    if !is_table && has_line_comment(s) {
        s = s.strip_suffix(b"\n").unwrap_or(s);
    }
    s
}

fn has_line_comment(s: &[u8]) -> bool {
    s.windows(2).any(|w| w == b"--")
}

/// Stored `sql` as the 3.40 `.dump` writes it (`src/shell.c.in`):
/// * a table through `printSchemaLine(sql, ";\n")`: `CREATE TABLE IF NOT
///   EXISTS ` + the rest when the SQL matches the glob `CREATE TABLE ['"]*`
///   (SQLite stores a renamed table as `CREATE TABLE "new"…`), else the SQL;
///   then `;`. (`printSchemaLine` would first close a comment the SQL ends
///   in; a table's stored SQL ends at its `)` or table option, never in one.)
/// * an index, trigger or view through `run_table_dump_query`: the SQL, then
///   `;`, or `\n;` when the SQL contains `--` anywhere (so that a `;` cannot
///   land in a line comment).
fn dump_form(kind: &[u8], sql: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(sql.len() + 16);
    let prefix = b"CREATE TABLE ";
    if kind == b"table" {
        if sql.starts_with(prefix) && matches!(sql.get(prefix.len()), Some(b'"') | Some(b'\'')) {
            out.extend_from_slice(b"CREATE TABLE IF NOT EXISTS ");
            out.extend_from_slice(&sql[prefix.len()..]);
        } else {
            out.extend_from_slice(sql);
        }
    } else {
        out.extend_from_slice(sql);
        if has_line_comment(sql) {
            out.push(b'\n');
        }
    }
    out.push(b';');
    out
}

/// `"name"` with `"` doubled: SQLite's `%w` in `"%w"`.
fn push_quoted(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in name {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Whether `name` is shaped like a bare identifier, `[A-Za-z_][A-Za-z0-9_]*`.
/// Keywords are not checked here but in `takes_bare_column_name`: SQLite's
/// grammar accepts many of them as names (`%fallback ID` in `parse.y`).
fn is_bare_identifier(name: &[u8]) -> bool {
    match name.split_first() {
        Some((f, rest)) => {
            (f.is_ascii_alphabetic() || *f == b'_')
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        None => false,
    }
}

/// Whether `ALTER TABLE t RENAME COLUMN c TO <name>` parses with `name`
/// spelled bare. A keyword is taken as a name only where the grammar lets
/// it fall back to an identifier (`%fallback ID` in SQLite's `parse.y`):
/// `key` and `abort` are, `order` and `select` are a syntax error. Which
/// keywords are is asked of the bundled SQLite itself, once: each of its
/// keywords (`sqlite3_keyword_name`) is tried in such an `ALTER`.
fn takes_bare_column_name(name: &[u8]) -> bool {
    use std::sync::OnceLock;
    static BARE: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    if !crate::codec::ident::is_sqlite_keyword(name) {
        return true;
    }
    let bare = BARE.get_or_init(|| {
        let Ok(conn) = open() else {
            return Vec::new();
        };
        if exec(&conn, b"CREATE TABLE probe(a)").is_err() {
            return Vec::new();
        }
        // SAFETY: reads a constant.
        let n = unsafe { ffi::sqlite3_keyword_count() };
        let mut out = Vec::new();
        for i in 0..n {
            let mut z: *const c_char = ptr::null();
            let mut len: c_int = 0;
            // SAFETY: `i` is in range; SQLite points `z` at its static
            // keyword text of `len` bytes.
            let rc = unsafe { ffi::sqlite3_keyword_name(i, &mut z, &mut len) };
            let Ok(len) = usize::try_from(len) else {
                continue;
            };
            if rc != ffi::SQLITE_OK || z.is_null() {
                continue;
            }
            // SAFETY: valid for `len` bytes (above), static.
            let kw = unsafe { std::slice::from_raw_parts(z.cast::<u8>(), len) };
            let alter = [&b"ALTER TABLE probe RENAME COLUMN a TO "[..], kw].concat();
            if exec(&conn, &alter).is_ok() {
                out.push(kw.to_ascii_lowercase());
                if exec(&conn, b"DROP TABLE probe; CREATE TABLE probe(a)").is_err() {
                    break;
                }
            }
        }
        out
    });
    bare.iter().any(|k| k.eq_ignore_ascii_case(name))
}

/// `s` for an error message: escaped (lossless, no UTF-8 assumed), cut at `max` bytes.
fn show(s: &[u8], max: usize) -> String {
    let cut = &s[..s.len().min(max)];
    let mut t = cut.escape_ascii().to_string();
    if s.len() > max {
        t.push('…');
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renames_table(old: &str, new: &str) -> SqliteRenames {
        SqliteRenames {
            tables: vec![(old.into(), new.into())],
            columns: vec![],
        }
    }

    #[test]
    fn table_named_like_its_column() {
        let mut s = Shadow::new().unwrap();
        let r = renames_table("category", "cat");
        let t = s
            .renamed(
                b"CREATE TABLE category(category TEXT, id INTEGER PRIMARY KEY);",
                &r,
            )
            .unwrap();
        assert_eq!(
            t.as_deref(),
            Some(
                &b"CREATE TABLE IF NOT EXISTS \"cat\"(category TEXT, id INTEGER PRIMARY KEY);"[..]
            )
        );
        let v = s
            .renamed(
                b"CREATE VIEW v AS SELECT category.category AS category FROM category;",
                &r,
            )
            .unwrap();
        assert_eq!(
            v.as_deref(),
            Some(&b"CREATE VIEW v AS SELECT \"cat\".category AS category FROM \"cat\";"[..])
        );
    }

    #[test]
    fn unrelated_statement_unchanged() {
        let mut s = Shadow::new().unwrap();
        let r = renames_table("a", "b");
        s.add(b"CREATE TABLE a(x);").unwrap();
        assert_eq!(s.renamed(b"CREATE TABLE c(a);", &r).unwrap(), None);
    }

    #[test]
    fn non_utf8_names() {
        let mut s = Shadow::new().unwrap();
        let r = SqliteRenames {
            tables: vec![(b"t\xff".to_vec(), b"n\xfe".to_vec())],
            columns: vec![],
        };
        let t = s
            .renamed(b"CREATE TABLE \"t\xff\"(\"c\xff\");", &r)
            .unwrap();
        assert_eq!(
            t.as_deref(),
            Some(&b"CREATE TABLE IF NOT EXISTS \"n\xfe\"(\"c\xff\");"[..])
        );
        assert_eq!(
            s.columns(b"t\xff").unwrap(),
            vec![(b"c\xff".to_vec(), false)]
        );
    }

    #[test]
    fn forward_foreign_key_uses_stub() {
        let mut s = Shadow::new().unwrap();
        let r = SqliteRenames {
            tables: vec![(b"p".to_vec(), b"parent".to_vec())],
            columns: vec![ColumnRename {
                table: b"p".to_vec(),
                old: b"id".to_vec(),
                new: b"pid".to_vec(),
                quoted: false,
            }],
        };
        let c = s
            .renamed(b"CREATE TABLE c(x REFERENCES p(id));", &r)
            .unwrap();
        assert_eq!(
            c.as_deref(),
            Some(&b"CREATE TABLE c(x REFERENCES \"parent\"(pid));"[..])
        );
        // The stub was rolled back: p can now be created for real.
        s.add(b"CREATE TABLE p(id INTEGER PRIMARY KEY);").unwrap();
    }

    #[test]
    fn newer_shells_sqlite_sequence_line_passes_through() {
        let mut s = Shadow::new().unwrap();
        let r = renames_table("a", "b");
        let line = b"CREATE TABLE IF NOT EXISTS sqlite_sequence(name,seq);\n";
        assert_eq!(s.renamed(line, &r).unwrap(), None);
        s.add(b"CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT);")
            .unwrap();
        s.finish(&r).unwrap();
    }

    #[test]
    fn virtual_table_rename_refused() {
        let mut s = Shadow::new().unwrap();
        s.add_virtual_table(b"ft");
        let err = s
            .renamed(b"CREATE TABLE x(a);", &renames_table("FT", "g"))
            .unwrap_err();
        assert!(err.contains("virtual table"), "{err}");
    }

    #[test]
    fn reserved_keywords_are_quoted_in_the_alter() {
        let r = SqliteRenames {
            tables: vec![],
            columns: ["order", "key", "Select", "abort"]
                .iter()
                .map(|n| ColumnRename {
                    table: b"t".to_vec(),
                    old: b"a".to_vec(),
                    new: n.as_bytes().to_vec(),
                    quoted: false,
                })
                .collect(),
        };
        let got: Vec<String> = r
            .alter_statements()
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        assert_eq!(
            got,
            [
                "ALTER TABLE \"t\" RENAME COLUMN \"a\" TO \"order\"",
                "ALTER TABLE \"t\" RENAME COLUMN \"a\" TO key",
                "ALTER TABLE \"t\" RENAME COLUMN \"a\" TO \"Select\"",
                "ALTER TABLE \"t\" RENAME COLUMN \"a\" TO abort",
            ]
        );
    }

    #[test]
    fn sequence_rows_follow_exact_stored_name() {
        let mut s = Shadow::new().unwrap();
        s.add(b"CREATE TABLE Seq(id INTEGER PRIMARY KEY AUTOINCREMENT);")
            .unwrap();
        let r = renames_table("seq", "s2");
        assert_eq!(s.sequence_name(b"Seq", &r).unwrap(), Some(b"s2".to_vec()));
        assert_eq!(s.sequence_name(b"seq", &r).unwrap(), None);
        assert_eq!(s.sequence_name(b"other", &r).unwrap(), None);
    }
}

#[cfg(test)]
mod perf {
    use super::*;
    #[test]
    #[ignore]
    fn big_schema_timing() {
        let mut stmts = Vec::new();
        for i in 0..300 {
            stmts.push(format!(
                "CREATE TABLE t{i}(id INTEGER PRIMARY KEY, a{i}, b REFERENCES t{}(id));",
                i / 2
            ));
        }
        for i in 0..300 {
            stmts.push(format!("CREATE INDEX i{i} ON t{i}(a{i}, b);"));
        }
        for i in 0..100 {
            stmts.push(format!("CREATE VIEW v{i} AS SELECT t{i}.a{i}, t{}.b FROM t{i} JOIN t{} ON t{i}.id = t{}.b;", i + 1, i + 1, i + 1));
        }
        let r = SqliteRenames {
            tables: vec![
                (b"t1".to_vec(), b"x1".to_vec()),
                (b"t7".to_vec(), b"x7".to_vec()),
            ],
            columns: vec![ColumnRename {
                table: b"t3".to_vec(),
                old: b"a3".to_vec(),
                new: b"aa".to_vec(),
                quoted: false,
            }],
        };
        let mut s = Shadow::new().unwrap();
        let t = std::time::Instant::now();
        let mut changed = 0;
        for st in &stmts {
            if s.renamed(st.as_bytes(), &r).unwrap().is_some() {
                changed += 1;
            }
        }
        let renamed = t.elapsed();
        s.finish(&r).unwrap();
        eprintln!(
            "{} statements, {changed} changed, {renamed:?}, finish {:?}",
            stmts.len(),
            t.elapsed() - renamed
        );
    }
}
