//! A rewrite job from start to end: open, detect the dialect, run the
//! pipeline, summarise.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::io::detect::{detect, Detected};
use crate::error::{Error, Result};
use crate::observe::problem::{Missing, RuleKind};
use crate::observe::sample::Sample;
use crate::io::input::{Compression, Input};
use crate::frame::lexer::Dialect;
use crate::observe::facts::DumpFacts;
use crate::observe::problem::{Clash, Problem};
pub use crate::observe::problem::ValueExample;
use crate::observe::Observer;
use crate::apply::pipeline::{self, OutputCompression, PipelineConfig};
use crate::decide::plan::Plan;
use crate::decide::reader::{Reader, ReaderConfig};
pub use crate::apply::rewrite::MigrationRow;
use crate::rules::Rules;

/// The dump format, as chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Detect from the first statements.
    #[default]
    Auto,
    /// A pg_dump plain dump.
    Postgres,
    /// An sqlite3 `.dump`.
    Sqlite,
}

/// How a job runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The dialect, or detect it.
    pub format: Format,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Target chunk size in bytes.
    pub chunk_size: usize,
    /// Largest single statement or COPY row, in bytes.
    pub max_record: usize,
    /// How to compress the output, if at all.
    pub compress: Option<OutputCompression>,
    /// Column lists for tables whose `CREATE TABLE` is not in the dump,
    /// by input table name.
    pub columns: HashMap<Vec<u8>, Vec<Vec<u8>>>,
    /// Go on when a pre-write check fails.
    pub force: bool,
    /// Gather the report of `inspect` / `--dry-run` (scans all data).
    pub report: bool,
    /// A rule whose table is not in the dump is a warning, not an error
    /// (pg_dump's `--strict-names` is the other way round by default here).
    pub allow_missing: bool,
    /// Rewrite a dump that lacks its closing marker.
    pub allow_truncated: bool,
}

impl Default for Options {
    fn default() -> Self {
        let r = ReaderConfig::default();
        Options {
            format: Format::Auto,
            threads: 0,
            chunk_size: r.chunk_size,
            max_record: r.max_record,
            compress: None,
            columns: HashMap::new(),
            force: false,
            report: false,
            allow_missing: false,
            allow_truncated: false,
        }
    }
}

/// What a job did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Summary {
    /// PostgreSQL or SQLite.
    pub dialect: Dialect,
    /// How the input was compressed.
    pub compression: Compression,
    /// Per rename rule, in the order of the rules.
    pub renames: Vec<RenameSummary>,
    /// Per value rule.
    pub rewrites: Vec<RewriteSummary>,
    /// Rows examined for value rules.
    pub rows_examined: u64,
    /// Decompressed bytes read.
    pub bytes_in: u64,
    /// Bytes written.
    pub bytes_out: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Worker threads used.
    pub threads: usize,
    /// The dump's declared encoding (`SET client_encoding`), if any.
    pub encoding: Option<String>,
    /// Kinds of statement where tables were renamed, with counts.
    pub renamed_in: Vec<Count>,
    /// With `report`: mentions of old names or FROM texts left alone, by
    /// where they are.
    pub left_alone: Vec<Count>,
    /// With `report`: each table's rows and bytes of data.
    pub tables: Vec<TableSize>,
    /// What the checks found that stops a run unless `force` is set
    /// ([`Problem::Collision`], [`Problem::TooLong`]): a forced run returns
    /// them here, an unforced one as an [`Error::Check`].
    pub problems: Vec<Problem>,
    /// The collision check kept only the first 20 000 values that
    /// `--reverse` could not restore, so it may have missed collisions.
    pub check_incomplete: bool,
    /// Input offsets of statements the parser rejected that `--force`
    /// passed through unchanged (the first 20).
    pub forced: Vec<u64>,
    /// The run accepted a dump without its closing marker.
    pub allow_truncated: bool,
    /// pg_dump's server and client versions, when the dump says.
    pub versions: Option<String>,
    /// Every `CREATE TRIGGER`.
    pub triggers: Vec<Trigger>,
    /// Tables whose values are rewritten and that have UPDATE triggers
    /// ([`Problem::UpdateTrigger`]): a live `UPDATE` fires them, the offline
    /// rewrite does not.
    pub trigger_warnings: Vec<Problem>,
    /// With `report`: the rows of Django's `django_migrations` table in
    /// input order; `None` when the dump has no such table (not a Django
    /// database), `Some(empty)` when it has one without rows.
    pub django_migrations: Option<Vec<MigrationRow>>,
    /// Other things the user should know, in this order: pg 18 statistics
    /// of a column whose values are rewritten, dropped
    /// ([`Problem::StatisticsDropped`]); rules whose table or column the
    /// dump lacks, let pass by `allow_missing` ([`Problem::Missing`]).
    pub warnings: Vec<Problem>,
}

