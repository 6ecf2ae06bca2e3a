//! A bundle from files to a folder or a zip archive: the destination checked before anything is
//! read into a bundle, the files written all at once (a zip atomically, a folder staged beside
//! its place and renamed in), an earlier bundle replaced only when `--force` allows it and this
//! tool made it.

use std::path::{Path, PathBuf};

use super::{Bundle, build_with, check_replaceable};
use crate::error::{DestinationError, Error};
use crate::io::{
    Limits, OutputError, is_zip, load_inputs_except, same_file, write_atomic, write_folder,
    zip_bytes,
};
use crate::plan::Plan;

/// Makes a bundle: in memory ([`Bundler::build`]) or from files to a folder or a zip archive
/// ([`Bundler::write_to`]).
///
/// ```
/// use sn_retarget::bundle::Bundler;
/// use sn_retarget::plan::Plan;
/// # let dir = std::env::temp_dir().join(format!("snr-bundler-{}", std::process::id()));
/// let plan = Plan { target: Some("prod1".into()), ..Plan::default() };
/// let out = dir.join("for-prod");
/// let bundle = Bundler::new(plan).write_to(&["fixtures/seed000_dev".into()], &out, false).unwrap();
/// assert!(out.join("CHECKLIST.md").is_file() && out.join("manifest.json").is_file());
/// assert_eq!(bundle.manifest.order.len(), 4);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct Bundler<'p> {
    plan: Plan,
    combine: bool,
    limits: Limits,
    progress: &'p (dyn Fn() + Sync),
}

impl std::fmt::Debug for Bundler<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundler")
            .field("plan", &self.plan)
            .field("combine", &self.combine)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<'p> Bundler<'p> {
    /// A bundle of `plan`: one output per input, default [`Limits`], no progress.
    pub fn new(plan: Plan) -> Bundler<'static> {
        Bundler {
            plan,
            combine: false,
            limits: Limits::default(),
            progress: &|| {},
        }
    }

    /// One `<unload>` of every output (`01_combined.xml`, see [`super::combine`]).
    pub fn combine(mut self, yes: bool) -> Self {
        self.combine = yes;
        self
    }

    /// The limits for reading inputs (zip entries and sizes).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Called once per file rewritten (from any thread).
    pub fn progress<'q>(self, progress: &'q (dyn Fn() + Sync)) -> Bundler<'q> {
        Bundler {
            plan: self.plan,
            combine: self.combine,
            limits: self.limits,
            progress,
        }
    }

    /// The bundle of `sources`, in memory ([`super::build_with`]); an error when a large input
    /// (read in place: mapped into memory) changed while it was read
    /// ([`InputError::Changed`](crate::io::InputError::Changed)).
    pub fn build(&self, sources: &[crate::Source]) -> Result<Bundle, Error> {
        let built = build_with(&self.plan, sources, self.combine, self.progress);
        // Checked on failure too: a change may be what broke the input.
        crate::io::inputs_unchanged(sources)?;
        built
    }

    /// Reads the exports under `inputs` (files, folders, zip archives; never `out` itself nor
    /// this tool's staging files), makes their bundle and writes it to `out`: a zip archive
    /// when `out` ends in `.zip`, else a folder. An existing `out` is refused unless `force`,
    /// and even then replaced only when it is a bundle this tool made and nothing in it changed
    /// ([`check_replaceable`]); an input is never written over. All or nothing: on any error
    /// nothing is written and an earlier bundle is left as it was.
    pub fn write_to(&self, inputs: &[PathBuf], out: &Path, force: bool) -> Result<Bundle, Error> {
        let sources = self.read(inputs, out, force)?;
        let bundle = self.build(&sources)?;
        bundle.write_to(out, force)?;
        Ok(bundle)
    }

    /// The inputs of a bundle to `out`, once `out` is known to be a usable destination.
    pub fn read(
        &self,
        inputs: &[PathBuf],
        out: &Path,
        force: bool,
    ) -> Result<Vec<crate::Source>, Error> {
        if out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
            && !out.is_dir()
        {
            return Err(DestinationError::NotABundle(out.to_path_buf()).into());
        }
        let sources = load_inputs_except(inputs, &self.limits, &[out])?;
        if sources.is_empty() {
            return Err(DestinationError::NoInput(inputs.to_vec()).into());
        }
        check_destination(out, force, inputs)?;
        Ok(sources)
    }
}

/// Refuses an existing destination unless `force`, and then replaces only a bundle this tool
/// made and nothing changed since ([`check_replaceable`]), never an input.
pub fn check_destination(out: &Path, force: bool, inputs: &[PathBuf]) -> Result<(), Error> {
    if std::fs::symlink_metadata(out).is_err() {
        return Ok(());
    }
    if !force {
        return Err(OutputError::Exists(out.to_path_buf()).into());
    }
    if inputs
        .iter()
        .any(|i| same_file(i, out) || i.starts_with(out))
    {
        return Err(OutputError::IsInput(out.to_path_buf()).into());
    }
    check_replaceable(out)?;
    Ok(())
}

impl Bundle {
    /// Writes the bundle all at once: a zip archive (when `out` ends in `.zip`) atomically, or
    /// a folder staged beside `out` and renamed into place. An existing `out` is replaced only
    /// with `replace` (check it first with [`check_destination`]).
    pub fn write_to(&self, out: &Path, replace: bool) -> Result<(), Error> {
        let written = if is_zip(out) {
            zip_bytes(&self.files)
                .map_err(|source| OutputError::Io {
                    path: out.to_path_buf(),
                    source,
                })
                .and_then(|bytes| write_atomic(out, &bytes, replace))
        } else {
            write_folder(out, &self.files, replace)
        };
        // Name the bundle asked for, not only the staging file or folder beside it.
        written.map_err(|source| {
            DestinationError::NotWritten {
                out: out.to_path_buf(),
                source,
            }
            .into()
        })
    }
}
