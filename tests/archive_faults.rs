//! Faults in pg_dump archives (issue 28): cuts at block and member
//! boundaries, damaged TOC entries and tar headers, corrupt or truncated
//! compressed data in blocks no rule touches. Each is refused with exit 3,
//! a message naming the TOC entry or member and a byte offset, and no
//! output; and a seeded campaign of cuts and flips over every fixture form
//! never exits 0 unless the archive is whole or the real pg_restore
//! accepts what was written.
//!
//! Inputs are the real pg_dump's fixtures (`fixtures/archive/regen.sh`);
//! lz4 and zstd archives are made from them at test time (no pg_dump here
//! is built with either), as tests/archive.rs does.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;
use dumpsed::internals::archive::toc::{self, Extra, In};
use dumpsed::internals::archive::{custom, Identity, Sink, TocEntry};

const RULES: &str = "fixtures/plain-sql-rename.toml";
/// A rule that touches nothing, allowed to match nothing: every block is
/// copied unchanged.
const UNTOUCHED: [&str; 2] = ["--allow-missing", "--rename-table=no_such_table_anywhere=other_name"];

const CUSTOM: [&str; 7] = [
    "before.dump",
    "before-z0.dump",
    "before-pipe.dump",
    "before-inserts.dump",
    "before-v116.dump",
    "before-v116-z0.dump",
    "before-v116-stats.dump",
];

fn archive(name: &str) -> PathBuf {
    fixture(&format!("archive/{name}"))
}

/// `dumpsed rewrite` of `input` (a path, or `-` with `stdin`) to `out`.
fn rewrite(input: &Path, stdin: Option<&[u8]>, rules: &[&str], out: &Path) -> Output {
    let mut c = dumpsed();
    c.args(["rewrite", "--quiet"]).args(rules).arg(input).arg("-o").arg(out);
    match stdin {
        None => run(&mut c),
        Some(bytes) => {
            let mut child = c
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn dumpsed");
            let mut w = child.stdin.take().expect("stdin");
            let bytes = bytes.to_vec();
            // dumpsed may stop reading early (an error): a broken pipe is fine.
            let feeder = std::thread::spawn(move || {
                let _ = w.write_all(&bytes);
            });
            let o = child.wait_with_output().expect("wait");
            let _ = feeder.join();
            o
        }
    }
}

/// Asserts a refusal: exit 3 (malformed input), each of `wants` in the
/// message, no output left beside it.
fn assert_refused(r: &Output, out: &Path, what: &str, wants: &[&str]) {
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(3), "{what}: expected exit 3, got {:?}: {err}", r.status.code());
    for w in wants {
        assert!(err.contains(w), "{what}: message lacks {w:?}: {err}");
    }
    assert!(!out.exists(), "{what}: an output was left");
    if let Some(parent) = out.parent() {
        let tmp: Vec<_> = fs::read_dir(parent)
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".dumpsed-"))
            .collect();
        assert!(tmp.is_empty(), "{what}: temporary files left: {tmp:?}");
    }
}

/// The archive's header and TOC, and where the TOC ends.
fn head_of(bytes: &[u8]) -> (toc::Header, Vec<TocEntry>, u64) {
    let mut i = In::new(bytes);
    let a = custom::read_head(&mut i).expect("archive head");
    (a.header, a.toc, i.pos)
}

/// Where each data block of a custom archive ends (the last is the file's
/// end), walking the blocks as `pg_backup_custom.c` writes them.
fn block_ends(bytes: &[u8]) -> Vec<u64> {
    let (_, _, toc_end) = head_of(bytes);
    let mut i = In::new(bytes);
    custom::read_head(&mut i).expect("head");
    assert_eq!(i.pos, toc_end);
    let mut ends = Vec::new();
    let chunks = |i: &mut In<&[u8]>| loop {
        let len = i.int("chunk length").expect("chunk length");
        if len == 0 {
            break;
        }
        let mut skip = vec![0u8; len as usize];
        i.exact(&mut skip, "chunk").expect("chunk");
    };
    while let Some(kind) = i.byte_or_eof().expect("block") {
        i.int("dump id").expect("dump id");
        match kind {
            custom::BLK_DATA => chunks(&mut i),
            custom::BLK_BLOBS => while i.int("oid").expect("oid") != 0 {
                chunks(&mut i)
            },
            k => panic!("block type {k}"),
        }
        ends.push(i.pos);
    }
    assert_eq!(ends.last().copied(), Some(bytes.len() as u64));
    ends
}

fn entry<'a>(t: &'a [TocEntry], table: &str) -> &'a TocEntry {
    t.iter()
        .find(|t| t.desc_is("TABLE DATA") && t.tag.as_deref() == Some(table.as_bytes()))
        .expect("TABLE DATA entry")
}

/// A custom archive in another compression, made from a fixture by the
/// library's transcoding (lz4 = 2, zstd = 3, archive version 1.15 on).
fn transcoded(from: &str, alg: u8, to: &Path) -> Vec<u8> {
    let r = std::io::BufReader::new(fs::File::open(archive(from)).expect("open"));
    let mut f = fs::File::create(to).expect("create");
    custom::rewrite_as(r, Sink::Seekable(&mut f), &mut Identity, Some(toc::CompressionSpec::Algorithm(alg)))
        .expect("transcode");
    fs::read(to).expect("read")
}

// ---------------------------------------------------------------- item 1: cuts at block boundaries

