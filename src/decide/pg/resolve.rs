//! PostgreSQL: which bytes of one statement denote a renamed table or
//! column, decided by PostgreSQL's own grammar.
//!
//! The statement is parsed with libpg_query (the `pg_query` crate: the
//! server's `gram.y` and `scan.l` as a library) with the reader's
//! `standard_conforming_strings`, and the parse tree is walked for what a
//! live `ALTER TABLE … RENAME` changes:
//! - a relation (`RangeVar`: `CREATE TABLE`, `ALTER TABLE`, `REFERENCES`,
//!   `ON` of indexes, triggers, rules and policies, `FROM`, `COPY`,
//!   `GRANT … ON TABLE`, `INHERITS`, `PARTITION OF`, `ATTACH PARTITION`, …);
//! - its row type (`TypeName`: column types, function arguments and
//!   results, casts, arrays of it, `t.col%TYPE`);
//! - a range-variable qualifier `t.col` / `s.t.col` / `t.*`, when `t` is, in
//!   the scope of that reference, an unaliased reference to the renamed
//!   table (`ruleutils.c` prints view bodies that way);
//! - string literals PostgreSQL resolves to it: `'s.t'::regclass`, and the
//!   `'relname'` / `'attname'` arguments of PostgreSQL 18's
//!   `pg_restore_relation_stats` / `pg_restore_attribute_stats` calls;
//! - object names without a location in the tree (`COMMENT ON`,
//!   `SECURITY LABEL ON`, `OWNED BY`, column lists of keys, indexes,
//!   `COPY`, grants, `UPDATE OF`) found among the statement's own tokens
//!   from the node's position on.
//!
//! Nothing else is touched: not a column that shares the table's name,
//! not an output alias, not a keyword, not a function body in `$$`, not a
//! comment. Names found in the tree are checked against the bytes at their
//! position before anything is replaced, so a name the grammar made up
//! (`int` → `pg_catalog.int4`) is never "renamed".
//!
//! The tree is pg_query's typed one; every node kind and field it has is
//! named in `decide::pg::nodes`, whose walk hands the resolver each node (`Visit`).

use std::collections::HashMap;

use crate::codec::ident;
use crate::decide::pg::grammar::{DumpVersions, Relexed};
use crate::decide::pg::nodes::pb::Token;
use crate::decide::pg::nodes::{self, pb, Children, NodeEnum, Visit};
use crate::decide::plan::Plan;
use crate::error::Remedy;

/// Bytes `start..end` of the statement become `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// Offset in the statement.
    pub start: usize,
    /// End offset in the statement.
    pub end: usize,
    /// The new bytes.
    pub text: Vec<u8>,
    /// The table rename rule applied, if this is a table name.
    pub rule: Option<usize>,
}

/// The resolver's decision about one statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// The byte ranges to replace, in order, not overlapping.
    pub reps: Vec<Replacement>,
    /// With `plan.report`: tokens that mention an old name or a value
    /// rule's FROM text and that no rule changes (`string literal`,
    /// `function body ($…$)`, `comment`, `name X`); keywords are not names.
    pub left_alone: Vec<String>,
    /// The parser rejected the statement and `--force` passes it through
    /// unchanged: listed in the summary.
    pub forced: bool,
    /// `schema.table.column` when the statement is pg 18's
    /// `pg_restore_attribute_stats` call for a column whose values are
    /// rewritten: `reps` drops the whole statement.
    pub stats_dropped: Option<String>,
}

/// What the resolver learned about tables, from the statements it parsed:
/// append-only, keyed by schema-qualified name.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Column names of tables, in order, from `CREATE TABLE`.
    pub columns: HashMap<(Vec<u8>, Vec<u8>), Vec<Vec<u8>>>,
    /// Parents (`INHERITS`, `PARTITION OF`) of a table.
    pub parents: HashMap<(Vec<u8>, Vec<u8>), Vec<(Vec<u8>, Vec<u8>)>>,
    /// The read-ahead of the pre-data stopped at this many bytes, before
    /// the first row (`Reader::read_predata`): a later `ATTACH` was not seen.
    pub read_ahead_cut: Option<usize>,
    /// Columns of type `regclass` / `regclass[]`, whose data name relations.
    pub regclass_columns: HashMap<(Vec<u8>, Vec<u8>), Vec<Vec<u8>>>,
    /// Relations created by the statements parsed (tables, views,
    /// materialized views, foreign tables, sequences), for the reader to
    /// take: `ALTER TABLE … RENAME` renames any of them.
    pub created: Vec<(Vec<u8>, Vec<u8>)>,
    /// Versions of the server dumped and of pg_dump (`-- Dumped from
    /// database version …`, `-- Dumped by pg_dump version …`, the archive
    /// header's): the grammar and keywords the dump is read and written
    /// with; from server 18 on, NOT NULL constraints have names.
    pub versions: DumpVersions,
}

/// The parents a `CREATE TABLE` statement names (`INHERITS (…)`,
/// `PARTITION OF …`), in order, as `(schema, name)`, read with PostgreSQL
/// `grammar`'s grammar; none when the parser rejects it (it is decided,
/// and reported, in its turn).
pub fn inherits_from(stmt: &[u8], escapes: bool, grammar: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Ok(sql) = std::str::from_utf8(stmt) else { return Vec::new() };
    let Ok((tree, _)) = parse_as(sql, grammar, escapes) else { return Vec::new() };
    let mut out = Vec::new();
    for raw in &tree.protobuf.stmts {
        let Some(NodeEnum::CreateStmt(cs)) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
            continue;
        };
        for p in &cs.inh_relations {
            if let Some(NodeEnum::RangeVar(rv)) = p.node.as_ref() {
                out.push(rel_key(rv));
            }
        }
    }
    out
}

/// Parses `sql` as PostgreSQL `grammar`'s parser reads it: with the words
/// that are keywords only in newer versions quoted (`pg_grammar::for_parser`);
/// the re-lexing, if any, maps offsets back.
fn parse_as(sql: &str, grammar: u32, escapes: bool) -> Result<(pg_query::ParseResult, Option<Relexed>), pg_query::Error> {
    let mut opts = pg_query::ParserOptions::DEFAULT;
    if escapes {
        opts |= pg_query::ParserOptions::DISABLE_STANDARD_CONFORMING_STRINGS;
    }
    let relexed = crate::decide::pg::grammar::for_parser(sql, grammar, escapes);
    let text = relexed.as_ref().map_or(sql, |r| r.text.as_str());
    Ok((pg_query::parse(text, opts)?, relexed))
}

/// `(schema, name)` of a relation, unqualified ones in `public`.
fn rel_key(rv: &pb::RangeVar) -> (Vec<u8>, Vec<u8>) {
    let s = if rv.schemaname.is_empty() { "public" } else { rv.schemaname.as_str() };
    (s.as_bytes().to_vec(), rv.relname.as_bytes().to_vec())
}

impl Facts {
    /// The columns of a table made with `INHERITS (parents)` or `PARTITION
    /// OF parent` whose own `CREATE TABLE` lists `own`: each parent's
    /// columns in order, then the own columns not merged into one of them
    /// (`MergeAttributes` in tablecmds.c; a partition has exactly its
    /// parent's). A parent whose columns are not known adds none.
    pub fn merged_columns(&self, parents: &[(Vec<u8>, Vec<u8>)], own: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        if parents.is_empty() {
            return own;
        }
        let mut out: Vec<Vec<u8>> = Vec::new();
        for p in parents {
            for c in self.columns.get(p).into_iter().flatten() {
                if !out.contains(c) {
                    out.push(c.clone());
                }
            }
        }
        for c in own {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// Every table `key` inherits from or is a partition of, nearest
    /// first, each once: a live `UPDATE parent` reaches all their rows
    /// (`inheritance.html`: a query on a parent scans its children).
    pub fn ancestors(&self, key: &(Vec<u8>, Vec<u8>)) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut at = 0;
        let mut todo = self.parents.get(key).cloned().unwrap_or_default();
        // An inheritance cycle is not possible; stay finite anyway.
        while at < todo.len() && out.len() <= 64 {
            let p = todo[at].clone();
            at += 1;
            if p == *key || out.contains(&p) {
                continue;
            }
            todo.extend(self.parents.get(&p).into_iter().flatten().cloned());
            out.push(p);
        }
        out
    }

    /// Takes in a statement of the pre-data before any statement is
    /// decided (the reader reads the schema ahead): `ALTER TABLE parent
    /// ATTACH PARTITION child`, which pg_dump writes after the partition's
    /// own `CREATE TABLE`. With the edge known, that `CREATE TABLE` and all
    /// that depends on the partition get the parent's column renames, as
    /// a live `ALTER TABLE parent RENAME COLUMN` gives them. A statement the
    /// parser rejects teaches nothing here: it is decided (and reported) in
    /// its turn. `grammar`: the PostgreSQL major version it is read as.
    pub fn note_predata(&mut self, stmt: &[u8], escapes: bool, grammar: u32) {
        let Ok(sql) = std::str::from_utf8(stmt) else { return };
        let Ok((tree, _)) = parse_as(sql, grammar, escapes) else { return };
        for raw in &tree.protobuf.stmts {
            let Some(NodeEnum::AlterTableStmt(at)) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
                continue;
            };
            let Some(parent) = at.relation.as_ref().map(rel_key) else { continue };
            for cmd in &at.cmds {
                let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() else { continue };
                if c.subtype != pb::AlterTableType::AtAttachPartition as i32 {
                    continue;
                }
                let Some(NodeEnum::PartitionCmd(pc)) = c.def.as_ref().and_then(|d| d.node.as_ref()) else {
                    continue;
                };
                let Some(child) = pc.name.as_ref().map(rel_key) else { continue };
                let list = self.parents.entry(child).or_default();
                if !list.contains(&parent) {
                    list.push(parent.clone());
                }
            }
        }
    }
}

/// One token of the statement.
#[derive(Debug, Clone, Copy)]
struct Tok {
    start: usize,
    end: usize,
    token: i32,
    keyword: bool,
}

impl Tok {
    fn is_ident(&self) -> bool {
        self.token == Token::Ident as i32 || self.keyword
    }
    fn is(&self, t: Token) -> bool {
        self.token == t as i32
    }
}

/// A name visible in a scope (`FROM` item, or the relation a statement is
/// about).
#[derive(Debug, Clone)]
struct Entry {
    /// The name a qualifier must spell to refer to it (alias or relname).
    visible: String,
    /// Schema as written, for `s.t.col` qualifiers (unaliased only).
    schema: Option<String>,
    /// The relation, when this entry is an unaliased or aliased table.
    rel: Option<(String, String)>,
    /// Unaliased reference to a renamed table: qualifiers `t.` are renamed.
    rule: Option<usize>,
    /// A CTE name (shadows a table of the same unqualified name).
    cte: bool,
    /// Columns of this table that a `JOIN … USING` above it binds: the
    /// query keeps calling them by the old name (see `bind_using`).
    kept: Vec<String>,
}

/// Why a statement could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// PostgreSQL's parser rejects the statement (its message).
    Parse(String),
    /// The statement is valid but the rules cannot be followed exactly here.
    Rule(String, Option<Remedy>),
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::Parse(m) | ResolveError::Rule(m, _) => f.write_str(m),
        }
    }
}

struct Resolver<'a> {
    plan: &'a Plan,
    facts: &'a mut Facts,
    raw: &'a [u8],
    toks: Vec<Tok>,
    out: Vec<Replacement>,
    default_schema: &'static str,
    scopes: Vec<Vec<Entry>>,
    escapes: bool,
    /// A rule that cannot be followed exactly in this statement.
    problem: Option<(String, Option<Remedy>)>,
    /// `schema.table.column` of a `pg_restore_attribute_stats` call whose
    /// column's values are rewritten: the statement is dropped.
    stats_dropped: Option<String>,
    /// `JOIN … USING` columns by the location of the relation (`RangeVar`)
    /// that supplies them (see `bind_using`).
    using_bound: HashMap<usize, Vec<String>>,
    /// How the statement was re-lexed for the parser, if it was: tree
    /// locations are offsets in the re-lexed text (`pg_grammar`).
    relexed: Option<&'a Relexed>,
}

