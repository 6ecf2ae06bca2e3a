//! Make a bundle from a folder of exports: ordered files, manifest.json, CHECKLIST.md.
//!
//! ```text
//! cargo run --example bundle_folder -- fixtures/seed000_dev prod1 for-prod
//! ```
//!
//! Copies the exports to the instance `prod1` as they are (the intent `copy`: URLs and ids
//! kept, secrets replaced by placeholders listed in CHECKLIST.md), in import order, into the
//! folder `for-prod` (or a zip archive when it ends in `.zip`). The outputs are checked first;
//! on any refusal nothing is written.

use std::path::PathBuf;
use std::process::ExitCode;

use sn_retarget::ErrorKind;
use sn_retarget::bundle::Bundler;
use sn_retarget::plan::Plan;
use sn_retarget::untrusted::terminal;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [folder, target, out] = args.as_slice() else {
        eprintln!("usage: bundle_folder FOLDER TARGET OUT");
        return ExitCode::from(2);
    };
    let plan = Plan {
        target: Some(target.clone()),
        ..Plan::default()
    };
    let inputs = [PathBuf::from(folder)];
    match Bundler::new(plan).write_to(&inputs, out.as_ref(), false) {
        Ok(bundle) => {
            for entry in &bundle.manifest.order {
                println!(
                    "{:>3}. {} ({} edits)",
                    entry.position, entry.file, entry.edits
                );
            }
            println!(
                "{} secret(s) to re-enter: see {out}/CHECKLIST.md",
                bundle.manifest.secrets
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            if let ErrorKind::LeftBehind(findings) = e.kind() {
                // Messages may quote names from the input: shown safe for a terminal.
                for f in findings {
                    let line = format!("{}: {}: {}", f.location.file, f.rule, f.message);
                    eprintln!("{}", terminal(&line));
                }
            }
            eprintln!("{}", terminal(&e.to_string()));
            ExitCode::from(2)
        }
    }
}
