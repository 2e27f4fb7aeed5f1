//! PostgreSQL: which version's keywords a dump is written with, read it
//! with that version's grammar, and write new names as that version does.
//!
//! Words become keywords from one release to the next (`json` in 16,
//! `json_table` and `merge_action` in 17, `system_user` reserved in 16:
//! `pg_keywords.rs`, generated per version). A dump of 15 may hold
//! `json json DEFAULT '{}'::json` for a parameter named json, which 15's
//! grammar reads and 18's (the one libpg_query has) rejects; and pg_dump
//! 15 writes a column named `json` bare where pg_dump 17 quotes it.
//!
//! Reading: [`for_parser`] re-lexes a statement with dumpsed's own lexer
//! and writes each word that is a keyword in 18 but no keyword in the
//! dump's version as the quoted identifier it was to that version's
//! scanner (`"json"`: `scan.l` folds a bare identifier to lower case, so
//! the quoted lower-case form is the same identifier, taken by 18 as an
//! identifier wherever 15 took it as one). A quoted word is two bytes
//! longer, so the text comes with an offset map back to the dump's bytes
//! and every location the parser reports is put back on them.
//!
//! Why not one parser per version: libpg_query links one `gram.y`, and its
//! symbols collide between versions in one binary; quoting is exact here
//! because to the older scanner these words were plain identifiers, with
//! no other meaning to lose.

use crate::codec::ident::category;
use crate::codec::pg_keywords::LAST_MAJOR;

/// The major version of a PostgreSQL version string (`18.1 (Debian …)`,
/// `9.6.24`: 9 is enough to know it is before 18).
pub fn major_version(v: &[u8]) -> Option<u32> {
    let digits = v.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&v[..digits]).ok()?.parse().ok()
}

/// The major versions a dump says it comes from: `-- Dumped from database
/// version …` and `-- Dumped by pg_dump version …` (`RestoreArchive` in
/// `pg_backup_archiver.c`; an archive's header has both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DumpVersions {
    /// The server's.
    pub server: Option<u32>,
    /// pg_dump's.
    pub pg_dump: Option<u32>,
}

impl DumpVersions {
    /// Takes in a comment of the dump's header, if it names a version.
    pub fn note_comment(&mut self, text: &[u8]) {
        if let Some(v) = text.strip_prefix(b"-- Dumped from database version ") {
            self.server = major_version(v);
        } else if let Some(v) = text.strip_prefix(b"-- Dumped by pg_dump version ") {
            self.pg_dump = major_version(v);
        }
    }

    /// The grammar the dump's text is read with: the older of the two
    /// versions known (the server writes view and function texts with its
    /// own `quote_identifier`, pg_dump the rest with its `fmtId`); the
    /// newest when the dump does not say.
    pub fn grammar(&self) -> u32 {
        match (self.server, self.pg_dump) {
            (Some(s), Some(d)) => s.min(d),
            (Some(v), None) | (None, Some(v)) => v,
            (None, None) => LAST_MAJOR,
        }
    }

    /// The keywords a new name is quoted for: pg_dump's version (the server's
    /// when pg_dump's is not known; the newest when neither is).
    pub fn quoting(&self) -> u32 {
        self.pg_dump.or(self.server).unwrap_or(LAST_MAJOR)
    }
}

/// A statement as PostgreSQL 18's parser must see it to read it as an older
/// version did, with the way back to the original offsets.
#[derive(Debug, Clone)]
pub struct Relexed {
    /// The text to parse.
    pub text: String,
    /// Each quoted word: its original start and end, and its start in
    /// `text` (two bytes further per word before it).
    quoted: Vec<(usize, usize, usize)>,
}

