//! The `sn-retarget` command: arguments to settings to library calls to an exit code.

mod cli;

use std::io;
use std::process::ExitCode;

use clap::Parser;

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
            eprintln!("sn-retarget: error: {e:#}");
            ExitCode::from(cli::EXIT_BAD_INPUT)
        }
    }
}