/// Cut exactly where the TOC ends and at every data block boundary, every
/// custom form (1.14 and 1.16, zlib and -Z0, offsets set and unset), from
/// a file and through stdin: refused, naming a TOC entry and a byte offset.
/// A seekable archive's missing block is named by the offset its TOC gives,
/// past the file's end.
#[test]
fn custom_archive_cut_at_a_block_boundary_is_refused() {
    let dir = scratch();
    let out = dir.path().join("out.dump");
    for name in CUSTOM {
        let good = fs::read(archive(name)).expect("fixture");
        let (_, t, toc_end) = head_of(&good);
        let ends = block_ends(&good);
        let with_data = t
            .iter()
            .filter(|t| !matches!(t.extra, Extra::Offset { state: toc::K_OFFSET_NO_DATA, .. }))
            .count();
        assert_eq!(ends.len(), with_data, "{name}: one block per entry with data");
        let mut cuts = vec![toc_end];
        cuts.extend(&ends[..ends.len() - 1]);
        for (n, &cut) in cuts.iter().enumerate() {
            let what = format!("{name} cut at byte {cut} (boundary {n})");
            let input = dir.path().join("cut.dump");
            fs::write(&input, &good[..cut as usize]).expect("write");
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            assert_refused(&r, &out, &what, &["archive byte", "TOC entry", "truncated"]);
            let err = String::from_utf8_lossy(&r.stderr);
            if name != "before-pipe.dump" {
                assert!(err.contains("past the archive's end"), "{what}: {err}");
            }
            // Through stdin, and with rules that rewrite a table.
            if n == 0 || n == cuts.len() / 2 {
                let r = rewrite(Path::new("-"), Some(&good[..cut as usize]), &UNTOUCHED, &out);
                assert_refused(&r, &out, &format!("{what}, stdin"), &["archive byte", "TOC entry", "truncated"]);
                let r = rewrite(&input, None, &["--rules", RULES], &out);
                assert_refused(&r, &out, &format!("{what}, rules"), &["archive byte", "TOC entry"]);
            }
        }
        // The whole archive still goes through.
        let r = rewrite(&archive(name), None, &UNTOUCHED, &out);
        assert!(r.status.success(), "{name}: {}", String::from_utf8_lossy(&r.stderr));
        fs::remove_file(&out).expect("rm");
    }
}

// ---------------------------------------------------------------- item 8: unknown object types

/// One flipped bit turns `CONSTRAINT` into `COJSTRAINT`: refused in the
/// reader, naming the entry and the byte offset of its desc, in the custom,
/// directory and tar formats.
#[test]
fn unknown_object_type_is_refused() {
    let dir = scratch();
    let flip = |bytes: &mut [u8]| -> usize {
        // The Str "CONSTRAINT": Int length 10 (sign 0, 4 bytes), the text.
        let pat = b"\x00\x0a\x00\x00\x00CONSTRAINT";
        let at = bytes.windows(pat.len()).position(|w| w == pat).expect("a CONSTRAINT entry");
        bytes[at + 5 + 2] ^= 0x04; // N -> J
        assert_eq!(&bytes[at + 5..at + 15], b"COJSTRAINT");
        at
    };
    for name in ["before.dump", "before-v116.dump", "before.tar"] {
        let mut v = fs::read(archive(name)).expect("fixture");
        let at = flip(&mut v);
        let input = dir.path().join(name);
        fs::write(&input, &v).expect("write");
        let out = dir.path().join(format!("out-{name}"));
        let r = rewrite(&input, None, &UNTOUCHED, &out);
        // In the tar, offsets are in the archive: toc.dat's content starts
        // after its 512-byte header.
        assert_refused(&r, &out, name, &["COJSTRAINT", "TOC entry", &format!("archive byte {at}")]);
    }
    // Directory format: the desc in toc.dat.
    let d = dir.path().join("dir");
    fs::create_dir(&d).expect("mkdir");
    for e in fs::read_dir(archive("before-dir")).expect("dir") {
        let e = e.expect("entry");
        fs::copy(e.path(), d.join(e.file_name())).expect("copy");
    }
    let mut toc_dat = fs::read(d.join("toc.dat")).expect("toc");
    let at = flip(&mut toc_dat);
    fs::write(d.join("toc.dat"), &toc_dat).expect("write");
    let out = dir.path().join("out-dir");
    let r = rewrite(&d, None, &UNTOUCHED, &out);
    assert_refused(&r, &out, "directory", &["COJSTRAINT", "toc.dat", &format!("archive byte {at}")]);
    // A type of pg_dump 18 (archive 1.16) in a 1.14 archive: STATISTICS
    // DATA has no meaning there. "TABLE DATA" and "STATISTICS DATA" differ
    // in length, so the check is made on a TOC written anew.
    let good = fs::read(archive("before.dump")).expect("fixture");
    let (h, mut t, toc_end) = head_of(&good);
    let te = t.iter_mut().find(|t| t.desc_is("COMMENT")).expect("a COMMENT entry");
    te.desc = Some(b"STATISTICS DATA".to_vec());
    let mut o = toc::Out::new(Vec::new(), &h);
    toc::write_header(&mut o, &h).expect("header");
    toc::write_toc(&mut o, &h, &t).expect("toc");
    o.w.extend_from_slice(&good[toc_end as usize..]);
    let input = dir.path().join("stats14.dump");
    fs::write(&input, &o.w).expect("write");
    let out = dir.path().join("out-stats14.dump");
    let r = rewrite(&input, None, &UNTOUCHED, &out);
    assert_refused(&r, &out, "1.14 with STATISTICS DATA", &["STATISTICS DATA", "1.16", "TOC entry"]);
}

// ---------------------------------------------------------------- item 4: tar headers and members

fn tar_checksum(h: &[u8]) -> u64 {
    h.iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) })
        .sum()
}

/// Sets a tar header's checksum as `tarCreateHeader` does (7 octal digits
/// and a space; POSIX ustar: the sum of the header's bytes with the
/// checksum field read as spaces).
fn reseal(h: &mut [u8]) {
    let c = tar_checksum(h);
    h[148..156].copy_from_slice(format!("{c:07o} ").as_bytes());
}

