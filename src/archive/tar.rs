//! Tar format (`pg_dump -Ft`), read and written
//! (`src/bin/pg_dump/pg_backup_tar.c`, headers by `tarCreateHeader` in
//! `src/port/tar.c`).
//!
//! Layout: ustar members, `toc.dat` first (the header and TOC, each entry
//! ending with its member's file name, `NNNN.dat`), then one member per
//! data entry, large objects (`blob_OID.dat`, `blobs.toc`), and
//! `restore.sql` (a plain script for people, with `$$PATH$$` where the
//! data files are); then two zero blocks. The tar format has no
//! compression.
//!
//! A member nothing changes is copied byte for byte, header included. A
//! rewritten member keeps its original header with the size and checksum
//! fields set anew (`print_tar_number`: 11 octal digits and a space for
//! the size, 7 and a space for the checksum); its new content is spooled to a
//! temporary file first, since a tar header gives the size up front.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::toc::{self, Extra, In, Out};
use super::Tee;
use super::{ArchiveError, Edit, Stats};

const BLOCK: usize = 512;

fn aerr(offset: u64, entry: impl Into<String>, msg: impl Into<String>) -> ArchiveError {
    ArchiveError {
        offset,
        entry: Some(entry.into()),
        msg: msg.into(),
    }
}

/// True when `head` is the start of a pg_dump tar archive: a first member
/// named `toc.dat` whose content starts with `PGDMP`.
pub fn is_tar_archive(head: &[u8]) -> bool {
    head.len() >= BLOCK + 5 && name_of(&head[..BLOCK]) == b"toc.dat" && &head[BLOCK..BLOCK + 5] == b"PGDMP"
}

fn name_of(h: &[u8]) -> &[u8] {
    let n = &h[..100];
    &n[..memchr::memchr(0, n).unwrap_or(100)]
}

/// The size field: octal, or base-256 when its first byte has the high bit.
fn size_of(h: &[u8]) -> Option<u64> {
    let f = &h[124..136];
    if f[0] & 0x80 != 0 {
        let mut v: u64 = u64::from(f[0] & 0x7f);
        for &b in &f[1..] {
            v = v.checked_mul(256)? + u64::from(b);
        }
        return Some(v);
    }
    let mut v: u64 = 0;
    let mut any = false;
    for &b in f {
        match b {
            b'0'..=b'7' => {
                v = v.checked_mul(8)? + u64::from(b - b'0');
                any = true;
            }
            b' ' | 0 if !any => {}
            b' ' | 0 => break,
            _ => return None,
        }
    }
    Some(v)
}

fn checksum(h: &[u8]) -> u64 {
    h.iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { u64::from(b' ') } else { u64::from(b) })
        .sum()
}

/// `print_tar_number` (src/port/tar.c): `len - 1` octal digits and a
/// space, or base-256 for values too large for them.
fn put_number(f: &mut [u8], v: u64) {
    let len = f.len();
    if v < 1u64 << ((len - 1) * 3) {
        let s = format!("{:0width$o}", v, width = len - 1);
        f[..len - 1].copy_from_slice(s.as_bytes());
        f[len - 1] = b' ';
    } else {
        f[0] = 0x80;
        let mut x = v;
        for i in (1..len).rev() {
            f[i] = (x & 0xff) as u8;
            x >>= 8;
        }
    }
}

fn with_size(h: &[u8], size: u64) -> Vec<u8> {
    let mut h = h.to_vec();
    put_number(&mut h[124..136], size);
    let c = checksum(&h);
    put_number(&mut h[148..156], c);
    h
}

struct Pos<W> {
    w: W,
    pos: u64,
}

impl<W: Write> Write for Pos<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = self.w.write(b)?;
        self.pos += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

fn pad(size: u64) -> usize {
    (BLOCK - (size % BLOCK as u64) as usize) % BLOCK
}

