//! Generated test data.
//!
//! `cargo run --release --features synth --example synth -- <MEGABYTES> [SEED] > big.xml`
//! writes an update set; `... -- --files <COUNT> <DIR> [SEED]` writes a folder of small exports;
//! `... -- --app <FILES> <DIR> [SEED]` writes a scoped application in source-control layout.

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--files") {
        let count: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5000);
        let dir = std::path::PathBuf::from(args.get(2).map_or("exports", String::as_str));
        let seed: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
        std::fs::create_dir_all(&dir).expect("creating the folder");
        for (name, bytes) in sn_retarget::synth::small_exports(count, seed) {
            std::fs::write(dir.join(name), bytes).expect("writing a file");
        }
        return;
    }
    if args.first().map(String::as_str) == Some("--app") {
        let count: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(550);
        let dir = std::path::PathBuf::from(args.get(2).map_or("app", String::as_str));
        let seed: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
        for (path, bytes) in sn_retarget::synth::app(count, seed) {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("creating a folder");
            std::fs::write(path, bytes).expect("writing a file");
        }
        return;
    }
    let mb: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let seed: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1);
    let bytes = sn_retarget::synth::update_set((mb * 1_000_000.0) as usize, seed);
    std::io::stdout()
        .write_all(&bytes)
        .expect("writing to stdout");
}