/// Each member header's offset and name.
fn tar_members(bytes: &[u8]) -> Vec<(usize, String)> {
    let mut v = Vec::new();
    let mut at = 0;
    while at + 512 <= bytes.len() && bytes[at..at + 512].iter().any(|&b| b != 0) {
        let h = &bytes[at..at + 512];
        let name = String::from_utf8_lossy(&h[..h[..100].iter().position(|&b| b == 0).unwrap_or(100)]).into_owned();
        let size = u64::from_str_radix(std::str::from_utf8(&h[124..135]).expect("size").trim(), 8).expect("size");
        v.push((at, name));
        at += 512 + (size as usize).div_ceil(512) * 512;
    }
    v
}

/// A damaged member name (checksum made right again) makes the member the
/// TOC names missing; a damaged checksum, or ustar magic, is a corrupt
/// header (`isValidTarHeader` in `pg_backup_tar.c`).
#[test]
fn tar_member_damage_is_refused() {
    let dir = scratch();
    let out = dir.path().join("out.tar");
    for name in ["before.tar", "before-v116.tar"] {
        let good = fs::read(archive(name)).expect("fixture");
        let members = tar_members(&good);
        let data: Vec<_> = members.iter().filter(|(_, n)| n.ends_with(".dat") && n != "toc.dat").collect();
        assert!(data.len() >= 6, "{name}: {members:?}");
        let input = dir.path().join(name);
        for &&(at, ref member) in &data {
            // Name damaged, checksum sealed again: the member is not found.
            let mut v = good.clone();
            v[at] ^= 0x01;
            reseal(&mut v[at..at + 512]);
            fs::write(&input, &v).expect("write");
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            assert_refused(&r, &out, &format!("{name} {member}: name"), &[member, "missing", "TOC entry", "archive byte"]);
            let r = rewrite(&input, None, &["--rules", RULES], &out);
            assert_refused(&r, &out, &format!("{name} {member}: name, rules"), &[member, "missing"]);
        }
        let (at, member) = data[0].clone();
        // Checksum damaged.
        let mut v = good.clone();
        v[at + 20] ^= 0x10;
        fs::write(&input, &v).expect("write");
        let r = rewrite(&input, None, &UNTOUCHED, &out);
        assert_refused(&r, &out, &format!("{name}: checksum"), &[&member, "checksum", &format!("archive byte {at}")]);
        // Magic damaged, checksum sealed again.
        let mut v = good.clone();
        v[at + 257] = b'X';
        reseal(&mut v[at..at + 512]);
        fs::write(&input, &v).expect("write");
        let r = rewrite(&input, None, &UNTOUCHED, &out);
        assert_refused(&r, &out, &format!("{name}: magic"), &[&member, "ustar", &format!("archive byte {}", at + 257)]);
    }
}

// ---------------------------------------------------------------- item 7: lz4 and zstd blocks copied unchanged

/// A corrupt lz4 or zstd block of a table no rule touches (copied byte for
/// byte) is refused, as a corrupt zlib block is; and a block whose frame
/// is cut short (the chunks end before the frame's end) too.
#[test]
fn corrupt_lz4_and_zstd_blocks_of_untouched_tables_are_refused() {
    let dir = scratch();
    let out = dir.path().join("out.dump");
    for alg in [2u8, 3] {
        let packed = dir.path().join(format!("in-{alg}.dump"));
        let bytes = transcoded("before-v116-z0.dump", alg, &packed);
        let r = rewrite(&packed, None, &UNTOUCHED, &out);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert!(fs::read(&out).expect("out") == bytes, "algorithm {alg}: identity is byte-identical");
        fs::remove_file(&out).expect("rm");
        let (_, t, _) = head_of(&bytes);
        for table in ["incident_safety_correctivepreventiveaction", "auth_user"] {
            let Extra::Offset { pos, .. } = entry(&t, table).extra else { panic!("offset") };
            // Block type, Int dump id, Int chunk length, then the frame.
            let frame = pos as usize + 1 + 5 + 5;
            let what = format!("algorithm {alg}, {table}");
            // The frame's header: lz4's header checksum, zstd's descriptor.
            let mut bad = bytes.clone();
            bad[frame + 4] ^= 0xff;
            bad[frame + 6] ^= 0xff;
            let input = dir.path().join("bad.dump");
            fs::write(&input, &bad).expect("write");
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            assert_refused(&r, &out, &format!("{what}: header"), &["archive byte", &format!("TABLE DATA public {table}"), "corrupt"]);
            // The compressed data: lz4's first block size word (its
            // literals carry no checksum in pg_dump's frames), zstd's blocks.
            let mut bad = bytes.clone();
            if alg == 2 {
                bad[frame + 10] ^= 0x5a;
            } else {
                // Past the frame header (RFC 8878 §3.1.1.1), the first
                // block's type set to 3, reserved.
                let fhd = bad[frame + 4];
                let single = (fhd >> 5) & 1 == 1;
                let header = 4 + 1 + usize::from(!single) + [0, 1, 2, 4][usize::from(fhd & 3)]
                    + [usize::from(single), 2, 4, 8][usize::from(fhd >> 6)];
                bad[frame + header] |= 0x06;
            }
            fs::write(&input, &bad).expect("write");
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            assert_refused(&r, &out, &format!("{what}: data"), &["archive byte", &format!("TABLE DATA public {table}"), "corrupt"]);
        }
        // The last block's frame cut before its end (the chunks end early:
        // for lz4 without the EndMark, for zstd without its last block's
        // last 4 bytes), the archive otherwise whole.
        let ends = block_ends(&bytes);
        let last_at = ends[ends.len() - 2] as usize;
        let te = t
            .iter()
            .find(|t| matches!(t.extra, Extra::Offset { pos, .. } if pos as usize == last_at))
            .expect("the last block's entry");
        let mut i = In::new(&bytes[last_at + 6..]);
        let mut last_chunk = 0;
        loop {
            let at = i.pos as usize;
            let len = i.int("chunk").expect("chunk");
            if len == 0 {
                break;
            }
            last_chunk = at;
            let mut skip = vec![0u8; len as usize];
            i.exact(&mut skip, "chunk").expect("chunk");
        }
        let len_at = last_at + 6 + last_chunk;
        let len = u32::from_le_bytes(bytes[len_at + 1..len_at + 5].try_into().expect("4")) as usize;
        assert!(len > 4);
        let mut bad = bytes[..len_at].to_vec();
        bad.push(0);
        bad.extend_from_slice(&(len as u32 - 4).to_le_bytes());
        bad.extend_from_slice(&bytes[len_at + 5..len_at + 5 + len - 4]);
        bad.extend_from_slice(&bytes[len_at + 5 + len..]);
        assert_eq!(bad.len(), bytes.len() - 4);
        let input = dir.path().join("short.dump");
        fs::write(&input, &bad).expect("write");
        let r = rewrite(&input, None, &UNTOUCHED, &out);
        assert_refused(&r, &out, &format!("algorithm {alg}: frame cut short"), &["archive byte", &te.describe(), "truncated"]);
    }
}