/// What one rename rule did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenameSummary {
    /// The table's name in the input.
    pub old: String,
    /// Its name in the output.
    pub new: String,
    /// Identifiers renamed.
    pub references: u64,
}

/// A count of something by a description of it (a kind of statement, a
/// place in the dump).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Count {
    /// What is counted.
    pub what: String,
    /// How many.
    pub count: u64,
}

/// One table's data, as the report gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableSize {
    /// The table (input name).
    pub table: String,
    /// Rows.
    pub rows: u64,
    /// Bytes of data.
    pub bytes: u64,
}

/// A `CREATE TRIGGER` of the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Trigger {
    /// The table it is on.
    pub table: String,
    /// The trigger's name.
    pub name: String,
    /// Its events (`INSERT UPDATE …`), space-separated.
    pub events: String,
}

/// What one value rule did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RewriteSummary {
    /// `table.column` (input names).
    pub column: String,
    /// `from → to`.
    pub change: String,
    /// Values rewritten.
    pub rewritten: u64,
    /// Values a `--reverse` run would not give back.
    pub irreversible: u64,
    /// A few of those (samples: a long value is kept as its start, end
    /// and length, as messages quote it).
    pub irreversible_examples: Vec<Irreversible>,
    /// A few values rewritten.
    pub examples: Vec<ValueExample>,
}

/// A value that the reverse rule would not give back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Irreversible {
    /// The input value.
    pub input: Sample,
    /// The output value (the same as `input` when the rule left it).
    pub output: Sample,
    /// What the reverse rule would make of `output`.
    pub reversed: Sample,
}

const DETECT_BYTES: usize = 64 << 10;

/// Reads up to [`DETECT_BYTES`] to decide the dialect.
fn read_head(r: &mut dyn Read) -> Result<Vec<u8>> {
    let mut head = vec![0u8; DETECT_BYTES];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("reading input", e)),
        }
    }
    head.truncate(n);
    Ok(head)
}

