//! `sn-retarget check`.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use sn_retarget::check::{CheckOptions, RunFacts, check, render};
use sn_retarget::plan::{Existing, Instance};

use super::{CheckArgs, CheckFormat, EXIT_BAD_INPUT};

pub fn run(a: &CheckArgs) -> anyhow::Result<ExitCode> {
    let sources = super::load(&a.inputs, &[])?;
    for ns in a.namespaces.iter().chain(&a.keep_scopes) {
        let plain = !ns.is_empty() && ns.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        anyhow::ensure!(
            plain,
            "--namespace {ns:?}: not a namespace (letters, digits and _)"
        );
    }
    let options = CheckOptions {
        target: a.target.as_deref().map(Instance::parse).transpose()?,
        sources: a
            .sources
            .iter()
            .map(|s| Instance::parse(s))
            .collect::<Result<_, _>>()?,
        old_namespaces: a
            .namespaces
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect(),
        keep_namespaces: a.keep_scopes.to_vec(),
        existing: a
            .existing
            .iter()
            .map(|e| Existing::parse(e))
            .collect::<Result<_, _>>()?,
        run: a.inputs.iter().find_map(|p| manifest_of(p)),
        ..CheckOptions::default()
    };
    let named: Vec<(&str, &[u8])> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.bytes.as_slice()))
        .collect();
    let report = match check(&named, &options) {
        Ok(r) => r,
        Err(e) => {
            say!("sn-retarget: error: {e}");
            if let Some(s) = &e.location().snippet {
                say!("{s}");
            }
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let mut out = std::io::stdout().lock();
    match a.format {
        CheckFormat::Text => {
            let text = render::text(&report);
            out.write_all(sn_retarget::untrusted::terminal(&text).as_bytes())?
        }
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

/// What the run that made a bundle did, from its `manifest.json` (a bundle folder, or a zip
/// holding one).
fn manifest_of(input: &Path) -> Option<RunFacts> {
    let (shown, bytes) = if input.is_dir() {
        let path = input.join("manifest.json");
        (path.display().to_string(), std::fs::read(&path).ok()?)
    } else if sn_retarget::io::is_zip(input) {
        let file = std::fs::File::open(input).ok()?;
        let mut zip = zip::ZipArchive::new(file).ok()?;
        let mut entry = zip.by_name("manifest.json").ok()?;
        let mut bytes = Vec::new();
        // A manifest is small; a larger entry is not one of ours.
        entry.by_ref().take(64 << 20).read_to_end(&mut bytes).ok()?;
        (format!("{}!manifest.json", input.display()), bytes)
    } else {
        return None;
    };
    RunFacts::from_manifest(&shown, &bytes)
}
