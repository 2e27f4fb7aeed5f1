//! The archive [`Edit`] made from dumpsed's plain-dump rewriter, so that
//! archives get the same renames and value rewrites as plain dumps.
//!
//! TOC texts: every entry's tag, `defn`, `dropStmt` and `copyStmt` are laid
//! out as one small plain dump, each behind a marker comment, and the tag as
//! the `-- Name: TAG; Type: …` header that `_printTocEntry`
//! (`pg_backup_archiver.c`) would print for it; the rewritten dump is cut
//! back at the markers. One job sees the whole TOC in order, as it would
//! see `pg_restore -f -` output.
//!
//! Data: a TABLE DATA stream (the COPY rows and their `\.` line, written by
//! `dumpTableData_copy` in pg_dump.c; or the INSERT statements of an
//! `--inserts` archive, whose `copyStmt` is NULL) is fed to the rewriter
//! behind a synthetic prologue: the archive's `SET client_encoding` /
//! `standard_conforming_strings`, the table's `CREATE TABLE` (for the
//! pre-write checks), a marker and the `copyStmt`. The output is passed on
//! from just after the rewritten `copyStmt`: the rows stream through.

use std::collections::HashMap;
use std::io::{self, Cursor, Read, Write};
use std::sync::Mutex;

use crossbeam_channel::{bounded, Receiver};

use super::toc::{Extra, K_OFFSET_NO_DATA};
use super::{DataEdit, Edit, Header, TocEntry};
use crate::io::input;
use crate::job::{self, Count, Format, Options, RenameSummary, Summary};
use crate::frame::lexer::Dialect;
use crate::observe::{CsvChangeLog, Observer, ValueChange};
use crate::decide::plan::Plan;
use crate::rules::Rules;

const MARK: &[u8] = b"\n-- dumpsed-archive:";
const DATA_MARK: &[u8] = b"\n-- dumpsed-archive:data\n";
const OPENING: &[u8] = b"--\n-- PostgreSQL database dump\n--\n\n";

/// What one value rule did over a whole archive.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RewriteTotal {
    /// The rule: `table.column (from → to)`.
    pub rule: String,
    /// Values rewritten.
    pub rewritten: u64,
    /// Values a `--reverse` run would not give back.
    pub irreversible: u64,
}

/// Per rename rule and per value rule, summed over an archive's entries.
pub type Totals = (Vec<RenameSummary>, Vec<RewriteTotal>);

/// Rewrites archives under dumpsed [`Rules`].
pub struct PlainEdit<'r> {
    rules: &'r Rules,
    options: Options,
    /// The options of the job over the whole TOC's SQL, which holds every
    /// table of the archive: there a rule whose table is missing is an
    /// error unless `--allow-missing`.
    toc_options: Options,
    plan: Plan,
    /// `SET client_encoding …` and `SET standard_conforming_strings …`.
    prologue: Vec<u8>,
    /// The input `CREATE TABLE` of each table, by (schema, name).
    tables: HashMap<(Vec<u8>, Vec<u8>), Vec<u8>>,
    /// The `TABLE ATTACH` entries' `ALTER TABLE … ATTACH PARTITION`, by
    /// partition, with the parent each names.
    attached: HashMap<(Vec<u8>, Vec<u8>), Vec<((Vec<u8>, Vec<u8>), Vec<u8>)>>,
    /// Django many-to-many tables the rules reach without naming them
    /// (derived from the TOC's TABLE entries, `Decider::predata_create`),
    /// by (schema, name), with the tables before them that tell one
    /// (named as its prefix, `<owner table>_<field>`).
    m2m: HashMap<(Vec<u8>, Vec<u8>), Vec<(Vec<u8>, Vec<u8>)>>,
    /// The header's server and pg_dump versions, as the comments pg_restore
    /// prints (the grammar and keywords the SQL is read and written with).
    versions: crate::decide::pg::grammar::DumpVersions,
    /// What each job did.
    pub summaries: Mutex<Vec<Summary>>,
    /// What the synthetic prologues of the data jobs alone did, taken off
    /// the totals (their renames are the TOC's, counted once already).
    prefixes: Mutex<Vec<Summary>>,
    /// Things the user should know (statistics dropped, rules let pass).
    pub warnings: Vec<crate::observe::problem::Problem>,
    /// TOC entries added, described (Django's effects beyond the schema).
    pub added: Vec<String>,
    /// With `--log-changes`: each data job's CSV lines, by the TOC position
    /// of its entry (jobs finish in any order; the log is written in TOC
    /// order at the end).
    pub change_log: Option<Mutex<Vec<(u64, Vec<u8>)>>>,
}