/// Rules whose table the dump does not have, or whose table lacks the
/// column they name, with the closest names it has ("did you mean"). The
/// columns are each table's that a column rule names, as its `CREATE
/// TABLE` gives them (`DumpFacts::columns`; a table without one is not
/// judged).
fn missing(plan: &Plan, rules: &Rules, facts: &DumpFacts) -> Vec<Missing> {
    let (tables, columns) = (&facts.tables, &facts.columns);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let matches = |schema: Option<&[u8]>, name: &[u8], (s, t): &(Vec<u8>, Vec<u8>)| {
        crate::codec::ident::same_name(plan.dialect, t, name)
            && schema.is_none_or(|w| crate::codec::ident::same_name(plan.dialect, s, w))
    };
    let has = |schema: Option<&[u8]>, name: &[u8]| tables.iter().any(|k| matches(schema, name, k));
    let closest = |name: &[u8], among: &mut dyn Iterator<Item = String>| -> Vec<String> {
        let mut scored: Vec<(usize, String)> = among
            .map(|n| {
                let bare = n.rsplit('.').next().unwrap_or(&n).to_ascii_lowercase();
                (edit_distance(&name.to_ascii_lowercase(), bare.as_bytes()), n)
            })
            .filter(|(d, _)| *d <= name.len().max(3) / 2 + 1)
            .collect();
        scored.sort();
        scored.dedup();
        scored.into_iter().take(3).map(|(_, n)| n).collect()
    };
    let near = |name: &[u8]| closest(name, &mut tables.iter().map(|(s, t)| format!("{}.{}", text(s), text(t))));
    // The column is missing only when every table of that name that has a
    // CREATE TABLE lacks it (a rule without a schema names them all).
    let lacks = |schema: Option<&[u8]>, table: &[u8], column: &[u8]| -> Option<Vec<String>> {
        let mut known = columns.iter().filter(|(k, _)| matches(schema, table, k)).peekable();
        known.peek()?;
        let mut all = Vec::new();
        for (_, cols) in known {
            if cols.iter().any(|c| crate::codec::ident::same_name(plan.dialect, c, column)) {
                return None;
            }
            all.extend(cols.iter().map(|c| text(c)));
        }
        Some(closest(column, &mut all.into_iter()))
    };
    let qualified = |schema: Option<&[u8]>, t: &[u8]| match schema {
        Some(s) => format!("{}.{}", text(s), text(t)),
        None => text(t),
    };
    let mut out = Vec::new();
    let django: Vec<&[u8]> = plan.django.iter().map(|d| d.old_table.as_bytes()).collect();
    for r in &plan.renames[..rules.renames().len().min(plan.renames.len())] {
        if django.contains(&r.old.as_slice()) || has(Some(&r.schema), &r.old) {
            continue;
        }
        out.push(Missing {
            rule: RuleKind::RenameTable,
            name: format!("{}.{}", text(&r.schema), text(&r.old)),
            table: format!("{}.{}", text(&r.schema), text(&r.old)),
            column: None,
            near: near(&r.old),
        });
    }
    // Django model renames (their tables are renamed by the rules above,
    // skipped there): a model whose table is not in the dump.
    for d in plan.django.iter().filter(|d| d.old_table != d.new_table) {
        if !has(None, d.old_table.as_bytes()) {
            out.push(Missing {
                rule: RuleKind::DjangoModel,
                name: format!("{}.{}", d.app, d.old_model),
                table: d.old_table.clone(),
                column: None,
                near: near(d.old_table.as_bytes()),
            });
        }
    }
    // Django field renames are checked with Django's own advice
    // (`django::appendix`).
    for c in rules.column_renames().iter().filter(|c| !c.django) {
        let schema = c.schema.as_deref();
        let (table, name) = (qualified(schema, &c.table), format!("{}.{}", qualified(schema, &c.table), text(&c.old)));
        if !has(schema, &c.table) {
            out.push(Missing { rule: RuleKind::RenameColumn, name, table, column: None, near: near(&c.table) });
        } else if let Some(near) = lacks(schema, &c.table, &c.old) {
            out.push(Missing { rule: RuleKind::RenameColumn, name, table, column: Some(text(&c.old)), near });
        }
    }
    for w in &plan.rewrites {
        let schema = w.schema.as_deref();
        let (table, name) = (qualified(schema, &w.table), format!("{}.{}", qualified(schema, &w.table), text(&w.column)));
        if !has(schema, &w.table) {
            out.push(Missing { rule: RuleKind::Rewrite, name, table, column: None, near: near(&w.table) });
        } else if let Some(near) = lacks(schema, &w.table, &w.column) {
            out.push(Missing { rule: RuleKind::Rewrite, name, table, column: Some(text(&w.column)), near });
        }
    }
    out
}

/// The UPDATE triggers of tables whose values the rules rewrite (a live
/// `UPDATE` fires them — `last_update = now()`, search vectors — the
/// offline rewrite does not), one problem per rule, in the order of what
/// they say (as they were sorted when they were lines).
fn update_triggers(plan: &Plan, facts: &DumpFacts) -> Vec<Problem> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut out = Vec::new();
    for w in &plan.rewrites {
        let names: Vec<String> = facts
            .triggers
            .iter()
            .filter(|t| t.events.iter().any(|e| e == "UPDATE"))
            .filter(|t| {
                let bare = t.table.rsplit(|&b| b == b'.').next().unwrap_or(&t.table);
                crate::codec::ident::same_name(plan.dialect, bare, &w.table)
            })
            .map(|t| text(&t.name))
            .collect();
        if !names.is_empty() {
            out.push(Problem::UpdateTrigger { table: text(&w.table), column: text(&w.column), triggers: names });
        }
    }
    out.sort_by_cached_key(Problem::to_string);
    out.dedup();
    out
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// What the pre-write checks found: values that would collide in a
/// UNIQUE column, values too long for their column.
fn problems(plan: &Plan, outcome: &pipeline::Outcome) -> Vec<Problem> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut out = Vec::new();
    for c in outcome
        .collisions
        .iter()
        .filter(|c| outcome.facts.unique_rules.contains(&c.rule))
    {
        let Some(w) = plan.rewrites.get(c.rule) else {
            continue;
        };
        let clash = match &c.named {
            // Past the irreversible values kept by name (checks.rs).
            None => Clash::Unnamed,
            Some(n) if n.kept => Clash::Existing { value: n.new.clone(), other: n.other.clone() },
            Some(n) => Clash::Becomes { from: n.other.clone(), value: n.new.clone() },
        };
        out.push(Problem::Collision { table: text(&w.table), column: text(&w.column), clash });
    }
    for (i, t) in outcome
        .counts
        .too_long
        .iter()
        .enumerate()
        .filter(|(_, t)| t.count > 0)
    {
        let w = &plan.rewrites[i];
        out.push(Problem::TooLong {
            table: text(&w.table),
            column: text(&w.column),
            count: t.count,
            examples: t.examples.iter().map(|(a, b, _)| ValueExample::new(a.clone(), b.clone())).collect(),
        });
    }
    out
}

