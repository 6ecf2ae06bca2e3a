//! Retarget one export in memory: the library's one call.
//!
//! ```text
//! cargo run --example retarget_file -- fixtures/update_set_escaped.xml dev1=acme out.xml
//! ```
//!
//! Reads the export, moves every URL of the instance `dev1` to `acme` (plan key `hosts`, the
//! `--host` flag), replaces encrypted secrets by placeholders, checks the output as `check`
//! does, and writes it. Any refusal (a malformed input, a secret or a source host left) is
//! printed and nothing is written.

use std::process::ExitCode;

use sn_retarget::untrusted::terminal;
use sn_retarget::{Plan, retarget};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, host, output] = args.as_slice() else {
        eprintln!("usage: retarget_file INPUT.xml OLD=NEW OUTPUT.xml");
        return ExitCode::from(2);
    };
    let Some((old, new)) = host.split_once('=') else {
        eprintln!("{host}: give the host map as OLD=NEW (instance names or hosts)");
        return ExitCode::from(2);
    };
    // The same plan `--plan plan.toml` reads: `hosts = { dev1 = "acme" }`.
    let plan: Plan = match toml::from_str(&format!("hosts = {{ {old:?} = {new:?} }}")) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("plan: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = match std::fs::read(input) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{input}: {e}");
            return ExitCode::from(2);
        }
    };
    match retarget(&bytes, &plan) {
        Ok(out) => match std::fs::write(output, out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{output}: {e}");
                ExitCode::from(2)
            }
        },
        Err(e) => {
            // Error messages name files, lines and fields; never a secret value.
            eprintln!("{}", terminal(&format!("{input}: {e}")));
            ExitCode::from(2)
        }
    }
}
