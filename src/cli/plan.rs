//! `sn-retarget plan`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sn_retarget::analyze::inspect::Inspector;
use sn_retarget::io::write_atomic;
use sn_retarget::plan::infer_plan;

use super::EXIT_BAD_INPUT;

pub fn run(
    inputs: &[PathBuf],
    target: &str,
    out: Option<&Path>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    let mut inspector = Inspector::new();
    let sources = super::load(inputs, &[])?;
    for source in &sources {
        let _ = inspector.learn(&source.bytes);
    }
    for source in sources {
        if let Err(e) = inspector.add(&source.name, source.bytes) {
            say!("sn-retarget: error: {e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    }
    let text = infer_plan(&inspector.finish(), target)?;
    match out {
        Some(path) => {
            write_atomic(path, text.as_bytes(), force)?;
            say!("sn-retarget plan: wrote {}", path.display());
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
