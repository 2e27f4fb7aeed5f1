//! The archive header and table of contents, read and written exactly as
//! `pg_backup_archiver.c` does: `ReadHead`/`WriteHead`, `ReadToc`/`WriteToc`,
//! and the primitives `ReadInt`/`WriteInt`, `ReadStr`/`WriteStr`,
//! `ReadOffset`/`WriteOffset`.
//!
//! Primitives (`pg_backup_archiver.c`):
//! - Int: one sign byte (0 or 1), then `intSize` bytes of the magnitude,
//!   least significant first.
//! - Str: an Int length, then that many bytes, no terminator. Length -1
//!   is NULL, which is kept distinct from the empty string.
//! - Offset: one flag byte (`K_OFFSET_POS_NOT_SET` 1, `K_OFFSET_POS_SET` 2,
//!   `K_OFFSET_NO_DATA` 3), then `offSize` bytes, least significant first.

use std::io::{self, Read, Write};

use super::ArchiveError;

/// Oldest and newest archive versions read (`K_VERS_1_12` .. `K_VERS_1_16`
/// in `pg_backup_archiver.h`): pg_dump 9.0 to 18.
pub const MIN_VERSION: (u8, u8) = (1, 12);
pub const MAX_VERSION: (u8, u8) = (1, 16);

/// `K_OFFSET_*` in `pg_backup_archiver.h`.
pub const K_OFFSET_POS_NOT_SET: u8 = 1;
pub const K_OFFSET_POS_SET: u8 = 2;
pub const K_OFFSET_NO_DATA: u8 = 3;

/// `ArchiveFormat` in `pg_backup.h`, as written in the header.
pub const FMT_CUSTOM: u8 = 1;
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
pub const FMT_TAR: u8 = 3;
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
pub const FMT_DIRECTORY: u8 = 5;

/// Compression as the header records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionSpec {
    /// Before 1.15: an Int zlib level (-1 default, 0 none, 1-9).
    Level(i64),
    /// From 1.15: one byte, `pg_compress_algorithm` (`compression.h`):
    /// 0 none, 1 gzip, 2 lz4, 3 zstd. The level is not recorded.
    Algorithm(u8),
}

/// The compression algorithm of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    None,
    /// zlib streams in custom format, gzip files in directory format.
    Gzip,
    Lz4,
    Zstd,
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Algorithm::None => "none",
            Algorithm::Gzip => "gzip",
            Algorithm::Lz4 => "lz4",
            Algorithm::Zstd => "zstd",
        })
    }
}

impl CompressionSpec {
    pub fn algorithm(&self) -> Result<Algorithm, String> {
        match *self {
            CompressionSpec::Level(0) => Ok(Algorithm::None),
            CompressionSpec::Level(l) if (-1..=9).contains(&l) => Ok(Algorithm::Gzip),
            CompressionSpec::Level(l) => Err(format!("invalid compression level {l}")),
            CompressionSpec::Algorithm(0) => Ok(Algorithm::None),
            CompressionSpec::Algorithm(1) => Ok(Algorithm::Gzip),
            CompressionSpec::Algorithm(2) => Ok(Algorithm::Lz4),
            CompressionSpec::Algorithm(3) => Ok(Algorithm::Zstd),
            CompressionSpec::Algorithm(a) => Err(format!("unknown compression algorithm {a}")),
        }
    }

    /// The zlib level to write with: the recorded one, or zlib's default
    /// (`Z_DEFAULT_COMPRESSION` is level 6).
    pub fn gzip_level(&self) -> u32 {
        match *self {
            CompressionSpec::Level(l) if (1..=9).contains(&l) => l as u32,
            _ => 6,
        }
    }
}

/// The archive header (`WriteHead`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub vmaj: u8,
    pub vmin: u8,
    pub vrev: u8,
    pub int_size: u8,
    pub off_size: u8,
    pub format: u8,
    pub compression: CompressionSpec,
    /// `struct tm` of the dump's start: sec, min, hour, mday, mon, year, isdst.
    pub tm: [i64; 7],
    pub dbname: Option<Vec<u8>>,
    pub server_version: Option<Vec<u8>>,
    pub dump_version: Option<Vec<u8>>,
}

impl Header {
    #[cfg_attr(not(feature = "internals"), allow(dead_code))] // used through `internals`
    pub fn version(&self) -> (u8, u8) {
        (self.vmaj, self.vmin)
    }
    pub fn at_least(&self, maj: u8, min: u8) -> bool {
        (self.vmaj, self.vmin) >= (maj, min)
    }
}