/// Finds what to rename in `stmt` (one complete statement). `escapes`:
/// plain strings take backslash escapes (`standard_conforming_strings =
/// off`). Errors are PostgreSQL's own parser's messages.
pub fn resolve(
    plan: &Plan,
    facts: &mut Facts,
    stmt: &[u8],
    escapes: bool,
    extra: &[(Vec<u8>, Vec<u8>)],
) -> Result<Resolved, ResolveError> {
    // libpg_query takes a C string of UTF-8. A dump in another encoding is
    // parsed with each non-ASCII byte replaced by `x`, which keeps every
    // offset and every token boundary (both are identifier bytes to
    // scan.l); names are then compared on the original bytes.
    let owned;
    let sql: &str = match std::str::from_utf8(stmt) {
        Ok(s) => s,
        Err(_) => {
            owned = stmt
                .iter()
                .map(|&b| if b >= 0x80 { 'x' } else { b as char })
                .collect::<String>();
            &owned
        }
    };
    // A dump of an older version is read with that version's grammar: its
    // words that are keywords only later are parsed as the identifiers they
    // were, and every offset is put back on the statement's own bytes.
    let (tree, relexed) =
        parse_as(sql, facts.versions.grammar(), escapes).map_err(|e| ResolveError::Parse(parse_message(e)))?;
    let sql = relexed.as_ref().map_or(sql, |r| r.text.as_str());
    // pg_query's scanner has no standard_conforming_strings switch: with it
    // off, scan a copy in which each `\'` inside a plain string is `''`
    // (same length, same token boundaries under the default setting).
    let scan_copy;
    let scan_text: &str = if escapes && sql.contains('\\') {
        scan_copy = conforming_copy(sql);
        &scan_copy
    } else {
        sql
    };
    let (mut toks, mut comments) = scan(scan_text).map_err(ResolveError::Parse)?;
    if let Some(r) = &relexed {
        for t in toks.iter_mut().chain(comments.iter_mut()) {
            t.start = r.original(t.start);
            t.end = r.original(t.end);
        }
    }
    let mut r = Resolver {
        plan,
        facts,
        raw: stmt,
        toks,
        out: Vec::new(),
        default_schema: "public",
        scopes: Vec::new(),
        escapes,
        problem: None,
        stats_dropped: None,
        using_bound: HashMap::new(),
        relexed: relexed.as_ref(),
    };
    for s in &tree.protobuf.stmts {
        if let Some(n) = s.stmt.as_ref().and_then(|n| n.node.as_ref()) {
            r.node(n);
        }
    }
    // Names of this statement only (Django's recomputed constraint and
    // index names): every identifier token that spells one.
    if !extra.is_empty() {
        for i in 0..r.toks.len() {
            let Some(name) = r.name_at(i) else { continue };
            if let Some((_, new)) = extra.iter().find(|(old, _)| *old == name) {
                let start = r.toks[i].start;
                if !r.out.iter().any(|x| x.start == start) {
                    let new = new.clone();
                    r.push_ident(i, &new, None);
                }
            }
        }
    }
    if let Some((p, remedy)) = r.problem.take() {
        return Err(ResolveError::Rule(p, remedy));
    }
    if let Some(column) = r.stats_dropped.take() {
        // The whole call goes: no rename inside it is left to apply.
        return Ok(Resolved {
            reps: vec![Replacement { start: 0, end: stmt.len(), text: Vec::new(), rule: None }],
            stats_dropped: Some(column),
            ..Default::default()
        });
    }
    let mut out = r.out;
    out.sort_by_key(|x| (x.start, x.end));
    out.dedup();
    // Overlaps would mean two decisions about one byte: refuse, never guess.
    for w in out.windows(2) {
        if w[1].start < w[0].end {
            return Err(ResolveError::Rule(
                format!("internal: overlapping renames at bytes {} and {}", w[0].start, w[1].start),
                None,
            ));
        }
    }
    let mut left_alone = Vec::new();
    if plan.report {
        let mentions = |t: &[u8]| {
            plan.may_mention(t)
                || plan
                    .rewrites
                    .iter()
                    .any(|w| memchr::memmem::find(t, &w.from).is_some())
        };
        let toks = r.toks.iter().chain(comments.iter());
        for t in toks {
            let Some(raw) = stmt.get(t.start..t.end) else { continue };
            if !mentions(raw) || out.iter().any(|x| x.start <= t.start && t.end <= x.end && x.start < x.end) {
                continue;
            }
            let what = if t.is(Token::SqlComment) || t.is(Token::CComment) {
                "comment".to_string()
            } else if t.is(Token::Sconst) && raw.starts_with(b"$") {
                "function body ($…$)".to_string()
            } else if t.is(Token::Sconst) || t.is(Token::Usconst) {
                "string literal".to_string()
            } else if t.is(Token::Ident) {
                format!("name {}", String::from_utf8_lossy(raw))
            } else {
                continue; // keywords and operators are not names
            };
            left_alone.push(what);
        }
    }
    Ok(Resolved {
        reps: out,
        left_alone,
        forced: false,
        stats_dropped: None,
    })
}

fn parse_message(e: pg_query::Error) -> String {
    // Messages come from the server's own parser (`syntax error at or near …`).
    match e {
        pg_query::Error::Parse(m) => m,
        other => other.to_string(),
    }
}

/// `sql` with the backslash-escaped quotes of its plain strings written
/// `''`, for a statement read with `standard_conforming_strings = off`.
fn conforming_copy(sql: &str) -> String {
    let mut out = sql.as_bytes().to_vec();
    for t in crate::frame::lexer::Tokens::with_escapes(crate::frame::lexer::Dialect::Postgres, true, sql.as_bytes()).flatten() {
        if t.kind != crate::frame::lexer::TokenKind::Str || out.get(t.start) != Some(&b'\'') {
            continue; // E'' strings: scan.l handles their escapes itself
        }
        let mut i = t.start + 1;
        while i + 1 < t.end {
            if out[i] == b'\\' {
                if out[i + 1] == b'\'' {
                    out[i] = b'\'';
                }
                i += 2;
            } else {
                i += 1;
            }
        }
    }
    // Only ASCII bytes were changed, into ASCII: still UTF-8.
    String::from_utf8(out).unwrap_or_else(|_| sql.to_owned())
}

/// The statement's tokens, and its comments apart.
fn scan(sql: &str) -> Result<(Vec<Tok>, Vec<Tok>), String> {
    let scanned = pg_query::scan(sql).map_err(parse_message)?;
    let all = scanned.tokens.iter().filter_map(|t| {
        Some(Tok {
            start: usize::try_from(t.start).ok()?,
            end: usize::try_from(t.end).ok()?,
            token: t.token,
            keyword: t.keyword_kind != 0,
        })
    });
    Ok(all.partition(|t| !t.is(Token::SqlComment) && !t.is(Token::CComment)))
}

