//! A folder of 5,000 small exports (`SN_BENCH_FILES` to change), bundled in memory with one
//! thread and with every core: the rate of each, and their ratio, printed by criterion as
//! files/s and MB/s.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sn_retarget::Source;
use sn_retarget::bundle::build;
use sn_retarget::plan::{IdMode, Plan};
use sn_retarget::synth::{SOURCE_HOST, small_exports};

fn bench(c: &mut Criterion) {
    let count: usize = std::env::var("SN_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    let sources: Vec<Source> = small_exports(count, 1)
        .into_iter()
        .map(|(name, bytes)| Source {
            path: name.clone().into(),
            relative: name.clone().into(),
            name,
            bytes: bytes.into(),
        })
        .collect();
    let bytes: usize = sources.iter().map(|s| s.bytes.len()).sum();
    let plan = Plan {
        target: Some("prod.service-now.com".into()),
        sources: vec![SOURCE_HOST.into()],
        sys_ids: IdMode::Regenerate,
        ..Plan::default()
    };
    let mut group = c.benchmark_group("batch");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    for threads in [1, cores] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        group.bench_function(
            BenchmarkId::new(
                format!("bundle {count} files"),
                format!("{threads} thread(s)"),
            ),
            |b| {
                b.iter(|| {
                    pool.install(|| {
                        build(black_box(&plan), black_box(&sources))
                            .unwrap()
                            .files
                            .len()
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