/// Resolves the dialect from the opening bytes and the user's choice.
pub fn resolve_format(head: &[u8], format: Format) -> Result<Dialect> {
    let wanted = match format {
        Format::Auto => None,
        Format::Postgres => Some(Dialect::Postgres),
        Format::Sqlite => Some(Dialect::Sqlite),
    };
    match (detect(head), wanted) {
        (Detected::Empty, _) => Err(Error::Unsupported("the input is empty (no SQL statement found)".into())),
        (Detected::NotSql, _) => Err(Error::Unsupported(
            "the input does not look like an SQL dump (line 1, byte 0); dumpsed reads pg_dump plain output and sqlite3 .dump output".into(),
        )),
        (Detected::Dialect(d), Some(w)) if d != w => Err(Error::Format { asked: Some(w), found: Some(d) }),
        (Detected::Dialect(d), _) => Ok(d),
        (Detected::Unknown, Some(w)) => Ok(w),
        (Detected::Unknown, None) => Err(Error::Format { asked: None, found: None }),
    }
}

/// Rewrites `input` into `out` under `rules`, telling `observer` the
/// progress (a closure `FnMut(u64)` is one) and, if it asks, every
/// rewritten value.
pub fn rewrite(
    input: Input,
    out: &mut dyn Write,
    rules: &Rules,
    options: &Options,
    observer: impl Observer,
) -> Result<Summary> {
    rewrite_job(input, out, rules, options, observer, Whole::Dump)
}

/// What a job's input is, for Django's effects beyond the schema
/// ([`crate::decide::django::appendix`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whole {
    /// A whole plain dump or SQLite script: the appendix is added at its
    /// end, or, with `--reverse`, a forward run's is taken out.
    Dump,
    /// An archive's TOC as one script: the appendix is computed (the
    /// archive makes it a TOC entry); with `--reverse` the archive takes
    /// the forward run's entry out itself.
    ArchiveToc,
    /// One archive entry's data: no appendix.
    ArchiveData,
}

/// [`rewrite`] of an archive's TOC SQL (`archive::plain`), which takes a
/// forward run's Django entry out of the TOC itself under `--reverse`.
pub(crate) fn rewrite_toc(input: Input, out: &mut dyn Write, rules: &Rules, options: &Options) -> Result<Summary> {
    rewrite_job(input, out, rules, options, (), Whole::ArchiveToc)
}

/// [`rewrite`] of a part of a dump (one archive entry's data): Django's
/// effects beyond the schema ([`crate::decide::django::appendix`]) are not added at
/// its end; the archive gets them once, as their own TOC entry.
pub fn rewrite_part(
    input: Input,
    out: &mut dyn Write,
    rules: &Rules,
    options: &Options,
    observer: impl Observer,
) -> Result<Summary> {
    rewrite_job(input, out, rules, options, observer, Whole::ArchiveData)
}

