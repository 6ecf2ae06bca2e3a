//! The `sn-retarget` command: arguments to settings to library calls to an exit code.

mod cli;

use std::io;
use std::process::ExitCode;

use clap::Parser;

/// mimalloc for small blocks, the system's allocator for large ones (see `cli::alloc`).
#[global_allocator]
static ALLOCATOR: cli::alloc::Allocator = cli::alloc::Allocator;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    cli::install_cleanup();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            // Messages may hold names from the input: nothing in them acts on the terminal.
            let text = message(&e);
            eprintln!(
                "sn-retarget: error: {}",
                sn_retarget::untrusted::terminal(&text)
            );
            ExitCode::from(cli::EXIT_BAD_INPUT)
        }
    }
}

/// The error and its causes, each said once: the library's errors already end with their
/// source (`out.xml: File too large (os error 27)`), which the chain would repeat.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
