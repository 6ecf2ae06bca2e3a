//! Files and folders in: the inputs a command names, expanded to the export files to read.
//!
//! In: paths given by the user (files or folders). Out: the files to read, in a stable order
//! (a folder's `*.xml` files recursively, sorted by path), each read whole into memory.
//! Symbolic links inside folders are not followed, so a walk never leaves the folder given.

use std::fs;
use std::path::{Path, PathBuf};

/// An input that could not be listed or read.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct InputError {
    /// The path involved.
    pub path: PathBuf,
    /// What the system said.
    #[source]
    pub source: std::io::Error,
}

/// Expands `paths` into the files to read: files as given, folders walked for `*.xml`.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("snr-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(dir.join("b")).unwrap();
/// # std::fs::write(dir.join("b/2.xml"), "<unload/>").unwrap();
/// # std::fs::write(dir.join("1.XML"), "<unload/>").unwrap();
/// # std::fs::write(dir.join("notes.txt"), "").unwrap();
/// let files = sn_retarget::io::expand_inputs(&[dir.clone()]).unwrap();
/// assert_eq!(files, [dir.join("1.XML"), dir.join("b/2.xml")]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).map_err(|source| InputError {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let err = |source| InputError {
        path: dir.to_path_buf(),
        source,
    };
    for entry in fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let kind = entry.file_type().map_err(err)?;
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() && is_xml(&path) {
            out.push(path);
        }
        // Symbolic links are skipped: never followed out of the folder.
    }
    Ok(())
}

fn is_xml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
}

/// Reads a whole input file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    fs::read(path).map_err(|source| InputError {
        path: path.to_path_buf(),
        source,
    })
}
