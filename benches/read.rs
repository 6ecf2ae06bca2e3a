//! Reader benchmarks over generated update sets: a bare quick-xml tokenize of the same bytes
//! (the baseline), our tokenizer alone, the full read (payloads at every depth), the inventory
//! behind `inspect`, and the identity write. Throughput in bytes, so criterion prints MB/s.
//!
//! Sizes in MB from `SN_BENCH_SIZES` (default `1,20`), e.g. `SN_BENCH_SIZES=1,20,200`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sn_retarget::inspect::Inspector;
use sn_retarget::model::{Record, Visitor, read};
use sn_retarget::scan::Tokenizer;
use sn_retarget::splice::Edits;
use sn_retarget::synth::update_set;

struct CountRecords(usize);

impl Visitor for CountRecords {
    fn record(&mut self, r: &Record<'_>) {
        self.0 += r.fields().len();
    }
    fn discard_from(&mut self, _first_index: usize) {}
}

fn quick_xml_events(bytes: &[u8]) -> usize {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().check_end_names = true;
    let mut n = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => return n,
            Ok(_) => n += 1,
            Err(e) => panic!("quick-xml: {e}"),
        }
    }
}

fn our_tokens(bytes: &[u8]) -> usize {
    let mut tok = Tokenizer::new(bytes);
    let mut attrs = Vec::new();
    let mut n = 0;
    while tok.next(&mut attrs).expect("well-formed").is_some() {
        n += 1;
    }
    n
}

fn sizes() -> Vec<usize> {
    std::env::var("SN_BENCH_SIZES")
        .unwrap_or_else(|_| "1,20".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn bench(c: &mut Criterion) {
    for mb in sizes() {
        let bytes = update_set(mb * 1_000_000, 1);
        let mut group = c.benchmark_group("read");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        if mb >= 20 {
            group.sample_size(10);
        }
        let id = |name: &str| BenchmarkId::new(name, format!("{mb}MB"));
        group.bench_function(id("quick-xml 0.37 tokenize (baseline)"), |b| {
            b.iter(|| quick_xml_events(black_box(&bytes)))
        });
        group.bench_function(id("scan: tokenize outer"), |b| {
            b.iter(|| our_tokens(black_box(&bytes)))
        });
        group.bench_function(id("read: records + payloads"), |b| {
            b.iter(|| {
                let mut v = CountRecords(0);
                read(black_box(&bytes), &mut v).unwrap();
                v.0
            })
        });
        group.bench_function(id("inspect: inventory"), |b| {
            b.iter(|| {
                let mut i = Inspector::new();
                i.add("bench.xml", black_box(&bytes)).unwrap();
                i.finish().files.len()
            })
        });
        group.bench_function(id("identity write"), |b| {
            b.iter(|| Edits::new().apply_to_vec(black_box(&bytes)).unwrap().len())
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
