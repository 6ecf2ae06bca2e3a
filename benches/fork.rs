//! `fork` of a scoped application: a generated one of 550 files (`SN_BENCH_APP_FILES` to
//! change) in memory and written to a folder on the disk, and the real applications of
//! `SN_RETARGET_APPS` (default `../shared/apps`) in memory when they are there.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sn_retarget::fork::{App, ForkOptions, fork};
use sn_retarget::io::Limits;
use sn_retarget::synth::app;

fn bench(c: &mut Criterion) {
    let files: usize = std::env::var("SN_BENCH_APP_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(550);
    let generated = App::from_files(app(files, 1));
    let options = ForkOptions::new("x_acme_synth");
    let bytes: usize = generated.files.iter().map(|f| f.bytes.len()).sum();
    let mut group = c.benchmark_group("fork");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    group.bench_function(format!("{files}-file app, in memory"), |b| {
        b.iter(|| {
            fork(black_box(&generated), black_box(&options))
                .unwrap()
                .files
                .len()
        })
    });
    // The whole job: the fork, then its folder written (each file flushed to the disk) and
    // renamed into place. The folder is removed after each run, outside the time.
    let scratch = std::env::temp_dir().join(format!("sn-bench-fork-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    group.bench_function(format!("{files}-file app, to disk"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let out = scratch.join(format!("out{i}"));
                let start = Instant::now();
                fork(&generated, &options)
                    .unwrap()
                    .write(&out, false)
                    .unwrap();
                total += start.elapsed();
                std::fs::remove_dir_all(&out).expect("removing the output");
            }
            total
        })
    });
    let apps = std::env::var_os("SN_RETARGET_APPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/apps"));
    for (name, namespace) in [("needit", "x_acme_needit"), ("dms", "x_acme_dms")] {
        let Ok(real) = App::load(&apps.join(name), &Limits::default()) else {
            eprintln!("{}: absent, not benchmarked", apps.join(name).display());
            continue;
        };
        let options = ForkOptions::new(namespace);
        let bytes: usize = real.files.iter().map(|f| f.bytes.len()).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(
            format!("{name} ({} files), in memory", real.files.len()),
            |b| {
                b.iter(|| {
                    fork(black_box(&real), black_box(&options))
                        .unwrap()
                        .files
                        .len()
                })
            },
        );
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&scratch);
}

criterion_group!(benches, bench);
criterion_main!(benches);
