//! `sn-retarget check`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use sn_retarget::check::{CheckOptions, check, render};
use sn_retarget::plan::Instance;

use super::{CheckFormat, EXIT_BAD_INPUT};

pub fn run(
    inputs: &[PathBuf],
    target: Option<&str>,
    namespaces: &[String],
    keep_scopes: &[String],
    format: CheckFormat,
) -> anyhow::Result<ExitCode> {
    let sources = super::load(inputs, &[])?;
    for ns in namespaces.iter().chain(keep_scopes) {
        let plain = !ns.is_empty() && ns.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        anyhow::ensure!(
            plain,
            "--namespace {ns:?}: not a namespace (letters, digits and _)"
        );
    }
    let options = CheckOptions {
        target: target.map(Instance::parse).transpose()?,
        old_namespaces: namespaces.iter().map(|n| n.to_ascii_lowercase()).collect(),
        keep_namespaces: keep_scopes.to_vec(),
        ..CheckOptions::default()
    };
    let report = match check(&sources, &options) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sn-retarget: error: {e}");
            if let Some(s) = &e.location().snippet {
                eprintln!("{s}");
            }
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let mut out = std::io::stdout().lock();
    match format {
        CheckFormat::Text => out.write_all(render::text(&report).as_bytes())?,
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        CheckFormat::Sarif => {
            serde_json::to_writer_pretty(&mut out, &render::sarif(&report))?;
            writeln!(out)?;
        }
    }
    Ok(if report.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
