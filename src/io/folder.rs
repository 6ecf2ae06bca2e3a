//! A folder of outputs written at once: staged beside its place, then renamed into it.

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::names::{aside_path, remove_stale, temp_path};
use super::pending::{self, remove_tree};
use super::write::{OutputError, held, remove_dirs};

/// Writes the folder `out` holding `files` (name, bytes; a name is a relative path, `a.xml` or
/// `update/a.xml`, whose folders are made; an absolute name or one with `..` is refused) all
/// at once: into a staging folder beside it (files in parallel, each starting its writeback as
/// written, then one flush for all), which is then renamed into place. An existing `out` is
/// refused unless `replace`; it is then moved aside, removed once the new folder is in place,
/// and put back should that fail. On any error, or an interruption
/// ([`abandon_outputs`](super::abandon_outputs)), nothing is left: no staging folder, no folder
/// made for it. What ended runs left beside `out` is removed first.
///
/// Whether an existing `out` may be replaced is the caller's to decide (a bundle replaces only
/// a bundle: [`crate::bundle::check_replaceable`]).
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("snr-folder-{}", std::process::id()));
/// use sn_retarget::io::write_folder;
/// let out = dir.join("bundle");
/// let files = vec![("01_a.xml".to_string(), b"<unload/>".to_vec())];
/// write_folder(&out, &files, false).unwrap();
/// assert!(write_folder(&out, &files, false).is_err()); // exists
/// write_folder(&out, &[("01_b.xml".to_string(), b"<unload/>".to_vec())], true).unwrap();
/// assert!(out.join("01_b.xml").exists() && !out.join("01_a.xml").exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_folder(
    out: &Path,
    files: &[(String, Vec<u8>)],
    replace: bool,
) -> Result<(), OutputError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OutputError::Io { path, source }
    };
    refuse_existing(out, replace)?;
    let stage = temp_path(out);
    let parent = stage.parent().unwrap_or(Path::new("."));
    remove_stale(parent);
    let mut made = Vec::new();
    let staged = held().and_then(|mut held| {
        held.create_dirs(parent, &mut made).map_err(io(parent))?;
        held.create_dir(&stage, true).map_err(io(&stage))
    });
    let written = staged
        .and_then(|()| fill(&stage, files))
        .and_then(|()| commit(&stage, out, replace));
    match &written {
        Ok(old) => {
            if let Some(old) = old {
                remove_tree(old);
                pending::forget(old);
            }
            for d in &made {
                pending::forget(d);
            }
        }
        Err(_) => {
            remove_tree(&stage);
            pending::forget(&stage);
            remove_dirs(&made);
        }
    }
    written.map(|_| ())
}

/// Refuses an existing `out` unless `replace`.
fn refuse_existing(out: &Path, replace: bool) -> Result<(), OutputError> {
    match !replace && std::fs::symlink_metadata(out).is_ok() {
        true => Err(OutputError::Exists(out.to_path_buf())),
        false => Ok(()),
    }
}

/// Writes `files` into `stage` (their folders first), and puts them on the disk.
fn fill(stage: &Path, files: &[(String, Vec<u8>)]) -> Result<(), OutputError> {
    let mut folders = std::collections::BTreeSet::new();
    for (name, _) in files {
        let relative = Path::new(name);
        let plain = relative
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain || name.is_empty() {
            return Err(OutputError::Io {
                path: stage.join(name),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "not a plain relative path",
                ),
            });
        }
        folders.extend(relative.parent().filter(|p| !p.as_os_str().is_empty()));
    }
    for folder in folders {
        let dir = stage.join(folder);
        std::fs::create_dir_all(&dir).map_err(|source| OutputError::Io { path: dir, source })?;
    }
    files.par_iter().try_for_each(|(name, bytes)| {
        let path = stage.join(name);
        let err = |source| OutputError::Io {
            path: path.clone(),
            source,
        };
        let mut f = std::fs::File::create_new(&path).map_err(err)?;
        f.write_all(bytes).map_err(err)?;
        super::start_writeback(&f);
        Ok(())
    })?;
    let paths: Vec<PathBuf> = files.iter().map(|(name, _)| stage.join(name)).collect();
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    super::sync_all(&paths).map_err(|(path, source)| OutputError::Io { path, source })
}

/// Renames `stage` to `out`, the folder there first moved aside (returned, to be removed).
fn commit(stage: &Path, out: &Path, replace: bool) -> Result<Option<PathBuf>, OutputError> {
    let mut held = held()?;
    refuse_existing(out, replace)?;
    let io = |source| OutputError::Io {
        path: out.to_path_buf(),
        source,
    };
    let old = match std::fs::symlink_metadata(out) {
        Ok(_) => {
            let old = aside_path(out);
            std::fs::rename(out, &old).map_err(io)?;
            Some(old)
        }
        Err(_) => None,
    };
    if let Err(e) = std::fs::rename(stage, out) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old, out);
        }
        return Err(io(e));
    }
    held.forget(stage);
    if let Some(old) = &old {
        // Removed after the commit; on an interruption meanwhile, by the handler.
        held.adopt_tree(old);
    }
    Ok(old)
}