/// The format's own field at the end of a TOC entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extra {
    /// Custom format (`_WriteExtraToc` in `pg_backup_custom.c`): the data
    /// block's offset and its state (`K_OFFSET_*`).
    Offset { state: u8, pos: u64 },
    /// Directory and tar formats (`pg_backup_directory.c`,
    /// `pg_backup_tar.c`): the data file's name.
    File(Option<Vec<u8>>),
}

/// One TOC entry, every field as stored (`WriteToc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TocEntry {
    pub dump_id: i64,
    pub had_dumper: i64,
    pub table_oid: Option<Vec<u8>>,
    pub oid: Option<Vec<u8>>,
    pub tag: Option<Vec<u8>>,
    pub desc: Option<Vec<u8>>,
    pub section: i64,
    pub defn: Option<Vec<u8>>,
    pub drop_stmt: Option<Vec<u8>>,
    pub copy_stmt: Option<Vec<u8>>,
    pub namespace: Option<Vec<u8>>,
    pub tablespace: Option<Vec<u8>>,
    /// From 1.14.
    pub tableam: Option<Vec<u8>>,
    /// From 1.16.
    pub relkind: i64,
    pub owner: Option<Vec<u8>>,
    pub with_oids: Option<Vec<u8>>,
    /// Dump ids this entry depends on, as the strings stored.
    pub deps: Vec<Vec<u8>>,
    pub extra: Extra,
    /// Byte offset of the entry in the TOC's file (for messages).
    pub at: u64,
}

impl TocEntry {
    /// `dumpId; DESC SCHEMA TAG`, as `pg_restore -l` shows an entry.
    pub fn describe(&self) -> String {
        let s = |v: &Option<Vec<u8>>| {
            v.as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_else(|| "-".into())
        };
        format!(
            "TOC entry {} ({} {} {})",
            self.dump_id,
            s(&self.desc),
            s(&self.namespace),
            s(&self.tag)
        )
    }

    pub fn desc_is(&self, d: &str) -> bool {
        self.desc.as_deref() == Some(d.as_bytes())
    }
}

/// Reads the archive primitives, counting the bytes consumed.
pub struct In<R> {
    pub r: R,
    pub pos: u64,
    pub int_size: u8,
    pub off_size: u8,
    /// What is being read, for messages.
    pub context: String,
}

/// Largest string accepted (PostgreSQL's own limit on a text value is
/// 1 GiB; a TOC string longer than that is corruption).
const MAX_STR: i64 = 1 << 30;

impl<R: Read> In<R> {
    pub fn new(r: R) -> In<R> {
        In {
            r,
            pos: 0,
            int_size: 4,
            off_size: 8,
            context: "the archive header".into(),
        }
    }

    pub fn err(&self, at: u64, msg: impl Into<String>) -> ArchiveError {
        ArchiveError {
            offset: at,
            entry: Some(self.context.clone()).filter(|c| !c.is_empty()),
            msg: msg.into(),
        }
    }