impl<'r> PlainEdit<'r> {
    pub fn new(rules: &'r Rules, options: &Options) -> Result<PlainEdit<'r>, String> {
        let mut options = options.clone();
        options.format = Format::Postgres;
        // Each job is a fragment of the archive (one entry's SQL, one
        // table's data): it has no closing marker and not every rule's
        // table; the archive as a whole is checked for those instead.
        options.allow_truncated = true;
        let toc_options = options.clone();
        options.allow_missing = true;
        Ok(PlainEdit {
            rules,
            options,
            toc_options,
            plan: Plan::new(rules, Dialect::Postgres),
            prologue: Vec::new(),
            tables: HashMap::new(),
            attached: HashMap::new(),
            m2m: HashMap::new(),
            versions: Default::default(),
            summaries: Mutex::new(Vec::new()),
            prefixes: Mutex::new(Vec::new()),
            warnings: Vec::new(),
            added: Vec::new(),
            change_log: None,
        })
    }

    /// Keeps every value rewritten in the tables' data, for [`Self::write_change_log`].
    pub fn log_changes(&mut self) {
        self.change_log = Some(Mutex::new(Vec::new()));
    }

    /// Writes the values rewritten (CSV rows as for a plain dump: table,
    /// column, line, byte offset, old, new), in TOC order. Line and byte
    /// offset count in the entry's data (decompressed; line 1 is its first
    /// row), which is what `pg_restore -f -` prints after the entry's COPY.
    pub fn write_change_log(&self, out: &mut dyn Write) -> io::Result<()> {
        let Some(log) = &self.change_log else { return Ok(()) };
        let mut v = log.lock().map_err(|_| io::Error::other("change log lock poisoned"))?;
        v.sort_by_key(|(at, _)| *at);
        for (_, rows) in v.iter() {
            out.write_all(rows)?;
        }
        Ok(())
    }

    fn run_job(&self, src: input::Input, out: &mut dyn Write, log: Option<&LogAt>, part: bool) -> crate::Result<()> {
        self.run_job_logged(src, out, &self.summaries, log, part)
    }

    fn run_job_into(&self, src: input::Input, out: &mut dyn Write, into: &Mutex<Vec<Summary>>) -> crate::Result<()> {
        self.run_job_logged(src, out, into, None, true)
    }

    /// `part`: the input is one entry's data, which never gets Django's
    /// appendix (the TOC has it as its own entry; see [`Self::django_entry`]).
    fn run_job_logged(
        &self,
        src: input::Input,
        out: &mut dyn Write,
        into: &Mutex<Vec<Summary>>,
        log: Option<&LogAt>,
        part: bool,
    ) -> crate::Result<()> {
        let mut rows = Vec::new();
        let log = log.filter(|_| self.change_log.is_some());
        fn go(part: bool, src: input::Input, out: &mut dyn Write, e: &PlainEdit<'_>, o: impl Observer) -> crate::Result<Summary> {
            match part {
                true => job::rewrite_part(src, out, e.rules, &e.options, o),
                false => job::rewrite(src, out, e.rules, &e.options, o),
            }
        }
        let result = match log {
            Some(at) => {
                let observer = Rebased { lines: at.lines, bytes: at.bytes, log: CsvChangeLog(&mut rows) };
                go(part, src, out, self, observer)
            }
            None => go(part, src, out, self, ()),
        };
        let s = result?;
        if let (Some(at), Some(all)) = (log, &self.change_log) {
            if let Ok(mut v) = all.lock() {
                v.push((at.toc_at, rows));
            }
        }
        if let Ok(mut v) = into.lock() {
            v.push(s);
        }
        Ok(())
    }

    /// Takes the prologues' counts off `m`.
    fn less_prefixes(&self, m: &mut Summary) {
        let Ok(p) = self.prefixes.lock() else { return };
        for s in p.iter() {
            for (a, b) in m.renames.iter_mut().zip(&s.renames) {
                a.references = a.references.saturating_sub(b.references);
            }
            for c in &s.renamed_in {
                if let Some(e) = m.renamed_in.iter_mut().find(|e| e.what == c.what) {
                    e.count = e.count.saturating_sub(c.count);
                }
            }
            m.renamed_in.retain(|e| e.count > 0);
            m.bytes_in = m.bytes_in.saturating_sub(s.bytes_in);
            m.bytes_out = m.bytes_out.saturating_sub(s.bytes_out);
        }
    }

    /// `(renamed references per rename, values rewritten per value rule)`,
    /// summed over all jobs.
    pub fn totals(&self) -> Totals {
        let v = match self.summaries.lock() {
            Ok(v) => v.clone(),
            Err(_) => Vec::new(),
        };
        let mut renames: Vec<RenameSummary> = Vec::new();
        let mut rewrites: Vec<RewriteTotal> = Vec::new();
        for s in &v {
            for (k, r) in s.renames.iter().enumerate() {
                match renames.get_mut(k) {
                    Some(t) => t.references += r.references,
                    None => renames.push(r.clone()),
                }
            }
            for (k, w) in s.rewrites.iter().enumerate() {
                match rewrites.get_mut(k) {
                    Some(t) => {
                        t.rewritten += w.rewritten;
                        t.irreversible += w.irreversible;
                    }
                    None => rewrites.push(RewriteTotal {
                        rule: format!("{} ({})", w.column, w.change),
                        rewritten: w.rewritten,
                        irreversible: w.irreversible,
                    }),
                }
            }
        }
        if let Ok(p) = self.prefixes.lock() {
            for s in p.iter() {
                for (a, b) in renames.iter_mut().zip(&s.renames) {
                    a.references = a.references.saturating_sub(b.references);
                }
            }
        }
        (renames, rewrites)
    }

    /// All jobs' summaries folded into one, as one plain dump's would be
    /// (for `--dry-run`); `None` if no job ran.
    pub fn merged(&self) -> Option<Summary> {
        let v = self.summaries.lock().ok()?.clone();
        let mut it = v.into_iter();
        let mut m = it.next()?;
        for s in it {
            for (a, b) in m.renames.iter_mut().zip(&s.renames) {
                a.references += b.references;
            }
            for (a, b) in m.rewrites.iter_mut().zip(&s.rewrites) {
                a.rewritten += b.rewritten;
                a.irreversible += b.irreversible;
                a.examples.extend(b.examples.iter().cloned());
                a.examples.truncate(5);
                a.irreversible_examples.extend(b.irreversible_examples.iter().cloned());
                a.irreversible_examples.truncate(5);
            }
            m.rows_examined += s.rows_examined;
            m.bytes_in += s.bytes_in;
            m.bytes_out += s.bytes_out;
            m.elapsed += s.elapsed;
            let add = |into: &mut Vec<Count>, from: &[Count]| {
                for c in from {
                    match into.iter_mut().find(|e| e.what == c.what) {
                        Some(e) => e.count += c.count,
                        None => into.push(c.clone()),
                    }
                }
            };
            add(&mut m.renamed_in, &s.renamed_in);
            add(&mut m.left_alone, &s.left_alone);
            m.tables.extend(s.tables);
            // The table's rows are in its one data entry; the TOC job and
            // the data jobs' prologues see its CREATE TABLE.
            if let Some(rows) = s.django_migrations {
                m.django_migrations.get_or_insert_with(Vec::new).extend(rows);
            }
            m.problems.extend(s.problems);
            m.check_incomplete |= s.check_incomplete;
        }
        self.less_prefixes(&mut m);
        Some(m)
    }

    fn key(te: &TocEntry) -> (Vec<u8>, Vec<u8>) {
        (
            te.namespace.clone().unwrap_or_default(),
            te.tag.clone().unwrap_or_default(),
        )
    }
}

/// `'text'` as `appendStringLiteralAH` writes it with
/// standard_conforming_strings on (pg_dump's default): quotes doubled.
fn literal(s: &[u8]) -> Vec<u8> {
    let mut v = vec![b'\''];
    for &b in s {
        if b == b'\'' {
            v.push(b);
        }
        v.push(b);
    }
    v.push(b'\'');
    v
}

/// Splits SQL text into statements, each with its `;` and the newline
/// after it (string literals are lexed, so a `;` inside one is no end).
fn statements(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    for t in crate::frame::lexer::Tokens::new(Dialect::Postgres, text) {
        let Ok(t) = t else { break };
        if t.kind == crate::frame::lexer::TokenKind::Punct && &text[t.start..t.end] == b";" {
            let mut end = t.end;
            if text.get(end) == Some(&b'\n') {
                end += 1;
            }
            out.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

impl PlainEdit<'_> {
    /// pg 18's `STATISTICS DATA` entries (`dumpRelationStats` in
    /// pg_dump.c) name the relation as a string literal:
    /// `pg_restore_relation_stats(… 'relname', 't' …)` and one
    /// `pg_restore_attribute_stats(… 'relname', 't', 'attname', 'c', …)` per
    /// column. The relname follows the rename (the SQL pass, `pg_resolve`,
    /// has renamed it already when it parsed the call; this is for the
    /// calls it did not). A rewritten column's call was dropped by the SQL
    /// pass, with its warning, as in a plain dump.
    fn statistics(&mut self, te: &mut TocEntry, schema: &[u8], table: &[u8]) {
        let Some(defn) = te.defn.take() else { return };
        let old_rel = [b"'relname', ".as_slice(), &literal(table)].concat();
        let new_rel = self
            .plan
            .rename_of(Some(schema), table)
            .map(|i| [b"'relname', ".as_slice(), &literal(&self.plan.renames[i].new)].concat());
        let mut out = Vec::with_capacity(defn.len());
        for stmt in statements(&defn) {
            let names_table = memchr::memmem::find(stmt, &old_rel).is_some();
            match (&new_rel, names_table) {
                (Some(new), true) => {
                    let at = memchr::memmem::find(stmt, &old_rel).unwrap_or(0);
                    out.extend_from_slice(&stmt[..at]);
                    out.extend_from_slice(new);
                    out.extend_from_slice(&stmt[at + old_rel.len()..]);
                }
                _ => out.extend_from_slice(stmt),
            }
        }
        te.defn = Some(out);
    }
}

/// The tag of the entry [`django_entry`] adds, as `pg_restore -l` lists it.
pub const DJANGO_TAG: &[u8] = b"dumpsed: what manage.py migrate adds (content types, permissions, migrations)";

/// `SECTION_DATA` (`teSection` in `pg_backup.h`).
const SECTION_DATA: i64 = 3;

/// Adds Django's effects beyond the schema (the SQL that
/// [`crate::decide::django::appendix`] puts at the end of a plain dump) to the TOC
/// as one entry of its own, so that `pg_restore -l` lists it, `-L` can
/// keep or skip it, and `-j` runs it after what it reads.
///
/// Its desc is `SEQUENCE SET`, with no data (`hadDumper` 0), as pg_dump
/// writes a sequence's `setval`: `_tocEntryRequired`
/// (`pg_backup_archiver.c`) counts no other data-less entry as data, so
/// any other desc would be schema, dropped by `--data-only` and run by
/// `--schema-only`. Its owner is the tables' and its `dropStmt` empty, as
/// for pg_dump's own `SEQUENCE SET`: `_printTocEntry` then issues no
/// `ALTER … OWNER` (and warns of no unknown type), and
/// `--use-set-session-authorization` runs it as the tables' owner. Never
/// `TABLE DATA`: `buildTocEntryArrays` takes a TABLE DATA entry's first
/// dependency for its table.
///
/// It depends on the data of the tables it changes (content types,
/// permissions, migration rows) and on every `SEQUENCE SET`: its INSERTs
/// draw ids through column defaults, which may name any sequence, and
/// must draw them after the dump's `setval`s, as the live run did. It is
/// placed after the last of those, in the data section.
///
/// Returns what it added, for the run's summary.
fn django_entry(toc: &mut Vec<TocEntry>, sql: Vec<u8>) -> crate::Result<String> {
    let public = |te: &TocEntry| te.namespace.as_deref() == Some(b"public");
    let mut deps = Vec::new();
    let mut last = 0;
    let mut owner = None;
    for table in ["django_content_type", "auth_permission", "django_migrations"] {
        // The appendix names them so (`django::appendix`).
        if memchr::memmem::find(&sql, format!("public.{table} ").as_bytes()).is_none() {
            continue;
        }
        let named = |te: &TocEntry, desc: &str| te.desc_is(desc) && public(te) && te.tag.as_deref() == Some(table.as_bytes());
        let Some(n) = toc.iter().position(|te| named(te, "TABLE DATA")) else {
            let what = toc
                .iter()
                .find(|te| named(te, "TABLE"))
                .map(|te| te.describe())
                .unwrap_or_else(|| format!("table public.{table}"));
            // pg_dump's own options.
            return Err(crate::Error::Archive(format!(
                "{what}: the archive has no data for this table (dumped with --schema-only or \
                 --exclude-table-data?), and the Django rules add to it what manage.py migrate adds"
            )));
        };
        deps.push(toc[n].dump_id);
        last = last.max(n);
        owner = toc[n].owner.clone();
    }
    if deps.is_empty() {
        return Err(crate::Error::Archive("internal: Django's appendix names none of its tables".into()));
    }
    for (n, te) in toc.iter().enumerate() {
        if te.desc_is("SEQUENCE SET") {
            deps.push(te.dump_id);
            last = last.max(n);
        }
    }
    let template = toc.iter().rev().find(|te| te.desc_is("SEQUENCE SET")).cloned();
    let from_template = template.is_some();
    let mut te = template.unwrap_or_else(|| toc[last].clone());
    let defn = sql.strip_prefix(b"\n").unwrap_or(&sql).to_vec();
    te.dump_id = toc.iter().map(|t| t.dump_id).max().unwrap_or(0) + 1;
    te.had_dumper = 0;
    te.table_oid = Some(b"0".to_vec());
    te.oid = Some(b"0".to_vec());
    te.tag = Some(DJANGO_TAG.to_vec());
    te.desc = Some(b"SEQUENCE SET".to_vec());
    te.section = SECTION_DATA;
    te.defn = Some(defn);
    te.drop_stmt = Some(Vec::new());
    te.copy_stmt = Some(Vec::new());
    te.namespace = Some(b"public".to_vec());
    te.owner = owner;
    te.deps = deps.iter().map(|d| d.to_string().into_bytes()).collect();
    te.at = 0;
    if !from_template {
        // A TABLE DATA entry made data-less, as `_WriteExtraToc` writes
        // an entry without data (pg_backup_custom.c, _directory.c, _tar.c).
        te.tablespace = None;
        te.tableam = None;
        te.relkind = 0;
        te.extra = match te.extra {
            Extra::Offset { .. } => Extra::Offset { state: K_OFFSET_NO_DATA, pos: 0 },
            Extra::File(_) => Extra::File(Some(Vec::new())),
        };
    }
    let count = |start: &str| sql.split(|&b| b == b'\n').filter(|l| l.starts_with(start.as_bytes())).count();
    let said = format!(
        "added {} after TOC entry {}: {} content type rename(s), {} permission statement(s), {} django_migrations row(s)",
        te.describe(),
        toc[last].dump_id,
        count("UPDATE public.django_content_type "),
        count("INSERT INTO public.auth_permission ") + count("UPDATE public.auth_permission "),
        count("INSERT INTO public.django_migrations "),
    );
    toc.insert(last + 1, te);
    Ok(said)
}

/// The tag of a `CONSTRAINT` / `FK CONSTRAINT` entry (`table conname`,
/// `dumpConstraint` in pg_dump.c) after its `defn` was rewritten to
/// `ADD CONSTRAINT new`: Django re-creates foreign keys under new names, and
/// `pg_restore -l` shows the tag. `None`: the name did not change, or is
/// quoted (then left alone).
fn constraint_tag(te: &TocEntry, new_defn: &[u8]) -> Option<Vec<u8>> {
    if !(te.desc_is("FK CONSTRAINT") || te.desc_is("CONSTRAINT")) {
        return None;
    }
    let name = |d: &[u8]| -> Option<Vec<u8>> {
        let at = memchr::memmem::find(d, b"ADD CONSTRAINT ")? + b"ADD CONSTRAINT ".len();
        let len = d[at..].iter().position(|&b| b == b' ' || b == b'\n')?;
        Some(d[at..at + len].to_vec()).filter(|n| !n.starts_with(b"\""))
    };
    let (old, new) = (name(te.defn.as_deref()?)?, name(new_defn)?);
    if old == new {
        return None;
    }
    let head = te.tag.as_deref()?.strip_suffix(old.as_slice())?;
    head.ends_with(b" ").then(|| [head, &new].concat())
}

fn header_line(te: &TocEntry) -> Option<Vec<u8>> {
    let tag = te.tag.as_deref()?;
    if tag.contains(&b'\n') || memchr::memmem::find(tag, b"; Type: ").is_some() {
        return None;
    }
    let dash = |v: &Option<Vec<u8>>| v.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| b"-".to_vec());
    let mut l = Vec::new();
    l.extend_from_slice(if te.desc_is("TABLE DATA") { b"-- Data for Name: " } else { b"-- Name: " });
    l.extend_from_slice(tag);
    l.extend_from_slice(b"; Type: ");
    l.extend_from_slice(te.desc.as_deref().unwrap_or(b"-"));
    l.extend_from_slice(b"; Schema: ");
    l.extend_from_slice(&dash(&te.namespace));
    l.extend_from_slice(b"; Owner: ");
    l.extend_from_slice(&dash(&te.owner));
    l.push(b'\n');
    Some(l)
}

impl PlainEdit<'_> {
    /// Django's many-to-many tables of renamed models, from the TABLE
    /// entries in TOC order (pg_dump's pre-data order): the derivation a
    /// plain dump's pre-data read-ahead makes (`Decider::predata_create`),
    /// so that `data` rewrites their rows too (an `--inserts` archive's
    /// `INSERT INTO` names the table and, with `--column-inserts`, the
    /// renamed column). Each data job derives the same again from its
    /// prologue, which holds the tables that tell (`m2m`).
    fn derive_m2m(&mut self, toc: &[TocEntry]) {
        let base = std::sync::Arc::new(self.plan.clone());
        let mut decider = crate::decide::dump::Decider::new(base.clone(), &HashMap::new(), false);
        if !decider.derives_tables() {
            return;
        }
        let mut seen = std::collections::HashSet::new();
        let mut order = Vec::new();
        for te in toc.iter().filter(|te| te.desc_is("TABLE")) {
            if let Some(d) = &te.defn {
                decider.predata_create(d, &mut seen);
                order.push(Self::key(te));
            }
        }
        let plan = (*decider.plan).clone();
        let found: Vec<(Vec<u8>, Vec<u8>)> = plan.renames[base.renames.len()..]
            .iter()
            .map(|r| (r.schema.clone(), r.old.clone()))
            .chain(plan.columns[base.columns.len()..].iter().map(|c| (c.schema.clone(), c.table.clone())))
            .collect();
        for key in found {
            let tell: Vec<_> = order
                .iter()
                .filter(|k| {
                    key.1.len() > k.1.len() + 1 && key.1.starts_with(&k.1) && key.1[k.1.len()] == b'_'
                })
                .cloned()
                .collect();
            self.m2m.insert(key, tell);
        }
        self.plan = plan;
    }

    /// The tables `key` inherits from or is a partition of, nearest last,
    /// each once.
    fn ancestors(&self, key: &(Vec<u8>, Vec<u8>), out: &mut Vec<(Vec<u8>, Vec<u8>)>) {
        if out.len() > 64 {
            return;
        }
        let mut parents = match self.tables.get(key) {
            Some(defn) if crate::decide::plan::contains_ignore_case(defn, b"INHERITS") => {
                crate::decide::pg::resolve::inherits_from(defn, false, self.versions.grammar())
            }
            _ => Vec::new(),
        };
        parents.extend(self.attached.get(key).into_iter().flatten().map(|(p, _)| p.clone()));
        for parent in parents {
            if !out.contains(&parent) && parent != *key {
                self.ancestors(&parent, out);
                if !out.contains(&parent) {
                    out.push(parent);
                }
            }
        }
    }
}

impl Edit for PlainEdit<'_> {
    fn toc(&mut self, header: &Header, toc: &mut Vec<TocEntry>) -> crate::Result<()> {
        // As pg_restore prints them (`RestoreArchive`, pg_backup_archiver.c):
        // what is renamed, and how a dump of an older version is read and
        // quoted, depends on the versions.
        let mut versions_header = Vec::new();
        for (comment, v) in [
            (&b"-- Dumped from database version "[..], &header.server_version),
            (b"-- Dumped by pg_dump version ", &header.dump_version),
        ] {
            if let Some(v) = v {
                let line = [comment, &v[..]].concat();
                self.versions.note_comment(&line);
                versions_header.extend_from_slice(&line);
                versions_header.push(b'\n');
            }
        }
        if !versions_header.is_empty() {
            versions_header.push(b'\n');
        }
        // Data jobs read the same versions first.
        self.prologue.extend_from_slice(&versions_header);
        for te in toc.iter() {
            if te.desc_is("ENCODING") || te.desc_is("STDSTRINGS") {
                if let Some(d) = &te.defn {
                    self.prologue.extend_from_slice(d);
                }
            }
            if te.desc_is("TABLE") {
                if let Some(d) = &te.defn {
                    self.tables.insert(Self::key(te), d.clone());
                }
            }
            // pg_dump writes a partition as its own table plus this entry
            // (`dumpTableAttach` in pg_dump.c): the edge a value or column
            // rule on the parent follows into the partition's rows.
            if te.desc_is("TABLE ATTACH") {
                if let Some(d) = &te.defn {
                    let mut facts = crate::decide::pg::resolve::Facts::default();
                    facts.note_predata(d, false, self.versions.grammar());
                    for (child, parents) in facts.parents {
                        let list = self.attached.entry(child).or_default();
                        list.extend(parents.into_iter().map(|p| (p, d.clone())));
                    }
                }
            }
        }
        if self.rules.is_empty() && !self.options.report {
            return Ok(());
        }
        self.derive_m2m(toc);
        // Django's own tables that the rules add rows to: there, when the
        // archive is a Django database's (`django::tables_missing`, as a
        // plain dump asks), and in the shape the added SQL is written for
        // (`django::older_shape`).
        let table_entry = |table: &str| {
            toc.iter().find(|te| {
                te.desc_is("TABLE")
                    && te.namespace.as_deref() == Some(b"public")
                    && te.tag.as_deref() == Some(table.as_bytes())
            })
        };
        if let Some((table, rule)) =
            crate::decide::django::tables_missing(self.rules, |t| table_entry(t).is_some()).into_iter().next()
        {
            return Err(crate::Error::Rule(format!(
                "{rule}: the archive has no TABLE entry for {table} (a dump of a Django database \
                 made with -t, -n or -T, or not Django's?)"
            )));
        }
        for (table, rule) in crate::decide::django::tables_needed(self.rules) {
            let Some(te) = table_entry(table) else { continue };
            let defn = te.defn.as_deref().unwrap_or_default();
            if let Some(why) = crate::decide::django::older_shape(crate::frame::lexer::Dialect::Postgres, table, defn) {
                return Err(crate::Error::Rule(format!("{rule}: {} at byte {} of the TOC: {why}", te.describe(), te.at)));
            }
        }
        // `--reverse` with Django rules undoes a forward run: what it added
        // for Django is its own entry, taken out whole (so the output
        // restores to the forward run's input), and nothing is added.
        let undo_django = self.rules.is_reversed() && self.rules.has_django();
        if undo_django {
            let ours = |te: &TocEntry| te.desc_is("SEQUENCE SET") && te.tag.as_deref() == Some(DJANGO_TAG);
            let found: Vec<String> = toc.iter().filter(|te| ours(te)).map(TocEntry::describe).collect();
            if found.is_empty() {
                return Err(crate::Error::Rule(format!(
                    "reversed Django rules: the archive has no TOC entry \"{}\", which a forward \
                     run of Django rules adds; it is not the output of one, so there is nothing of \
                     Django's to take back",
                    String::from_utf8_lossy(DJANGO_TAG)
                )));
            }
            toc.retain(|te| !ours(te));
            for f in found {
                self.added.push(format!("removed {f}: what the forward run added for Django"));
            }
        }
        let keys: Vec<_> = toc.iter().map(Self::key).collect();
        let mut dump = OPENING.to_vec();
        dump.extend_from_slice(&versions_header);
        let mut labels = Vec::new();
        for (n, te) in toc.iter().enumerate() {
            let mut put = |field: &str, text: &[u8], tail: &[u8]| {
                dump.extend_from_slice(MARK);
                dump.extend_from_slice(format!("{n}:{field}\n").as_bytes());
                dump.extend_from_slice(text);
                dump.extend_from_slice(tail);
                labels.push((n, field.to_string()));
            };
            if let Some(h) = header_line(te) {
                put("tag", &h, b"");
            }
            for (field, text) in [("defn", &te.defn), ("drop", &te.drop_stmt)] {
                if let Some(t) = text.as_deref().filter(|t| !t.is_empty()) {
                    put(field, t, b"");
                }
            }
            if let Some(t) = te.copy_stmt.as_deref().filter(|t| !t.is_empty()) {
                put("copy", t, b"\\.\n");
            }
        }
        dump.extend_from_slice(MARK);
        dump.extend_from_slice(b"end\n");
        let src = input::from_reader(Box::new(Cursor::new(dump)), None)?;
        let mut out = Vec::new();
        // Its error keeps its kind and remedy (a rule, a check, a statement
        // the parser rejects).
        let mut s = job::rewrite_toc(src, &mut out, self.rules, &self.toc_options)
            .map_err(|e| e.within("rewriting the TOC's SQL"))?;
        // The SQL pass dropped pg 18's statistics of rewritten columns (as in
        // a plain dump): said once, with the archive's warnings.
        self.warnings.append(&mut s.warnings);
        if let Ok(mut v) = self.summaries.lock() {
            v.push(s);
        }
        // Cut the output back at the markers. After the last one: what the
        // job appends at the end of a dump, Django's effects beyond the
        // schema (`django::appendix`), seen over the whole TOC.
        let appendix;
        let mut pieces = Vec::new();
        let mut at = match memchr::memmem::find(&out, MARK) {
            Some(p) => p,
            None => return Err(crate::Error::Archive("internal: the TOC markers did not survive the rewrite".into())),
        };
        loop {
            let label_start = at + MARK.len();
            let Some(nl) = memchr::memchr(b'\n', &out[label_start..]) else {
                return Err(crate::Error::Archive("internal: a TOC marker was cut".into()));
            };
            let label = out[label_start..label_start + nl].to_vec();
            let body_start = label_start + nl + 1;
            if label == b"end" {
                appendix = out[body_start..].to_vec();
                break;
            }
            let next = memchr::memmem::find(&out[body_start..], MARK)
                .map(|p| body_start + p)
                .ok_or_else(|| crate::Error::Archive("internal: the last TOC marker did not survive the rewrite".into()))?;
            pieces.push((label, out[body_start..next].to_vec()));
            at = next;
        }
        if pieces.len() != labels.len() {
            return Err(crate::Error::Archive(format!(
                "a TOC text holds dumpsed's own marker comment ({} markers, {} expected)",
                pieces.len(),
                labels.len()
            )));
        }
        for ((n, field), (label, body)) in labels.into_iter().zip(pieces) {
            if label != format!("{n}:{field}").as_bytes() {
                return Err(crate::Error::Archive("internal: TOC markers out of order".into()));
            }
            let te = &mut toc[n];
            match field.as_str() {
                "tag" => {
                    // The header comment's tag is renamed on the bare word
                    // (as in a plain dump); in an archive pg_restore makes
                    // `ALTER TABLE schema.tag OWNER TO …` from it, so only a
                    // rename of this entry's own schema may touch it.
                    let ns = te.namespace.as_deref().unwrap_or_default();
                    let old_tag = te.tag.as_deref().unwrap_or_default();
                    let ours = self
                        .plan
                        .renames
                        .iter()
                        .any(|r| r.schema == ns && memchr::memmem::find(old_tag, &r.old).is_some());
                    if let Some((s, e)) = crate::decide::pg::tag::parse_header(&body)
                        .map(|h| (h.tag_at, h.tag_at + h.tag.len()))
                        .filter(|_| ours)
                    {
                        let new = body[s..e].to_vec();
                        if te.tag.as_deref() != Some(&new[..]) {
                            te.tag = Some(new);
                        }
                    }
                }
                "defn" => {
                    if let Some(tag) = constraint_tag(te, &body) {
                        te.tag = Some(tag);
                    }
                    te.defn = Some(body);
                }
                "drop" => te.drop_stmt = Some(body),
                "copy" => {
                    let Some(b) = body.strip_suffix(b"\\.\n") else {
                        return Err(crate::Error::Archive(format!("{}: the rewritten copyStmt lost its end", te.describe())));
                    };
                    te.copy_stmt = Some(b.to_vec());
                }
                _ => {}
            }
        }
        for (te, (schema, table)) in toc.iter_mut().zip(keys) {
            if te.desc_is("STATISTICS DATA") {
                self.statistics(te, &schema, &table);
            }
        }
        if !appendix.trim_ascii().is_empty() && !undo_django {
            let added = django_entry(toc, appendix)?;
            self.added.push(added);
        }
        Ok(())
    }

