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

/// An input file and where its output goes, relative to an output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// The file to read.
    pub path: PathBuf,
    /// Its name under the output folder: the path below the folder given, or the file name.
    pub relative: PathBuf,
}

/// Like [`expand_inputs`], keeping for each file its path relative to the folder it was found
/// in (or its file name when given directly).
pub fn expand_inputs_relative(paths: &[PathBuf]) -> Result<Vec<InputFile>, InputError> {
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
            out.extend(found.into_iter().map(|f| InputFile {
                relative: f.strip_prefix(p).unwrap_or(&f).to_path_buf(),
                path: f,
            }));
        } else {
            let name = p
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| p.clone());
            out.push(InputFile {
                path: p.clone(),
                relative: name,
            });
        }
    }
    Ok(out)
}

/// An output that could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The output exists and overwriting was not asked for.
    #[error("{}: already exists (use --force to replace it)", .0.display())]
    Exists(PathBuf),
    /// The output would replace an input.
    #[error("{}: is an input; inputs are never modified", .0.display())]
    IsInput(PathBuf),
    /// The system refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

/// Writes `bytes` to `path` atomically: into a temporary file beside it, flushed to disk, then
/// renamed over the destination. An existing `path` is refused unless `force`. On any error the
/// temporary file is removed and `path` is untouched.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("snr-atomic-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use sn_retarget::io::write_atomic;
/// let out = dir.join("out.xml");
/// write_atomic(&out, b"<unload/>", false).unwrap();
/// assert!(write_atomic(&out, b"<unload/>", false).is_err()); // refuses to overwrite
/// write_atomic(&out, b"<unload></unload>", true).unwrap();
/// assert_eq!(std::fs::read(&out).unwrap(), b"<unload></unload>");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), OutputError> {
    use std::io::Write;
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !force && fs::symlink_metadata(path).is_ok() {
        return Err(OutputError::Exists(path.to_path_buf()));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(io)?;
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.sn-retarget-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        if !force && fs::symlink_metadata(path).is_ok() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "appeared while writing",
            ));
        }
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(OutputError::Exists(path.to_path_buf()));
        }
        return Err(io(e));
    }
    Ok(())
}

/// `true` when `a` and `b` name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