impl Relexed {
    /// The original offset of offset `at` of `text` (a token's start, or
    /// its end: the end of a quoted word is the end of the bare one).
    pub fn original(&self, at: usize) -> usize {
        let k = self.quoted.partition_point(|&(_, _, new_start)| new_start < at);
        let Some(i) = k.checked_sub(1) else { return at };
        let (start, end, new_start) = self.quoted[i];
        if at >= new_start + (end - start) + 2 {
            at - 2 * (i + 1)
        } else {
            // Inside the quoted word: its opening quote is not in the original.
            (start + (at - new_start).saturating_sub(1)).min(end)
        }
    }
}

/// `sql` with each word that PostgreSQL `major` takes for an identifier and
/// 18 for a keyword written as a quoted identifier; `None` when there is
/// none (the common case: the text is parsed as it is).
///
/// A word that is no keyword in `major` is always an identifier there. A
/// word that is a keyword in both, reserved further in 18, is quoted only
/// where it cannot be that keyword's syntax: the one such word in 12..18
/// is `json` (unreserved in 16, column-name keyword from 17), whose
/// syntax in 16 follows `IS [NOT]` and `FORMAT` (`gram.y`,
/// `json_predicate_type_constraint`, `json_format_clause`); elsewhere 16
/// reads it as a name (a type or column), as 18 reads `"json"`.
pub fn for_parser(sql: &str, major: u32, escapes: bool) -> Option<Relexed> {
    if major >= LAST_MAJOR {
        return None;
    }
    let bytes = sql.as_bytes();
    let mut quoted = Vec::new();
    let mut prev_word: &[u8] = b"";
    for t in crate::frame::lexer::Tokens::with_escapes(crate::frame::lexer::Dialect::Postgres, escapes, bytes) {
        let Ok(t) = t else { break };
        match t.kind {
            crate::frame::lexer::TokenKind::Word => {}
            crate::frame::lexer::TokenKind::Space | crate::frame::lexer::TokenKind::Comment => continue,
            _ => {
                prev_word = b"";
                continue;
            }
        }
        let w = &bytes[t.start..t.end];
        let was = prev_word;
        prev_word = w;
        if w.len() > 32 || !w.iter().all(|b| b.is_ascii_alphabetic() || *b == b'_') {
            continue;
        }
        let lower = w.to_ascii_lowercase();
        let now = category(&lower, LAST_MAJOR);
        let then = category(&lower, major);
        let promoted = match (then, now) {
            (_, b'-') => false,
            (b'-', _) => true,
            (a, b) if a == b || b == b'U' => false,
            (b'U', _) => !(was.eq_ignore_ascii_case(b"IS") || was.eq_ignore_ascii_case(b"NOT") || was.eq_ignore_ascii_case(b"FORMAT")),
            _ => false,
        };
        if promoted {
            quoted.push((t.start, t.end, t.start + 2 * quoted.len()));
        }
    }
    if quoted.is_empty() {
        return None;
    }
    let mut text = String::with_capacity(sql.len() + 2 * quoted.len());
    let mut at = 0;
    for &(s, e, _) in &quoted {
        text.push_str(&sql[at..s]);
        text.push('"');
        text.push_str(&sql[s..e].to_ascii_lowercase());
        text.push('"');
        at = e;
    }
    text.push_str(&sql[at..]);
    Some(Relexed { text, quoted })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ident::quoted_keyword;
    use crate::codec::pg_keywords::{FIRST_MAJOR, KEYWORDS};

    #[test]
    fn categories_per_version() {
        assert_eq!(category(b"json", 15), b'-');
        assert_eq!(category(b"json", 16), b'U');
        assert_eq!(category(b"json", 17), b'C');
        assert_eq!(category(b"system_user", 16), b'R');
        assert_eq!(category(b"table", 12), b'R');
        assert!(quoted_keyword(b"user", 12));
        assert!(!quoted_keyword(b"json", 16));
        assert!(quoted_keyword(b"json", 17));
        assert!(!quoted_keyword(b"json_table", 16));
        assert!(quoted_keyword(b"json_table", 18));
        // Sorted, as binary_search needs.
        assert!(KEYWORDS.windows(2).all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
    }

    /// The context rule of `for_parser` covers every keyword that is a
    /// keyword in an older version and further reserved in 18: a new one
    /// (after regenerating the table) must be looked at.
    #[test]
    fn the_only_keyword_reserved_further_is_json_in_16() {
        let mut seen = Vec::new();
        for (w, cats) in KEYWORDS {
            let now = cats[cats.len() - 1];
            for (i, &then) in cats.iter().enumerate() {
                if then != b'-' && then != now && now != b'U' && now != b'-' {
                    seen.push((w.to_string(), FIRST_MAJOR + i as u32));
                }
            }
        }
        assert_eq!(seen, vec![("json".to_string(), 16)]);
    }

    /// Every token of the re-lexed text maps back onto the same token of
    /// the original (a quoted word onto the bare one).
    fn assert_maps_back(sql: &str, r: &Relexed) {
        let old: Vec<_> = crate::frame::lexer::Tokens::new(crate::frame::lexer::Dialect::Postgres, sql.as_bytes()).flatten().collect();
        let new: Vec<_> = crate::frame::lexer::Tokens::new(crate::frame::lexer::Dialect::Postgres, r.text.as_bytes()).flatten().collect();
        assert_eq!(old.len(), new.len());
        for (o, n) in old.iter().zip(&new) {
            assert_eq!((r.original(n.start), r.original(n.end)), (o.start, o.end), "{:?}", &r.text[n.start..n.end]);
            // Inside a quoted word: within the bare one.
            if n.end - n.start > 2 {
                let mid = r.original(n.start + 1);
                assert!(o.start <= mid && mid <= o.end);
            }
        }
    }

    #[test]
    fn relex_quotes_new_keywords_and_maps_back() {
        let sql = "CREATE FUNCTION f(json json DEFAULT '{}'::JSON, x int) RETURNS int AS 'json' LANGUAGE sql";
        assert!(for_parser(sql, 18, false).is_none());
        let r = for_parser(sql, 15, false).unwrap();
        assert_eq!(
            r.text,
            "CREATE FUNCTION f(\"json\" \"json\" DEFAULT '{}'::\"json\", x int) RETURNS int AS 'json' LANGUAGE sql"
        );
        assert_maps_back(sql, &r);
        // 16: json is a keyword; `IS JSON` stays syntax, a name is quoted.
        let r = for_parser("SELECT (t.json IS NOT JSON OBJECT), t.a FORMAT JSON FROM t", 16, false).unwrap();
        assert_eq!(r.text, "SELECT (t.\"json\" IS NOT JSON OBJECT), t.a FORMAT JSON FROM t");
        assert_maps_back("SELECT (t.json IS NOT JSON OBJECT), t.a FORMAT JSON FROM t", &r);
        // 17: json_table is new there, json is not.
        let r = for_parser("SELECT json_table.json, merge_action() FROM json_table", 16, false).unwrap();
        assert_eq!(r.text, "SELECT \"json_table\".\"json\", \"merge_action\"() FROM \"json_table\"");
        assert!(for_parser("SELECT json_table.json FROM json_table", 17, false).is_none());
        // Not in strings, comments, quoted names or longer words.
        assert!(for_parser("SELECT 'json', \"json\", json_x /* json */ FROM t -- json\n", 15, false).is_none());
    }

    #[test]
    fn versions_from_the_header() {
        let mut v = DumpVersions::default();
        assert_eq!((v.grammar(), v.quoting()), (LAST_MAJOR, LAST_MAJOR));
        v.note_comment(b"-- Dumped from database version 15.8 (Debian 15.8-0+deb12u1)");
        assert_eq!((v.grammar(), v.quoting()), (15, 15));
        v.note_comment(b"-- Dumped by pg_dump version 16.2");
        assert_eq!((v.grammar(), v.quoting()), (15, 16));
    }
}