/// The strings of a `List`/`fields` list of `String` nodes (`None` for
/// `A_Star` and anything else).
fn strings(list: &[pb::Node]) -> Vec<Option<String>> {
    list.iter()
        .map(|n| match &n.node {
            Some(NodeEnum::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

/// An alias's name, when it has one.
fn alias_name(a: Option<&pb::Alias>) -> Option<&str> {
    a.map(|a| a.aliasname.as_str()).filter(|a| !a.is_empty())
}

/// PostgreSQL's `downcase_identifier` for the ASCII letters, and quoted
/// identifiers as written (`scan.l`): the name a token spells.
fn token_name(raw: &[u8]) -> Option<Vec<u8>> {
    if let Some(inner) = raw.strip_prefix(b"\"") {
        let inner = inner.strip_suffix(b"\"")?;
        let mut out = Vec::with_capacity(inner.len());
        let mut i = 0;
        while i < inner.len() {
            out.push(inner[i]);
            i += if inner[i] == b'"' { 2 } else { 1 };
        }
        Some(out)
    } else if raw.starts_with(b"U&") || raw.starts_with(b"u&") {
        None // Unicode-escaped identifier: never guessed at.
    } else {
        Some(raw.to_ascii_lowercase())
    }
}

impl Resolver<'_> {
    /// True when token `i` is the keyword `w` (any case).
    fn word(&self, i: usize, w: &[u8]) -> bool {
        self.toks
            .get(i)
            .is_some_and(|t| self.raw[t.start..t.end].eq_ignore_ascii_case(w))
    }

    fn tok_at(&self, at: usize) -> Option<usize> {
        self.toks.binary_search_by_key(&at, |t| t.start).ok()
    }

    /// The name the identifier token `i` spells, from the original bytes.
    fn name_at(&self, i: usize) -> Option<Vec<u8>> {
        let t = self.toks.get(i)?;
        if !t.is_ident() {
            return None;
        }
        token_name(self.raw.get(t.start..t.end)?)
    }

    /// Token indices of the dotted name of `n` parts starting at token `i`,
    /// checked to spell `want` (as the parser read it).
    fn dotted(&self, i: usize, want: &[&str]) -> Option<Vec<usize>> {
        let mut idx = Vec::with_capacity(want.len());
        for (k, w) in want.iter().enumerate() {
            let j = i + 2 * k;
            if k > 0 && !self.toks.get(j - 1)?.is(Token::Ascii46) {
                return None;
            }
            let name = self.name_at(j)?;
            if !self.same(&name, w) {
                return None;
            }
            idx.push(j);
        }
        Some(idx)
    }

    /// True when the original bytes `name` are what the parser read as `w`.
    /// On non-UTF-8 input the parser saw `x` for each non-ASCII byte.
    fn same(&self, name: &[u8], w: &str) -> bool {
        name == w.as_bytes()
            || (name.len() == w.len()
                && name
                    .iter()
                    .zip(w.bytes())
                    .all(|(&a, b)| a == b || (a >= 0x80 && b == b'x')))
    }

    fn push_ident(&mut self, tok: usize, new: &[u8], rule: Option<usize>) {
        let Some(t) = self.toks.get(tok).copied() else {
            return;
        };
        let mut text = Vec::with_capacity(new.len() + 2);
        ident::push_pg(new, self.facts.versions.quoting(), &mut text);
        self.out.push(Replacement {
            start: t.start,
            end: t.end,
            text,
            rule,
        });
    }

    /// The table rename rule for `schema.name` (unqualified: the default
    /// schema), by the names the parser read.
    fn table_rule(&self, schema: Option<&str>, name: &str) -> Option<usize> {
        let schema = schema.unwrap_or(self.default_schema);
        self.plan.renames.iter().position(|r| {
            r.old == name.as_bytes() && r.schema == schema.as_bytes()
        })
    }

    /// The new name of column `col` of table `schema.table` (or of a table
    /// it inherits from: a live rename recurses to children).
    fn column_rule(&self, schema: &str, table: &str, col: &str) -> Option<Vec<u8>> {
        let mut seen = 0;
        let mut todo = vec![(schema.as_bytes().to_vec(), table.as_bytes().to_vec())];
        while let Some((s, t)) = todo.pop() {
            if let Some(c) = self
                .plan
                .columns
                .iter()
                .find(|c| c.schema == s && c.table == t && c.old == col.as_bytes())
            {
                return Some(c.new.clone());
            }
            seen += 1;
            if seen > 64 {
                break; // an inheritance cycle is not possible; stay finite anyway
            }
            if let Some(p) = self.facts.parents.get(&(s, t)) {
                todo.extend(p.iter().cloned());
            }
        }
        None
    }

    fn has_column_rules(&self) -> bool {
        !self.plan.columns.is_empty()
    }

    // ---- the walk -------------------------------------------------------

    /// A tree location on the statement's own bytes (the re-lexing, if
    /// any, moved it); `None` for the parser's "unknown" (-1).
    fn loc(&self, l: i32) -> Option<usize> {
        let l = usize::try_from(l).ok()?;
        Some(self.relexed.map_or(l, |r| r.original(l)))
    }

    /// The token at a tree location.
    fn tok_of(&self, l: i32) -> Option<usize> {
        self.loc(l).and_then(|l| self.tok_at(l))
    }

    fn walk_opt(&mut self, n: &Option<Box<pb::Node>>) {
        if let Some(n) = n.as_ref().and_then(|n| n.node.as_ref()) {
            self.node(n);
        }
    }

    fn walk_list(&mut self, ns: &[pb::Node]) {
        for n in ns {
            if let Some(n) = &n.node {
                self.node(n);
            }
        }
    }

    /// A statement that changes rows of one relation (`INSERT`, `UPDATE`,
    /// `DELETE`, `MERGE`): its relation and `FROM`/`USING` items are in
    /// scope for the rest; `rest` walks the fields not named in `d`.
    fn dml(&mut self, d: Dml<'_>, rest: impl FnOnce(&mut Self)) {
        let mut frame = Vec::new();
        if let Some(rv) = d.relation {
            self.from_rel(rv, &mut frame);
        }
        if let Some(n) = d.source_relation {
            self.from_item(n, &mut frame);
        }
        for it in d.from.iter().chain(d.using).filter_map(|n| n.node.as_ref()) {
            self.from_item(it, &mut frame);
        }
        let rel = d.relation.map(|rv| self.rel_key(rv));
        if let Some(rv) = d.relation {
            self.range_var(rv);
        }
        if let Some(n) = d.source_relation {
            self.node(n);
        }
        self.walk_list(d.from);
        self.walk_list(d.using);
        self.scopes.push(frame);
        self.target_columns(d.cols, rel.clone());
        self.target_columns(d.target_list, rel);
        // RETURNING is a target list (ruleutils.c get_returning_clause
        // prints it with get_target_list): a renamed bare column keeps
        // its output name, `AS old`.
        if let Some(ret) = d.returning {
            for x in ret.exprs.iter().filter_map(|n| n.node.as_ref()) {
                self.select_target(x);
            }
            let mut others = ret.clone();
            others.exprs.clear();
            others.children(self);
        }
        rest(self);
        self.scopes.pop();
    }

    /// A statement about one relation: that relation is in scope for the
    /// expressions inside (CHECK, index and policy expressions).
    fn about_relation<T: Children>(&mut self, rel: Option<&pb::RangeVar>, v: &T, extra: impl FnOnce(&mut Self)) {
        let mut frame = Vec::new();
        if let Some(rv) = rel {
            self.from_rel(rv, &mut frame);
        }
        self.scopes.push(frame);
        v.children(self);
        extra(self);
        self.scopes.pop();
    }

    /// Adds a `FROM` item's visible names to `frame`, renaming the tables
    /// it names (the item is walked here, its sub-parts by the caller's walk
    /// only where they are not relations).
    fn from_item(&mut self, n: &NodeEnum, frame: &mut Vec<Entry>) {
        match n {
            NodeEnum::RangeVar(rv) => self.from_rel(rv, frame),
            NodeEnum::JoinExpr(j) => {
                self.bind_using(j);
                let mut inner_frame = Vec::new();
                for side in [&j.larg, &j.rarg] {
                    if let Some(s) = side.as_ref().and_then(|s| s.node.as_ref()) {
                        self.from_item(s, &mut inner_frame);
                    }
                }
                match alias_name(j.alias.as_ref()) {
                    // A join with an alias hides the tables inside it.
                    Some(a) => frame.push(Entry {
                        visible: a.to_owned(),
                        schema: None,
                        rel: None,
                        rule: None,
                        cte: false,
                        kept: Vec::new(),
                    }),
                    None => frame.extend(inner_frame),
                }
            }
            _ => {
                if let Some(a) = alias_name(nodes::alias(n)) {
                    frame.push(Entry {
                        visible: a.to_owned(),
                        schema: None,
                        rel: None,
                        rule: None,
                        cte: false,
                        kept: Vec::new(),
                    });
                }
            }
        }
    }

    /// A relation as a `FROM` item (or as the relation a statement is about).
    fn from_rel(&mut self, rv: &pb::RangeVar, frame: &mut Vec<Entry>) {
        let alias = alias_name(rv.alias.as_ref());
        let name = rv.relname.as_str();
        let schema = (!rv.schemaname.is_empty()).then_some(rv.schemaname.as_str());
        let cte = schema.is_none() && self.is_cte(name);
        let rule = if cte { None } else { self.table_rule(schema, name) };
        let rel = (!cte).then(|| (schema.unwrap_or(self.default_schema).to_owned(), name.to_owned()));
        let kept = self
            .loc(rv.location)
            .and_then(|l| self.using_bound.get(&l))
            .cloned()
            .unwrap_or_default();
        frame.push(Entry {
            visible: alias.unwrap_or(name).to_owned(),
            schema: if alias.is_some() { None } else { schema.map(str::to_owned) },
            rel,
            rule: if alias.is_some() { None } else { rule },
            cte,
            kept,
        });
    }

    /// `JOIN … USING (c)` names the column `c` of each side, and the view
    /// keeps that name when the column is renamed: ruleutils.c
    /// (`set_using_names`, `set_relation_column_names`) then prints the
    /// table that supplies it with a column alias list in which `c` keeps
    /// its old name and every other column has its current one,
    /// `public.a a(id, x_renamed)`, and `a.id` goes on meaning that column.
    /// Records, by the location of each `RangeVar` that supplies a USING
    /// column, the names bound there.
    fn bind_using(&mut self, join: &pb::JoinExpr) {
        let names: Vec<String> = strings(&join.using_clause).into_iter().flatten().collect();
        for u in &names {
            for side in [&join.larg, &join.rarg] {
                if let Some(s) = side.as_ref().and_then(|s| s.node.as_ref()) {
                    self.bind_using_side(s, u);
                }
            }
        }
    }

    /// Binds USING column `u` in the `FROM` item `v` to the relation that
    /// supplies it; true when found. Through a join: both sides when it is
    /// that join's own merged USING column, else the side that has it.
    /// Subqueries and functions keep their output names (a renamed column
    /// in a subquery's target list gets `AS old`), so nothing is bound there.
    fn bind_using_side(&mut self, v: &NodeEnum, u: &str) -> bool {
        let col_aliases = nodes::alias(v).map(|a| a.colnames.as_slice()).unwrap_or_default();
        let has_col_aliases = !col_aliases.is_empty();
        match v {
            NodeEnum::RangeVar(rv) => {
                let schema = rv.schemaname.as_str();
                let name = rv.relname.as_str();
                if schema.is_empty() && self.is_cte(name) {
                    return false;
                }
                if has_col_aliases {
                    // The alias list names the columns already.
                    return strings(col_aliases).iter().any(|c| c.as_deref() == Some(u));
                }
                let rel = (
                    if schema.is_empty() { self.default_schema } else { schema }.to_owned(),
                    name.to_owned(),
                );
                let key = (rel.0.as_bytes().to_vec(), rel.1.as_bytes().to_vec());
                let has = match self.facts.columns.get(&key) {
                    Some(cols) => cols.iter().any(|c| c == u.as_bytes()),
                    None => {
                        if self.column_rule(&rel.0, &rel.1, u).is_some() {
                            self.problem = Some((
                                format!(
                                    "a JOIN … USING ({u}) reads column {u} of {}.{}, which a rule renames, \
                                     and the table's CREATE TABLE was not seen before this statement: \
                                     its column list cannot be written",
                                    rel.0, rel.1
                                ),
                                None,
                            ));
                        }
                        return false;
                    }
                };
                if has {
                    if let Some(l) = self.loc(rv.location) {
                        let list = self.using_bound.entry(l).or_default();
                        if !list.iter().any(|c| c == u) {
                            list.push(u.to_owned());
                        }
                    }
                }
                has
            }
            NodeEnum::JoinExpr(j) if !has_col_aliases => {
                let sides = [&j.larg, &j.rarg].map(|s| s.as_ref().and_then(|s| s.node.as_ref()));
                let own = strings(&j.using_clause);
                if own.iter().any(|c| c.as_deref() == Some(u)) {
                    let mut found = false;
                    for s in sides.into_iter().flatten() {
                        found |= self.bind_using_side(s, u);
                    }
                    return found;
                }
                sides.into_iter().flatten().any(|s| self.bind_using_side(s, u))
            }
            _ => false,
        }
    }

    /// After a relation whose USING-bound columns include a renamed one:
    /// the alias (the table's current name if it has none) and the column
    /// alias list ruleutils.c prints for it (`get_column_alias_list`).
    fn using_alias_list(&mut self, v: &pb::RangeVar) {
        let Some(bound) = self.loc(v.location).and_then(|l| self.using_bound.get(&l)).cloned() else {
            return;
        };
        let schema = v.schemaname.as_str();
        let name = v.relname.as_str();
        let catalog = v.catalogname.as_str();
        let s = if schema.is_empty() { self.default_schema } else { schema }.to_owned();
        if !bound.iter().any(|u| self.column_rule(&s, name, u).is_some()) {
            return;
        }
        let Some(cols) = self.facts.columns.get(&(s.as_bytes().to_vec(), name.as_bytes().to_vec())).cloned() else {
            return;
        };
        let Some(at) = self.tok_of(v.location) else {
            return;
        };
        let mut want: Vec<&str> = Vec::new();
        if !catalog.is_empty() {
            want.push(catalog);
        }
        if !schema.is_empty() {
            want.push(schema);
        }
        want.push(name);
        let Some(&last) = self.dotted(at, &want).and_then(|idx| idx.last().copied()).as_ref() else {
            return;
        };
        let alias = alias_name(v.alias.as_ref());
        let mut text = Vec::new();
        let end = match alias {
            Some(a) => {
                let tok = if self.word(last + 1, b"AS") { last + 2 } else { last + 1 };
                match self.name_at(tok) {
                    Some(n) if self.same(&n, a) => self.toks[tok].end,
                    _ => return,
                }
            }
            None => {
                text.push(b' ');
                let refname = match self.table_rule(Some(&s), name) {
                    Some(rule) => self.plan.renames[rule].new.clone(),
                    None => name.as_bytes().to_vec(),
                };
                ident::push_pg(&refname, self.facts.versions.quoting(), &mut text);
                self.toks[last].end
            }
        };
        text.push(b'(');
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                text.extend_from_slice(b", ");
            }
            let c_str = String::from_utf8_lossy(c);
            let printed = if bound.iter().any(|u| u.as_bytes() == c.as_slice()) {
                c.clone()
            } else {
                self.column_rule(&s, name, &c_str).unwrap_or_else(|| c.clone())
            };
            ident::push_pg(&printed, self.facts.versions.quoting(), &mut text);
        }
        text.push(b')');
        self.out.push(Replacement {
            start: end,
            end,
            text,
            rule: None,
        });
    }

    fn is_cte(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .rev()
            .flatten()
            .any(|e| e.cte && e.visible == name)
    }

    fn select(&mut self, v: &pb::SelectStmt) {
        // WITH names are visible to the whole statement, the CTE bodies
        // included (WITH RECURSIVE).
        let mut ctes = Vec::new();
        for c in v.with_clause.iter().flat_map(|w| &w.ctes) {
            if let Some(NodeEnum::CommonTableExpr(c)) = &c.node {
                ctes.push(Entry {
                    visible: c.ctename.clone(),
                    schema: None,
                    rel: None,
                    rule: None,
                    cte: true,
                    kept: Vec::new(),
                });
            }
        }
        let pushed_ctes = !ctes.is_empty();
        if pushed_ctes {
            self.scopes.push(ctes);
        }
        // UNION / INTERSECT / EXCEPT: each branch is a query of its own with
        // its own FROM scope. The tree holds the branches as bare
        // `SelectStmt`s (not `Node`-wrapped), which the generic walk would
        // not recognise as queries.
        if v.larg.is_some() || v.rarg.is_some() {
            for b in [&v.larg, &v.rarg].into_iter().flatten() {
                self.select(b);
            }
            let mut others = v.clone();
            others.larg = None;
            others.rarg = None;
            others.children(self);
            if pushed_ctes {
                self.scopes.pop();
            }
            return;
        }
        let mut frame = Vec::new();
        for it in v.from_clause.iter().filter_map(|n| n.node.as_ref()) {
            self.from_item(it, &mut frame);
        }
        self.scopes.push(frame);
        for x in v.target_list.iter().filter_map(|n| n.node.as_ref()) {
            self.select_target(x);
        }
        let mut others = v.clone();
        others.target_list.clear();
        others.children(self);
        self.scopes.pop();
        if pushed_ctes {
            self.scopes.pop();
        }
    }

    /// The scope entry a qualifier `[schema.]name` refers to: the innermost
    /// scope that has it decides.
    fn lookup(&self, schema: Option<&str>, name: &str) -> Option<&Entry> {
        for frame in self.scopes.iter().rev() {
            let hit = frame.iter().find(|e| {
                !e.cte
                    && e.visible == name
                    && match schema {
                        None => true,
                        Some(s) => e.schema.as_deref() == Some(s),
                    }
            });
            if hit.is_some() {
                return hit;
            }
            if frame.iter().any(|e| e.cte && e.visible == name && schema.is_none()) {
                return None;
            }
        }
        None
    }

    /// Renames the qualifier (and a renamed column) of a column reference.
    /// Returns the new column name when the column part was renamed.
    fn column_ref(&mut self, v: &pb::ColumnRef) -> Option<Vec<u8>> {
        let fields = strings(&v.fields);
        let at = self.tok_of(v.location)?;
        let n = fields.len();
        if n == 0 || n > 4 {
            return None;
        }
        let star = fields[n - 1].is_none();
        if fields[..n - 1].iter().any(Option::is_none) {
            return None;
        }
        let names: Vec<&str> = fields.iter().map(|f| f.as_deref().unwrap_or("*")).collect();
        if n == 1 {
            // An unqualified column: only a single-relation scope decides
            // (ruleutils qualifies every column once a query has more than
            // one range-table entry).
            if star || !self.has_column_rules() {
                return None;
            }
            let frame = self.scopes.iter().rev().find(|f| !f.is_empty())?;
            let [only] = frame.as_slice() else {
                return None;
            };
            let (s, t) = only.rel.clone()?;
            let new = self.column_rule(&s, &t, names[0])?;
            self.dotted(at, &names[..1])?;
            self.push_ident(at, &new, None);
            return Some(new);
        }
        let want: Vec<&str> = names[..n - 1].to_vec();
        let idx = self.dotted(at, &want)?;
        let qual = names[n - 2];
        let schema = (n >= 3).then(|| names[n - 3]);
        let entry = self.lookup(schema, qual)?.clone();
        if let Some(rule) = entry.rule {
            let new = self.plan.renames[rule].new.clone();
            self.push_ident(idx[n - 2], &new, Some(rule));
        }
        if star {
            return None;
        }
        let (s, t) = entry.rel?;
        if entry.kept.iter().any(|k| k == names[n - 1]) {
            return None; // bound by a JOIN … USING: the alias list keeps its name
        }
        let new = self.column_rule(&s, &t, names[n - 1])?;
        // The column token follows the last dot.
        let col_tok = idx[n - 2] + 2;
        let name = self.name_at(col_tok)?;
        if !self.same(&name, names[n - 1]) {
            return None;
        }
        self.push_ident(col_tok, &new, None);
        Some(new)
    }

    /// A `SELECT` target-list entry: a bare column reference whose column
    /// is renamed keeps its output name, written `AS old` as ruleutils.c's
    /// `get_target_list` does when a column's name and its output name
    /// differ.
    fn select_target(&mut self, v: &NodeEnum) {
        let bare = match v {
            NodeEnum::ResTarget(rt) if rt.name.is_empty() => match rt.val.as_ref().and_then(|n| n.node.as_ref()) {
                Some(NodeEnum::ColumnRef(cr)) => Some(cr),
                _ => None,
            },
            _ => None,
        };
        let Some(cr) = bare else {
            return self.node(v);
        };
        let fields = strings(&cr.fields);
        let old = fields.last().cloned().flatten();
        if self.column_ref(cr).is_some() {
            let end = self
                .tok_of(cr.location)
                .and_then(|i| self.toks.get(i + 2 * (fields.len() - 1)))
                .map(|t| t.end);
            if let (Some(old), Some(end)) = (old, end) {
                let mut text = b" AS ".to_vec();
                ident::push_pg(old.as_bytes(), self.facts.versions.quoting(), &mut text);
                self.out.push(Replacement {
                    start: end,
                    end,
                    text,
                    rule: None,
                });
            }
        }
    }

    /// `ResTarget`s naming columns of the statement's relation (`INSERT`
    /// column lists, `UPDATE … SET col`), located at the name.
    fn target_columns(&mut self, items: &[pb::Node], rel: Option<(String, String)>) {
        for it in items.iter().filter_map(|n| n.node.as_ref()) {
            if let (NodeEnum::ResTarget(rt), Some((s, t))) = (it, rel.as_ref()) {
                let name = rt.name.as_str();
                if !name.is_empty() {
                    if let (Some(new), Some(i)) = (self.column_rule(s, t, name), self.tok_of(rt.location)) {
                        if self.dotted(i, &[name]).is_some() {
                            self.push_ident(i, &new, None);
                        }
                    }
                }
                self.walk_opt(&rt.val);
                self.walk_list(&rt.indirection);
            } else {
                self.node(it);
            }
        }
    }

    /// The relation `rv` names, as `(schema, name)`.
    fn rel_key(&self, rv: &pb::RangeVar) -> (String, String) {
        let s = rv.schemaname.as_str();
        (
            if s.is_empty() { self.default_schema.to_owned() } else { s.to_owned() },
            rv.relname.clone(),
        )
    }

    /// The relation a node names, when it is a `RangeVar`.
    fn rel_of_node(&self, n: &pb::Node) -> Option<(String, String)> {
        match &n.node {
            Some(NodeEnum::RangeVar(rv)) => Some(self.rel_key(rv)),
            _ => None,
        }
    }

    /// Token index just after the dotted name of the relation `rv`.
    fn after_rel(&self, rv: &pb::RangeVar) -> Option<usize> {
        let at = self.tok_of(rv.location)?;
        let parts = 1 + usize::from(!rv.schemaname.is_empty()) + usize::from(!rv.catalogname.is_empty());
        Some(at + 2 * parts - 1)
    }

    /// The identifier tokens of the parenthesized list starting at the
    /// first `(` at or after token `from`, one entry per comma-separated
    /// element: the element's first token when it is an identifier.
    fn paren_list(&self, from: usize) -> Vec<Option<usize>> {
        let mut out = Vec::new();
        let Some(open) = (from..self.toks.len()).find(|&i| self.toks[i].is(Token::Ascii40)) else {
            return out;
        };
        let mut depth = 0usize;
        let mut first = true;
        for i in open..self.toks.len() {
            let t = self.toks[i];
            if t.is(Token::Ascii40) {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            } else if t.is(Token::Ascii41) {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            if depth == 1 && t.is(Token::Ascii44) {
                first = true;
                continue;
            }
            if first {
                out.push(t.is_ident().then_some(i));
                first = false;
            }
        }
        out
    }

    /// Renames the names of `names` (of a list of `String` nodes) that are
    /// columns of `rel` with a rule, found in order in the list at `from`.
    fn rename_listed(&mut self, names: &[Option<String>], from: usize, rel: &(String, String)) {
        let list = self.paren_list(from);
        self.rename_tokens(names, list, rel);
    }

    /// `rename_listed` for the column lists of a foreign key, where
    /// PostgreSQL 18's temporal keys write `PERIOD col` as the last element
    /// (gram.y `optionalPeriodName`; ruleutils.c prints `PERIOD ` before it):
    /// there the name is the token after the bare keyword.
    fn rename_listed_fk(&mut self, names: &[Option<String>], from: usize, rel: &(String, String)) {
        let list = self
            .paren_list(from)
            .into_iter()
            .map(|tok| {
                let t = tok?;
                let period = self.raw[self.toks[t].start..self.toks[t].end].eq_ignore_ascii_case(b"PERIOD");
                match self.toks.get(t + 1) {
                    Some(next) if period && next.is_ident() => Some(t + 1),
                    _ => Some(t),
                }
            })
            .collect();
        self.rename_tokens(names, list, rel);
    }

    fn rename_tokens(&mut self, names: &[Option<String>], list: Vec<Option<usize>>, rel: &(String, String)) {
        if names.is_empty() || !self.has_column_rules() {
            return;
        }
        for (n, tok) in names.iter().zip(list) {
            let (Some(n), Some(tok)) = (n, tok) else {
                continue;
            };
            if let Some(new) = self.column_rule(&rel.0, &rel.1, n) {
                if self.dotted(tok, &[n]).is_some() {
                    self.push_ident(tok, &new, None);
                }
            }
        }
    }

    fn create_table(&mut self, v: &pb::CreateStmt) {
        let me = v.relation.as_ref().map(|rv| self.rel_key(rv));
        let column_defs = || {
            v.table_elts.iter().filter_map(|e| match &e.node {
                Some(NodeEnum::ColumnDef(cd)) => Some(&**cd),
                _ => None,
            })
        };
        if let Some(me) = &me {
            let mut inh = Vec::new();
            for p in &v.inh_relations {
                if let Some(parent) = self.rel_of_node(p) {
                    let key = (me.0.as_bytes().to_vec(), me.1.as_bytes().to_vec());
                    let val = (parent.0.into_bytes(), parent.1.into_bytes());
                    inh.push(val.clone());
                    let list = self.facts.parents.entry(key).or_default();
                    if !list.contains(&val) {
                        list.push(val);
                    }
                }
            }
            let own: Vec<Vec<u8>> = column_defs().map(|cd| cd.colname.as_bytes().to_vec()).collect();
            let key = (me.0.as_bytes().to_vec(), me.1.as_bytes().to_vec());
            let cols = self.facts.merged_columns(&inh, own);
            self.facts.columns.entry(key).or_insert(cols);
            let regclass: Vec<Vec<u8>> = column_defs()
                .filter(|cd| {
                    cd.type_name
                        .as_ref()
                        .and_then(|t| strings(&t.names).last().cloned())
                        .is_some_and(|n| n.as_deref() == Some("regclass"))
                })
                .map(|cd| {
                    let old = cd.colname.as_str();
                    self.column_rule(&me.0, &me.1, old)
                        .unwrap_or_else(|| old.as_bytes().to_vec())
                })
                .collect();
            if !regclass.is_empty() {
                self.facts
                    .regclass_columns
                    .insert((me.0.as_bytes().to_vec(), me.1.as_bytes().to_vec()), regclass);
            }
            self.keep_not_null_names(column_defs(), me);
        }
        self.about_relation(v.relation.as_ref(), v, |_| {});
    }

    /// PostgreSQL 18 names each NOT NULL constraint `table_column_not_null`
    /// when it is made, and a live `RENAME` (of the table or the column)
    /// keeps that name. pg_dump 18 leaves a name out exactly when it is the
    /// default for the table's and column's current names (`pg_dump.c`,
    /// `determineNotNullFlags`). So for a renamed table or column: a bare
    /// `NOT NULL` (named for the old names) gets `CONSTRAINT old_col_not_null`,
    /// and a `CONSTRAINT name` that is the default for the new names is
    /// dropped (a `--reverse` run gives back the bare form) — as pg_dump
    /// dumps the live result.
    fn keep_not_null_names<'c>(&mut self, cds: impl Iterator<Item = &'c pb::ColumnDef>, me: &(String, String)) {
        if self.facts.versions.server.is_none_or(|m| m < 18) {
            return;
        }
        let table_rule = self.table_rule(Some(&me.0), &me.1);
        let new_table = match table_rule {
            Some(r) => String::from_utf8_lossy(&self.plan.renames[r].new).into_owned(),
            None => me.1.clone(),
        };
        for cd in cds {
            let col = cd.colname.as_str();
            let col_rule = self.column_rule(&me.0, &me.1, col);
            if table_rule.is_none() && col_rule.is_none() {
                continue;
            }
            let new_col = col_rule.map_or_else(|| col.to_string(), |c| String::from_utf8_lossy(&c).into_owned());
            for c in cd.constraints.iter().filter_map(|c| match &c.node {
                Some(NodeEnum::Constraint(c)) => Some(c),
                _ => None,
            }) {
                let not_null = c.contype == pb::ConstrType::ConstrNotnull as i32;
                let Some(i) = self.tok_of(c.location) else { continue };
                if !not_null {
                    continue;
                }
                let name = c.conname.as_str();
                if name.is_empty() {
                    let Some(t) = self.toks.get(i).copied() else { continue };
                    let mut text = b"CONSTRAINT ".to_vec();
                    ident::push_pg(format!("{}_{col}_not_null", me.1).as_bytes(), self.facts.versions.quoting(), &mut text);
                    text.push(b' ');
                    self.out.push(Replacement { start: t.start, end: t.start, text, rule: None });
                } else if name == format!("{new_table}_{new_col}_not_null") {
                    // `CONSTRAINT name NOT NULL`: the location is CONSTRAINT's.
                    let word = |k: usize, w: &[u8]| {
                        self.toks.get(k).is_some_and(|t| self.raw[t.start..t.end].eq_ignore_ascii_case(w))
                    };
                    if word(i, b"CONSTRAINT") && word(i + 2, b"NOT") {
                        let (start, end) = (self.toks[i].start, self.toks[i + 2].start);
                        self.out.push(Replacement { start, end, text: Vec::new(), rule: None });
                    }
                }
            }
        }
    }

    fn note_created(&mut self, rv: Option<&pb::RangeVar>) {
        if let Some((s, t)) = rv.map(|rv| self.rel_key(rv)) {
            self.facts.created.push((s.into_bytes(), t.into_bytes()));
        }
    }

    /// The relation the innermost statement is about (its first scope).
    fn about(&self) -> Option<(String, String)> {
        self.scopes.first()?.first()?.rel.clone()
    }

    /// A column named at its node's location: a `ColumnDef`, or a
    /// `PartitionElem` that is a bare column (an expression key is walked).
    fn column_def<T: Children>(&mut self, name: &str, location: i32, v: &T) {
        if let (Some((s, t)), Some(i)) = (self.about(), self.tok_of(location)) {
            if let Some(new) = self.column_rule(&s, &t, name) {
                if self.dotted(i, &[name]).is_some() {
                    self.push_ident(i, &new, None);
                }
            }
        }
        v.children(self);
    }

    fn constraint(&mut self, v: &pb::Constraint) {
        v.children(self);
        if !self.has_column_rules() {
            return;
        }
        let Some(mut from) = self.tok_of(v.location) else {
            return;
        };
        if !v.conname.is_empty() {
            from += 2; // CONSTRAINT name
        }
        if let Some(me) = self.about() {
            for (key, list) in [("keys", &v.keys), ("fk_attrs", &v.fk_attrs), ("including", &v.including)] {
                let names = strings(list);
                if names.is_empty() {
                    continue;
                }
                if key == "including" {
                    if let Some(at) = (from..self.toks.len()).find(|&i| {
                        self.raw[self.toks[i].start..self.toks[i].end].eq_ignore_ascii_case(b"INCLUDE")
                    }) {
                        self.rename_listed(&names, at, &me);
                    }
                    continue;
                }
                // `NOT NULL col` (PostgreSQL 18's named not-null) has no parentheses.
                if let (Some(Some(n)), Some(i)) = (names.first(), self.not_null_column(from)) {
                    if let Some(new) = self.column_rule(&me.0, &me.1, n) {
                        if self.dotted(i, &[n]).is_some() {
                            self.push_ident(i, &new, None);
                        }
                    }
                    continue;
                }
                if key == "fk_attrs" {
                    self.rename_listed_fk(&names, from, &me);
                } else {
                    self.rename_listed(&names, from, &me);
                }
            }
            // `EXCLUDE [USING m] (col WITH op, (expr) WITH op)`: each item of
            // `exclusions` is a list (IndexElem, operator name), gram.y
            // ExclusionConstraintElem; the element list is the first
            // parenthesis after the keyword, expressions are walked above.
            let excl: Vec<Option<String>> = v
                .exclusions
                .iter()
                .map(|e| match &e.node {
                    Some(NodeEnum::List(l)) => match l.items.first().and_then(|n| n.node.as_ref()) {
                        Some(NodeEnum::IndexElem(ie)) => Some(ie.name.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            self.rename_listed(&excl, from, &me);
        }
        if let Some(pk) = &v.pktable {
            if let Some(after) = self.after_rel(pk) {
                let pk_rel = self.rel_key(pk);
                self.rename_listed_fk(&strings(&v.pk_attrs), after, &pk_rel);
            }
        }
    }

    /// `NOT NULL col` right at token `from`: the column's token.
    fn not_null_column(&self, from: usize) -> Option<usize> {
        let word = |i: usize, w: &[u8]| {
            self.toks
                .get(i)
                .is_some_and(|t| self.raw[t.start..t.end].eq_ignore_ascii_case(w))
        };
        (word(from, b"NOT") && word(from + 1, b"NULL") && self.toks.get(from + 2)?.is_ident())
            .then_some(from + 2)
    }

    fn alter_table_cmds(&mut self, v: &pb::AlterTableStmt) {
        self.attach_partition(v);
        // Column names of `ALTER COLUMN name …` have no location in the
        // tree: pg_dump always writes the COLUMN keyword before them.
        let Some(me) = self.about() else {
            return;
        };
        if !self.has_column_rules() {
            return;
        }
        for i in 0..self.toks.len() {
            let t = self.toks[i];
            if self.raw[t.start..t.end].eq_ignore_ascii_case(b"COLUMN") {
                if let Some(name) = self.name_at(i + 1) {
                    let Ok(n) = std::str::from_utf8(&name) else {
                        continue;
                    };
                    let n = n.to_owned();
                    if let Some(new) = self.column_rule(&me.0, &me.1, &n) {
                        self.push_ident(i + 1, &new, None);
                    }
                }
            }
        }
    }

    /// `ALTER TABLE parent ATTACH PARTITION child`: the child inherits the
    /// parent's column renames (a live rename recurses to partitions). pg_dump
    /// writes the child's own `CREATE TABLE`, with every column, before this
    /// statement, and a single pass cannot go back to it: unless the rules
    /// name the child's columns too, stop and say which rule to add.
    fn attach_partition(&mut self, v: &pb::AlterTableStmt) {
        let Some(parent) = v.relation.as_ref().map(|rv| self.rel_key(rv)) else {
            return;
        };
        for cmd in &v.cmds {
            let Some(NodeEnum::AlterTableCmd(c)) = &cmd.node else {
                continue;
            };
            let Some(NodeEnum::PartitionCmd(pc)) = c.def.as_ref().and_then(|d| d.node.as_ref()) else {
                continue;
            };
            if c.subtype != pb::AlterTableType::AtAttachPartition as i32 {
                continue;
            }
            let Some(child) = pc.name.as_ref().map(|rv| self.rel_key(rv)) else {
                continue;
            };
            let key = (child.0.as_bytes().to_vec(), child.1.as_bytes().to_vec());
            let val = (parent.0.as_bytes().to_vec(), parent.1.as_bytes().to_vec());
            // Known before the child was decided (`Facts::note_predata`, the
            // read-ahead of the pre-data): its columns were renamed with it.
            if self.facts.parents.get(&key).is_some_and(|p| p.contains(&val)) {
                continue;
            }
            let inherited: Vec<_> = self
                .plan
                .columns
                .iter()
                .filter(|c| c.schema == val.0 && c.table == val.1)
                .filter(|c| {
                    !self
                        .plan
                        .columns
                        .iter()
                        .any(|o| o.schema == key.0 && o.table == key.1 && o.old == c.old)
                })
                .map(|c| {
                    // As `Rules::parse_column_rename` reads it.
                    format!(
                        "{}.{}.{}={}",
                        child.0,
                        child.1,
                        String::from_utf8_lossy(&c.old),
                        String::from_utf8_lossy(&c.new)
                    )
                })
                .collect();
            // A value rule on the parent (or above) reaches the partition's
            // rows only through this edge; they may have been read already.
            let mut own = Vec::new();
            own.extend(self.plan.rewrites_of(Some(key.0.as_slice()), &key.1));
            let values: Vec<String> = self
                .plan
                .rewrites_inherited(Some(val.0.as_slice()), &val.1, &self.facts.ancestors(&val))
                .into_iter()
                .map(|i| &self.plan.rewrites[i])
                .filter(|w| !own.iter().any(|&j| self.plan.rewrites[j].column == w.column))
                .map(|w| {
                    format!(
                        "{}.{}.{}:{}={}",
                        child.0,
                        child.1,
                        String::from_utf8_lossy(&w.column),
                        String::from_utf8_lossy(&w.from),
                        String::from_utf8_lossy(&w.to)
                    )
                })
                .collect();
            if (!inherited.is_empty() || !values.is_empty()) && self.problem.is_none() {
                let why = match self.facts.read_ahead_cut {
                    Some(n) => format!(
                        "the pre-data is longer than the {} MiB read ahead before the first row",
                        n >> 20
                    ),
                    None => "the ATTACH comes after table data".to_string(),
                };
                let what = match (inherited.is_empty(), values.is_empty()) {
                    (false, true) => "whose columns are renamed",
                    (true, false) => "whose values are rewritten",
                    _ => "whose columns are renamed and values rewritten",
                };
                // The rules to add are a typed remedy (the CLI writes them as
                // its flags).
                let remedy = Some(Remedy::AddRules { renames: inherited.clone(), rewrites: values.clone() });
                let mut rules = Vec::new();
                if !inherited.is_empty() {
                    rules.push(format!("the column renames {}", inherited.join(" ")));
                }
                if !values.is_empty() {
                    rules.push(format!("the value rewrites {}", values.join(" ")));
                }
                self.problem = Some((format!(
                    "{}.{} is a partition of {}.{}, {what}, and its CREATE TABLE (and maybe its rows) \
                     went by before this ATTACH PARTITION was read ({why}); name it in the rules \
                     too, with {}",
                    child.0,
                    child.1,
                    parent.0,
                    parent.1,
                    rules.join(" and ")
                ), remedy));
            }
            let list = self.facts.parents.entry(key).or_default();
            if !list.contains(&val) {
                list.push(val);
            }
        }
    }

    fn index_columns(&mut self, v: &pb::IndexStmt) {
        let Some(rv) = &v.relation else {
            return;
        };
        let (me, Some(after)) = (self.rel_key(rv), self.after_rel(rv)) else {
            return;
        };
        let elem_names = |list: &[pb::Node]| -> Vec<Option<String>> {
            list.iter()
                .map(|e| match &e.node {
                    Some(NodeEnum::IndexElem(ie)) => Some(ie.name.clone()),
                    _ => Some(String::new()),
                })
                .collect()
        };
        let params = elem_names(&v.index_params);
        self.rename_listed(&params, after, &me);
        let incl = elem_names(&v.index_including_params);
        if !incl.is_empty() {
            if let Some(at) = (after..self.toks.len()).find(|&i| {
                self.raw[self.toks[i].start..self.toks[i].end].eq_ignore_ascii_case(b"INCLUDE")
            }) {
                self.rename_listed(&incl, at, &me);
            }
        }
    }

    fn trigger(&mut self, v: &pb::CreateTrigStmt) {
        let rel = v.relation.as_ref().map(|rv| self.rel_key(rv));
        let mut frame = Vec::new();
        if let Some(rv) = &v.relation {
            self.from_rel(rv, &mut frame);
        }
        // `OLD`/`NEW` in WHEN are the trigger's table, under other names.
        for n in ["old", "new"] {
            frame.push(Entry {
                visible: n.to_owned(),
                schema: None,
                rel: rel.clone(),
                rule: None,
                cte: false,
                kept: Vec::new(),
            });
        }
        self.scopes.push(frame);
        v.children(self);
        if let Some(me) = rel {
            // `UPDATE OF a, b ON t`: the list after OF.
            let names = strings(&v.columns);
            if !names.is_empty() && self.has_column_rules() {
                if let Some(of) = (0..self.toks.len())
                    .find(|&i| self.raw[self.toks[i].start..self.toks[i].end].eq_ignore_ascii_case(b"OF"))
                {
                    let mut i = of + 1;
                    for n in names.into_iter().flatten() {
                        if let Some(new) = self.column_rule(&me.0, &me.1, &n) {
                            if self.dotted(i, &[&n]).is_some() {
                                self.push_ident(i, &new, None);
                            }
                        }
                        i += 2;
                    }
                }
            }
        }
        self.scopes.pop();
    }

    fn rule(&mut self, v: &pb::RuleStmt) {
        let rel = v.relation.as_ref().map(|rv| self.rel_key(rv));
        let mut frame = Vec::new();
        if let Some(rv) = &v.relation {
            self.from_rel(rv, &mut frame);
        }
        for n in ["old", "new"] {
            frame.push(Entry {
                visible: n.to_owned(),
                schema: None,
                rel: rel.clone(),
                rule: None,
                cte: false,
                kept: Vec::new(),
            });
        }
        self.scopes.push(frame);
        v.children(self);
        self.scopes.pop();
    }

    fn create_stats(&mut self, v: &pb::CreateStatsStmt) {
        let mut frame = Vec::new();
        for r in v.relations.iter().filter_map(|n| n.node.as_ref()) {
            self.from_item(r, &mut frame);
        }
        let rel = frame.first().and_then(|e| e.rel.clone());
        self.scopes.push(frame);
        v.children(self);
        self.scopes.pop();
        // `ON a, b FROM t`: plain column names, between ON and FROM.
        let (Some(me), true) = (rel, self.has_column_rules()) else {
            return;
        };
        let Some(on) = (0..self.toks.len()).find(|&i| self.word(i, b"ON")) else {
            return;
        };
        let mut i = on + 1;
        while i < self.toks.len() && !self.word(i, b"FROM") {
            let lone = self.toks[i].is_ident()
                && self.toks.get(i + 1).is_some_and(|t| t.is(Token::Ascii44) || self.raw[t.start..t.end].eq_ignore_ascii_case(b"FROM"))
                && (i == on + 1 || self.toks[i - 1].is(Token::Ascii44));
            if lone {
                if let Some(n) = self.name_at(i).and_then(|n| String::from_utf8(n).ok()) {
                    if let Some(new) = self.column_rule(&me.0, &me.1, &n) {
                        self.push_ident(i, &new, None);
                    }
                }
            }
            i += 1;
        }
    }

    /// Finds the dotted name `names` among the tokens from `from` on, as a
    /// whole name (not part of a longer dotted name).
    fn find_dotted(&self, from: usize, names: &[&str]) -> Option<Vec<usize>> {
        (from..self.toks.len()).find_map(|i| {
            if i > 0 && self.toks[i - 1].is(Token::Ascii46) {
                return None;
            }
            let idx = self.dotted(i, names)?;
            let last = *idx.last()?;
            if self.toks.get(last + 1).is_some_and(|t| t.is(Token::Ascii46)) {
                return None;
            }
            Some(idx)
        })
    }

    /// `COMMENT ON` / `SECURITY LABEL ON` a table, column, or an object of
    /// a table (`CONSTRAINT c ON t`, triggers, policies, rules).
    fn object_names(&mut self, objtype: i32, object: &Option<Box<pb::Node>>) {
        let names: Vec<String> = match object.as_ref().and_then(|n| n.node.as_ref()) {
            Some(NodeEnum::List(l)) => strings(&l.items).into_iter().flatten().collect(),
            _ => Vec::new(),
        };
        use pb::ObjectType as O;
        let relation = [O::ObjectTable, O::ObjectView, O::ObjectMatview, O::ObjectForeignTable, O::ObjectType]
            .iter()
            .any(|o| *o as i32 == objtype);
        let column = objtype == O::ObjectColumn as i32;
        let of_table = [O::ObjectTabconstraint, O::ObjectTrigger, O::ObjectPolicy, O::ObjectRule]
            .iter()
            .any(|o| *o as i32 == objtype);
        let (rel_parts, col): (&[String], Option<&String>) = if relation {
            (&names[..], None)
        } else if column && names.len() >= 2 {
            (&names[..names.len() - 1], names.last())
        } else if of_table && names.len() >= 2 {
            (&names[..names.len() - 1], None)
        } else {
            return;
        };
        let (schema, table) = match rel_parts {
            [t] => (None, t.as_str()),
            [s, t] => (Some(s.as_str()), t.as_str()),
            _ => return,
        };
        let mut want: Vec<&str> = rel_parts.iter().map(String::as_str).collect();
        if let Some(c) = col {
            want.push(c);
        }
        // For `x ON t` the object's own name comes first: skip past ON.
        let from = if of_table {
            (0..self.toks.len())
                .filter(|&i| self.raw[self.toks[i].start..self.toks[i].end].eq_ignore_ascii_case(b"ON"))
                .nth(1)
                .unwrap_or(0)
        } else {
            0
        };
        let Some(idx) = self.find_dotted(from, &want) else {
            return;
        };
        let np = rel_parts.len();
        if let Some(rule) = self.table_rule(schema, table) {
            let new = self.plan.renames[rule].new.clone();
            self.push_ident(idx[np - 1], &new, Some(rule));
        }
        if let Some(c) = col {
            let s = schema.unwrap_or(self.default_schema).to_owned();
            if let Some(new) = self.column_rule(&s, table, c) {
                self.push_ident(idx[np], &new, None);
            }
        }
    }

    /// `ALTER SEQUENCE s OWNED BY schema.table.column`.
    fn owned_by(&mut self, options: &[pb::Node]) {
        for opt in options {
            let Some(NodeEnum::DefElem(d)) = &opt.node else {
                continue;
            };
            if d.defname != "owned_by" {
                continue;
            }
            let names: Vec<String> = match d.arg.as_ref().and_then(|n| n.node.as_ref()) {
                Some(NodeEnum::List(l)) => strings(&l.items).into_iter().flatten().collect(),
                _ => Vec::new(),
            };
            let (schema, table, col) = match names.as_slice() {
                [t, c] => (None, t.as_str(), c.as_str()),
                [s, t, c] => (Some(s.as_str()), t.as_str(), c.as_str()),
                _ => continue,
            };
            let want: Vec<&str> = names.iter().map(String::as_str).collect();
            let Some(idx) = self.find_dotted(0, &want) else {
                continue;
            };
            let n = idx.len();
            if let Some(rule) = self.table_rule(schema, table) {
                let new = self.plan.renames[rule].new.clone();
                self.push_ident(idx[n - 2], &new, Some(rule));
            }
            let s = schema.unwrap_or(self.default_schema).to_owned();
            if let Some(new) = self.column_rule(&s, table, col) {
                self.push_ident(idx[n - 1], &new, None);
            }
        }
    }

    /// `GRANT SELECT(col) ON TABLE t`: column lists of the privileges.
    fn grant_columns(&mut self, v: &pb::GrantStmt) {
        if !self.has_column_rules() {
            return;
        }
        let [obj] = v.objects.as_slice() else {
            return;
        };
        let Some(me) = self.rel_of_node(obj) else {
            return;
        };
        let on = (0..self.toks.len())
            .find(|&i| self.raw[self.toks[i].start..self.toks[i].end].eq_ignore_ascii_case(b"ON"))
            .unwrap_or(self.toks.len());
        let mut depth = 0;
        for i in 0..on {
            let t = self.toks[i];
            if t.is(Token::Ascii40) {
                depth += 1;
            } else if t.is(Token::Ascii41) {
                depth -= 1;
            } else if depth == 1 && t.is_ident() {
                if let Some(n) = self.name_at(i).and_then(|n| String::from_utf8(n).ok()) {
                    if let Some(new) = self.column_rule(&me.0, &me.1, &n) {
                        self.push_ident(i, &new, None);
                    }
                }
            }
        }
    }

    /// A string constant: its value and token.
    fn const_string(&self, c: &pb::AConst) -> Option<(String, usize)> {
        let Some(pb::a_const::Val::Sval(s)) = &c.val else {
            return None;
        };
        let tok = self.tok_of(c.location)?;
        self.toks[tok].is(Token::Sconst).then(|| (s.sval.clone(), tok))
    }

    /// A string constant node (`AConst`, possibly under a cast): its value
    /// and token.
    fn string_const(&self, n: &pb::Node) -> Option<(String, usize)> {
        match n.node.as_ref()? {
            NodeEnum::AConst(c) => self.const_string(c),
            NodeEnum::TypeCast(tc) => match tc.arg.as_ref()?.node.as_ref()? {
                NodeEnum::AConst(c) => self.const_string(c),
                _ => None,
            },
            _ => None,
        }
    }

    /// Replaces string token `tok` by the literal `value`.
    fn push_literal(&mut self, tok: usize, value: &[u8], rule: Option<usize>) {
        let t = self.toks[tok];
        let escapes = !self.raw[t.start..t.end].starts_with(b"'") || self.escapes;
        let mut text = Vec::with_capacity(value.len() + 3);
        if escapes && value.contains(&b'\\') {
            text.push(b'E');
        }
        text.push(b'\'');
        for &b in value {
            if b == b'\'' || (escapes && b == b'\\') {
                text.push(b);
            }
            text.push(b);
        }
        text.push(b'\'');
        self.out.push(Replacement { start: t.start, end: t.end, text, rule });
    }

    /// `'schema.table'::regclass`: PostgreSQL resolves the string to the
    /// relation when the expression is stored (regclassin), and prints it
    /// back with the relation's current name.
    fn regclass_literal(&mut self, v: &pb::TypeCast) {
        let names: Vec<String> = v
            .type_name
            .as_ref()
            .map(|t| strings(&t.names).into_iter().flatten().collect())
            .unwrap_or_default();
        if names.last().map(String::as_str) != Some("regclass") {
            return;
        }
        let Some(NodeEnum::AConst(c)) = v.arg.as_ref().and_then(|n| n.node.as_ref()) else {
            return;
        };
        let Some((text, tok)) = self.const_string(c) else {
            return;
        };
        let Some(parts) = split_qualified(text.as_bytes()) else {
            return;
        };
        let (schema_raw, table) = match parts.as_slice() {
            [(_, t)] => (None, t.clone()),
            [(sr, s), (_, t)] => (Some((sr.clone(), s.clone())), t.clone()),
            _ => return,
        };
        let (Ok(table), schema) = (
            String::from_utf8(table),
            schema_raw.as_ref().and_then(|(_, s)| String::from_utf8(s.clone()).ok()),
        ) else {
            return;
        };
        if schema_raw.is_some() && schema.is_none() {
            return;
        }
        let Some(rule) = self.table_rule(schema.as_deref(), &table) else {
            return;
        };
        let mut value = Vec::new();
        if let Some((raw, _)) = &schema_raw {
            value.extend_from_slice(raw);
            value.push(b'.');
        }
        ident::push_pg(&self.plan.renames[rule].new, self.facts.versions.quoting(), &mut value);
        self.push_literal(tok, &value, Some(rule));
    }

    /// PostgreSQL 18's `pg_restore_relation_stats(…, 'schemaname', 's',
    /// 'relname', 't', …)` and `pg_restore_attribute_stats(…, 'attname',
    /// 'c', …)`: name arguments given as text (pg_dump.c,
    /// `dumpRelationStats_dumper`).
    fn stats_call(&mut self, v: &pb::FuncCall) {
        let f = strings(&v.funcname);
        let Some(Some(fname)) = f.last() else {
            return;
        };
        if fname != "pg_restore_relation_stats" && fname != "pg_restore_attribute_stats" {
            return;
        }
        let mut kv: HashMap<String, (String, usize)> = HashMap::new();
        for pair in v.args.chunks(2) {
            if let [k, val] = pair {
                if let (Some((k, _)), Some(val)) = (self.string_const(k), self.string_const(val)) {
                    kv.insert(k, val);
                }
            }
        }
        let (Some((schema, _)), Some((rel, rel_tok))) = (kv.get("schemaname"), kv.get("relname")) else {
            return;
        };
        let (schema, rel, rel_tok) = (schema.clone(), rel.clone(), *rel_tok);
        // A column whose values are rewritten: its `most_common_vals` and
        // `histogram_bounds` hold the old values, and rewriting them could
        // break `histogram_bounds`' sort order (a rewrite changes how values
        // sort), so the call is dropped, as in archives; the next ANALYZE
        // (autovacuum runs it) makes them anew.
        if let Some((att, _)) = kv.get("attname").filter(|_| fname == "pg_restore_attribute_stats") {
            // A partition's or child's column too: a value rule on its
            // parent rewrites its rows.
            let key = (schema.as_bytes().to_vec(), rel.as_bytes().to_vec());
            let rewritten = self
                .plan
                .rewrites_inherited(Some(schema.as_bytes()), rel.as_bytes(), &self.facts.ancestors(&key))
                .into_iter()
                .any(|i| self.plan.rewrites[i].column == att.as_bytes());
            if rewritten {
                self.stats_dropped = Some(format!("{schema}.{rel}.{att}"));
                return;
            }
        }
        if let Some(rule) = self.table_rule(Some(&schema), &rel) {
            let new = self.plan.renames[rule].new.clone();
            self.push_literal(rel_tok, &new, Some(rule));
        }
        if let Some((att, att_tok)) = kv.get("attname").cloned() {
            if let Some(new) = self.column_rule(&schema, &rel, &att) {
                self.push_literal(att_tok, &new, None);
            }
        }
    }
}

/// The parts of a row-changing statement (`INSERT`, `UPDATE`, `DELETE`,
/// `MERGE`) that `Resolver::dml` treats apart.
#[derive(Default)]
struct Dml<'t> {
    relation: Option<&'t pb::RangeVar>,
    source_relation: Option<&'t NodeEnum>,
    from: &'t [pb::Node],
    using: &'t [pb::Node],
    cols: &'t [pb::Node],
    target_list: &'t [pb::Node],
    returning: Option<&'t pb::ReturningClause>,
}

impl Visit for Resolver<'_> {
    /// Each node kind the resolver decides about; every other kind is
    /// walked through.
    fn node(&mut self, n: &NodeEnum) {
        match n {
            NodeEnum::RangeVar(rv) => self.range_var(rv),
            NodeEnum::TypeName(t) => self.type_name(t),
            NodeEnum::ColumnRef(c) => {
                self.column_ref(c);
            }
            NodeEnum::ColumnDef(c) => self.column_def(&c.colname, c.location, &**c),
            // `PARTITION BY LIST (col)`: a live column rename changes the key.
            NodeEnum::PartitionElem(p) => self.column_def(&p.name, p.location, &**p),
            NodeEnum::Constraint(c) => self.constraint(c),
            NodeEnum::TypeCast(tc) => {
                self.regclass_literal(tc);
                tc.children(self);
            }
            NodeEnum::FuncCall(f) => {
                self.stats_call(f);
                f.children(self);
            }
            NodeEnum::SelectStmt(s) => self.select(s),
            NodeEnum::JoinExpr(j) => {
                // `ON` conditions see the joined items by their own names,
                // even when an alias hides them from the rest of the query.
                let mut frame = Vec::new();
                for side in [&j.larg, &j.rarg] {
                    if let Some(s) = side.as_ref().and_then(|s| s.node.as_ref()) {
                        self.from_item(s, &mut frame);
                    }
                }
                self.scopes.push(frame);
                j.children(self);
                self.scopes.pop();
            }
            // The fields `dml` does not take are walked by the closures,
            // in the order of their names as everywhere.
            NodeEnum::InsertStmt(s) => {
                let d = Dml {
                    relation: s.relation.as_ref(),
                    cols: &s.cols,
                    returning: s.returning_clause.as_ref(),
                    ..Dml::default()
                };
                self.dml(d, |r| {
                    let pb::InsertStmt { relation: _, cols: _, returning_clause: _, on_conflict_clause, r#override: _, select_stmt, with_clause } = &**s;
                    if let Some(x) = on_conflict_clause {
                        x.children(r);
                    }
                    r.walk_opt(select_stmt);
                    if let Some(x) = with_clause {
                        x.children(r);
                    }
                });
            }
            NodeEnum::UpdateStmt(s) => {
                let d = Dml {
                    relation: s.relation.as_ref(),
                    from: &s.from_clause,
                    target_list: &s.target_list,
                    returning: s.returning_clause.as_ref(),
                    ..Dml::default()
                };
                self.dml(d, |r| {
                    let pb::UpdateStmt { relation: _, from_clause: _, target_list: _, returning_clause: _, where_clause, with_clause } = &**s;
                    r.walk_opt(where_clause);
                    if let Some(x) = with_clause {
                        x.children(r);
                    }
                });
            }
            NodeEnum::DeleteStmt(s) => {
                let d = Dml {
                    relation: s.relation.as_ref(),
                    using: &s.using_clause,
                    returning: s.returning_clause.as_ref(),
                    ..Dml::default()
                };
                self.dml(d, |r| {
                    let pb::DeleteStmt { relation: _, using_clause: _, returning_clause: _, where_clause, with_clause } = &**s;
                    r.walk_opt(where_clause);
                    if let Some(x) = with_clause {
                        x.children(r);
                    }
                });
            }
            NodeEnum::MergeStmt(s) => {
                let d = Dml {
                    relation: s.relation.as_ref(),
                    source_relation: s.source_relation.as_ref().and_then(|n| n.node.as_ref()),
                    returning: s.returning_clause.as_ref(),
                    ..Dml::default()
                };
                self.dml(d, |r| {
                    let pb::MergeStmt { relation: _, source_relation: _, returning_clause: _, join_condition, merge_when_clauses, with_clause } = &**s;
                    r.walk_opt(join_condition);
                    r.walk_list(merge_when_clauses);
                    if let Some(x) = with_clause {
                        x.children(r);
                    }
                });
            }
            NodeEnum::CreateStmt(cs) => {
                self.note_created(cs.relation.as_ref());
                self.create_table(cs);
            }
            NodeEnum::CreateForeignTableStmt(f) => {
                if let Some(base) = &f.base_stmt {
                    self.note_created(base.relation.as_ref());
                    self.create_table(base);
                }
                let pb::CreateForeignTableStmt { base_stmt: _, options, servername: _ } = f;
                self.walk_list(options);
            }
            NodeEnum::ViewStmt(v) => {
                self.note_created(v.view.as_ref());
                v.children(self);
            }
            NodeEnum::CreateTableAsStmt(c) => {
                if let Some(into) = &c.into {
                    self.note_created(into.rel.as_ref());
                }
                c.children(self);
            }
            NodeEnum::CreateSeqStmt(c) => {
                self.note_created(c.sequence.as_ref());
                self.owned_by(&c.options);
                c.children(self);
            }
            NodeEnum::AlterTableStmt(a) => self.about_relation(a.relation.as_ref(), a, |r| r.alter_table_cmds(a)),
            NodeEnum::IndexStmt(i) => self.about_relation(i.relation.as_ref(), &**i, |r| r.index_columns(i)),
            NodeEnum::CreatePolicyStmt(p) => self.about_relation(p.table.as_ref(), &**p, |_| {}),
            NodeEnum::CreateTrigStmt(t) => self.trigger(t),
            NodeEnum::RuleStmt(rs) => self.rule(rs),
            NodeEnum::CopyStmt(c) => self.about_relation(c.relation.as_ref(), &**c, |r| {
                if let Some(rel) = &c.relation {
                    if let Some(from) = r.after_rel(rel) {
                        let me = r.rel_key(rel);
                        r.rename_listed(&strings(&c.attlist), from, &me);
                    }
                }
            }),
            NodeEnum::CreateStatsStmt(s) => self.create_stats(s),
            NodeEnum::CommentStmt(c) => {
                self.object_names(c.objtype, &c.object);
                c.children(self);
            }
            NodeEnum::SecLabelStmt(s) => {
                self.object_names(s.objtype, &s.object);
                s.children(self);
            }
            NodeEnum::AlterSeqStmt(a) => {
                self.owned_by(&a.options);
                a.children(self);
            }
            NodeEnum::GrantStmt(g) => {
                self.grant_columns(g);
                g.children(self);
            }
            other => other.children(self),
        }
    }

    fn range_var(&mut self, v: &pb::RangeVar) {
        self.using_alias_list(v);
        let schema = v.schemaname.as_str();
        let name = v.relname.as_str();
        let catalog = v.catalogname.as_str();
        let schema_opt = (!schema.is_empty()).then_some(schema);
        if schema_opt.is_none() && self.is_cte(name) {
            return;
        }
        let Some(rule) = self.table_rule(schema_opt, name) else {
            return;
        };
        let Some(at) = self.tok_of(v.location) else {
            return;
        };
        let mut want: Vec<&str> = Vec::new();
        if !catalog.is_empty() {
            want.push(catalog);
        }
        if let Some(s) = schema_opt {
            want.push(s);
        }
        want.push(name);
        if let Some(idx) = self.dotted(at, &want) {
            if let Some(&last) = idx.last() {
                let new = self.plan.renames[rule].new.clone();
                self.push_ident(last, &new, Some(rule));
            }
        }
    }

    fn type_name(&mut self, v: &pb::TypeName) {
        let names: Vec<String> = strings(&v.names).into_iter().flatten().collect();
        let pct = v.pct_type;
        let Some(at) = self.tok_of(v.location) else {
            return;
        };
        let want: Vec<&str> = names.iter().map(String::as_str).collect();
        let Some(idx) = self.dotted(at, &want) else {
            return;
        };
        // `[schema.]table` (its row type), or `[schema.]table.column%TYPE`.
        let rel_parts = if pct { names.len().saturating_sub(1) } else { names.len() };
        if rel_parts == 0 || rel_parts > 2 {
            return;
        }
        let (schema, table) = if rel_parts == 2 {
            (Some(names[0].as_str()), names[1].as_str())
        } else {
            (None, names[0].as_str())
        };
        if schema == Some("pg_catalog") {
            return;
        }
        if let Some(rule) = self.table_rule(schema, table) {
            let new = self.plan.renames[rule].new.clone();
            self.push_ident(idx[rel_parts - 1], &new, Some(rule));
        }
        if pct {
            let s = schema.unwrap_or(self.default_schema).to_owned();
            if let Some(new) = self.column_rule(&s, table, &names[rel_parts]) {
                self.push_ident(idx[rel_parts], &new, None);
            }
        }
    }
}

/// Renames row types in a function's argument list as pg_dump writes it in
/// tags (`f(public.item, integer)`, or with argument names), by parsing it
/// as the argument list of a `CREATE FUNCTION`. Offsets are relative to
/// `args`.
pub fn rename_in_arguments(plan: &Plan, args: &[u8], versions: DumpVersions) -> Vec<Replacement> {
    const HEAD: &[u8] = b"CREATE FUNCTION f(";
    let mut stmt = HEAD.to_vec();
    stmt.extend_from_slice(args);
    stmt.extend_from_slice(b") RETURNS void LANGUAGE sql AS ''");
    let mut facts = Facts { versions, ..Facts::default() };
    let Ok(r) = resolve(plan, &mut facts, &stmt, false, &[]) else {
        return Vec::new(); // not an argument list after all: leave the tag
    };
    r.reps
        .into_iter()
        .filter(|x| x.start >= HEAD.len() && x.end <= HEAD.len() + args.len())
        .map(|mut x| {
            x.start -= HEAD.len();
            x.end -= HEAD.len();
            x
        })
        .collect()
}

/// The text of a `regclass` value (or a `regclass[]` array, `{a,b}`) with
/// renamed relations renamed, and the rules applied; `None` when unchanged.
/// `regclassout` prints `schema.name` with `quote_identifier` parts, and
/// bare `name` only for relations visible in the search path (pg_dump's is
/// empty, so its data is always qualified; bare names are taken to be in
/// the default schema). New names are quoted for server `major`'s keywords.
pub fn rename_regclass_text(plan: &Plan, value: &[u8], major: u32) -> Option<(Vec<u8>, Vec<usize>)> {
    let one = |v: &[u8]| -> Option<(Vec<u8>, usize)> {
        let parts = split_qualified(v)?;
        let (schema_raw, schema, name) = match parts.as_slice() {
            [(_, n)] => (None, b"public".to_vec(), n.clone()),
            [(sr, s), (_, n)] => (Some(sr.clone()), s.clone(), n.clone()),
            _ => return None,
        };
        let i = plan
            .renames
            .iter()
            .position(|r| r.schema == schema && r.old == name)?;
        let mut out = Vec::new();
        if let Some(sr) = schema_raw {
            out.extend_from_slice(&sr);
            out.push(b'.');
        }
        ident::push_pg(&plan.renames[i].new, major, &mut out);
        Some((out, i))
    };
    if let Some(inner) = value.strip_prefix(b"{").and_then(|v| v.strip_suffix(b"}")) {
        // Array output (arrayfuncs.c `array_out`): elements are quoted with
        // "…" and backslashes only when they hold special characters. Such
        // an array (a relation name with `"`, `,` or a space) is left as it
        // is: the one case of regclass data not followed (see README).
        if inner.contains(&b'"') {
            return None;
        }
        let mut out = b"{".to_vec();
        let mut hits = Vec::new();
        for (k, el) in inner.split(|&b| b == b',').enumerate() {
            if k > 0 {
                out.push(b',');
            }
            match one(el) {
                None => out.extend_from_slice(el),
                Some((new, i)) => {
                    let needs_quotes = new.iter().any(|&b| matches!(b, b'"' | b'\\' | b',' | b'{' | b'}' | b' '));
                    if needs_quotes {
                        return None;
                    }
                    out.extend_from_slice(&new);
                    hits.push(i);
                }
            }
        }
        out.push(b'}');
        return (!hits.is_empty()).then_some((out, hits));
    }
    one(value).map(|(v, i)| (v, vec![i]))
}

/// Splits a qualified name as `regclassin` reads it
/// (`stringToQualifiedNameList` → `SplitIdentifierString` in varlena.c):
/// dot-separated parts, each `"quoted"` (with `""`) or bare (downcased,
/// surrounding whitespace ignored). Returns `(raw part, name)` pairs.
pub fn split_qualified(s: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        let mut name = Vec::new();
        if s.get(i) == Some(&b'"') {
            i += 1;
            loop {
                match s.get(i) {
                    None => return None,
                    Some(b'"') if s.get(i + 1) == Some(&b'"') => {
                        name.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&b) => {
                        name.push(b);
                        i += 1;
                    }
                }
            }
        } else {
            while i < s.len() && s[i] != b'.' && !s[i].is_ascii_whitespace() {
                name.push(s[i].to_ascii_lowercase());
                i += 1;
            }
            if name.is_empty() {
                return None;
            }
        }
        let raw = s[start..i].to_vec();
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push((raw, name));
        match s.get(i) {
            None => return Some(out),
            Some(b'.') => i += 1,
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::lexer::Dialect;
    use crate::rules::Rules;

    fn plan(tables: &[&str], columns: &[&str]) -> Plan {
        let mut r = Rules::new();
        for t in tables {
            r.parse_rename(t).unwrap();
        }
        for c in columns {
            r.parse_column_rename(c).unwrap();
        }
        Plan::new(&r, Dialect::Postgres)
    }

    fn apply_with(p: &Plan, sql: &[u8], escapes: bool) -> Result<Vec<u8>, ResolveError> {
        let r = resolve(p, &mut Facts::default(), sql, escapes, &[])?;
        let mut out = sql.to_vec();
        for x in r.reps.iter().rev() {
            out.splice(x.start..x.end, x.text.iter().copied());
        }
        Ok(out)
    }

    fn apply(p: &Plan, sql: &str) -> String {
        String::from_utf8(apply_with(p, sql.as_bytes(), false).unwrap()).unwrap()
    }

    /// PostgreSQL 18's not-null names (`pg_dump.c`, `determineNotNullFlags`):
    /// a bare `NOT NULL` of a renamed table or column gets the name the live
    /// rename keeps; other tables, named ones and older servers stay.
    #[test]
    fn pg18_not_null_constraints_keep_their_names() {
        let p = plan(&["t=u"], &["public.o.a=b"]);
        let run = |major: Option<u32>, sql: &str| {
            let mut facts = Facts { versions: DumpVersions { server: major, pg_dump: None }, ..Facts::default() };
            let r = resolve(&p, &mut facts, sql.as_bytes(), false, &[]).unwrap();
            let mut out = sql.as_bytes().to_vec();
            for x in r.reps.iter().rev() {
                out.splice(x.start..x.end, x.text.iter().copied());
            }
            String::from_utf8(out).unwrap()
        };
        let t = "CREATE TABLE public.t (\n    id bigint NOT NULL,\n    n text CONSTRAINT keep NOT NULL,\n    z text\n);";
        assert_eq!(
            run(Some(18), t),
            "CREATE TABLE public.u (\n    id bigint CONSTRAINT t_id_not_null NOT NULL,\n    n text CONSTRAINT keep NOT NULL,\n    z text\n);"
        );
        assert_eq!(run(Some(17), t), t.replace("public.t", "public.u"));
        // Back (a --reverse run): the name that is the default again goes.
        let back = plan(&["u=t"], &[]);
        let mut facts = Facts { versions: DumpVersions { server: Some(18), pg_dump: None }, ..Facts::default() };
        let sql = "CREATE TABLE public.u (\n    id bigint CONSTRAINT t_id_not_null NOT NULL,\n    n text CONSTRAINT keep NOT NULL\n);";
        let r = resolve(&back, &mut facts, sql.as_bytes(), false, &[]).unwrap();
        let mut out = sql.as_bytes().to_vec();
        for x in r.reps.iter().rev() {
            out.splice(x.start..x.end, x.text.iter().copied());
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "CREATE TABLE public.t (\n    id bigint NOT NULL,\n    n text CONSTRAINT keep NOT NULL\n);"
        );
        assert_eq!(run(None, t), t.replace("public.t", "public.u"));
        assert_eq!(
            run(Some(18), "CREATE TABLE public.o (\n    a integer NOT NULL,\n    c integer NOT NULL\n);"),
            "CREATE TABLE public.o (\n    b integer CONSTRAINT o_a_not_null NOT NULL,\n    c integer NOT NULL\n);"
        );
        // Quoted as pg_dump's fmtId quotes.
        let p = plan(&["Mixed=x"], &[]);
        let mut facts = Facts { versions: DumpVersions { server: Some(18), pg_dump: None }, ..Facts::default() };
        let sql = "CREATE TABLE public.\"Mixed\" (id integer NOT NULL);";
        let r = resolve(&p, &mut facts, sql.as_bytes(), false, &[]).unwrap();
        assert!(r.reps.iter().any(|x| x.text == b"CONSTRAINT \"Mixed_id_not_null\" "), "{:?}", r.reps);
        assert_eq!(crate::decide::pg::grammar::major_version(b"18.1 (Debian 18.1-1)"), Some(18));
        assert_eq!(crate::decide::pg::grammar::major_version(b"9.6.24"), Some(9));
        assert_eq!(crate::decide::pg::grammar::major_version(b""), None);
    }

    #[test]
    fn a_column_named_like_the_table_stays() {
        let p = plan(&["city=town"], &[]);
        assert_eq!(
            apply(&p, "CREATE VIEW public.v AS SELECT city.city FROM public.city;"),
            "CREATE VIEW public.v AS SELECT town.city FROM public.town;"
        );
        assert_eq!(
            apply(&p, "CREATE INDEX city_idx ON public.city USING btree (city);"),
            "CREATE INDEX city_idx ON public.town USING btree (city);"
        );
    }

    #[test]
    fn aliases_decide_what_a_qualifier_means() {
        let p = plan(&["old_t=new_t"], &[]);
        // `o` is an alias of another table; `old_t.x` in a subquery refers to
        // the outer unaliased reference.
        assert_eq!(
            apply(
                &p,
                "CREATE VIEW v AS SELECT o.old_id FROM public.a old_t, public.old_t o WHERE o.old_id = old_t.old_id;"
            ),
            "CREATE VIEW v AS SELECT o.old_id FROM public.a old_t, public.new_t o WHERE o.old_id = old_t.old_id;"
        );
        assert_eq!(
            apply(&p, "CREATE VIEW v AS SELECT old_t.a FROM public.old_t WHERE EXISTS (SELECT 1 FROM public.b WHERE b.x = old_t.a);"),
            "CREATE VIEW v AS SELECT new_t.a FROM public.new_t WHERE EXISTS (SELECT 1 FROM public.b WHERE b.x = new_t.a);"
        );
    }

    #[test]
    fn a_cte_of_the_same_name_is_not_the_table() {
        let p = plan(&["t=t2"], &[]);
        assert_eq!(
            apply(&p, "CREATE VIEW v AS WITH t AS (SELECT 1 AS a) SELECT t.a FROM t;"),
            "CREATE VIEW v AS WITH t AS (SELECT 1 AS a) SELECT t.a FROM t;"
        );
    }

    #[test]
    fn keywords_and_strings_are_not_names() {
        let p = plan(&["language=lang"], &[]);
        assert_eq!(
            apply(&p, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM language $$;"),
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 FROM language $$;"
        );
    }

    #[test]
    fn other_schemas_keep_their_tables() {
        let p = plan(&["public.t=t2"], &[]);
        assert_eq!(
            apply(&p, "ALTER TABLE ONLY other.t ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES public.t(id);"),
            "ALTER TABLE ONLY other.t ADD CONSTRAINT t_fk FOREIGN KEY (id) REFERENCES public.t2(id);"
        );
    }

    #[test]
    fn backslash_strings_follow_standard_conforming_strings() {
        let p = plan(&["t=t2"], &[]);
        // With standard_conforming_strings off, `\'` does not end the string.
        let sql = b"COMMENT ON TABLE public.t IS 'it\\'s public.t';";
        assert_eq!(
            apply_with(&p, sql, true).unwrap(),
            b"COMMENT ON TABLE public.t2 IS 'it\\'s public.t';".to_vec()
        );
        // With it on, the same text is not one statement.
        assert!(matches!(apply_with(&p, sql, false), Err(ResolveError::Parse(_))));
    }

    #[test]
    fn bytes_that_are_not_utf8_pass_through() {
        let p = plan(&["t=t2"], &[]);
        let sql = b"COMMENT ON TABLE public.t IS 'caf\xe9 t';";
        assert_eq!(
            apply_with(&p, sql, false).unwrap(),
            b"COMMENT ON TABLE public.t2 IS 'caf\xe9 t';".to_vec()
        );
        // A LATIN1 identifier that is not the old name stays.
        let sql = b"CREATE TABLE public.t\xe9 (t integer);";
        assert_eq!(apply_with(&p, sql, false).unwrap(), sql.to_vec());
    }

    #[test]
    fn regclass_literals_and_row_types_follow() {
        let p = plan(&["item=goods"], &[]);
        assert_eq!(
            apply(&p, "CREATE TABLE public.x (k regclass DEFAULT 'public.item'::regclass, r public.item[], s public.items);"),
            "CREATE TABLE public.x (k regclass DEFAULT 'public.goods'::regclass, r public.goods[], s public.items);"
        );
        assert_eq!(
            rename_regclass_text(&p, b"{public.item,public.other}", 18).map(|x| x.0),
            Some(b"{public.goods,public.other}".to_vec())
        );
        assert_eq!(rename_regclass_text(&p, b"other.item", 18), None);
    }

    #[test]
    fn pg18_statistics_calls_follow_table_and_column_renames() {
        let p = plan(&["item=goods"], &["item.label=title"]);
        let sql = "SELECT * FROM pg_catalog.pg_restore_attribute_stats(\n\t'version', '180000'::integer,\n\t'schemaname', 'public',\n\t'relname', 'item',\n\t'attname', 'label',\n\t'inherited', 'f'::boolean);";
        assert_eq!(
            apply(&p, sql),
            sql.replace("'item'", "'goods'").replace("'label'", "'title'")
        );
    }

    #[test]
    fn column_renames_add_the_output_name_a_view_keeps() {
        let p = plan(&[], &["item.label=title"]);
        assert_eq!(
            apply(&p, "CREATE VIEW public.v AS\n SELECT item.label,\n    item.id\n   FROM public.item;"),
            "CREATE VIEW public.v AS\n SELECT item.title AS label,\n    item.id\n   FROM public.item;"
        );
    }

    /// A column named by `JOIN … USING` keeps its name in the view: the
    /// table gets ruleutils.c's column alias list. Input and expected text
    /// are pg_dump 15's, before and after `ALTER TABLE a RENAME COLUMN id TO
    /// id_renamed; … x TO x_renamed; ALTER TABLE a RENAME TO a_renamed`.
    #[test]
    fn join_using_columns_keep_their_name_through_an_alias_list() {
        let p = plan(&["a=a_renamed"], &["public.a.id=id_renamed", "public.a.x=x_renamed"]);
        let mut facts = Facts::default();
        let mut run = |sql: &str| {
            let r = resolve(&p, &mut facts, sql.as_bytes(), false, &[]).unwrap();
            let mut out = sql.as_bytes().to_vec();
            for x in r.reps.iter().rev() {
                out.splice(x.start..x.end, x.text.iter().copied());
            }
            String::from_utf8(out).unwrap()
        };
        run("CREATE TABLE public.a (\n    id integer,\n    x integer,\n    z integer\n);");
        run("CREATE TABLE public.b (\n    id integer,\n    y integer\n);");
        let cases = [
            (
                "CREATE VIEW public.v AS\n SELECT a.id,\n    a.x,\n    b.y\n   FROM (public.a\n     JOIN public.b USING (id));",
                "CREATE VIEW public.v AS\n SELECT a_renamed.id,\n    a_renamed.x_renamed AS x,\n    b.y\n   FROM (public.a_renamed a_renamed(id, x_renamed, z)\n     JOIN public.b USING (id));",
            ),
            (
                "CREATE VIEW public.v2 AS\n SELECT t.id,\n    t.x\n   FROM (public.a t\n     JOIN public.b USING (id));",
                "CREATE VIEW public.v2 AS\n SELECT t.id,\n    t.x_renamed AS x\n   FROM (public.a_renamed t(id, x_renamed, z)\n     JOIN public.b USING (id));",
            ),
            (
                "CREATE VIEW public.v4 AS\n SELECT a.id\n   FROM ((public.a\n     LEFT JOIN public.b ON ((a.id = b.id)))\n     JOIN public.a a2 USING (x));",
                "CREATE VIEW public.v4 AS\n SELECT a_renamed.id_renamed AS id\n   FROM ((public.a_renamed a_renamed(id_renamed, x, z)\n     LEFT JOIN public.b ON ((a_renamed.id_renamed = b.id)))\n     JOIN public.a_renamed a2(id_renamed, x, z) USING (x));",
            ),
            (
                "CREATE VIEW public.v5 AS\n SELECT a.id,\n    a.x\n   FROM ((public.a\n     JOIN public.b USING (id))\n     JOIN public.b b2 USING (id));",
                "CREATE VIEW public.v5 AS\n SELECT a_renamed.id,\n    a_renamed.x_renamed AS x\n   FROM ((public.a_renamed a_renamed(id, x_renamed, z)\n     JOIN public.b USING (id))\n     JOIN public.b b2 USING (id));",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(run(before), after);
        }
    }

    /// A rule's `RETURNING` list keeps its output names: pg_dump 15's text
    /// after `ALTER TABLE competitors RENAME COLUMN id TO id_renamed`.
    #[test]
    fn returning_columns_keep_their_output_name() {
        let p = plan(&[], &["test.competitors.id=id_renamed"]);
        assert_eq!(
            apply(
                &p,
                "CREATE RULE r AS\n    ON INSERT TO test.v DO INSTEAD  INSERT INTO test.competitors (id, full_name)\n  \
                 VALUES (new.id, 'x'::character varying)\n  RETURNING competitors.id,\n    competitors.full_name;"
            ),
            "CREATE RULE r AS\n    ON INSERT TO test.v DO INSTEAD  INSERT INTO test.competitors (id_renamed, full_name)\n  \
             VALUES (new.id, 'x'::character varying)\n  RETURNING competitors.id_renamed AS id,\n    competitors.full_name;"
        );
    }

    /// The columns of an `EXCLUDE` constraint (`col WITH op`, and inside an
    /// expression element) follow a column rename: input and expected text
    /// are pg_dump 15's, before and after `ALTER TABLE r RENAME COLUMN room
    /// TO room_renamed` (and id, note). Found in pgAdmin's schema-diff
    /// database (fixtures/real/pgadmin-schema-diff).
    #[test]
    fn exclusion_constraint_columns_follow_a_column_rename() {
        let p = plan(&[], &["public.r.room=room_renamed", "public.r.id=id_renamed", "public.r.note=note_renamed"]);
        let cases = [
            (
                "ALTER TABLE ONLY public.r\n    ADD CONSTRAINT r_excl EXCLUDE USING gist (room WITH =, during WITH &&) INCLUDE (note) WHERE ((id > 0));",
                "ALTER TABLE ONLY public.r\n    ADD CONSTRAINT r_excl EXCLUDE USING gist (room_renamed WITH =, during WITH &&) INCLUDE (note_renamed) WHERE ((id_renamed > 0));",
            ),
            (
                "ALTER TABLE ONLY public.r\n    ADD CONSTRAINT r_lower_id_excl EXCLUDE USING gist (lower(room) WITH =, id WITH <>);",
                "ALTER TABLE ONLY public.r\n    ADD CONSTRAINT r_lower_id_excl EXCLUDE USING gist (lower(room_renamed) WITH =, id_renamed WITH <>);",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(apply(&p, before), after);
        }
    }

    /// PostgreSQL 18's temporal foreign keys: `PERIOD col` in both column
    /// lists follows a column rename, and a column named `period` stays a
    /// column. Input and expected text are pg_dump 18.6's, before and after
    /// `ALTER TABLE rooms RENAME COLUMN valid_at TO va_renamed` (bookings'
    /// valid_at to vb_renamed, rooms.id to id_renamed).
    #[test]
    fn temporal_foreign_key_period_columns_follow_a_column_rename() {
        let p = plan(
            &[],
            &["public.rooms.valid_at=va_renamed", "public.bookings.valid_at=vb_renamed", "public.rooms.id=id_renamed", "public.p.period=period_renamed"],
        );
        let cases = [
            (
                "ALTER TABLE ONLY public.rooms\n    ADD CONSTRAINT rooms_pkey PRIMARY KEY (id, valid_at WITHOUT OVERLAPS);",
                "ALTER TABLE ONLY public.rooms\n    ADD CONSTRAINT rooms_pkey PRIMARY KEY (id_renamed, va_renamed WITHOUT OVERLAPS);",
            ),
            (
                "ALTER TABLE ONLY public.bookings\n    ADD CONSTRAINT bookings_room_id_valid_at_fkey FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES public.rooms(id, PERIOD valid_at);",
                "ALTER TABLE ONLY public.bookings\n    ADD CONSTRAINT bookings_room_id_valid_at_fkey FOREIGN KEY (room_id, PERIOD vb_renamed) REFERENCES public.rooms(id_renamed, PERIOD va_renamed);",
            ),
            (
                "ALTER TABLE ONLY public.p\n    ADD CONSTRAINT p_fkey FOREIGN KEY (period) REFERENCES public.p(period);",
                "ALTER TABLE ONLY public.p\n    ADD CONSTRAINT p_fkey FOREIGN KEY (period_renamed) REFERENCES public.p(period_renamed);",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(apply(&p, before), after);
        }
    }

    #[test]
    fn parser_errors_are_the_servers() {
        let p = plan(&["t=t2"], &[]);
        match apply_with(&p, b"CREATE TABLE public.t (;", false) {
            Err(ResolveError::Parse(m)) => assert!(m.contains("syntax error"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
