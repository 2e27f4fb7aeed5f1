//! Identifiers: how an SQL token names something, and how a new name is
//! written back, per dialect; and which names Django takes as Python
//! identifiers (app labels, model classes).

use std::borrow::Cow;

use crate::frame::lexer::{Dialect, TokenKind};

/// The name a bare or quoted identifier token denotes.
///
/// PostgreSQL folds bare identifiers to lower case (ASCII only in UTF-8
/// databases, `downcase_identifier` in `src/backend/parser/scansup.c`) and
/// takes quoted ones literally, with `""` for a quote. SQLite compares all
/// identifiers ASCII-case-insensitively, so for SQLite callers compare with
/// [`same_name`].
pub fn name_of<'a>(dialect: Dialect, kind: TokenKind, tok: &'a [u8]) -> Cow<'a, [u8]> {
    match kind {
        TokenKind::QuotedIdent if tok.len() >= 2 => {
            let close = tok[tok.len() - 1];
            let inner = &tok[1..tok.len() - 1];
            if close == b']' || memchr::memchr(close, inner).is_none() {
                Cow::Borrowed(inner)
            } else {
                // Undouble the closing quote character.
                let mut out = Vec::with_capacity(inner.len());
                let mut skip = false;
                for &b in inner {
                    if b == close && !skip {
                        skip = true;
                        continue;
                    }
                    skip = false;
                    out.push(b);
                }
                Cow::Owned(out)
            }
        }
        _ if dialect == Dialect::Postgres && tok.iter().any(u8::is_ascii_uppercase) => {
            Cow::Owned(tok.to_ascii_lowercase())
        }
        _ => Cow::Borrowed(tok),
    }
}

/// True when a token naming `name` refers to `wanted` in `dialect`.
pub fn same_name(dialect: Dialect, name: &[u8], wanted: &[u8]) -> bool {
    match dialect {
        Dialect::Postgres => name == wanted,
        Dialect::Sqlite => name.eq_ignore_ascii_case(wanted),
    }
}

/// True for a name made only of `[A-Za-z0-9_]` (not starting with a digit)
/// and, when `lower`, no upper-case letters.
fn is_plain(name: &[u8], lower: bool) -> bool {
    match name.first() {
        Some(b) if b.is_ascii_digit() => false,
        None => false,
        Some(_) => name.iter().all(|&b| {
            b == b'_'
                || b.is_ascii_digit()
                || (b.is_ascii_alphabetic() && !(lower && b.is_ascii_uppercase()))
        }),
    }
}

/// Appends `name` in double quotes, doubling any `"` in it.
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

/// Appends `name` as pg_dump `major`'s `fmtId` writes it
/// (`src/fe_utils/string_utils.c`): bare when it matches `[a-z_][a-z0-9_]*`
/// and is not a keyword of any category but unreserved in that version's
/// `kwlist.h`, quoted otherwise.
pub fn push_pg(name: &[u8], major: u32, out: &mut Vec<u8>) {
    if is_plain(name, true) && !quoted_keyword(name, major) {
        out.extend_from_slice(name);
    } else {
        push_quoted(name, out);
    }
}

/// Appends `name` as SQLite's `ALTER TABLE … RENAME TO` writes it into
/// stored schema SQL (`renameEditSql` in `src/alter.c`): always in double
/// quotes, whatever the quoting of the token it replaces (seen with sqlite3
/// 3.40: bare, `[…]` and `` `…` `` references all become `"new"`).
pub fn push_sqlite_schema(name: &[u8], out: &mut Vec<u8>) {
    push_quoted(name, out);
}

/// Appends `name` as the sqlite3 shell's `.dump` writes a table or column
/// name in `INSERT INTO t(rowid,a,…)` (`dump_callback` and `quoteChar` in
/// `src/shell.c.in`; checked against the 3.40 CLI. Trunk's `dump_callback`
/// still quotes with `quoteChar` but writes rows through its new result
/// formatter, `ext/qrf`, not checked here): bare when it is
/// `[A-Za-z_][A-Za-z0-9_]*` (C-locale `isalpha`/`isalnum`, so ASCII only,
/// upper case included) and `sqlite3_keyword_check` does not know it (any
/// case: `Order` is quoted too), else in double quotes with `"` doubled.
pub fn push_sqlite_shell(name: &[u8], out: &mut Vec<u8>) {
    if is_plain(name, false) && !is_sqlite_keyword(name) {
        out.extend_from_slice(name);
    } else {
        push_quoted(name, out);
    }
}

/// True for a valid Python identifier made of ASCII: what Django's app
/// labels and model class names are (`AppConfig.label` must be one; a model
/// is a class).
pub fn is_python_identifier(s: &str) -> bool {
    is_plain(s.as_bytes(), false)
}