    fn io_err(&self, at: u64, e: io::Error, what: &str) -> ArchiveError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            self.err(at, format!("the archive ends in the middle of {what} (truncated?)"))
        } else {
            self.err(at, format!("reading {what}: {e}"))
        }
    }

    pub fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), ArchiveError> {
        let at = self.pos;
        self.r.read_exact(buf).map_err(|e| self.io_err(at, e, what))?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    pub fn byte(&mut self, what: &str) -> Result<u8, ArchiveError> {
        let mut b = [0u8; 1];
        self.exact(&mut b, what)?;
        Ok(b[0])
    }

    /// Reads one byte, or `None` at a clean end of input.
    pub fn byte_or_eof(&mut self) -> Result<Option<u8>, ArchiveError> {
        let mut b = [0u8; 1];
        loop {
            match self.r.read(&mut b) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    self.pos += 1;
                    return Ok(Some(b[0]));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_err(self.pos, e, "a data block")),
            }
        }
    }

    /// `ReadInt`.
    pub fn int(&mut self, what: &str) -> Result<i64, ArchiveError> {
        let at = self.pos;
        let sign = self.byte(what)?;
        let mut buf = [0u8; 8];
        let n = self.int_size as usize;
        self.exact(&mut buf[..n], what)?;
        let mag = u64::from_le_bytes(buf);
        if mag > i64::MAX as u64 {
            return Err(self.err(at, format!("{what}: integer out of range")));
        }
        match sign {
            0 => Ok(mag as i64),
            1 => Ok(-(mag as i64)),
            s => Err(self.err(at, format!("{what}: invalid sign byte {s} in an integer"))),
        }
    }

    /// `ReadStr`: `None` for NULL.
    pub fn str(&mut self, what: &str) -> Result<Option<Vec<u8>>, ArchiveError> {
        let at = self.pos;
        let len = self.int(what)?;
        if len < 0 {
            if len != -1 {
                return Err(self.err(at, format!("{what}: invalid string length {len}")));
            }
            return Ok(None);
        }
        if len > MAX_STR {
            return Err(self.err(at, format!("{what}: string length {len} is beyond any TOC string (corrupt TOC?)")));
        }
        let mut v = Vec::new();
        // `take` grows the buffer as bytes arrive: a corrupt length on a
        // short file fails without allocating it.
        let got = (&mut self.r)
            .take(len as u64)
            .read_to_end(&mut v)
            .map_err(|e| self.io_err(at, e, what))?;
        self.pos += got as u64;
        if got as i64 != len {
            return Err(self.err(
                at,
                format!("{what}: string of {len} bytes, but the archive ends after {got} (truncated?)"),
            ));
        }
        Ok(Some(v))
    }

    /// `ReadOffset`: `(state, pos)`.
    pub fn offset(&mut self, what: &str) -> Result<(u8, u64), ArchiveError> {
        let at = self.pos;
        let state = self.byte(what)?;
        if !(K_OFFSET_POS_NOT_SET..=K_OFFSET_NO_DATA).contains(&state) {
            return Err(self.err(at, format!("{what}: unexpected data offset flag {state}")));
        }
        let mut buf = [0u8; 8];
        let n = self.off_size as usize;
        self.exact(&mut buf[..n], what)?;
        Ok((state, u64::from_le_bytes(buf)))
    }
}

/// Writes the archive primitives, counting the bytes written.
pub struct Out<W> {
    pub w: W,
    pub pos: u64,
    pub int_size: u8,
    pub off_size: u8,
}

impl<W: Write> Out<W> {
    pub fn new(w: W, h: &Header) -> Out<W> {
        Out {
            w,
            pos: 0,
            int_size: h.int_size,
            off_size: h.off_size,
        }
    }

    pub fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.w.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    pub fn byte(&mut self, b: u8) -> io::Result<()> {
        self.bytes(&[b])
    }

    /// `WriteInt`.
    pub fn int(&mut self, v: i64) -> io::Result<()> {
        self.byte(u8::from(v < 0))?;
        let mag = v.unsigned_abs().to_le_bytes();
        let n = self.int_size as usize;
        self.bytes(&mag[..n])
    }

    /// `WriteStr`.
    pub fn str(&mut self, s: Option<&[u8]>) -> io::Result<()> {
        match s {
            None => self.int(-1),
            Some(b) => {
                self.int(b.len() as i64)?;
                self.bytes(b)
            }
        }
    }

    /// `WriteOffset`.
    pub fn offset(&mut self, state: u8, pos: u64) -> io::Result<()> {
        self.byte(state)?;
        let b = pos.to_le_bytes();
        let n = self.off_size as usize;
        self.bytes(&b[..n])
    }
}

