//! Where a fork goes: the output folder checked before any work, and written all at once.

use super::error::refuse;
use crate::error::Error;
use std::path::Path;

use super::{App, FileKind, ForkError, Forked, Layout, Survey, shown};
use crate::io::OutputError;

impl Forked {
    /// Writes the fork as the folder `out` (see [`crate::io::write_folder`]): all at once,
    /// nothing left behind on error or interruption. An existing `out` is refused unless
    /// `force`, and even then unless it is an earlier fork into the same namespace.
    pub fn write(&self, out: &Path, force: bool) -> Result<(), Error> {
        let exists = std::fs::symlink_metadata(out).is_ok();
        if exists {
            replaceable(out, force, &self.report.namespace.new)?;
        }
        let files: Vec<(String, Vec<u8>)> = self
            .files
            .iter()
            .map(|f| (shown(&f.output), f.bytes.clone()))
            .collect();
        crate::io::write_folder(out, &files, exists)?;
        Ok(())
    }
}

/// Refuses to replace `out` unless `force` and it is a fork into `namespace` (a folder whose
/// one application has that namespace).
pub fn replaceable(out: &Path, force: bool, namespace: &str) -> Result<(), Error> {
    if !force {
        return Err(OutputError::Exists(out.to_path_buf()).into());
    }
    let is_fork = out.is_dir()
        && App::load(out, &crate::io::Limits::default())
            .ok()
            .and_then(|app| {
                let layout = Layout::of(&app).ok()?;
                let inputs: Vec<(String, &[u8])> = app
                    .files
                    .iter()
                    .enumerate()
                    .filter(|(i, f)| layout.kind(*i, f) == FileKind::Xml)
                    .map(|(_, f)| (shown(&f.path), f.bytes.as_slice()))
                    .collect();
                let inputs: Vec<(&str, &[u8])> =
                    inputs.iter().map(|(n, b)| (n.as_str(), *b)).collect();
                let survey = Survey::of(&inputs).ok()?;
                let (_, ns, _) = survey.the_app().ok()?;
                Some(ns == namespace)
            })
            .unwrap_or(false);
    match is_fork {
        true => Ok(()),
        false => refuse(ForkError::NotAFork {
            path: out.to_path_buf(),
            namespace: namespace.to_string(),
        }),
    }
}

/// Refuses an output folder (or report) that is the input, lies inside it or holds it, and an
/// output that exists and may not be replaced (see [`Forked::write`]), before any work.
pub fn check_destination(
    input: &Path,
    out: &Path,
    report: Option<&Path>,
    force: bool,
    namespace: &str,
) -> Result<(), Error> {
    let canon = |p: &Path| {
        std::fs::canonicalize(p).ok().or_else(|| {
            // Not there yet: its parent's canonical path and its name.
            let parent = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Some(std::fs::canonicalize(parent).ok()?.join(p.file_name()?))
        })
    };
    let input_c = canon(input).unwrap_or_else(|| input.to_path_buf());
    for p in std::iter::once(out).chain(report) {
        let c = canon(p).unwrap_or_else(|| p.to_path_buf());
        if c == input_c || c.starts_with(&input_c) || input_c.starts_with(&c) {
            return refuse(ForkError::OverlapsInput(p.to_path_buf()));
        }
    }
    if let Some(r) = report {
        let c = canon(r).unwrap_or_else(|| r.to_path_buf());
        let out_c = canon(out).unwrap_or_else(|| out.to_path_buf());
        if c.starts_with(&out_c) {
            return refuse(ForkError::Layout(format!(
                "{}: the report would be written inside the output folder",
                r.display()
            )));
        }
        if !force && std::fs::symlink_metadata(r).is_ok() {
            return Err(OutputError::Exists(r.to_path_buf()).into());
        }
    }
    if std::fs::symlink_metadata(out).is_ok() {
        replaceable(out, force, namespace)?;
    }
    Ok(())
}
