//! Telling a pg_dump plain dump from an sqlite3 `.dump` by its opening.
//!
//! pg_dump starts with `-- PostgreSQL database dump` and `SET` statements
//! (`pg_backup_archiver.c`, `RestoreArchive`/`_doSetFixedOutputState`);
//! sqlite3's `.dump` starts with `PRAGMA foreign_keys=OFF;` and
//! `BEGIN TRANSACTION;` (`src/shell.c.in`, `do_meta_command` ".dump").

use crate::frame::lexer::{Dialect, TokenKind, Tokens};

/// What the opening of a dump shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Dialect(Dialect),
    /// SQL, but nothing that tells the dialect.
    Unknown,
    /// Nothing but space and comments, or no input at all.
    Empty,
    /// Not SQL text.
    NotSql,
}

/// Looks at the first statements of `head`.
pub fn detect(head: &[u8]) -> Detected {
    let mut words = 0;
    let mut first: Option<&[u8]> = None;
    for tok in Tokens::new(Dialect::Postgres, head) {
        let Ok(t) = tok else { break };
        let text = &head[t.start..t.end];
        match t.kind {
            TokenKind::Space => {}
            TokenKind::Comment => {
                if memchr::memmem::find(text, b"PostgreSQL database dump").is_some() {
                    return Detected::Dialect(Dialect::Postgres);
                }
            }
            TokenKind::Punct if text == b"\\" && first.is_none() => {
                return Detected::Dialect(Dialect::Postgres); // psql meta-command
            }
            TokenKind::Word => {
                let is = |k: &str| text.eq_ignore_ascii_case(k.as_bytes());
                match first {
                    None => {
                        first = Some(text);
                        if is("PRAGMA") {
                            return Detected::Dialect(Dialect::Sqlite);
                        }
                        if is("SET") {
                            return Detected::Dialect(Dialect::Postgres);
                        }
                    }
                    Some(f) if f.eq_ignore_ascii_case(b"BEGIN") && is("TRANSACTION") => {
                        return Detected::Dialect(Dialect::Sqlite);
                    }
                    _ => {}
                }
                words += 1;
                if words > 2 {
                    break;
                }
            }
            TokenKind::Punct if text == b";" => break,
            _ => {
                if first.is_none() {
                    return Detected::NotSql;
                }
            }
        }
    }
    match first {
        None => Detected::Empty,
        Some(w) if w.iter().all(|b| b.is_ascii_alphabetic()) => Detected::Unknown,
        Some(_) => Detected::NotSql,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_both_dialects() {
        let pg = b"--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\nSET x = 1;";
        assert_eq!(detect(pg), Detected::Dialect(Dialect::Postgres));
        assert_eq!(
            detect(b"SET statement_timeout = 0;"),
            Detected::Dialect(Dialect::Postgres)
        );
        let lite = b"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(a);";
        assert_eq!(detect(lite), Detected::Dialect(Dialect::Sqlite));
        assert_eq!(
            detect(b"BEGIN TRANSACTION;\nCREATE TABLE t(a);"),
            Detected::Dialect(Dialect::Sqlite)
        );
        assert_eq!(detect(b"CREATE TABLE t (a int);"), Detected::Unknown);
        assert_eq!(detect(b"  \n-- nothing\n"), Detected::Empty);
        assert_eq!(detect(b""), Detected::Empty);
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0"), Detected::NotSql);
        assert_eq!(detect(b"{\"json\": true}"), Detected::NotSql);
    }
}
