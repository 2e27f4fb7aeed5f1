//! Criterion micro-benchmarks of dumpsed's hot paths, through the public
//! library API, on dumps made by `benches/gen_dump.py` (run at start-up;
//! needs `python3`). See benches/README.md.
//!
//!   cargo bench --bench hot_paths                 # all (about 2 minutes)
//!   cargo bench --bench hot_paths -- copy_text    # one group
//!   cargo bench --bench hot_paths -- --quick      # fast sanity run
//!
//! Environment: `DUMPSED_BENCH_MIB` (default 8) sets the size of the
//! generated dumps.

use std::hint::black_box;
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use dumpsed::internals::copy_text;
use dumpsed::internals::input;
use dumpsed::internals::job::{self, Options};
use dumpsed::internals::lexer::{Dialect, TokenKind, Tokens};
use dumpsed::internals::plan::Plan;
use dumpsed::internals::reader::{Chunk, Reader, ReaderConfig};
use dumpsed::internals::rewrite::rewrite_chunk;
use dumpsed::Rules;

const CAPA: &str = "incident_safety_correctivepreventiveaction";

fn dump_mib() -> f64 {
    std::env::var("DUMPSED_BENCH_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8.0)
}

/// Generates a dump with benches/gen_dump.py into a cache under target/
/// (same arguments, same bytes), and reads it.
fn generated(format: &str) -> Vec<u8> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mib = dump_mib();
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let dir = dir.join("bench-dumps");
    std::fs::create_dir_all(&dir).expect("creating target/bench-dumps");
    let script = root.join("benches/gen_dump.py");
    let path = dir.join(format!("{format}-{mib}MiB.sql"));
    let fresh = match (std::fs::metadata(&path), std::fs::metadata(&script)) {
        (Ok(d), Ok(s)) => d.modified().ok() >= s.modified().ok(),
        _ => false,
    };
    if !fresh {
        let status = Command::new("python3")
            .arg(&script)
            .args(["--quiet", "--format", format, "--size-mib", &mib.to_string(), "--out"])
            .arg(&path)
            .status()
            .expect("running python3 benches/gen_dump.py (python3 is needed to generate the bench dumps)");
        assert!(status.success(), "benches/gen_dump.py failed: {status}");
    }
    std::fs::read(&path).expect("reading the generated dump")
}

struct Data {
    copy: Vec<u8>,
    inserts: Vec<u8>,
    sqlite: Vec<u8>,
}

fn data() -> &'static Data {
    static DATA: OnceLock<Data> = OnceLock::new();
    DATA.get_or_init(|| Data {
        copy: generated("pg"),
        inserts: generated("pg-inserts"),
        sqlite: generated("sqlite"),
    })
}

fn rules() -> Rules {
    Rules::preset("capa-to-sap").expect("preset capa-to-sap")
}

/// The data rows (without line ends) of the COPY block of `table`.
fn copy_rows<'a>(dump: &'a [u8], table: &str) -> Vec<&'a [u8]> {
    let head = format!("COPY public.{table} (");
    let text = dump;
    let at = memfind(text, head.as_bytes()).expect("COPY header of the table");
    let body = at + memfind(&text[at..], b";\n").expect("end of COPY header") + 2;
    let mut rows = Vec::new();
    let mut i = body;
    loop {
        let nl = copy_text::next_row_end(text, i).expect("row end");
        let row = &text[i..nl];
        if row == b"\\." {
            break;
        }
        rows.push(row);
        i = nl + 1;
    }
    rows
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn quick<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g
}

/// COPY text codec on the CAPA table's rows (the only rows dumpsed splits).
fn bench_copy_text(c: &mut Criterion) {
    let rows = copy_rows(&data().copy, CAPA);
    let bytes: usize = rows.iter().map(|r| r.len() + 1).sum();
    let mut g = quick(c, "copy_text");

    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("split_fields/capa_rows", |b| {
        let mut f = Vec::with_capacity(16);
        b.iter(|| {
            let mut n = 0;
            for r in &rows {
                copy_text::split_fields(black_box(r), &mut f);
                n += f.len();
            }
            n
        })
    });

    // The fields dumpsed decodes (reference_number), and a heavier one
    // (description: free text with escapes), raw as in the dump.
    let mut f = Vec::new();
    let field = |i: usize, f: &mut Vec<(usize, usize)>| -> Vec<&[u8]> {
        rows.iter()
            .map(|r| {
                copy_text::split_fields(r, f);
                let (s, e) = f[i];
                &r[s..e]
            })
            .collect()
    };
    let refs = field(1, &mut f);
    let descs = field(4, &mut f);
    for (name, raw) in [("reference_number", &refs), ("description", &descs)] {
        let n: usize = raw.iter().map(|v| v.len()).sum();
        g.throughput(Throughput::Bytes(n as u64));
        g.bench_with_input(BenchmarkId::new("decode", name), raw, |b, raw| {
            let mut out = Vec::with_capacity(256);
            b.iter(|| {
                let mut n = 0;
                for v in raw.iter() {
                    if let Some(value) = copy_text::decode(black_box(v), &mut out).unwrap() {
                        n += value.len();
                    }
                }
                n
            })
        });
    }

    let decoded: Vec<Vec<u8>> = descs
        .iter()
        .filter_map(|v| {
            let mut o = Vec::new();
            copy_text::decode(v, &mut o).unwrap().map(<[u8]>::to_vec)
        })
        .collect();
    let n: usize = decoded.iter().map(Vec::len).sum();
    g.throughput(Throughput::Bytes(n as u64));
    g.bench_function("encode/description", |b| {
        let mut out = Vec::with_capacity(n + n / 8);
        b.iter(|| {
            out.clear();
            for v in &decoded {
                copy_text::encode(black_box(v), &mut out);
            }
            out.len()
        })
    });
    g.finish();
}

