//! Observing a rewrite: progress and every rewritten value, delivered by
//! the pipeline's writer thread in input order, after the chunk holding
//! them is written.
//!
//! The pipeline only *reports*; what is done with a report (a CSV change
//! log, a progress bar, a caller's own audit trail) is an [`Observer`].
//! Per-value events cost memory (each chunk keeps its changes until it is
//! written), so they are collected only when an observer asks for them.

#[allow(missing_docs)] // internal, reached through `internals`
pub(crate) mod checks;
pub(crate) mod facts;
pub(crate) mod problem;
pub(crate) mod sample;

use std::io::{self, Write};

/// One rewritten value.
#[derive(Debug, Clone, Copy)]
pub struct ValueChange<'a> {
    /// The table, as the value rule names it (the name in the input).
    pub table: &'a [u8],
    /// The column.
    pub column: &'a [u8],
    /// The input line of the COPY row or INSERT tuple holding the value.
    pub line: u64,
    /// The byte offset of that row or tuple in the (decompressed) input.
    pub offset: u64,
    /// The value before, decoded (no COPY escapes or SQL quotes).
    pub old: &'a [u8],
    /// The value after.
    pub new: &'a [u8],
}

/// Receives what happens during a rewrite. Every method has a default that
/// does nothing, so an observer implements only what it needs.
///
/// `()` observes nothing; [`Progress`] makes a closure an observer of
/// progress; `&mut` of an observer is one (so a caller keeps what it saw).
pub trait Observer {
    /// Called after each chunk is written, with the decompressed input
    /// bytes done so far.
    fn progress(&mut self, _bytes_in: u64) {}

    /// Whether [`Observer::change`] should be called. Asked once, before
    /// the first byte is read.
    fn wants_changes(&self) -> bool {
        false
    }

    /// Called for each rewritten value, in input order. An error stops the
    /// rewrite.
    fn change(&mut self, _change: &ValueChange<'_>) -> io::Result<()> {
        Ok(())
    }
}

/// No observer.
impl Observer for () {}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn progress(&mut self, bytes_in: u64) {
        (**self).progress(bytes_in)
    }
    fn wants_changes(&self) -> bool {
        (**self).wants_changes()
    }
    fn change(&mut self, change: &ValueChange<'_>) -> io::Result<()> {
        (**self).change(change)
    }
}

/// A closure told the progress only.
pub struct Progress<F: FnMut(u64)>(pub F);

impl<F: FnMut(u64)> Observer for Progress<F> {
    fn progress(&mut self, bytes_in: u64) {
        (self.0)(bytes_in)
    }
}

/// Several observers, each told everything.
#[derive(Default)]
pub struct Observers<'a>(pub Vec<Box<dyn Observer + 'a>>);

impl Observer for Observers<'_> {
    fn progress(&mut self, bytes_in: u64) {
        for o in &mut self.0 {
            o.progress(bytes_in);
        }
    }
    fn wants_changes(&self) -> bool {
        self.0.iter().any(|o| o.wants_changes())
    }
    fn change(&mut self, change: &ValueChange<'_>) -> io::Result<()> {
        for o in &mut self.0 {
            if o.wants_changes() {
                o.change(change)?;
            }
        }
        Ok(())
    }
}

/// The change log of `--log-changes`: one CSV line per rewritten value
/// (table, column, line, byte offset, old, new; RFC 4180 quoting). The
/// header line is the caller's (see [`CsvChangeLog::HEADER`]).
pub struct CsvChangeLog<W: Write>(pub W);

impl<W: Write> CsvChangeLog<W> {
    /// The CSV header matching the lines written.
    pub const HEADER: &'static [u8] = b"table,column,line,byte_offset,old,new\n";
}

impl<W: Write> Observer for CsvChangeLog<W> {
    fn wants_changes(&self) -> bool {
        true
    }

    fn change(&mut self, c: &ValueChange<'_>) -> io::Result<()> {
        let line = c.line.to_string();
        let offset = c.offset.to_string();
        let fields: [&[u8]; 6] = [c.table, c.column, line.as_bytes(), offset.as_bytes(), c.old, c.new];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.0.write_all(b",")?;
            }
            csv_field(&mut self.0, f)?;
        }
        self.0.write_all(b"\n")
    }
}

/// One CSV field, quoted when needed (RFC 4180 §2).
fn csv_field(out: &mut impl Write, f: &[u8]) -> io::Result<()> {
    if !f.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        return out.write_all(f);
    }
    out.write_all(b"\"")?;
    for (i, part) in f.split(|&b| b == b'"').enumerate() {
        if i > 0 {
            out.write_all(b"\"\"")?;
        }
        out.write_all(part)?;
    }
    out.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let mut log = CsvChangeLog(Vec::new());
        let c = ValueChange {
            table: b"t",
            column: b"c",
            line: 7,
            offset: 42,
            old: b"a,\"b\"\nc",
            new: b"\xff plain",
        };
        log.change(&c).unwrap();
        assert_eq!(log.0, b"t,c,7,42,\"a,\"\"b\"\"\nc\",\xff plain\n");
    }

    #[test]
    fn observers_fan_out_and_ask_only_those_who_want_changes() {
        let mut seen = Vec::new();
        let mut log = Vec::new();
        {
            let mut all = Observers(vec![
                Box::new(Progress(|n| seen.push(n))),
                Box::new(CsvChangeLog(&mut log)),
            ]);
            assert!(all.wants_changes());
            all.progress(5);
            let c = ValueChange { table: b"t", column: b"c", line: 1, offset: 0, old: b"x", new: b"y" };
            all.change(&c).unwrap();
        }
        assert_eq!(seen, vec![5]);
        assert_eq!(log, b"t,c,1,0,x,y\n");
        assert!(!Observers(vec![Box::new(Progress(|_| {}))]).wants_changes());
    }
}