    fn data(&self, te: &TocEntry) -> Option<Box<dyn DataEdit + '_>> {
        if !te.desc_is("TABLE DATA") || (self.rules.is_empty() && !self.options.report) {
            return None;
        }
        let (schema, table) = Self::key(te);
        let inserts = te.copy_stmt.as_deref().is_none_or(|c| c.is_empty());
        let key = (schema, table);
        let mut ancestors = Vec::new();
        self.ancestors(&key, &mut ancestors);
        // A value rule on a parent rewrites its partitions' and children's
        // rows too, as the live `UPDATE parent` does.
        let nearest_first: Vec<_> = ancestors.iter().rev().cloned().collect();
        let targeted = !self.plan.rewrites_inherited(Some(key.0.as_slice()), &key.1, &nearest_first).is_empty();
        let renamed = self.plan.rename_of(Some(key.0.as_slice()), &key.1).is_some();
        // `--column-inserts` rows name the columns a parent's rule renames.
        let columns_renamed = self
            .plan
            .columns
            .iter()
            .any(|c| ancestors.iter().chain([&key]).any(|k| c.schema == k.0 && c.table == k.1));
        // A report (--dry-run) counts every table's rows.
        if !(targeted || (inserts && (renamed || columns_renamed)) || self.options.report) {
            return None;
        }
        let mut prefix = OPENING.to_vec();
        prefix.extend_from_slice(&self.prologue);
        // A many-to-many table's: the tables that tell it is one, first.
        for k in self.m2m.get(&key).into_iter().flatten() {
            if let Some(d) = self.tables.get(k) {
                prefix.extend_from_slice(d);
            }
        }
        // A child's rows hold its parents' columns first (`INHERITS`), which
        // its own CREATE TABLE does not list: the ancestors' come before it,
        // and then the ATTACH PARTITIONs that make it a partition.
        for k in ancestors.iter().chain([&key]) {
            if let Some(d) = self.tables.get(k) {
                prefix.extend_from_slice(d);
            }
        }
        for k in ancestors.iter().chain([&key]) {
            for (_, d) in self.attached.get(k).into_iter().flatten() {
                prefix.extend_from_slice(d);
            }
        }
        prefix.extend_from_slice(DATA_MARK);
        if !inserts {
            prefix.extend_from_slice(te.copy_stmt.as_deref().unwrap_or_default());
        }
        let log = LogAt {
            toc_at: te.at,
            lines: memchr::memchr_iter(b'\n', &prefix).count() as u64,
            bytes: prefix.len() as u64,
        };
        Some(Box::new(DataJob {
            edit: self,
            prefix,
            inserts,
            strip: true,
            log: Some(log),
        }))
    }

    /// The tar format's `restore.sql` is a plain script: rewritten whole.
    fn script(&self) -> Option<Box<dyn DataEdit + '_>> {
        if self.rules.is_empty() {
            return None;
        }
        Some(Box::new(DataJob {
            edit: self,
            prefix: Vec::new(),
            inserts: true,
            strip: false,
            // restore.sql holds no table data (it names the data files).
            log: None,
        }))
    }
}

