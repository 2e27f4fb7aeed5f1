//! Property tests of the INSERT value parser: random values full of quotes,
//! backslashes, newlines, unicode and `);` are found and rewritten exactly,
//! and their neighbours are left byte-identical.

use std::io::Cursor;

use dumpsed::internals::input::from_reader;
use dumpsed::internals::job::{rewrite, Options};
use dumpsed::Rules;
use proptest::prelude::*;

fn run(dump: &str) -> String {
    let mut rules = Rules::new();
    rules.parse_rewrite("t.ref:CAPA-=SAP-").expect("rule");
    let src = from_reader(Box::new(Cursor::new(dump.as_bytes().to_vec())), None).expect("input");
    let mut out = Vec::new();
    rewrite(
        src,
        &mut out,
        &rules,
        &Options {
            chunk_size: 64,
            // Statements without a whole dump around them.
            allow_truncated: true,
            ..Options::default()
        },
        (),
    )
    .expect("rewrite");
    String::from_utf8(out).expect("utf8 out")
}

fn expected(v: &str) -> String {
    if v.starts_with("CAPA-") {
        v.replace("CAPA-", "SAP-")
    } else {
        v.to_string()
    }
}

fn pg_lit(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

fn pg_elit(v: &str) -> String {
    format!("E'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
}

fn sqlite_lit(v: &str) -> String {
    let mut out = Vec::new();
    dumpsed::internals::sqlite::encode_text(v.as_bytes(), &mut out);
    String::from_utf8(out).expect("utf8")
}

fn value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("CAPA-".to_string()),
        Just("'".to_string()),
        Just("''".to_string()),
        Just("\\".to_string()),
        Just("\n".to_string()),
        Just("\r".to_string()),
        Just("\t".to_string()),
        Just(");".to_string()),
        Just("), (".to_string()),
        Just("INSERT INTO t VALUES (".to_string()),
        Just("\\n".to_string()),
        Just("é漢🙂".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just("$$".to_string()),
        "[a-z0-9 ,]{0,4}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

const PG_HEAD: &str = "--\n-- PostgreSQL database dump\n--\n\nSET standard_conforming_strings = on;\n\nCREATE TABLE public.t (\n    id integer,\n    ref text,\n    note text\n);\n\n";
const SQLITE_HEAD: &str = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(id INTEGER, ref TEXT, note TEXT);\n";

proptest! {
    #[test]
    fn pg_single_and_multi_row_inserts(a in value(), b in value(), c in value(), d in value()) {
        for lit in [pg_lit as fn(&str) -> String, pg_elit] {
            let dump = format!(
                "{PG_HEAD}INSERT INTO public.t VALUES (1, {}, {});\nINSERT INTO public.t (id, ref, note) VALUES\n\t(2, {}, {}),\n\t(3, NULL, {});\n",
                lit(&a), lit(&b), lit(&c), lit(&d), lit(&a)
            );
            let want = format!(
                "{PG_HEAD}INSERT INTO public.t VALUES (1, {}, {});\nINSERT INTO public.t (id, ref, note) VALUES\n\t(2, {}, {}),\n\t(3, NULL, {});\n",
                lit(&expected(&a)), lit(&b), lit(&expected(&c)), lit(&d), lit(&a)
            );
            prop_assert_eq!(run(&dump), want);
        }
    }

    #[test]
    fn sqlite_inserts(a in value(), b in value()) {
        let dump = format!(
            "{SQLITE_HEAD}INSERT INTO t VALUES(1,{},{});\nINSERT INTO \"t\" VALUES(2,NULL,{});\nCOMMIT;\n",
            sqlite_lit(&a), sqlite_lit(&b), sqlite_lit(&a)
        );
        let want = format!(
            "{SQLITE_HEAD}INSERT INTO t VALUES(1,{},{});\nINSERT INTO \"t\" VALUES(2,NULL,{});\nCOMMIT;\n",
            sqlite_lit(&expected(&a)), sqlite_lit(&b), sqlite_lit(&a)
        );
        prop_assert_eq!(run(&dump), want);
    }
}
