//! What a run learns about the dump for the checks and the summary, as one
//! value. The decider fills a [`DumpFacts`] as it reads; each chunk ships
//! what it added ([`DumpFacts::ship`]); the pipeline's writer merges the
//! chunks' facts in input order in one place ([`DumpFacts::merge`]); the
//! checks (`job.rs`) read the merged value and return typed
//! [`Problem`]s. A new fact is its field here, its line in `merge`, and the
//! check that reads it.

use crate::observe::problem::Problem;

/// A `CREATE TRIGGER` of the dump: a live `UPDATE` fires it, an offline
/// rewrite does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The table, as written (qualified if it was).
    pub table: Vec<u8>,
    /// The trigger's name.
    pub name: Vec<u8>,
    /// The events, upper case (`INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`).
    pub events: Vec<String>,
}

/// The facts of a dump, or of the chunks of it seen so far.
///
/// The single values are the ones in force (a chunk carries the encoding
/// in force at its end, which its worker decodes with); the lists hold what
/// was first seen in the chunks merged. Either way [`DumpFacts::merge`] is
/// associative: merging the chunks' facts in input order gives the same
/// value however they are grouped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DumpFacts {
    /// The dump's declared encoding (`SET client_encoding`), once seen.
    pub encoding: Option<String>,
    /// pg_dump's `-- Dumped from database version …` / `-- Dumped by
    /// pg_dump version …`, once seen.
    pub versions: Option<String>,
    /// Value rules whose column is UNIQUE or a primary key.
    pub unique_rules: Vec<usize>,
    /// Tables the dump has (`CREATE TABLE`, `COPY`, `INSERT`), as
    /// `(schema, name)`, in the order first seen: for the check that every
    /// rule's table exists.
    pub tables: Vec<(Vec<u8>, Vec<u8>)>,
    /// The columns of each table a column rule (rename, value rewrite)
    /// names, from its `CREATE TABLE`: for the check that the rule's column
    /// exists.
    pub columns: Vec<((Vec<u8>, Vec<u8>), Vec<Vec<u8>>)>,
    /// Every `CREATE TRIGGER`, in input order.
    pub triggers: Vec<Trigger>,
    /// Things the user should know, found while deciding (pg 18
    /// statistics of a rewritten column dropped), in input order.
    pub warnings: Vec<Problem>,
}

impl DumpFacts {
    /// Adds the facts of what comes after (`later`, the next chunks in
    /// input order): a single value seen later replaces this one, lists
    /// are appended, the UNIQUE rules are their union.
    pub fn merge(&mut self, later: DumpFacts) {
        let DumpFacts { encoding, versions, unique_rules, tables, columns, triggers, warnings } = later;
        if encoding.is_some() {
            self.encoding = encoding;
        }
        if versions.is_some() {
            self.versions = versions;
        }
        for r in unique_rules {
            if !self.unique_rules.contains(&r) {
                self.unique_rules.push(r);
            }
        }
        self.tables.extend(tables);
        self.columns.extend(columns);
        self.triggers.extend(triggers);
        self.warnings.extend(warnings);
    }

    /// The facts a chunk carries: the single values in force (kept here,
    /// for the chunks after it) and the lists gathered since the last
    /// chunk (taken).
    pub fn ship(&mut self) -> DumpFacts {
        DumpFacts {
            encoding: self.encoding.clone(),
            versions: self.versions.clone(),
            unique_rules: self.unique_rules.clone(),
            tables: std::mem::take(&mut self.tables),
            columns: std::mem::take(&mut self.columns),
            triggers: std::mem::take(&mut self.triggers),
            warnings: std::mem::take(&mut self.warnings),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One chunk's facts, small enough that values repeat across chunks.
    fn chunk_facts() -> impl Strategy<Value = DumpFacts> {
        let name = || proptest::collection::vec(b'a'..b'd', 1..3);
        (
            proptest::option::of("(UTF8|LATIN1|SQL_ASCII)"),
            proptest::option::of("server 1[5-8]\\.[0-9]"),
            // A set, as the decider keeps it.
            proptest::collection::btree_set(0usize..4, 0..3),
            proptest::collection::vec((name(), name()), 0..3),
            proptest::collection::vec(((name(), name()), proptest::collection::vec(name(), 0..3)), 0..2),
            proptest::collection::vec((name(), name()), 0..2),
            proptest::collection::vec("[a-c]{1,2}", 0..2),
        )
            .prop_map(|(encoding, versions, unique_rules, tables, columns, triggers, stats)| DumpFacts {
                encoding,
                versions,
                unique_rules: unique_rules.into_iter().collect(),
                tables,
                columns,
                triggers: triggers
                    .into_iter()
                    .map(|(table, name)| Trigger { table, name, events: vec!["UPDATE".into()] })
                    .collect(),
                warnings: stats.into_iter().map(|column| Problem::StatisticsDropped { column }).collect(),
            })
    }

    fn fold(chunks: &[DumpFacts]) -> DumpFacts {
        let mut all = DumpFacts::default();
        for c in chunks {
            all.merge(c.clone());
        }
        all
    }

    proptest! {
        /// Merging the chunks' facts in input order gives the same facts
        /// however the chunks are grouped: one by one, or each part of any
        /// split merged on its own first (as a merge of merges).
        #[test]
        fn merge_is_associative_over_chunk_order(
            chunks in proptest::collection::vec(chunk_facts(), 0..8),
            cuts in proptest::collection::vec(0usize..8, 0..4),
        ) {
            let whole = fold(&chunks);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(chunks.len())).collect();
            cuts.sort_unstable();
            let mut parts = Vec::new();
            let mut from = 0;
            for c in cuts.into_iter().chain([chunks.len()]) {
                parts.push(fold(&chunks[from..c]));
                from = c;
            }
            prop_assert_eq!(&fold(&parts), &whole);
            // A merge into a non-empty left side, the other way round.
            if let Some((first, rest)) = chunks.split_first() {
                let mut left = first.clone();
                left.merge(fold(rest));
                prop_assert_eq!(&left, &whole);
            }
        }
    }

    /// What a chunk ships: the lists gathered since the last chunk, and
    /// the single values in force, which stay for the chunks after it.
    #[test]
    fn ship_takes_the_lists_and_keeps_the_values_in_force() {
        let mut decider = DumpFacts {
            encoding: Some("UTF8".into()),
            unique_rules: vec![1],
            tables: vec![(b"public".to_vec(), b"a".to_vec())],
            ..DumpFacts::default()
        };
        let first = decider.ship();
        decider.tables.push((b"public".to_vec(), b"b".to_vec()));
        let second = decider.ship();
        assert_eq!(first.tables, vec![(b"public".to_vec(), b"a".to_vec())]);
        assert_eq!(second.tables, vec![(b"public".to_vec(), b"b".to_vec())]);
        assert_eq!(second.encoding.as_deref(), Some("UTF8"));
        assert_eq!(second.unique_rules, vec![1]);
        let mut all = first;
        all.merge(second);
        assert_eq!(all.tables.len(), 2);
        assert_eq!(all.unique_rules, vec![1]);
    }
}
