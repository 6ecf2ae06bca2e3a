//! The phases of a rewrite over generated update sets, each beside a bare quick-xml tokenize of
//! the same bytes (the baseline): criterion prints MB/s of input for each.
//!
//! - `scan`: quick-xml 0.37 (baseline), our tokenizer over the outer document, the outer check
//!   that identity plans run, and the full read (payloads at every depth).
//! - `analyze`: the inventory behind `inspect`.
//! - `plan`: the one read of `apply` (`Rewriter::read`, in parts on every core) and the id map.
//! - `splice`: the final edits (`Rewriter::finish`, ciphertext check included) and the output
//!   written to a sink from input and edits.
//! - `apply`: all of it, as `sn-retarget apply --sys-ids regenerate --source --target` does
//!   without the disk.
//!
//! The `bundle` phase (5,000 small files) is `benches/batch.rs`. Sizes in MB from
//! `SN_BENCH_SIZES` (default `1,20,200`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sn_retarget::analyze::inspect::Inspector;
use sn_retarget::apply::prepare;
use sn_retarget::model::{Record, Visitor, check_outer, read};
use sn_retarget::plan::{IdMode, Plan, Rewriter};
use sn_retarget::scan::Tokenizer;
use sn_retarget::synth::{SOURCE_HOST, update_set};

struct CountFields(usize);

impl Visitor for CountFields {
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
        .unwrap_or_else(|_| "1,20,200".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn plan() -> Plan {
    Plan {
        target: Some("prod.service-now.com".into()),
        sources: vec![SOURCE_HOST.into()],
        sys_ids: IdMode::Regenerate,
        ..Plan::default()
    }
}

fn bench(c: &mut Criterion) {
    let plan = plan();
    for mb in sizes() {
        let bytes = update_set(mb * 1_000_000, 1);
        let id = |name: &str| BenchmarkId::new(name, format!("{mb}MB"));
        fn group_for<'c>(
            c: &'c mut Criterion,
            name: &str,
            len: usize,
            mb: usize,
        ) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
            let mut g = c.benchmark_group(name.to_string());
            g.throughput(Throughput::Bytes(len as u64));
            if mb >= 20 {
                g.sample_size(10);
            }
            g
        }
        let baseline = |g: &mut criterion::BenchmarkGroup<'_, _>| {
            g.bench_function(id("quick-xml 0.37 tokenize (baseline)"), |b| {
                b.iter(|| quick_xml_events(black_box(&bytes)))
            });
        };

        let mut g = group_for(c, "scan", bytes.len(), mb);
        baseline(&mut g);
        g.bench_function(id("tokenize outer"), |b| {
            b.iter(|| our_tokens(black_box(&bytes)))
        });
        g.bench_function(id("check outer (identity plans)"), |b| {
            b.iter(|| check_outer(black_box(&bytes)).unwrap())
        });
        g.bench_function(id("read records + payloads"), |b| {
            b.iter(|| {
                let mut v = CountFields(0);
                read(black_box(&bytes), &mut v).unwrap();
                v.0
            })
        });
        g.finish();

        let mut g = group_for(c, "analyze", bytes.len(), mb);
        baseline(&mut g);
        g.bench_function(id("inspect inventory"), |b| {
            b.iter(|| {
                let mut i = Inspector::new();
                i.add("bench.xml", black_box(&bytes)).unwrap();
                i.finish().files.len()
            })
        });
        g.finish();

        let rewriter = Rewriter::new(plan.compile().unwrap());
        let mut g = group_for(c, "plan", bytes.len(), mb);
        baseline(&mut g);
        g.bench_function(id("one read + id map"), |b| {
            b.iter(|| {
                let pass = rewriter.read(black_box(&bytes), false).unwrap();
                rewriter.resolve([&pass]).map.len()
            })
        });
        g.finish();

        let mut g = group_for(c, "splice", bytes.len(), mb);
        baseline(&mut g);
        g.bench_function(id("final edits + ciphertext check"), |b| {
            b.iter_batched(
                || {
                    let pass = rewriter.read(&bytes, false).unwrap();
                    let ids = rewriter.resolve([&pass]);
                    (pass, ids)
                },
                |(pass, ids)| {
                    rewriter
                        .finish(pass, &ids, &bytes, false)
                        .unwrap()
                        .edits
                        .len()
                },
                criterion::BatchSize::PerIteration,
            )
        });
        let pass = rewriter.read(&bytes, false).unwrap();
        let ids = rewriter.resolve([&pass]);
        let edits = rewriter.finish(pass, &ids, &bytes, false).unwrap().edits;
        g.bench_function(id("walk input + edits into io::sink (no copy)"), |b| {
            b.iter(|| {
                edits
                    .write(black_box(&bytes), &mut std::io::sink())
                    .unwrap()
            })
        });
        g.finish();

        let mut g = group_for(c, "apply", bytes.len(), mb);
        baseline(&mut g);
        g.bench_function(id("prepare + write (no disk)"), |b| {
            b.iter(|| {
                let p = prepare(&plan, &[("bench.xml", &bytes)], false, &|| {}).unwrap();
                p.write_output(0, &bytes, &mut std::io::sink()).unwrap();
                p.report.totals.len()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
