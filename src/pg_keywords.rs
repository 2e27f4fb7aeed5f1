//! PostgreSQL 15's keywords that pg_dump quotes when they appear as
//! identifiers.
//!
//! `fmtId` / `fmtIdEnc` in `src/fe_utils/string_utils.c` quote a name that
//! is otherwise a plain lowercase identifier (`[a-z_][a-z0-9_]*`) when it is
//! a keyword whose category is not `UNRESERVED_KEYWORD`. This is that set:
//! every entry of `src/include/parser/kwlist.h` (PostgreSQL 15, as vendored
//! at 15.1 in pganalyze/libpg_query's `15-latest` branch) whose category is
//! `RESERVED_KEYWORD`, `COL_NAME_KEYWORD` or `TYPE_FUNC_NAME_KEYWORD`
//! (77 + 51 + 23 = 151 of the file's 460 keywords).
//!
//! The list is lowercase and sorted in ascending byte order, so callers can
//! use `QUOTED_KEYWORDS.binary_search(&name)`.

/// Keywords (lowercase) that PostgreSQL 15's `fmtId` quotes; sorted by
/// byte order for `binary_search`.
pub(crate) const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

#[cfg(test)]
mod tests {
    use super::QUOTED_KEYWORDS;

    #[test]
    fn sorted_and_unique() {
        for pair in QUOTED_KEYWORDS.windows(2) {
            assert!(
                pair[0].as_bytes() < pair[1].as_bytes(),
                "{:?} must sort before {:?}",
                pair[0],
                pair[1]
            );
        }
        assert_eq!(QUOTED_KEYWORDS.len(), 151);
    }

    #[test]
    fn lowercase_identifier_shaped() {
        for kw in QUOTED_KEYWORDS {
            assert!(kw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
        }
    }

    #[test]
    fn contains_non_unreserved_keywords() {
        // select, user, table: RESERVED_KEYWORD; between, int: COL_NAME_KEYWORD;
        // authorization, join: TYPE_FUNC_NAME_KEYWORD.
        for kw in [
            "select",
            "user",
            "table",
            "between",
            "int",
            "authorization",
            "join",
        ] {
            assert!(QUOTED_KEYWORDS.binary_search(&kw).is_ok(), "{kw}");
        }
    }

    #[test]
    fn excludes_unreserved_keywords() {
        for kw in ["action", "name"] {
            assert!(QUOTED_KEYWORDS.binary_search(&kw).is_err(), "{kw}");
        }
    }
}