/// Rewrites a tar archive from `input` to `out` under `edit`.
pub fn rewrite<R: Read + Send>(
    input: R,
    out: &mut (dyn Write + Send),
    edit: &mut dyn Edit,
) -> crate::Result<Stats> {
    let mut i = In::new(input);
    let mut o = Pos { w: out, pos: 0 };
    let werr = |at: u64, e: io::Error| aerr(at, "the output", format!("writing: {e}"));
    let mut stats = Stats {
        format: "tar",
        compression: "none".into(),
        ..Stats::default()
    };
    // The TOC, once read, and the entry of each member name.
    type TocState = (toc::Header, Vec<toc::TocEntry>, HashMap<Vec<u8>, usize>);
    let mut toc_state: Option<TocState> = None;
    let mut hdr = vec![0u8; BLOCK];
    // Member names met, and where the end-of-archive blocks start.
    let mut seen = std::collections::HashSet::new();
    let end;
    loop {
        let at = i.pos;
        i.context = "the tar archive".into();
        // A clean end without the two zero blocks is what a truncated tar
        // looks like: refuse it.
        i.exact(&mut hdr, "a tar header")?;
        if hdr.iter().all(|&b| b == 0) {
            end = at;
            o.write_all(&hdr).map_err(|e| werr(o.pos, e))?;
            // The rest (the second zero block, the record's padding) is
            // copied as it is, and counted: `bytes_in` is the archive's size.
            i.pos += io::copy(&mut i.r, &mut o).map_err(|e| werr(o.pos, e))?;
            break;
        }
        let name = name_of(&hdr).to_vec();
        let shown = String::from_utf8_lossy(&name).into_owned();
        let member = format!("tar member {shown:?}");
        let stored: u64 = std::str::from_utf8(&hdr[148..156])
            .ok()
            .and_then(|s| u64::from_str_radix(s.trim_matches(|c| c == ' ' || c == '\0'), 8).ok())
            .unwrap_or(u64::MAX);
        if stored != checksum(&hdr) {
            return Err(crate::Error::from(aerr(at, member, "corrupt tar header (checksum does not match)")));
        }
        if !ustar_magic(&hdr) {
            return Err(crate::Error::from(aerr(at + 257, member, "corrupt tar header (no ustar magic)")));
        }
        let Some(size) = size_of(&hdr) else {
            return Err(crate::Error::from(aerr(at, member, "corrupt tar header (size)")));
        };
        let data_at = i.pos;
        i.context = member.clone();
        if name == b"toc.dat" {
            if toc_state.is_some() {
                return Err(crate::Error::from(aerr(at, member, "a second toc.dat")));
            }
            if size > 1 << 32 {
                return Err(crate::Error::from(aerr(at, member, format!("toc.dat of {size} bytes (corrupt archive?)"))));
            }
            let mut body = Vec::new();
            (&mut i.r)
                .take(size)
                .read_to_end(&mut body)
                .map_err(|e| aerr(data_at, member.clone(), format!("reading: {e}")))?;
            if (body.len() as u64) < size {
                return Err(crate::Error::from(aerr(data_at + body.len() as u64, member, "the archive ends inside toc.dat (truncated?)")));
            }
            i.pos += size;
            let mut skip = vec![0u8; pad(size)];
            i.exact(&mut skip, "tar padding")?;
            let mut ti = In::new(&body[..]);
            let header = toc::read_header(&mut ti).map_err(|mut e| {
                e.offset += data_at;
                e
            })?;
            let orig = toc::read_toc(&mut ti, &header).map_err(|mut e| {
                e.offset += data_at;
                e
            })?;
            match header.compression.algorithm() {
                Ok(super::Algorithm::None) => {}
                _ => return Err(crate::Error::from(aerr(data_at, member, "a compressed tar archive is not supported"))),
            }
            let mut new_toc = orig.clone();
            edit.toc(&header, &mut new_toc)
                .map_err(|e| e.within(&format!("archive byte {data_at}, rewriting the TOC")))?;
            let mut tw = Out::new(Vec::new(), &header);
            toc::write_header(&mut tw, &header)
                .and_then(|_| toc::write_toc(&mut tw, &header, &new_toc))
                .map_err(|e| werr(o.pos, e))?;
            // The rest of toc.dat after the TOC is kept as it was.
            tw.w.extend_from_slice(&body[ti.pos as usize..]);
            let new = tw.w;
            let h = if new == body { hdr.clone() } else { with_size(&hdr, new.len() as u64) };
            o.write_all(&h).and_then(|_| o.write_all(&new)).and_then(|_| o.write_all(&vec![0u8; pad(new.len() as u64)]))
                .map_err(|e| werr(o.pos, e))?;
            stats.version = format!("{}.{}-{}", header.vmaj, header.vmin, header.vrev);
            stats.entries = new_toc.len();
            let files = orig
                .iter()
                .enumerate()
                .filter_map(|(n, t)| match &t.extra {
                    Extra::File(Some(f)) if !f.is_empty() => Some((f.clone(), n)),
                    _ => None,
                })
                .collect();
            toc_state = Some((header, orig, files));
            continue;
        }
        let Some((_, orig, files)) = toc_state.as_ref() else {
            return Err(crate::Error::from(aerr(at, member, "a member before toc.dat (not a pg_dump tar archive?)")));
        };
        if !seen.insert(name.clone()) {
            return Err(crate::Error::from(aerr(at, member, "a second member of this name (corrupt archive?)")));
        }
        let te = files.get(&name).map(|&n| &orig[n]);
        let editor = if name == b"restore.sql" {
            edit.script()
        } else {
            te.filter(|t| t.desc_is("TABLE DATA")).and_then(|t| edit.data(t))
        };
        if te.is_some() {
            stats.blocks += 1;
        }
        let what = te.map(|t| format!("{}, {member}", t.describe())).unwrap_or(member.clone());
        match editor {
            None if te.and_then(super::row_check).is_some() => {
                // The COPY rows of a table no rule edits are framed on the
                // way (a tar member is never compressed).
                let rows = te.and_then(super::row_check);
                o.write_all(&hdr).map_err(|e| werr(o.pos, e))?;
                let mut body = Counted { r: (&mut i.r).take(size), n: 0 };
                let checked = {
                    let mut tee = Tee { r: &mut body, w: &mut o };
                    super::compress::read_rows(&mut tee, rows)
                };
                i.pos += body.n;
                if body.n < size {
                    return Err(crate::Error::from(aerr(i.pos, what, "the archive ends inside this member (truncated?)")));
                }
                checked
                    .map_err(|e| aerr(data_at, what.clone(), format!("reading: {e}")))?
                    .map_err(|e| aerr(data_at + e.at, what.clone(), super::compress::rows_msg(&e)))?;
                let mut padding = vec![0u8; pad(size)];
                i.exact(&mut padding, "tar padding")?;
                o.write_all(&padding).map_err(|e| werr(o.pos, e))?;
            }
            None => {
                o.write_all(&hdr).map_err(|e| werr(o.pos, e))?;
                let total = size + pad(size) as u64;
                let n = io::copy(&mut (&mut i.r).take(total), &mut o).map_err(|e| aerr(data_at, what.clone(), format!("reading: {e}")))?;
                i.pos += n;
                if n < total {
                    return Err(crate::Error::from(aerr(i.pos, what, "the archive ends inside this member (truncated?)")));
                }
            }
            Some(de) => {
                if te.is_some() {
                    stats.blocks_edited += 1;
                }
                let mut spool = tempfile::tempfile().map_err(|e| aerr(data_at, what.clone(), format!("creating a temporary file: {e}")))?;
                let mut body = Counted { r: (&mut i.r).take(size), n: 0 };
                let r = {
                    let mut w = io::BufWriter::new(&mut spool);
                    let r = de.run(&mut body, &mut w);
                    r.and_then(|_| {
                        io::copy(&mut body, &mut io::sink())
                            .map(|_| ())
                            .map_err(|e| crate::Error::Archive(format!("reading: {e}")))
                    })
                    .and_then(|_| w.flush().map_err(|e| crate::Error::io(format!("writing the spool of {what}"), e)))
                };
                i.pos += body.n;
                if body.n < size {
                    return Err(crate::Error::from(aerr(i.pos, what, "the archive ends inside this member (truncated?)")));
                }
                r.map_err(|e| e.within(&format!("archive byte {data_at}, {what}")))?;
                let mut skip = vec![0u8; pad(size)];
                i.exact(&mut skip, "tar padding")?;
                let new_size = spool.seek(SeekFrom::End(0)).map_err(|e| werr(o.pos, e))?;
                spool.seek(SeekFrom::Start(0)).map_err(|e| werr(o.pos, e))?;
                let h = if new_size == size { hdr.clone() } else { with_size(&hdr, new_size) };
                o.write_all(&h).map_err(|e| werr(o.pos, e))?;
                io::copy(&mut spool, &mut o).map_err(|e| werr(o.pos, e))?;
                o.write_all(&vec![0u8; pad(new_size)]).map_err(|e| werr(o.pos, e))?;
            }
        }
    }
    let Some((_, orig, files)) = toc_state.as_ref() else {
        return Err(crate::Error::from(aerr(i.pos, "the tar archive", "no toc.dat member")));
    };
    missing_members(orig, files, &seen, end)?;
    o.flush().map_err(|e| werr(o.pos, e))?;
    stats.bytes_in = i.pos;
    stats.bytes_out = o.pos;
    Ok(stats)
}