// ---------------------------------------------------------------- item 6: rows of untouched tables

/// The same-length damages of a COPY row of `auth_user` (`2\tbob.nurse`),
/// table no rule touches: a tab lost, a tab added, two rows joined, the
/// `\.` line lost (its bytes made blank lines, which are rows too).
fn misframings(data: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    // In a -Z0 custom archive each row is a chunk of its own: the pattern
    // stays within one.
    let row = b"2\tbob.nurse\n".as_slice();
    let at = data.windows(row.len()).position(|w| w == row).expect("auth_user's rows");
    let end = at + data[at..].windows(3).position(|w| w == b"\\.\n").expect("its \\. line");
    let with = |i: usize, b: &[u8]| {
        let mut v = data.to_vec();
        v[i..i + b.len()].copy_from_slice(b);
        v
    };
    vec![
        ("tab lost", with(at + 1, b" ")),
        ("tab added", with(at + 5, b"\t")),
        ("rows joined", with(at + 11, b" ")),
        ("\\. lost", with(end, b"\n\n")),
    ]
}

/// Issue 28 item 6 in archives: the COPY rows of a table no rule touches,
/// copied byte for byte (still compressed), are framed on the way. Each
/// damage of [`misframings`] in a custom archive (none, gzip, lz4, zstd),
/// an uncompressed and a gzip directory archive and a tar archive is
/// refused with exit 3, naming the TOC entry and a byte offset; the
/// undamaged inputs pass (the identity tests of tests/archive.rs show them
/// byte-identical).
#[test]
fn misframed_rows_of_untouched_tables_in_archives_are_refused() {
    let dir = scratch();
    let out = dir.path().join("out");
    let want = ["archive byte", "TABLE DATA public auth_user"];
    let mut checked = 0;
    // Custom: the damage made in the uncompressed archive (a row is a
    // chunk: same length, same framing), then compressed by the library,
    // which copies rows without looking at them.
    let z0 = fs::read(archive("before-v116-z0.dump")).expect("fixture");
    for (what, bad) in misframings(&z0) {
        let plain = dir.path().join("bad-z0.dump");
        fs::write(&plain, &bad).expect("write");
        // 0 is the input's own: no transcoding, the damaged archive as is.
        for alg in [1u8, 2, 3] {
            let input = dir.path().join(format!("bad-{alg}.dump"));
            let mut f = fs::File::create(&input).expect("create");
            custom::rewrite_as(&bad[..], Sink::Seekable(&mut f), &mut Identity, Some(toc::CompressionSpec::Algorithm(alg)))
                .expect("transcode");
            drop(f);
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            assert_refused(&r, &out, &format!("custom, algorithm {alg}: {what}"), &want);
            checked += 1;
        }
        let r = rewrite(&plain, None, &UNTOUCHED, &out);
        assert_refused(&r, &out, &format!("custom -Z0: {what}"), &want);
        checked += 1;
    }
    // Directory, uncompressed and gzip: the data file of auth_user.
    for from in ["before-dir-z0", "before-dir"] {
        let from = archive(from);
        for e in fs::read_dir(&from).expect("dir") {
            let path = e.expect("entry").path();
            let name = path.file_name().expect("name").to_owned();
            if name == "toc.dat" {
                continue;
            }
            let raw = fs::read(&path).expect("read");
            let gz = path.extension().is_some_and(|x| x == "gz");
            let mut data = Vec::new();
            if gz {
                flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut data).expect("gunzip");
            } else {
                data = raw;
            }
            if !data.windows(10).any(|w| w == b"bob.nurse\n") {
                continue;
            }
            for (what, bad) in misframings(&data) {
                let work = dir.path().join("work-dir");
                let _ = fs::remove_dir_all(&work);
                fs::create_dir(&work).expect("mkdir");
                for e in fs::read_dir(&from).expect("dir") {
                    let e = e.expect("entry");
                    fs::copy(e.path(), work.join(e.file_name())).expect("copy");
                }
                let bytes = if gz {
                    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    z.write_all(&bad).expect("gzip");
                    z.finish().expect("gzip")
                } else {
                    bad
                };
                fs::write(work.join(&name), bytes).expect("write");
                let out = dir.path().join("out-dir");
                let r = rewrite(&work, None, &UNTOUCHED, &out);
                assert_refused(&r, &out, &format!("{}: {what}", from.display()), &["TABLE DATA public auth_user", "byte"]);
                checked += 1;
            }
        }
    }
    // Tar: a member's data is not in its header's checksum.
    let tar = fs::read(archive("before.tar")).expect("fixture");
    for (what, bad) in misframings(&tar) {
        let input = dir.path().join("bad.tar");
        fs::write(&input, &bad).expect("write");
        let r = rewrite(&input, None, &UNTOUCHED, &out);
        assert_refused(&r, &out, &format!("tar: {what}"), &want);
        checked += 1;
    }
    assert_eq!(checked, 4 * 4 + 4 * 2 + 4, "every form and damage");
}