/// The statement lexer over a pg --inserts dump (what the reader runs over
/// every SQL byte, and the workers over INSERT statements).
fn bench_lexer(c: &mut Criterion) {
    let d = data();
    let mut g = quick(c, "lexer");
    for (name, dialect, text) in [
        ("pg_inserts", Dialect::Postgres, &d.inserts),
        ("sqlite", Dialect::Sqlite, &d.sqlite),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_with_input(BenchmarkId::new("tokens", name), text, |b, text| {
            b.iter(|| {
                let mut words = 0usize;
                for t in Tokens::new(dialect, black_box(text)) {
                    if t.unwrap().kind == TokenKind::Word {
                        words += 1;
                    }
                }
                words
            })
        });
    }
    g.finish();
}

/// Frames `dump` into chunks as the reader thread does.
fn frame(dump: &[u8], dialect: Dialect) -> Vec<Chunk> {
    let plan = Arc::new(Plan::new(&rules(), dialect));
    let mut reader = Reader::new(Cursor::new(dump), plan, ReaderConfig::default());
    let mut chunks = Vec::new();
    while let Some(c) = reader.next_chunk().expect("framing") {
        assert!(
            c.error.is_none(),
            "generated dump is malformed: {:?}",
            c.error
        );
        chunks.push(c);
    }
    chunks
}

/// The two halves of the pipeline, single-threaded: the reader (framing,
/// lexing, decisions; serial by design) and the workers' rewrite of framed
/// chunks (COPY row edits; INSERT value edits and renames).
fn bench_stages(c: &mut Criterion) {
    let d = data();
    let mut g = quick(c, "stages");
    let cases = [
        ("pg_copy", Dialect::Postgres, &d.copy),
        ("pg_inserts", Dialect::Postgres, &d.inserts),
        ("sqlite", Dialect::Sqlite, &d.sqlite),
    ];
    for (name, dialect, dump) in cases {
        g.throughput(Throughput::Bytes(dump.len() as u64));
        let plan = Arc::new(Plan::new(&rules(), dialect));
        g.bench_with_input(BenchmarkId::new("reader", name), dump, |b, dump| {
            b.iter(|| {
                let mut reader = Reader::new(
                    Cursor::new(&dump[..]),
                    plan.clone(),
                    ReaderConfig::default(),
                );
                let mut segs = 0;
                while let Some(c) = reader.next_chunk().unwrap() {
                    segs += c.segments.len();
                }
                segs
            })
        });
        let chunks = frame(dump, dialect);
        g.bench_with_input(
            BenchmarkId::new("rewrite_chunk", name),
            &chunks,
            |b, chunks| {
                b.iter(|| {
                    let mut pieces = 0;
                    for c in chunks {
                        // As the pipeline does: each chunk with the rules in
                        // force at its end (a Django M2M table found on the
                        // way adds a rename).
                        pieces += rewrite_chunk(c).unwrap().pieces.len();
                    }
                    pieces
                })
            },
        );
    }
    g.finish();
}

/// `dumpsed::internals::job::rewrite` end to end, in memory, into a sink.
fn bench_job(c: &mut Criterion) {
    let d = data();
    let rules = rules();
    let mut g = quick(c, "job_rewrite");
    let cases = [
        ("pg_copy", &d.copy),
        ("pg_inserts", &d.inserts),
        ("sqlite", &d.sqlite),
    ];
    for (name, dump) in cases {
        let dump: &'static [u8] = dump;
        g.throughput(Throughput::Bytes(dump.len() as u64));
        for threads in [1usize, 0] {
            let options = Options {
                allow_truncated: true,
                threads,
                ..Options::default()
            };
            let id = BenchmarkId::new(
                name,
                if threads == 0 {
                    "all-threads".to_string()
                } else {
                    format!("j{threads}")
                },
            );
            g.bench_function(id, |b| {
                b.iter(|| {
                    let src = input::from_reader(Box::new(Cursor::new(dump)), None).unwrap();
                    job::rewrite(src, &mut std::io::sink(), &rules, &options, ())
                        .unwrap()
                        .bytes_out
                })
            });
        }
    }
    // gzip in → gzip out (level 6), the pg COPY dump; throughput counts
    // decompressed bytes.
    let gz: &'static [u8] = Box::leak(gzip(&d.copy).into_boxed_slice());
    g.throughput(Throughput::Bytes(d.copy.len() as u64));
    let options = Options {
        allow_truncated: true,
        compress: Some(dumpsed::OutputCompression::Gzip(6)),
        ..Options::default()
    };
    g.bench_function(BenchmarkId::new("pg_copy_gz_to_gz", "all-threads"), |b| {
        b.iter(|| {
            let src = input::from_reader(Box::new(Cursor::new(gz)), None).unwrap();
            job::rewrite(src, &mut std::io::sink(), &rules, &options, ())
                .unwrap()
                .bytes_out
        })
    });
    g.finish();
}

/// `data` gzip'd at level 6.
fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

criterion_group!(
    benches,
    bench_copy_text,
    bench_lexer,
    bench_stages,
    bench_job
);
criterion_main!(benches);