/// Where a data job's change log rows belong: its entry's TOC position,
/// and the lines and bytes of the synthetic prologue before the data.
#[derive(Debug, Clone, Copy)]
struct LogAt {
    toc_at: u64,
    lines: u64,
    bytes: u64,
}

/// A data job's changes with line and byte offset counted in the entry's
/// data: the job reads a prologue (SET lines, the COPY statement) first.
struct Rebased<O> {
    lines: u64,
    bytes: u64,
    log: O,
}

impl<O: Observer> Observer for Rebased<O> {
    fn wants_changes(&self) -> bool {
        true
    }
    fn change(&mut self, c: &ValueChange<'_>) -> io::Result<()> {
        self.log.change(&ValueChange {
            line: c.line.saturating_sub(self.lines),
            offset: c.offset.saturating_sub(self.bytes),
            ..*c
        })
    }
}

struct DataJob<'a, 'r> {
    edit: &'a PlainEdit<'r>,
    prefix: Vec<u8>,
    inserts: bool,
    /// Drop the output up to the prologue's end (false: keep it all).
    strip: bool,
    log: Option<LogAt>,
}

/// Feeds the job from a channel (the job wants an owned reader).
struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.buf.len() {
            match self.rx.recv() {
                Ok(Ok(b)) => {
                    self.buf = b;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Drops the synthetic prologue from the job's output.
struct Strip<'w> {
    out: &'w mut (dyn Write + Send),
    head: Option<Vec<u8>>,
    inserts: bool,
}

impl Write for Strip<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(head) = self.head.as_mut() else {
            return self.out.write(buf);
        };
        head.extend_from_slice(buf);
        if let Some(m) = memchr::memmem::find(head, DATA_MARK) {
            let after = m + DATA_MARK.len();
            let start = if self.inserts {
                Some(after)
            } else {
                // pg_dump.c writes copyStmt as "COPY … FROM stdin;\n".
                memchr::memmem::find(&head[after..], b"FROM stdin;\n").map(|p| after + p + 12)
            };
            if let Some(s) = start {
                let rest = head.split_off(s);
                self.head = None;
                self.out.write_all(&rest)?;
            }
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl DataEdit for DataJob<'_, '_> {
    fn run(
        self: Box<Self>,
        input: &mut (dyn Read + Send),
        out: &mut (dyn Write + Send),
    ) -> crate::Result<()> {
        let (tx, rx) = bounded::<io::Result<Vec<u8>>>(4);
        let mut prefix_alone = self.prefix.clone();
        if !self.inserts {
            prefix_alone.extend_from_slice(b"\\.\n");
        }
        let prefix = self.prefix;
        std::thread::scope(|s| {
            let feeder = s.spawn(move || -> Result<(), String> {
                if !prefix.is_empty() && tx.send(Ok(prefix)).is_err() {
                    return Ok(());
                }
                loop {
                    // Fill whole buffers: an uncompressed block arrives one
                    // COPY row per chunk, and tiny reads would cost a
                    // message each.
                    let mut buf = vec![0u8; 256 << 10];
                    // Pieces may end anywhere, even just before a `\.`
                    // line: the reader frames across reads.
                    let mut n = 0;
                    let mut end = false;
                    while n < buf.len() {
                        match input.read(&mut buf[n..]) {
                            Ok(0) => {
                                end = true;
                                break;
                            }
                            Ok(k) => n += k,
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Err(e) => {
                                let msg = e.to_string();
                                let _ = tx.send(Err(e));
                                return Err(msg);
                            }
                        }
                    }
                    buf.truncate(n);
                    if !buf.is_empty() && tx.send(Ok(buf)).is_err() {
                        return Ok(());
                    }
                    if end {
                        return Ok(());
                    }
                }
            });
            let reader = ChannelReader {
                rx,
                buf: Vec::new(),
                at: 0,
            };
            let mut strip = Strip {
                out,
                head: self.strip.then(Vec::new),
                inserts: self.inserts,
            };
            let job = input::from_reader(Box::new(reader), None)
                .and_then(|src| self.edit.run_job(src, &mut strip, self.log.as_ref(), self.strip));
            let fed = feeder.join().unwrap_or_else(|_| Err("the data reader panicked".into()));
            // An input error is the cause of the job's error: report it (the
            // entry's data, as the decoder read it).
            fed.map_err(crate::Error::Archive)?;
            job?;
            if strip.head.is_some() {
                return Err(crate::Error::Archive("internal: the rewritten data lost dumpsed's marker".into()));
            }
            if self.strip {
                let src = input::from_reader(Box::new(Cursor::new(prefix_alone)), None)?;
                self.edit.run_job_into(src, &mut io::sink(), &self.edit.prefixes)?;
            }
            Ok(())
        })
    }
}