// ---------------------------------------------------------------- item 2: LZ4 frames without their EndMark

/// Each LZ4 frame's block boundaries (LZ4 frame format §2: a 7-byte
/// header without content size, then blocks of a 4-byte size word, the
/// data and an optional 4-byte checksum, then the 4-byte EndMark).
fn lz4_block_boundaries(frame: &[u8]) -> Vec<usize> {
    assert_eq!(&frame[..4], &[0x04, 0x22, 0x4d, 0x18]);
    let flg = frame[4];
    assert_eq!(flg & 0x08, 0, "no content size");
    let block_checksum = if flg & 0x10 != 0 { 4 } else { 0 };
    let mut at = 7;
    let mut v = vec![at];
    loop {
        let word = u32::from_le_bytes(frame[at..at + 4].try_into().expect("4 bytes"));
        if word == 0 {
            return v;
        }
        at += 4 + (word & 0x7fff_ffff) as usize + block_checksum;
        v.push(at);
    }
}

fn lz4_frame(data: &[u8], checksum: bool) -> Vec<u8> {
    let info = lz4_flex::frame::FrameInfo::new()
        .content_checksum(checksum)
        .block_size(lz4_flex::frame::BlockSize::Max64KB);
    let mut e = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    e.write_all(data).expect("compress");
    e.finish().expect("finish")
}

/// A directory archive with lz4 data files (`-Fd -Z lz4`), made from the
/// pg_dump 18 one: each `NNNN.dat.gz` decompressed into `NNNN.dat.lz4`,
/// the header's algorithm byte set to lz4 (2).
fn lz4_directory(to: &Path) {
    fs::create_dir(to).expect("mkdir");
    for e in fs::read_dir(archive("before-v116-dir")).expect("dir") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        let bytes = fs::read(e.path()).expect("read");
        if let Some(stem) = name.strip_suffix(".gz") {
            let mut plain = Vec::new();
            flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut plain).expect("gunzip");
            fs::write(to.join(format!("{stem}.lz4")), lz4_frame(&plain, false)).expect("write");
        } else if name == "toc.dat" {
            let mut b = bytes;
            assert_eq!((b[5], b[6], b[11]), (1, 16, 1), "1.16, gzip");
            b[11] = 2;
            fs::write(to.join(name), b).expect("write");
        } else {
            fs::write(to.join(name), bytes).expect("write");
        }
    }
}

/// An lz4 data file of a directory archive cut at a block boundary (right
/// after the frame header, or before the EndMark) is truncated, copied or
/// rewritten; so is a plain `.lz4` dump without its EndMark (and so its
/// content checksum).
#[test]
fn lz4_frames_cut_at_a_block_boundary_are_refused() {
    let dir = scratch();
    let good = dir.path().join("lz4-dir");
    lz4_directory(&good);
    let out = dir.path().join("out");
    let r = rewrite(&good, None, &["--rules", RULES], &out);
    assert!(r.status.success(), "the whole lz4 directory: {}", String::from_utf8_lossy(&r.stderr));
    fs::remove_dir_all(&out).expect("rm");
    let (_, t) = {
        let b = fs::read(good.join("toc.dat")).expect("toc");
        let mut i = In::new(&b[..]);
        let h = toc::read_header(&mut i).expect("header");
        let t = toc::read_toc(&mut i, &h).expect("toc");
        (h, t)
    };
    for table in ["auth_user", "incident_safety_correctivepreventiveaction"] {
        let Extra::File(Some(f)) = &entry(&t, table).extra else { panic!("file") };
        let file = format!("{}.lz4", String::from_utf8_lossy(f));
        let bytes = fs::read(good.join(&file)).expect("data file");
        let bounds = lz4_block_boundaries(&bytes);
        for &cut in &bounds {
            let cut_dir = dir.path().join(format!("cut-{table}-{cut}"));
            fs::create_dir(&cut_dir).expect("mkdir");
            for e in fs::read_dir(&good).expect("dir") {
                let e = e.expect("entry");
                fs::copy(e.path(), cut_dir.join(e.file_name())).expect("copy");
            }
            fs::write(cut_dir.join(&file), &bytes[..cut]).expect("write");
            for rules in [&UNTOUCHED[..], &["--rules", RULES]] {
                let r = rewrite(&cut_dir, None, rules, &out);
                assert_refused(&r, &out, &format!("{file} cut at {cut}, {rules:?}"), &[&file, &format!("TABLE DATA public {table}"), "truncated"]);
            }
        }
    }
    // A plain dump compressed with lz4 (content checksum on, several
    // blocks), without its EndMark and checksum: every block boundary.
    let sql = fs::read(fixture("pg/before.sql")).expect("before.sql");
    let mut big = Vec::new();
    while big.len() < 200_000 {
        big.extend_from_slice(&sql);
    }
    let frame = lz4_frame(&sql, true);
    let bounds = lz4_block_boundaries(&frame);
    let out = dir.path().join("out.sql");
    let input = dir.path().join("cut.sql.lz4");
    fs::write(&input, &frame).expect("write");
    let r = rewrite(&input, None, &UNTOUCHED, &out);
    assert!(r.status.success(), "the whole plain lz4 dump: {}", String::from_utf8_lossy(&r.stderr));
    fs::remove_file(&out).expect("rm");
    for &cut in &bounds {
        fs::write(&input, &frame[..cut]).expect("write");
        let r = rewrite(&input, None, &UNTOUCHED, &out);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "plain lz4 cut at {cut} of {}: exit 0", frame.len());
        assert!(err.contains("truncated LZ4"), "plain lz4 cut at {cut}: {err}");
        assert!(!out.exists(), "plain lz4 cut at {cut}: output left");
    }
    // Several blocks: a cut between them loses rows, not just the EndMark.
    let frame = lz4_frame(&big, true);
    let bounds = lz4_block_boundaries(&frame);
    assert!(bounds.len() >= 4, "{bounds:?}");
    fs::write(&input, &frame[..bounds[1]]).expect("write");
    let r = rewrite(&input, None, &UNTOUCHED, &out);
    assert!(!r.status.success() && !out.exists(), "multi-block plain lz4 cut after its first block: exit 0");
}

