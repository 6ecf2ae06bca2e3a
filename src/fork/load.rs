//! Reading an application from the file system: a folder, a zip archive or one file.

use std::path::{Path, PathBuf};

use super::App;
use crate::Error;
use crate::io::{InputError, Limits, is_zip, read_file, read_zip_files};

impl App {
    /// Reads `path`: a folder (every file under it, symbolic links not followed, names
    /// starting with `.` left out), a zip archive (every file entry, within `limits`), or one
    /// file (an update-set export).
    pub fn load(path: &Path, limits: &Limits) -> Result<App, Error> {
        let meta = std::fs::metadata(path).map_err(|source| InputError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            let mut app = App::default();
            let mut found = Vec::new();
            walk(path, Path::new(""), &mut found, &mut app.skipped)?;
            let files = found
                .into_iter()
                .map(|rel| Ok((rel.clone(), read_file(&path.join(&rel))?)))
                .collect::<Result<Vec<_>, InputError>>()?;
            let skipped = std::mem::take(&mut app.skipped);
            return Ok(App {
                skipped,
                ..App::from_files(files)
            });
        }
        let bytes = read_file(path)?;
        if is_zip(path) {
            let mut skipped = Vec::new();
            let files = read_zip_files(path, &bytes, limits)?
                .into_iter()
                .filter(|(name, _)| {
                    let hidden = name
                        .components()
                        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
                    if hidden {
                        skipped.push(name.clone());
                    }
                    !hidden
                })
                .collect();
            return Ok(App {
                skipped,
                ..App::from_files(files)
            });
        }
        let name = path.file_name().map_or_else(|| path.into(), PathBuf::from);
        Ok(App::from_files(vec![(name, bytes)]))
    }
}

fn walk(
    root: &Path,
    rel: &Path,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<PathBuf>,
) -> Result<(), InputError> {
    let dir = root.join(rel);
    let err = |source| InputError::Io {
        path: dir.clone(),
        source,
    };
    for entry in std::fs::read_dir(&dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let kind = entry.file_type().map_err(err)?;
        let name = rel.join(entry.file_name());
        if entry.file_name().to_string_lossy().starts_with('.') || kind.is_symlink() {
            skipped.push(name);
        } else if kind.is_dir() {
            walk(root, &name, out, skipped)?;
        } else if kind.is_file() {
            out.push(name);
        }
    }
    Ok(())
}
