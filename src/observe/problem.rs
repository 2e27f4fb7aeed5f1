//! What the checks found, typed: the checks (`job.rs`) read the run's
//! [`DumpFacts`](crate::observe::facts::DumpFacts) and return these; a
//! caller matches on them, and their `Display` says them in the library's
//! words (no command-line flags: the command line adds its own hints).

use crate::error::{Missing, Sample};

/// Something the checks found about a rewrite, before or while letting its
/// output out. New variants may come, so a `match` needs a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A rewritten value of a UNIQUE or primary-key column would equal
    /// another value of that column: the live `UPDATE` would fail on the
    /// duplicate key. Stops a run unless forced.
    Collision {
        /// The value rule's table (input name).
        table: String,
        /// Its column.
        column: String,
        /// Which values collide, as far as the check can name them.
        clash: Clash,
    },
    /// Rewritten values longer than the column's `varchar(N)` / `char(N)`
    /// allows: the live `UPDATE` would fail. Stops a run unless forced.
    TooLong {
        /// The value rule's table (input name).
        table: String,
        /// Its column.
        column: String,
        /// How many values.
        count: u64,
        /// A few of them, before and after.
        examples: Vec<ValueExample>,
    },
    /// A table whose values are rewritten has UPDATE triggers: a live
    /// `UPDATE` fires them (`last_update = now()`, search vectors), the
    /// offline rewrite does not.
    UpdateTrigger {
        /// The table, as the value rule names it.
        table: String,
        /// The column rewritten.
        column: String,
        /// The triggers' names, in the dump's order.
        triggers: Vec<String>,
    },
    /// A rule whose table or column the dump lacks, allowed to pass
    /// ([`Rewriter::allow_missing`](crate::Rewriter::allow_missing)):
    /// nothing was changed for it.
    Missing(Missing),
    /// pg 18's statistics of a column whose values are rewritten were
    /// dropped (the old ones would be stale): `ANALYZE` after the restore
    /// makes them again.
    StatisticsDropped {
        /// The column, as `pg_restore_attribute_stats` names it.
        column: String,
    },
}

/// Which values of a [`Problem::Collision`] collide.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Clash {
    /// `value` is in the column already (left as it was), and `other`
    /// would become it too.
    Existing {
        /// The value already there.
        value: Sample,
        /// The value that would become it.
        other: Sample,
    },
    /// `from` would become `value`, which another value already is or
    /// becomes.
    Becomes {
        /// The input value.
        from: Sample,
        /// What it would become.
        value: Sample,
    },
    /// Two values would be equal, past the first 20 000 values a reverse
    /// rewrite could not restore (the ones the check keeps by name).
    Unnamed,
}

/// A value rewritten, before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueExample {
    /// The input value.
    pub old: Sample,
    /// The output value.
    pub new: Sample,
}

impl ValueExample {
    /// The example of `old` rewritten to `new`.
    pub fn new(old: Sample, new: Sample) -> ValueExample {
        ValueExample { old, new }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Collision { table, column, clash } => {
                write!(f, "{table}.{column} is UNIQUE: ")?;
                match clash {
                    Clash::Existing { value, other } => {
                        write!(f, "{value} is already there, and {other} would become it too")
                    }
                    Clash::Becomes { from, value } => {
                        write!(f, "{from} would become {value}, which another value already is or becomes")
                    }
                    Clash::Unnamed => f.write_str(
                        "two values would be equal (beyond the first 20 000 values a reverse rewrite could not \
                         restore, which are the ones named)",
                    ),
                }
            }
            Problem::TooLong { table, column, count, examples } => {
                let eg: Vec<String> = examples.iter().map(|e| format!("{} → {}", e.old, e.new)).collect();
                write!(
                    f,
                    "{count} value(s) of {table}.{column} would be longer than the column allows \
                     (varchar(N) / char(N)), e.g. {}",
                    eg.join(", ")
                )
            }
            Problem::UpdateTrigger { table, column, triggers } => write!(
                f,
                "table {table} has UPDATE trigger(s) {}: a live UPDATE of {column} would fire them; this offline \
                 rewrite does not",
                triggers.join(", ")
            ),
            Problem::Missing(m) => write!(f, "{m}; nothing was changed for it"),
            Problem::StatisticsDropped { column } => write!(
                f,
                "pg 18 statistics of {column} dropped (its values are rewritten; the old ones would be stale and \
                 could break histogram_bounds' order): run ANALYZE after the restore"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RuleKind;

    fn s(v: &str) -> Sample {
        Sample::of(v.as_bytes())
    }

    /// Each problem says what it is in the library's words, naming its
    /// table, column and values (quoted, as `Sample` says them), and no
    /// command-line flag: the lines the command line printed before they
    /// were typed.
    #[test]
    fn each_problem_says_itself_without_flags() {
        let (table, column) = ("public.users".to_string(), "email".to_string());
        let cases = [
            (
                Problem::Collision {
                    table: table.clone(),
                    column: column.clone(),
                    clash: Clash::Existing { value: s("SAP-1"), other: s("CAPA-1") },
                },
                "public.users.email is UNIQUE: \"SAP-1\" is already there, and \"CAPA-1\" would become it too",
            ),
            (
                Problem::Collision {
                    table: table.clone(),
                    column: column.clone(),
                    clash: Clash::Becomes { from: s("CAPA-1"), value: s("SAP-1") },
                },
                "public.users.email is UNIQUE: \"CAPA-1\" would become \"SAP-1\", which another value already is or becomes",
            ),
            (
                Problem::Collision { table: table.clone(), column: column.clone(), clash: Clash::Unnamed },
                "public.users.email is UNIQUE: two values would be equal (beyond the first 20 000 values a reverse \
                 rewrite could not restore, which are the ones named)",
            ),
            (
                Problem::TooLong {
                    table: table.clone(),
                    column: column.clone(),
                    count: 3,
                    examples: vec![ValueExample::new(s("ab"), s("abcd")), ValueExample::new(s("x"), s("xyz"))],
                },
                "3 value(s) of public.users.email would be longer than the column allows (varchar(N) / char(N)), \
                 e.g. \"ab\" → \"abcd\", \"x\" → \"xyz\"",
            ),
            (
                Problem::UpdateTrigger {
                    table: "users".into(),
                    column: column.clone(),
                    triggers: vec!["t1".into(), "t2".into()],
                },
                "table users has UPDATE trigger(s) t1, t2: a live UPDATE of email would fire them; this offline \
                 rewrite does not",
            ),
            (
                Problem::Missing(Missing {
                    rule: RuleKind::RenameTable,
                    name: "public.gone".into(),
                    table: "public.gone".into(),
                    column: None,
                    near: vec!["public.gene".into()],
                }),
                "table rename public.gone: the dump has no such table (did you mean public.gene?); nothing was \
                 changed for it",
            ),
            (
                Problem::StatisticsDropped { column: "public.users.email".into() },
                "pg 18 statistics of public.users.email dropped (its values are rewritten; the old ones would be \
                 stale and could break histogram_bounds' order): run ANALYZE after the restore",
            ),
        ];
        for (p, want) in cases {
            let said = p.to_string();
            assert_eq!(said, want);
            assert!(!said.contains("--"), "a library message names a flag: {said}");
        }
    }
}