// ---------------------------------------------------------------- item 6: the campaign

/// A xorshift generator: the campaign is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// pg_restore 18 (tests/run.sh exports its bin directory); it reads every
/// archive version pg_dump 15 and 18 write.
fn pg_restore() -> Command {
    let Some(dir) = std::env::var_os("DUMPSED_PG18_BIN") else {
        panic!("this test needs pg_restore 18: run it with `bash tests/run.sh` (DUMPSED_PG18_BIN is not set)");
    };
    Command::new(Path::new(&dir).join("pg_restore"))
}

/// What pg_restore says of an archive: `-l`, then the whole script. The
/// pg_restore 18 at hand is built without lz4 and zstd, so such an archive
/// is first decompressed by the library (which fails on what it cannot
/// decode).
fn pg_restore_accepts(path: &Path) -> Result<(), String> {
    let plain = path.with_extension("plain");
    let bytes = if path.is_file() { fs::read(path).map_err(|e| e.to_string())? } else { Vec::new() };
    let path = if bytes.starts_with(b"PGDMP") && bytes.get(5..7) == Some(&[1, 16]) && matches!(bytes.get(11), Some(2 | 3)) {
        let mut f = fs::File::create(&plain).map_err(|e| e.to_string())?;
        custom::rewrite_as(&bytes[..], Sink::Seekable(&mut f), &mut Identity, Some(toc::CompressionSpec::Algorithm(0)))
            .map_err(|e| format!("decompressing the output: {e}"))?;
        &plain
    } else {
        path
    };
    for args in [&["-l"][..], &["-f", "/dev/null"]] {
        let r = run(pg_restore().args(args).arg(path));
        if !r.status.success() {
            return Err(format!("pg_restore {args:?}: {}", String::from_utf8_lossy(&r.stderr)));
        }
    }
    Ok(())
}

/// One damaged input: never a panic; exit 0 only when `whole` or when
/// pg_restore accepts the output; otherwise exit 3 and no output.
fn judge(r: &Output, out: &Path, what: &str, whole: bool, tally: &mut [usize; 3]) {
    judge_sized(r, out, what, whole, usize::MAX, tally)
}

/// [`judge`] of an input of `len` bytes: one too short to be recognized as
/// an archive (the format sniff reads 517 bytes) is refused as an SQL dump.
fn judge_sized(r: &Output, out: &Path, what: &str, whole: bool, len: usize, tally: &mut [usize; 3]) {
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!err.contains("panicked"), "{what}: panic: {err}");
    match r.status.code() {
        Some(0) if whole => tally[0] += 1,
        Some(0) => {
            if let Err(m) = pg_restore_accepts(out) {
                panic!("{what}: exit 0, but {m}");
            }
            tally[1] += 1;
        }
        Some(3) => {
            assert!(!out.exists(), "{what}: output left after an error");
            assert!(
                len < 517 || err.contains("archive byte") || err.contains("TOC entry") || err.contains("toc.dat"),
                "{what}: no place named: {err}"
            );
            tally[2] += 1;
        }
        // A flipped tag the rules name (2), a flipped value a check refuses (6).
        Some(2 | 6) => {
            assert!(!out.exists(), "{what}: output left after an error");
            tally[2] += 1;
        }
        c => panic!("{what}: exit {c:?}: {err}"),
    }
}

