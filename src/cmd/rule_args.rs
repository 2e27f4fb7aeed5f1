//! The rule options shared by `rewrite` and `inspect`.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::ValueEnum;

use dumpsed::Format;
use dumpsed::{Error, Rules};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Auto,
    Postgres,
    Sqlite,
}

/// What to rename and rewrite.
#[derive(Debug, clap::Args)]
pub struct RuleArgs {
    /// A built-in rule set: capa-to-sap (the guide's Django migration:
    /// RenameModel CorrectivePreventiveAction → SafetyActionPlan, and
    /// reference numbers CAPA- → SAP-).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,

    /// Read rules from a TOML file (see the README); combined with the
    /// rules given as options.
    #[arg(long = "rules", value_name = "FILE.toml")]
    pub rules: Option<PathBuf>,

    /// Rename table OLD (optionally SCHEMA.OLD) to NEW. Repeatable.
    #[arg(long = "rename-table", value_name = "OLD=NEW")]
    pub rename_table: Vec<String>,
    /// Rename a column as `ALTER TABLE … RENAME COLUMN` does, everywhere
    /// PostgreSQL / SQLite changes it (column lists, constraints, indexes,
    /// views, triggers, policies, statistics, comments, grants). TABLE may
    /// be schema-qualified and given by its old or new name. Repeatable.
    #[arg(long = "rename-column", value_name = "TABLE.OLD=NEW")]
    pub rename_column: Vec<String>,
    /// A rule whose table is not in the dump is only a warning (by default
    /// it is an error, before anything is written: a typo renames nothing).
    #[arg(long = "allow-missing")]
    pub allow_missing: bool,

    /// Rewrite values of TABLE.COLUMN starting with FROM. Repeatable.
    #[arg(long = "rewrite", value_name = "TABLE.COLUMN:FROM=TO")]
    pub rewrite: Vec<String>,

    /// Rename a Django model as `manage.py migrate` does with RenameModel:
    /// its table, its many-to-many tables and their columns, the foreign
    /// keys' names, and the content type. Repeatable.
    #[arg(long = "django-model", value_name = "APP.OldModel=NewModel")]
    pub django_model: Vec<String>,

    /// Rename a Django model field as `manage.py migrate` does with
    /// RenameField: the column (OLD and NEW are database column names,
    /// `owner_id=keeper_id` for a ForeignKey) of table `app_model`, and on
    /// PostgreSQL the foreign key's name. Repeatable.
    #[arg(long = "django-field", value_name = "APP.Model.OLD=NEW")]
    pub django_field: Vec<String>,

    /// Rename a Django model's table as AlterModelTable does (the table
    /// `app_model`; use --rename-table for a model that had Meta.db_table).
    /// Repeatable.
    #[arg(long = "django-table", value_name = "APP.Model=NEW_TABLE")]
    pub django_table: Vec<String>,

    /// Tables of the (single) --django-model whose model sets Meta.db_table.
    #[arg(long = "db-table", value_name = "OLD_TABLE=NEW_TABLE")]
    pub db_table: Option<String>,

    /// Add the django_migrations row of APP.MIGRATION, so that `migrate`
    /// after the restore has nothing left to do. Repeatable.
    #[arg(long = "mark-applied", value_name = "APP.MIGRATION")]
    pub mark_applied: Vec<String>,

    /// The `applied` time of --mark-applied rows (default: now, UTC).
    #[arg(long = "applied-at", value_name = "TIMESTAMP")]
    pub applied_at: Option<String>,

    /// Rename the model's permissions in place (as Django 6.0 does), so
    /// users and groups keep their grants; by default new permissions are
    /// added, as Django 5.2 does.
    #[arg(long = "rename-permissions")]
    pub rename_permissions: bool,

    /// Apply the rules backwards (new → old names, TO → FROM values): the
    /// rollback of an earlier rewrite.
    #[arg(long)]
    pub reverse: bool,

    /// Column order of TABLE, for INSERTs without a column list in a dump
    /// that has no CREATE TABLE for it (--data-only). Repeatable.
    #[arg(long = "columns", value_name = "TABLE=COL1,COL2,...")]
    pub columns: Vec<String>,

    /// Dump format.
    #[arg(long, value_enum, default_value = "auto")]
    pub format: FormatArg,

    /// Go on when a check fails (e.g. the new table name already exists in
    /// the dump). Stated in the summary.
    #[arg(long)]
    pub force: bool,
}

impl RuleArgs {
    /// The rules these options describe; at least one is required.
    pub fn rules(&self) -> Result<Rules, Error> {
        let rules = self.rules_or_none()?;
        if rules.is_empty() {
            return Err(Error::Rule(
                "no rules given: use --preset, --rules, --rename-table, --rename-column, --rewrite, --django-model, --django-field or --django-table".into(),
            ));
        }
        Ok(rules)
    }

    /// The rules these options describe, possibly none (`inspect` just
    /// looks at a dump).
    pub fn rules_or_none(&self) -> Result<Rules, Error> {
        let mut rules = match &self.preset {
            Some(p) => Rules::preset(p)?,
            None => Rules::new(),
        };
        if let Some(path) = &self.rules {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            rules.extend(Rules::from_toml(&text)?)?;
        }
        if self.db_table.is_some() && self.django_model.len() != 1 {
            return Err(Error::Rule(
                "--db-table goes with exactly one --django-model".into(),
            ));
        }
        for m in &self.django_model {
            rules.add_django_model(m, self.db_table.as_deref())?;
        }
        for t in &self.django_table {
            rules.parse_django_table(t, None)?;
        }
        for f in &self.django_field {
            rules.parse_django_field(f, None)?;
        }
        for r in &self.rename_table {
            rules.parse_rename(r)?;
        }
        for c in &self.rename_column {
            rules.parse_column_rename(c)?;
        }
        for w in &self.rewrite {
            rules.parse_rewrite(w)?;
        }
        for m in &self.mark_applied {
            rules.add_mark_applied(m)?;
        }
        if let Some(at) = &self.applied_at {
            rules.set_applied_at(at)?;
        }
        if self.rename_permissions {
            rules.set_rename_permissions(true);
        }
        // `--mark-applied` under `--reverse`: the rows a forward run added
        // go with the rest of what it added for Django (its appendix or
        // TOC entry, taken out whole), so a rules file keeps its
        // `mark_applied` both ways.
        Ok(if self.reverse {
            rules.reversed()
        } else {
            rules
        })
    }

    pub fn format(&self) -> Format {
        match self.format {
            FormatArg::Auto => Format::Auto,
            FormatArg::Postgres => Format::Postgres,
            FormatArg::Sqlite => Format::Sqlite,
        }
    }

    /// `--columns` as a map from table to column names.
    pub fn columns(&self) -> Result<HashMap<Vec<u8>, Vec<Vec<u8>>>, Error> {
        let mut map = HashMap::new();
        for spec in &self.columns {
            let bad = || Error::Rule(format!("{spec:?}: expected TABLE=COL1,COL2,..."));
            let (t, cols) = spec.split_once('=').ok_or_else(bad)?;
            let cols: Vec<Vec<u8>> = cols
                .split(',')
                .map(|c| c.trim().as_bytes().to_vec())
                .collect();
            if t.is_empty() || cols.iter().any(Vec::is_empty) {
                return Err(bad());
            }
            let table = t.rsplit('.').next().unwrap_or(t);
            map.insert(table.as_bytes().to_vec(), cols);
        }
        Ok(map)
    }
}