/// `ReadHead`. Refuses versions outside 1.12–1.16.
pub fn read_header<R: Read>(i: &mut In<R>) -> Result<Header, ArchiveError> {
    i.context = "the archive header".into();
    let mut magic = [0u8; 5];
    i.exact(&mut magic, "the archive header")?;
    if &magic != b"PGDMP" {
        return Err(i.err(0, "not a pg_dump archive (no PGDMP magic)"));
    }
    let vmaj = i.byte("the archive version")?;
    let vmin = i.byte("the archive version")?;
    let vrev = i.byte("the archive version")?;
    if (vmaj, vmin) < MIN_VERSION || (vmaj, vmin) > MAX_VERSION {
        return Err(i.err(
            5,
            format!(
                "archive version {vmaj}.{vmin}-{vrev} is not supported: dumpsed reads archive versions \
                 {}.{} to {}.{} (pg_dump 9.0 to 18)",
                MIN_VERSION.0, MIN_VERSION.1, MAX_VERSION.0, MAX_VERSION.1
            ),
        ));
    }
    let int_size = i.byte("the integer size")?;
    if !(1..=8).contains(&int_size) {
        return Err(i.err(8, format!("unsupported integer size {int_size}")));
    }
    let off_size = i.byte("the offset size")?;
    if !(1..=8).contains(&off_size) {
        return Err(i.err(9, format!("unsupported offset size {off_size}")));
    }
    i.int_size = int_size;
    i.off_size = off_size;
    let format = i.byte("the archive format")?;
    let compression = if (vmaj, vmin) >= (1, 15) {
        CompressionSpec::Algorithm(i.byte("the compression algorithm")?)
    } else {
        CompressionSpec::Level(i.int("the compression level")?)
    };
    let at = i.pos;
    compression.algorithm().map_err(|m| i.err(at, m))?;
    let mut tm = [0i64; 7];
    for t in tm.iter_mut() {
        *t = i.int("the archive's creation time")?;
    }
    let dbname = i.str("the database name")?;
    let server_version = i.str("the server version")?;
    let dump_version = i.str("the pg_dump version")?;
    Ok(Header {
        vmaj,
        vmin,
        vrev,
        int_size,
        off_size,
        format,
        compression,
        tm,
        dbname,
        server_version,
        dump_version,
    })
}

/// `WriteHead`.
pub fn write_header<W: Write>(o: &mut Out<W>, h: &Header) -> io::Result<()> {
    o.bytes(b"PGDMP")?;
    o.bytes(&[h.vmaj, h.vmin, h.vrev, h.int_size, h.off_size, h.format])?;
    match h.compression {
        CompressionSpec::Algorithm(a) => o.byte(a)?,
        CompressionSpec::Level(l) => o.int(l)?,
    }
    for &t in &h.tm {
        o.int(t)?;
    }
    o.str(h.dbname.as_deref())?;
    o.str(h.server_version.as_deref())?;
    o.str(h.dump_version.as_deref())
}

/// The object types (`desc`) pg_dump gives TOC entries: the
/// `.description` of every `ArchiveEntry` call in `pg_dump.c` of
/// PostgreSQL 15 (with `keyword`, FUNCTION or PROCEDURE, and `reltypename`,
/// TABLE, VIEW, FOREIGN TABLE or MATERIALIZED VIEW; `pg_largeobject` is
/// binary upgrade's), and those `pg_backup_archiver.c` still handles from
/// older pg_dumps (`BLOB COMMENTS`, `ACL LANGUAGE`, `WARNING`). pg_dump 9.0
/// (archive version 1.12) to 15 wrote no other; 16 to 18 add those below
/// (the pg_dump 18 binary's strings, compared with 15's).
const DESCS: &[&str] = &[
    "ACCESS METHOD", "ACL", "ACL LANGUAGE", "AGGREGATE", "BLOB", "BLOB COMMENTS", "BLOBS", "CAST",
    "CHECK CONSTRAINT", "COLLATION", "COMMENT", "CONSTRAINT", "CONVERSION", "DATABASE",
    "DATABASE PROPERTIES", "DEFAULT", "DEFAULT ACL", "DOMAIN", "ENCODING", "EVENT TRIGGER",
    "EXTENSION", "FK CONSTRAINT", "FOREIGN DATA WRAPPER", "FOREIGN TABLE", "FUNCTION", "INDEX",
    "INDEX ATTACH", "MATERIALIZED VIEW", "MATERIALIZED VIEW DATA", "OPERATOR", "OPERATOR CLASS",
    "OPERATOR FAMILY", "POLICY", "PROCEDURAL LANGUAGE", "PROCEDURE", "PUBLICATION",
    "PUBLICATION TABLE", "PUBLICATION TABLES IN SCHEMA", "ROW SECURITY", "RULE", "SCHEMA",
    "SEARCHPATH", "SECURITY LABEL", "SEQUENCE", "SEQUENCE OWNED BY", "SEQUENCE SET", "SERVER",
    "SHELL TYPE", "STATISTICS", "STDSTRINGS", "SUBSCRIPTION", "TABLE", "TABLE ATTACH", "TABLE DATA",
    "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "TEXT SEARCH PARSER",
    "TEXT SEARCH TEMPLATE", "TRANSFORM", "TRIGGER", "TYPE", "USER MAPPING", "VIEW", "WARNING",
    "pg_largeobject",
];