/// Every custom form (zlib, -Z0, pipe, INSERTs, 1.16, statistics, lz4,
/// zstd) cut at its TOC's end, at every block boundary and at random
/// offsets; each tar cut at every member boundary and at random offsets;
/// random bytes flipped in each; each compressed data file of the
/// directory forms (gzip 1.14 and 1.16, lz4) cut, and toc.dat flipped. A cut exits 0 only when it leaves the
/// whole archive (for tar: through the first end-of-archive block); a flip
/// exits 0 only when pg_restore 18 accepts the output (`-l` and
/// `-f /dev/null`). Seeded: the same cases on every run.
#[test]
fn every_cut_and_flip_is_refused_or_restorable() {
    let dir = scratch();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut forms: Vec<(String, Vec<u8>)> = CUSTOM
        .iter()
        .chain(&["before.tar", "before-v116.tar"])
        .map(|n| (n.to_string(), fs::read(archive(n)).expect("fixture")))
        .collect();
    for (alg, label) in [(2u8, "lz4"), (3, "zstd")] {
        let p = dir.path().join(format!("{label}.dump"));
        forms.push((format!("before-v116.dump as {label}"), transcoded("before-v116.dump", alg, &p)));
    }
    let out = dir.path().join("out");
    let input = dir.path().join("in");
    // exit 0 whole, exit 0 accepted by pg_restore, refused
    let mut tally = [0usize; 3];
    let start = std::time::Instant::now();
    for (name, good) in &forms {
        let tar = name.ends_with(".tar");
        let (mut cuts, whole_from) = if tar {
            let members = tar_members(good);
            let &(last, _) = members.last().expect("members");
            // The end-of-archive block follows the last member.
            let size = u64::from_str_radix(std::str::from_utf8(&good[last + 124..last + 135]).expect("size").trim(), 8)
                .expect("size");
            let end = last + 512 + (size as usize).div_ceil(512) * 512;
            let mut c: Vec<usize> = members.iter().map(|&(at, _)| at).collect();
            c.push(end);
            (c, end + 512)
        } else {
            let (_, _, toc_end) = head_of(good);
            let mut c = vec![toc_end as usize];
            c.extend(block_ends(good).iter().map(|&e| e as usize));
            (c, good.len())
        };
        for _ in 0..30 {
            cuts.push(rng.below(good.len()));
        }
        for &cut in &cuts {
            fs::write(&input, &good[..cut]).expect("write");
            let _ = fs::remove_file(&out);
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            let whole = cut >= whole_from;
            assert!(whole || !r.status.success(), "{name} cut at {cut} of {}: exit 0", good.len());
            judge_sized(&r, &out, &format!("{name} cut at {cut}"), whole, cut, &mut tally);
        }
        for round in 0..60 {
            let mut v = good.clone();
            let mut at = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
                at.push(i);
            }
            fs::write(&input, &v).expect("write");
            let _ = fs::remove_file(&out);
            let rules: &[&str] = if round % 2 == 0 { &UNTOUCHED } else { &["--rules", RULES] };
            let r = rewrite(&input, None, rules, &out);
            judge(&r, &out, &format!("{name} flipped at {at:?}, {rules:?}"), v == *good, &mut tally);
        }
    }
    // Directory archives: every compressed data file cut at random
    // offsets (and an lz4 one at every block boundary); bytes of toc.dat
    // flipped. (A cut of a -Z0 file at a line end is not seen here: that
    // is the row framing of issue 28 item 6.)
    let lz4_dir = dir.path().join("lz4-dir");
    lz4_directory(&lz4_dir);
    let copy_dir = |from: &Path, to: &Path| {
        let _ = fs::remove_dir_all(to);
        fs::create_dir(to).expect("mkdir");
        for e in fs::read_dir(from).expect("dir") {
            let e = e.expect("entry");
            fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    };
    let work = dir.path().join("work-dir");
    let out = dir.path().join("out-dir");
    for from in [archive("before-dir"), archive("before-v116-dir"), lz4_dir.clone()] {
        let mut files: Vec<PathBuf> = fs::read_dir(&from)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "gz" || x == "lz4"))
            .collect();
        files.sort();
        for f in &files {
            let bytes = fs::read(f).expect("read");
            let mut cuts = vec![1 + rng.below(bytes.len() - 1), 1 + rng.below(bytes.len() - 1)];
            if f.extension().is_some_and(|x| x == "lz4") {
                cuts.extend(lz4_block_boundaries(&bytes));
            }
            for cut in cuts {
                copy_dir(&from, &work);
                fs::write(work.join(f.file_name().expect("name")), &bytes[..cut]).expect("write");
                let _ = fs::remove_dir_all(&out);
                let r = rewrite(&work, None, &UNTOUCHED, &out);
                let what = format!("{} cut at {cut} of {}", f.display(), bytes.len());
                assert!(!r.status.success(), "{what}: exit 0");
                judge(&r, &out, &what, false, &mut tally);
            }
        }
        if from == lz4_dir {
            continue; // pg_restore 18 here reads no lz4
        }
        let toc_dat = fs::read(from.join("toc.dat")).expect("toc");
        for round in 0..20 {
            copy_dir(&from, &work);
            let mut v = toc_dat.clone();
            let i = rng.below(v.len());
            v[i] ^= 1 << rng.below(8);
            fs::write(work.join("toc.dat"), &v).expect("write");
            let _ = fs::remove_dir_all(&out);
            let rules: &[&str] = if round % 2 == 0 { &UNTOUCHED } else { &["--rules", RULES] };
            let r = rewrite(&work, None, rules, &out);
            judge(&r, &out, &format!("{}/toc.dat flipped at {i}, {rules:?}", from.display()), false, &mut tally);
        }
    }
    // Every file of an uncompressed directory archive: toc.dat cut at
    // random offsets, each data file at every line end and at random
    // offsets. A data file is whole through its `\.` (COPY also ends at a
    // `\.` with no newline at the end of the data: copyfromparse.c).
    let from = archive("before-dir-z0");
    let mut files: Vec<PathBuf> = fs::read_dir(&from).expect("dir").map(|e| e.expect("entry").path()).collect();
    files.sort();
    for f in &files {
        let bytes = fs::read(f).expect("read");
        let toc = f.file_name().is_some_and(|n| n == "toc.dat");
        let whole_from = match toc {
            true => bytes.len(),
            false => bytes.windows(3).position(|w| w == b"\\.\n").expect("\\. line") + 2,
        };
        let mut cuts: Vec<usize> = (0..4).map(|_| rng.below(bytes.len())).collect();
        if !toc {
            cuts.extend(bytes.iter().enumerate().filter(|&(_, &b)| b == b'\n').map(|(k, _)| k + 1));
        }
        for cut in cuts {
            copy_dir(&from, &work);
            fs::write(work.join(f.file_name().expect("name")), &bytes[..cut]).expect("write");
            let _ = fs::remove_dir_all(&out);
            let r = rewrite(&work, None, &UNTOUCHED, &out);
            let what = format!("{} cut at {cut} of {}", f.display(), bytes.len());
            let whole = cut >= whole_from;
            assert!(whole || !r.status.success(), "{what}: exit 0");
            judge(&r, &out, &what, whole, &mut tally);
        }
    }
    eprintln!(
        "archive campaign: {} whole, {} accepted by pg_restore, {} refused, in {:?}",
        tally[0],
        tally[1],
        tally[2],
        start.elapsed()
    );
    assert!(tally[0] > 0 && tally[2] > 0, "{tally:?}");
}

// ---------------------------------------------------------------- the campaign, plain inputs

