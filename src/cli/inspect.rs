//! `sn-retarget inspect`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use sn_retarget::analyze::inspect::Inspector;

use super::EXIT_BAD_INPUT;

pub fn run(inputs: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let sources = super::load(inputs, &[])?;
    let mut inspector = Inspector::new();
    let mut failed = false;
    // Columns a dictionary declares anywhere count everywhere (errors are reported below).
    for source in &sources {
        let _ = inspector.learn(&source.bytes);
    }
    for source in sources {
        if let Err(e) = inspector.add(&source.name, source.bytes) {
            failed = true;
            say!("sn-retarget: error: {e}");
            if let Some(s) = &e.location().snippet {
                say!("{s}");
            }
        }
    }
    let inventory = inspector.finish();
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if json {
        serde_json::to_writer(&mut out, &inventory)?;
        writeln!(out)?;
    } else {
        // Unreadable files were reported on stderr already.
        for file in inventory.files.iter().filter(|f| f.error.is_none()) {
            let text = file.to_string();
            write!(out, "{}", sn_retarget::untrusted::terminal(&text))?;
        }
        let mut apps = String::new();
        sn_retarget::analyze::inspect::write_apps(&mut apps, &inventory.apps)?;
        out.write_all(apps.as_bytes())?;
    }
    out.flush()?;
    Ok(if failed {
        ExitCode::from(EXIT_BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}