/// Object types new in pg_dump 17 and 18, whose archives are version 1.16:
/// large objects in batches (`BLOB METADATA`, `LARGE OBJECTS`), binary
/// upgrade's `SUBSCRIPTION TABLE`, and pg 18's `STATISTICS DATA`.
const DESCS_1_16: &[&str] = &["BLOB METADATA", "LARGE OBJECTS", "STATISTICS DATA", "SUBSCRIPTION TABLE"];

/// Refuses an object type pg_dump never writes: a damaged `desc` (one
/// flipped bit turns `CONSTRAINT` into `COJSTRAINT`) would be copied into
/// an archive pg_restore rejects.
fn known_desc(desc: Option<&[u8]>, h: &Header) -> Result<(), String> {
    let Some(d) = desc else {
        return Err("the object type (desc) is NULL (corrupt TOC?)".into());
    };
    let known = |list: &[&str]| list.iter().any(|k| k.as_bytes() == d);
    if known(DESCS) || (h.at_least(1, 16) && known(DESCS_1_16)) {
        return Ok(());
    }
    let shown = String::from_utf8_lossy(d);
    if known(DESCS_1_16) {
        return Err(format!(
            "object type {shown:?} in an archive of version {}.{}: pg_dump writes it from version 1.16 on (corrupt TOC?)",
            h.vmaj, h.vmin
        ));
    }
    Err(format!("unknown object type {shown:?}: pg_dump writes no TOC entry of that type (corrupt TOC?)"))
}

/// `ReadToc` (with the format's `ReadExtraToc`).
pub fn read_toc<R: Read>(i: &mut In<R>, h: &Header) -> Result<Vec<TocEntry>, ArchiveError> {
    i.context = "the TOC".into();
    let at = i.pos;
    let count = i.int("the TOC entry count")?;
    if !(0..=100_000_000).contains(&count) {
        return Err(i.err(at, format!("invalid TOC entry count {count} (corrupt TOC?)")));
    }
    let mut out = Vec::with_capacity((count as usize).min(4096));
    for n in 0..count {
        let at = i.pos;
        i.context = format!("TOC entry #{} (of {count})", n + 1);
        let dump_id = i.int("the dump id")?;
        if dump_id <= 0 {
            return Err(i.err(at, format!("entry ID {dump_id} out of range (corrupt TOC?)")));
        }
        i.context = format!("TOC entry {dump_id} (#{} of {count})", n + 1);
        let had_dumper = i.int("hadDumper")?;
        let table_oid = i.str("the table oid")?;
        let oid = i.str("the oid")?;
        let tag = i.str("the tag")?;
        let desc_at = i.pos;
        let desc = i.str("the description")?;
        if let Err(m) = known_desc(desc.as_deref(), h) {
            return Err(i.err(desc_at, m));
        }
        i.context = format!(
            "TOC entry {dump_id} ({} {})",
            String::from_utf8_lossy(desc.as_deref().unwrap_or(b"-")),
            String::from_utf8_lossy(tag.as_deref().unwrap_or(b"-"))
        );
        let section = i.int("the section")?;
        let defn = i.str("defn")?;
        let drop_stmt = i.str("dropStmt")?;
        let copy_stmt = i.str("copyStmt")?;
        let namespace = i.str("the namespace")?;
        let tablespace = i.str("the tablespace")?;
        let tableam = if h.at_least(1, 14) {
            i.str("the table access method")?
        } else {
            None
        };
        let relkind = if h.at_least(1, 16) {
            i.int("relkind")?
        } else {
            0
        };
        let owner = i.str("the owner")?;
        let with_oids = i.str("withOids")?;
        let mut deps = Vec::new();
        while let Some(d) = i.str("a dependency")? {
            deps.push(d);
        }
        let extra = match h.format {
            FMT_CUSTOM => {
                let (state, pos) = i.offset("the data offset")?;
                Extra::Offset { state, pos }
            }
            _ => Extra::File(i.str("the data file name")?),
        };
        out.push(TocEntry {
            dump_id,
            had_dumper,
            table_oid,
            oid,
            tag,
            desc,
            section,
            defn,
            drop_stmt,
            copy_stmt,
            namespace,
            tablespace,
            tableam,
            relkind,
            owner,
            with_oids,
            deps,
            extra,
            at,
        });
    }
    i.context.clear();
    Ok(out)
}

