//! The whole pipeline on a PostgreSQL dump under the `capa-to-sap` preset
//! (COPY blocks, INSERTs, DDL, `-- Name:` headers, meta-commands).
//!
//! Input: one control byte (chunk size, see `common::chunk_size`), then
//! SQL appended to the opening comment of a pg_dump plain dump.
#![no_main]

mod common;

use dumpsed::Rules;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, body)) = data.split_first() else { return };
    let mut dump = common::PG_DUMP_HEADER.to_vec();
    dump.extend_from_slice(body);
    common::check(&dump, &Rules::preset("capa-to-sap").unwrap(), common::chunk_size(ctl));
});
