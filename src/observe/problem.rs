//! What the checks found, typed: the checks (`job.rs`) read the run's
//! [`DumpFacts`](crate::observe::facts::DumpFacts) and return these; a
//! caller matches on them, and their `Display` says them in the library's
//! words (no command-line flags: the command line adds its own hints).

use crate::observe::sample::Sample;

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

/// A kind of rule, as the library's [`Rules`](crate::Rules) names it
/// (the command line names its flag instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleKind {
    /// A table rename ([`Rules::parse_rename`](crate::Rules::parse_rename)).
    RenameTable,
    /// A column rename ([`Rules::parse_column_rename`](crate::Rules::parse_column_rename)).
    RenameColumn,
    /// A value rewrite ([`Rules::parse_rewrite`](crate::Rules::parse_rewrite)).
    Rewrite,
    /// A Django model rename ([`Rules::add_django_model`](crate::Rules::add_django_model)).
    DjangoModel,
    /// The tables of a Django model with `Meta.db_table`, given with its
    /// model rename.
    DbTable,
    /// A Django field rename ([`Rules::parse_django_field`](crate::Rules::parse_django_field)).
    DjangoField,
    /// A Django table rename ([`Rules::parse_django_table`](crate::Rules::parse_django_table)).
    DjangoTable,
    /// A migration marked applied ([`Rules::add_mark_applied`](crate::Rules::add_mark_applied)).
    MarkApplied,
    /// The time marked migrations were applied ([`Rules::set_applied_at`](crate::Rules::set_applied_at)).
    AppliedAt,
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RuleKind::RenameTable => "table rename",
            RuleKind::RenameColumn => "column rename",
            RuleKind::Rewrite => "value rewrite",
            RuleKind::DjangoModel => "Django model rename",
            RuleKind::DbTable => "db_table",
            RuleKind::DjangoField => "Django field rename",
            RuleKind::DjangoTable => "Django table rename",
            RuleKind::MarkApplied => "migration marked applied",
            RuleKind::AppliedAt => "applied-at time",
        })
    }
}

/// A rule whose table or column the dump does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Missing {
    /// The kind of rule.
    pub rule: RuleKind,
    /// The rule as it names what it changes (`public.a`, `t.old`, `app.Model`).
    pub name: String,
    /// The table the dump lacks, or the table that lacks the column.
    pub table: String,
    /// The column the table lacks (`None`: the table is missing).
    pub column: Option<String>,
    /// The closest names the dump has ("did you mean"), at most three.
    pub near: Vec<String>,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: ", self.rule, self.name)?;
        match (&self.column, self.rule) {
            (Some(c), _) => write!(f, "table {} has no column {c}", self.table)?,
            (None, RuleKind::RenameTable) => f.write_str("the dump has no such table")?,
            (None, RuleKind::DjangoModel) => write!(f, "its table {} is not in this dump", self.table)?,
            (None, _) => write!(f, "the dump has no table {}", self.table)?,
        }
        if !self.near.is_empty() {
            write!(f, " (did you mean {}?)", self.near.join(", "))?;
        }
        Ok(())
    }
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
    use super::RuleKind;

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
