//! The `sn-retarget` command: arguments to settings to library calls to an exit code.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sn_retarget::inspect::Inspector;
use sn_retarget::io::{expand_inputs, read_file};

/// Prepare ServiceNow XML exports for import into another instance, offline.
#[derive(Parser)]
#[command(name = "sn-retarget", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List what exports hold: shape, records (also inside payloads), references, instance
    /// hosts, scopes and secret-bearing fields (never their values).
    Inspect {
        /// Export files, or folders to search for *.xml.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// JSON for tools instead of text for people (schema in the README).
        #[arg(long)]
        json: bool,
    },
}

/// Exit codes: 0 success, 2 bad input (or an input that cannot be read).
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect { inputs, json } => inspect(&inputs, json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("sn-retarget: error: {e:#}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

fn inspect(inputs: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let files = expand_inputs(inputs)?;
    let mut inspector = Inspector::new();
    let mut failed = false;
    for path in &files {
        let bytes = read_file(path)?;
        if let Err(e) = inspector.add(&path.display().to_string(), bytes) {
            failed = true;
            eprintln!("sn-retarget: error: {e}");
            if let Some(s) = &e.location().snippet {
                eprintln!("{s}");
            }
        }
    }
    let inventory = inspector.finish();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &inventory)?;
        writeln!(out)?;
    } else {
        // Unreadable files were reported on stderr already.
        for file in inventory.files.iter().filter(|f| f.error.is_none()) {
            write!(out, "{file}")?;
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(EXIT_BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}