/// Whether SQLite's tokenizer takes `name` for a keyword (ASCII case
/// folded), by the bundled SQLite's own `sqlite3_keyword_check`, the
/// function `quoteChar` calls. Its 147 keywords are the same in the 3.40
/// shell and the bundled 3.50 (compared with `sqlite3_keyword_name`; the
/// unit test below checks the count).
pub(crate) fn is_sqlite_keyword(name: &[u8]) -> bool {
    let Ok(len) = std::ffi::c_int::try_from(name.len()) else {
        return false;
    };
    // SAFETY: reads `len` bytes of `name`, which is valid for that long;
    // the keyword table is static, no connection or initialization needed.
    unsafe { rusqlite::ffi::sqlite3_keyword_check(name.as_ptr().cast(), len) != 0 }
}

use crate::codec::pg_keywords::{FIRST_MAJOR, KEYWORDS, LAST_MAJOR};

/// The keyword category of lower-case `word` in PostgreSQL `major` (`U`,
/// `C`, `T`, `R` as in `kwlist.h`, `-` for no keyword). Versions outside
/// the generated table take the nearest one.
pub(crate) fn category(word: &[u8], major: u32) -> u8 {
    let col = major.clamp(FIRST_MAJOR, LAST_MAJOR) - FIRST_MAJOR;
    match KEYWORDS.binary_search_by(|(w, _)| w.as_bytes().cmp(word)) {
        Ok(i) => KEYWORDS[i].1[col as usize],
        Err(_) => b'-',
    }
}

/// True when PostgreSQL `major`'s `quote_identifier` / pg_dump's `fmtId`
/// quotes `name` for being a keyword: any category but
/// `UNRESERVED_KEYWORD` (`src/fe_utils/string_utils.c`, `fmtIdEnc`;
/// `src/backend/utils/adt/ruleutils.c`, `quote_identifier`).
pub(crate) fn quoted_keyword(name: &[u8], major: u32) -> bool {
    name.len() <= 32 && matches!(category(name, major), b'C' | b'T' | b'R')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let pg = Dialect::Postgres;
        assert_eq!(&*name_of(pg, TokenKind::Word, b"Foo_Bar"), b"foo_bar");
        assert_eq!(
            &*name_of(pg, TokenKind::QuotedIdent, b"\"Fo\"\"o\""),
            b"Fo\"o"
        );
        assert_eq!(
            &*name_of(Dialect::Sqlite, TokenKind::QuotedIdent, b"[a]]"),
            b"a]"
        );
        assert_eq!(
            &*name_of(Dialect::Sqlite, TokenKind::QuotedIdent, b"`a``b`"),
            b"a`b"
        );
        assert!(same_name(Dialect::Sqlite, b"ABC", b"abc"));
        assert!(!same_name(pg, b"ABC", b"abc"));
    }

    #[test]
    fn quoting() {
        let q = |n: &[u8]| {
            let mut v = Vec::new();
            push_pg(n, 18, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(
            q(b"incident_safety_safetyactionplan"),
            "incident_safety_safetyactionplan"
        );
        assert_eq!(q(b"Plan"), "\"Plan\"");
        assert_eq!(q(b"user"), "\"user\"");
        assert_eq!(q(b"1x"), "\"1x\"");
        assert_eq!(q(b"a\"b"), "\"a\"\"b\"");
        // Per version: json is quoted from 17 on, system_user from 16.
        let qv = |n: &[u8], major| {
            let mut v = Vec::new();
            push_pg(n, major, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(qv(b"json", 16), "json");
        assert_eq!(qv(b"json", 17), "\"json\"");
        assert_eq!(qv(b"system_user", 15), "system_user");
        assert_eq!(qv(b"system_user", 16), "\"system_user\"");
        assert_eq!(qv(b"json_table", 16), "json_table");
        assert_eq!(qv(b"json_table", 18), "\"json_table\"");
        let s = |n: &[u8]| {
            let mut v = Vec::new();
            push_sqlite_shell(n, &mut v);
            push_sqlite_schema(n, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(s(b"new_t"), "new_t\"new_t\"");
        assert_eq!(s(b"new t"), "\"new t\"\"new t\"");
        let shell = |n: &[u8]| {
            let mut v = Vec::new();
            push_sqlite_shell(n, &mut v);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(shell(b"order"), "\"order\"");
        assert_eq!(shell(b"Order"), "\"Order\"");
        assert_eq!(shell(b"key"), "\"key\"");
        assert_eq!(shell(b"People"), "People");
        assert_eq!(shell(b"rowid"), "rowid");
        assert_eq!(shell(b"x$"), "\"x$\"");
    }

    #[test]
    fn sqlite_keyword_list_is_the_shells() {
        // 3.40.1 (the sqlite3 CLI the fixtures come from) and the bundled
        // 3.50 both have 147 keywords, and the same ones.
        // SAFETY: no arguments; reads a constant.
        assert_eq!(unsafe { rusqlite::ffi::sqlite3_keyword_count() }, 147);
        assert!(!is_sqlite_keyword(b"orders"));
        assert!(is_sqlite_keyword(b"MATERIALIZED"));
    }

    #[test]
    fn python_identifiers() {
        assert!(is_python_identifier("incident_safety"));
        assert!(is_python_identifier("SafetyActionPlan"));
        assert!(!is_python_identifier("1abc"));
        assert!(!is_python_identifier("a-b"));
        assert!(!is_python_identifier(""));
    }
}
