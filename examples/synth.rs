//! Writes a generated update set to stdout: `cargo run --release --features synth --example
//! synth -- <MEGABYTES> [SEED] > big.xml`.

use std::io::Write;

fn main() {
    let mut args = std::env::args().skip(1);
    let mb: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let bytes = sn_retarget::synth::update_set((mb * 1_000_000.0) as usize, seed);
    std::io::stdout()
        .write_all(&bytes)
        .expect("writing to stdout");
}