/// `isValidTarHeader` in `pg_backup_tar.c`: besides the checksum, the
/// magic of POSIX ustar (`ustar\0` and version `00`, what pg_dump 9.3 on
/// writes), GNU tar (`ustar  \0`), or pre-9.3 pg_dump (`ustar00\0`).
fn ustar_magic(h: &[u8]) -> bool {
    let m = &h[257..265];
    (m[..6] == *b"ustar\0" && m[6..] == *b"00") || m == b"ustar  \0" || m == b"ustar00\0"
}

/// Refuses a tar archive without a data member its TOC names: pg_restore
/// looks each one up (`_tarPositionTo`) and fails (`could not find header
/// for file`), so a member whose name was damaged, or that was cut off, is
/// lost data. Entries of large objects (`BLOBS`, `LARGE OBJECTS`) name a
/// file pg_dump never writes: their data is in `blobs.toc` (from 1.16
/// `blobs_NNNN.toc`) and `blob_OID.dat` (`_StartLOs` in `pg_backup_tar.c`).
fn missing_members(
    toc: &[toc::TocEntry],
    files: &HashMap<Vec<u8>, usize>,
    seen: &std::collections::HashSet<Vec<u8>>,
    end: u64,
) -> Result<(), ArchiveError> {
    let mut wanted: Vec<(&Vec<u8>, usize)> = files.iter().map(|(f, &n)| (f, n)).collect();
    wanted.sort_by_key(|&(_, n)| n);
    for (file, n) in wanted {
        let te = &toc[n];
        if te.desc_is("BLOBS") || te.desc_is("LARGE OBJECTS") || seen.contains(file) {
            continue;
        }
        return Err(aerr(
            end,
            te.describe(),
            format!(
                "the data member {:?} is missing from the tar archive (damaged member name, or truncated?)",
                String::from_utf8_lossy(file)
            ),
        ));
    }
    Ok(())
}

struct Counted<R> {
    r: R,
    n: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.r.read(buf)?;
        self.n += k as u64;
        Ok(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_pg_writes_them() {
        let mut f = [0u8; 12];
        put_number(&mut f, 1188);
        assert_eq!(&f, b"00000002244 ");
        let mut h = vec![0u8; 512];
        h[..7].copy_from_slice(b"toc.dat");
        let h = with_size(&h, 70000);
        assert_eq!(size_of(&h), Some(70000));
        let stored = u64::from_str_radix(std::str::from_utf8(&h[148..155]).unwrap(), 8).unwrap();
        assert_eq!(stored, checksum(&h));
    }
}
