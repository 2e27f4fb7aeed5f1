//! The whole pipeline on INSERT / COPY data for a known table `t`, under
//! `t=u` and `t.ref:CAPA-=SAP-`.
//!
//! Input: one control byte, then SQL appended to a fixed header.
//! Control byte: bits 0-6 the chunk size (see `common::chunk_size`),
//! bit 7 the dialect (0: PostgreSQL header, 1: SQLite header).
#![no_main]

mod common;

use dumpsed::Rules;
use libfuzzer_sys::fuzz_target;

fn rules() -> Rules {
    let mut r = Rules::new();
    r.parse_rewrite("t.ref:CAPA-=SAP-").unwrap();
    r.parse_rename("t=u").unwrap();
    r
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, body)) = data.split_first() else { return };
    let header = if ctl & 0x80 == 0 { common::PG_HEADER } else { common::SQLITE_HEADER };
    let mut dump = header.to_vec();
    dump.extend_from_slice(body);
    common::check(&dump, &rules(), common::chunk_size(ctl));
});