/// Where each zstd block of a frame ends (RFC 8878 §3.1.1: the frame
/// header, then blocks of a 3-byte header — last flag, type, size — and
/// their content, RLE blocks one byte), and the frame's end.
fn zstd_block_ends(frame: &[u8]) -> Vec<usize> {
    assert_eq!(&frame[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
    let fhd = frame[4];
    let single = (fhd >> 5) & 1 == 1;
    let mut at = 4 + 1 + usize::from(!single) + [0, 1, 2, 4][usize::from(fhd & 3)]
        + [usize::from(single), 2, 4, 8][usize::from(fhd >> 6)];
    let mut ends = Vec::new();
    loop {
        let h = u32::from(frame[at]) | u32::from(frame[at + 1]) << 8 | u32::from(frame[at + 2]) << 16;
        let size = (h >> 3) as usize;
        at += 3 + if (h >> 1) & 3 == 1 { 1 } else { size };
        ends.push(at);
        if h & 1 == 1 {
            break;
        }
    }
    if fhd & 4 != 0 {
        ends.push(at + 4); // the content checksum
    }
    ends
}

/// Plain dumps and compressed plain dumps: pg_dump's plain, `--inserts`
/// and `--column-inserts` forms and sqlite3 `.dump` cut at every line end
/// (every statement and COPY row boundary) and at random offsets; the
/// plain pg dump gzip-, zstd- and lz4-compressed (with their checksums, as
/// the command-line tools write them) cut at every block boundary the
/// format has (lz4 and zstd blocks, the gzip member's end) and at random
/// offsets, and with random bytes flipped. A cut exits 0 only when it
/// leaves the whole dump (all but trailing white space); a flip exits 0
/// only with the output of the undamaged input (a flip the format ignores,
/// such as gzip's MTIME); every other run exits 3 (4: a compressed input
/// that cannot be read to its end) naming a byte offset, with no output
/// and no panic. Seeded: the same cases on every run.
#[test]
fn every_cut_and_flip_of_plain_inputs_is_refused() {
    let dir = scratch();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let input = dir.path().join("in");
    let out = dir.path().join("out.sql");
    let mut tally = [0usize; 3];
    let start = std::time::Instant::now();
    let outcome = |r: &Output, what: &str, tally: &mut [usize; 3]| -> bool {
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!err.contains("panicked"), "{what}: panic: {err}");
        if r.status.success() {
            return true;
        }
        // 3: malformed input; 4: compressed input that cannot be read to
        // its end (the decompressor's error, with the byte offset).
        assert!(matches!(r.status.code(), Some(3 | 4)), "{what}: exit {:?}: {err}", r.status.code());
        assert!(err.contains("byte") || err.contains("input is empty"), "{what}: no offset named: {err}");
        assert!(!out.exists(), "{what}: output left after an error");
        tally[2] += 1;
        false
    };
    for name in ["pg/before.sql", "pg/before-inserts.sql", "pg/before-column-inserts.sql", "sqlite/before.sql"] {
        let good = fs::read(fixture(name)).expect("fixture");
        let whole_from = good.iter().rposition(|b| !b.is_ascii_whitespace()).expect("text") + 1;
        let mut cuts: Vec<usize> = good.iter().enumerate().filter(|&(_, &b)| b == b'\n').map(|(k, _)| k + 1).collect();
        cuts.extend((0..20).map(|_| rng.below(good.len())));
        for cut in cuts {
            fs::write(&input, &good[..cut]).expect("write");
            let _ = fs::remove_file(&out);
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            let what = format!("{name} cut at {cut} of {}", good.len());
            if outcome(&r, &what, &mut tally) {
                assert!(cut >= whole_from, "{what}: exit 0");
                tally[0] += 1;
            }
        }
    }
    let plain = fs::read(fixture("pg/before.sql")).expect("fixture");
    fs::write(&input, &plain).expect("write");
    let r = rewrite(&input, None, &UNTOUCHED, &out);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let expected = fs::read(&out).expect("out");
    let gz = {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&plain).expect("gzip");
        z.finish().expect("gzip")
    };
    let zst = {
        let mut z = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("zstd");
        z.include_checksum(true).expect("checksum");
        z.write_all(&plain).expect("zstd");
        z.finish().expect("zstd")
    };
    let lz4 = lz4_frame(&plain, true);
    for (name, good, bounds) in [
        ("before.sql.gz", &gz, vec![gz.len() - 8, gz.len() - 4]),
        ("before.sql.zst", &zst, zstd_block_ends(&zst)),
        ("before.sql.lz4", &lz4, lz4_block_boundaries(&lz4)),
    ] {
        let input = dir.path().join(name);
        let mut cuts = bounds.clone();
        cuts.extend((0..20).map(|_| 1 + rng.below(good.len() - 1)));
        for cut in cuts.into_iter().filter(|&c| c < good.len()) {
            fs::write(&input, &good[..cut]).expect("write");
            let _ = fs::remove_file(&out);
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            let what = format!("{name} cut at {cut} of {}", good.len());
            assert!(!outcome(&r, &what, &mut tally), "{what}: exit 0");
        }
        for _ in 0..40 {
            let mut v = good.clone();
            let mut at = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
                at.push(i);
            }
            fs::write(&input, &v).expect("write");
            let _ = fs::remove_file(&out);
            let r = rewrite(&input, None, &UNTOUCHED, &out);
            let what = format!("{name} flipped at {at:?}");
            if outcome(&r, &what, &mut tally) {
                assert!(fs::read(&out).expect("out") == expected, "{what}: exit 0 with another output");
                tally[1] += 1;
            }
        }
    }
    eprintln!(
        "plain campaign: {} whole, {} flips ignored by the format, {} refused, in {:?}",
        tally[0],
        tally[1],
        tally[2],
        start.elapsed()
    );
    assert!(tally[0] > 0 && tally[2] > 0, "{tally:?}");
}