/// `WriteToc` (with the format's `WriteExtraToc`).
pub fn write_toc<W: Write>(o: &mut Out<W>, h: &Header, toc: &[TocEntry]) -> io::Result<()> {
    o.int(toc.len() as i64)?;
    for te in toc {
        o.int(te.dump_id)?;
        o.int(te.had_dumper)?;
        o.str(te.table_oid.as_deref())?;
        o.str(te.oid.as_deref())?;
        o.str(te.tag.as_deref())?;
        o.str(te.desc.as_deref())?;
        o.int(te.section)?;
        o.str(te.defn.as_deref())?;
        o.str(te.drop_stmt.as_deref())?;
        o.str(te.copy_stmt.as_deref())?;
        o.str(te.namespace.as_deref())?;
        o.str(te.tablespace.as_deref())?;
        if h.at_least(1, 14) {
            o.str(te.tableam.as_deref())?;
        }
        if h.at_least(1, 16) {
            o.int(te.relkind)?;
        }
        o.str(te.owner.as_deref())?;
        o.str(te.with_oids.as_deref())?;
        for d in &te.deps {
            o.str(Some(d))?;
        }
        o.str(None)?;
        match &te.extra {
            Extra::Offset { state, pos } => o.offset(*state, *pos)?,
            Extra::File(f) => o.str(f.as_deref())?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            vmaj: 1,
            vmin: 14,
            vrev: 0,
            int_size: 4,
            off_size: 8,
            format: FMT_CUSTOM,
            compression: CompressionSpec::Level(-1),
            tm: [1, 2, 3, 4, 5, 126, 0],
            dbname: Some(b"db".to_vec()),
            server_version: Some(b"15.18".to_vec()),
            dump_version: None,
        }
    }

    #[test]
    fn primitives_round_trip_and_null_differs_from_empty() {
        let h = header();
        let mut o = Out::new(Vec::new(), &h);
        o.int(-1).unwrap();
        o.str(None).unwrap();
        o.str(Some(b"")).unwrap();
        o.str(Some(b"ab")).unwrap();
        o.offset(2, 0x0102).unwrap();
        assert_eq!(
            o.w,
            [
                1, 1, 0, 0, 0, /* -1 */ 1, 1, 0, 0, 0, /* NULL */ 0, 0, 0, 0, 0, /* "" */
                0, 2, 0, 0, 0, b'a', b'b', 2, 2, 1, 0, 0, 0, 0, 0, 0
            ]
        );
        let mut i = In::new(&o.w[..]);
        assert_eq!(i.int("x").unwrap(), -1);
        assert_eq!(i.str("x").unwrap(), None);
        assert_eq!(i.str("x").unwrap(), Some(vec![]));
        assert_eq!(i.str("x").unwrap(), Some(b"ab".to_vec()));
        assert_eq!(i.offset("x").unwrap(), (2, 0x0102));
    }

    #[test]
    fn header_round_trips_and_newer_versions_are_refused() {
        let h = header();
        let mut o = Out::new(Vec::new(), &h);
        write_header(&mut o, &h).unwrap();
        let bytes = o.w;
        let mut i = In::new(&bytes[..]);
        assert_eq!(read_header(&mut i).unwrap(), h);
        let mut newer = bytes.clone();
        newer[6] = 17;
        let e = read_header(&mut In::new(&newer[..])).unwrap_err();
        assert!(e.to_string().contains("1.17"), "{e}");
        let e = read_header(&mut In::new(&bytes[..20])).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }

    #[test]
    fn object_types_are_pg_dumps() {
        let mut h = header();
        for ok in ["SERVER", "TABLE DATA", "pg_largeobject", "BLOB COMMENTS"] {
            assert_eq!(known_desc(Some(ok.as_bytes()), &h), Ok(()), "{ok}");
        }
        for bad in ["COJSTRAINT", "FOREIGN SERVER", "table", ""] {
            assert!(known_desc(Some(bad.as_bytes()), &h).is_err(), "{bad}");
        }
        assert!(known_desc(None, &h).is_err());
        assert!(known_desc(Some(b"LARGE OBJECTS"), &h).is_err(), "1.14");
        h.vmin = 16;
        assert_eq!(known_desc(Some(b"LARGE OBJECTS"), &h), Ok(()));
    }

    #[test]
    fn huge_string_length_on_short_input_fails_cleanly() {
        let bytes = [0u8, 0xff, 0xff, 0xff, 0x3f, b'a'];
        let e = In::new(&bytes[..]).str("defn").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }
}