fn rewrite_job(
    mut input: Input,
    out: &mut dyn Write,
    rules: &Rules,
    options: &Options,
    mut observer: impl Observer,
    whole: Whole,
) -> Result<Summary> {
    let appendix = whole != Whole::ArchiveData;
    let started = Instant::now();
    let head = match &input.mapped {
        Some(m) => m.map[..m.map.len().min(DETECT_BYTES)].to_vec(),
        None => read_head(&mut input.reader)?,
    };
    let dialect = resolve_format(&head, options.format)?;
    let mut plan = Plan::new(rules, dialect);
    plan.report = options.report;
    plan.log_changes = observer.wants_changes();
    let plan = Arc::new(plan);
    let threads = if options.threads == 0 {
        rayon::current_num_threads()
    } else {
        options.threads
    };
    let config = ReaderConfig {
        chunk_size: options.chunk_size.max(1),
        max_record: options.max_record,
        columns: options.columns.clone(),
        force: options.force,
        now: crate::decide::django::now_utc(dialect),
        allow_truncated: options.allow_truncated,
        appendix,
        undo_appendix: whole == Whole::Dump && rules.is_reversed() && rules.has_django(),
    };
    let reader = Reader::new(input.reader, plan.clone(), config);
    let (reader, mapped) = match input.mapped {
        Some(m) => (reader.with_map(m.map.clone(), input.consumed.clone()), Some(m)),
        None => (reader.with_prefix(head), None),
    };
    let pipe = PipelineConfig {
        threads,
        inflight: threads + 2,
        compress: options.compress,
    };
    let outcome = pipeline::run(reader, out, &pipe, &mut observer);
    // A mapped input that changed during the run is the error, whatever
    // the run said (a write from a page lost to a truncation fails with
    // EFAULT, "Bad address"; one inside the last page reads zeros).
    if let Some(m) = &mapped {
        m.check_unchanged()?;
    }
    let outcome = outcome?;
    let plan = outcome.plan.clone().unwrap_or(plan);
    let mut missing = missing(&plan, rules, &outcome.facts);
    if !appendix {
        // One archive entry's data holds one table: the archive's TOC job
        // checks the model's table.
        missing.retain(|m| m.rule != RuleKind::DjangoModel);
    }
    if !missing.is_empty() && !options.allow_missing {
        return Err(Error::Missing(missing));
    }
    // Allowed: said as warnings (a table rename that found nothing shows
    // in its count of references already).
    let allowed = missing.into_iter().filter(|m| m.rule != RuleKind::RenameTable).map(Problem::Missing);
    let problems = problems(&plan, &outcome);
    let trigger_warnings = update_triggers(&plan, &outcome.facts);
    let check_incomplete = outcome.check_incomplete;
    let (counts, bytes_in, bytes_out, facts) = (outcome.counts, outcome.bytes_in, outcome.bytes_out, outcome.facts);
    if !problems.is_empty() && !options.force {
        return Err(Error::Check(problems));
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let has_migrations = facts
        .tables
        .iter()
        .any(|(_, t)| crate::codec::ident::same_name(dialect, t, b"django_migrations"));
    Ok(Summary {
        dialect,
        compression: input.compression,
        renames: plan
            .renames
            .iter()
            .zip(counts.renamed.iter().chain(std::iter::repeat(&0)))
            .map(|(r, &n)| RenameSummary { old: text(&r.old), new: text(&r.new), references: n })
            .collect(),
        rewrites: plan
            .rewrites
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let irr = counts.irreversible.get(i).cloned().unwrap_or_default();
                RewriteSummary {
                    column: format!("{}.{}", text(&w.table), text(&w.column)),
                    change: format!("{} → {}", text(&w.from), text(&w.to)),
                    rewritten: counts.rewritten.get(i).copied().unwrap_or(0),
                    irreversible: irr.count,
                    irreversible_examples: irr
                        .examples
                        .into_iter()
                        .map(|(input, output, reversed)| Irreversible { input, output, reversed })
                        .collect(),
                    examples: counts
                        .examples
                        .get(i)
                        .map(|e| e.iter().map(|(old, new)| ValueExample::new(old.clone(), new.clone())).collect())
                        .unwrap_or_default(),
                }
            })
            .collect(),
        rows_examined: counts.rows_examined,
        bytes_in,
        bytes_out,
        elapsed: started.elapsed(),
        threads,
        encoding: facts.encoding,
        renamed_in: counts.renamed_in.into_iter().map(|(what, count)| Count { what, count }).collect(),
        left_alone: counts.left_alone.into_iter().map(|(what, count)| Count { what, count }).collect(),
        forced: counts.forced.clone(),
        allow_truncated: options.allow_truncated,
        versions: facts.versions,
        trigger_warnings,
        warnings: facts.warnings.into_iter().chain(allowed).collect(),
        triggers: facts
            .triggers
            .iter()
            .map(|t| Trigger { table: text(&t.table), name: text(&t.name), events: t.events.join(" ") })
            .collect(),
        tables: counts
            .tables
            .into_iter()
            .map(|(t, s)| TableSize { table: text(&t), rows: s.rows, bytes: s.bytes })
            .collect(),
        problems,
        check_incomplete,
        django_migrations: (options.report && has_migrations).then_some(counts.django_migrations),
    })
}
