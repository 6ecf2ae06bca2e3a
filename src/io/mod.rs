//! Files, folders and zip archives in; atomic writes out.
//!
//! In: paths given by the user (files, folders, `.zip` archives). Out: the exports to read, in
//! a stable order (a folder's `*.xml` files recursively, sorted by path; an archive's `*.xml`
//! entries in archive order), each read whole into memory. Symbolic links inside folders are
//! not followed, so a walk never leaves the folder given; archive entries with `..` or absolute
//! names are refused, and limits on entry count and sizes stop zip bombs.
//! Out: [`write_atomic`] (temporary file, then rename) and zip archives ([`zip_bytes`]).

mod archive;
mod direct;
mod durable;
mod write;

pub use archive::{Limits, read_zip, zip_bytes};
pub use direct::{Direct, DirectAt, write_direct};
pub use durable::{WriteAt, start_writeback, sync_all};
pub use write::{
    OutputError, Staged, create_dirs, remove_dirs, temp_path, write_atomic, write_atomic_file,
    write_atomic_with,
};

use std::fs;
use std::path::{Path, PathBuf};

/// An input that could not be listed or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The system refused.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// Not a readable zip archive.
    #[error("{}: not a readable zip archive: {message}", path.display())]
    Zip {
        /// The archive.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An archive entry whose name would leave the output folder.
    #[error("{}: entry {entry:?} has an absolute or `..` path; refused", path.display())]
    UnsafeEntry {
        /// The archive.
        path: PathBuf,
        /// The entry name.
        entry: String,
    },
    /// An archive over a limit (entries, entry size, total size).
    #[error("{}: {what} over the limit of {limit}; refused (a zip bomb?)", path.display())]
    OverLimit {
        /// The archive.
        path: PathBuf,
        /// Which limit.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> InputError + Copy + '_ {
    move |source| InputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Expands `paths` into the files to read: files as given, folders walked for `*.xml` (zip
/// archives are for [`load_inputs`]).
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
    Ok(list_inputs(paths)?
        .into_iter()
        .filter(|(_, path, in_folder)| !in_folder || is_xml(path))
        .map(|(_, path, _)| path)
        .collect())
}

/// The files `paths` name: `(relative name, path, found in a folder)`, a folder's files (xml
/// and zip) sorted, files given directly as they are.
fn list_inputs(paths: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf, bool)>, InputError> {
    let mut files = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).map_err(io_error(p))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            files.extend(
                found
                    .into_iter()
                    .map(|f| (f.strip_prefix(p).unwrap_or(&f).to_path_buf(), f, true)),
            );
        } else {
            let name = p
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| p.clone());
            files.push((name, p.clone(), false));
        }
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let err = io_error(dir);
    for entry in fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let kind = entry.file_type().map_err(err)?;
        let path = entry.path();
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() && (is_xml(&path) || is_zip(&path)) {
            out.push(path);
        }
        // Symbolic links are skipped: never followed out of the folder.
    }
    Ok(())
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn is_xml(path: &Path) -> bool {
    has_extension(path, "xml")
}

/// `true` for a `.zip` path.
pub fn is_zip(path: &Path) -> bool {
    has_extension(path, "zip")
}

/// Reads a whole input file.
pub fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    read_whole(path).map_err(io_error(path))
}

/// `fs::read`; a large file is read in two halves at once (filling fresh memory is the cost
/// of reading a file in the page cache, and two cores fill it twice as fast).
fn read_whole(path: &Path) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        const LARGE: u64 = 32 << 20;
        let file = fs::File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_file() && meta.len() >= LARGE && usize::try_from(meta.len()).is_ok() {
            let len = meta.len() as usize;
            let mut bytes = vec![0u8; len];
            let (a, b) = bytes.split_at_mut(len / 2);
            let (ra, rb) = rayon::join(
                || file.read_exact_at(a, 0),
                || file.read_exact_at(b, (len / 2) as u64),
            );
            ra?;
            rb?;
            // A file that grew while read is read again whole.
            if file.metadata()?.len() == meta.len() {
                return Ok(bytes);
            }
        } else {
            // From the file already open (a folder of thousands: one open each, not two).
            let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
            std::io::Read::read_to_end(&mut &file, &mut bytes)?;
            return Ok(bytes);
        }
    }
    fs::read(path)
}

/// One export to read: its name, where its output goes, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// For messages: the file's path, or `archive.zip!entry/name.xml`.
    pub name: String,
    /// The file it came from (the archive, for an entry).
    pub path: PathBuf,
    /// Its name under an output folder: the path below the folder or archive given, or the
    /// file name.
    pub relative: PathBuf,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Reads every export the paths name: files as given, folders walked for `*.xml` (and
/// `*.zip`), archives opened in memory (their `*.xml` entries).
pub fn load_inputs(paths: &[PathBuf], limits: &Limits) -> Result<Vec<Source>, InputError> {
    use rayon::prelude::*;
    let files = list_inputs(paths)?;
    // Read (and unpack) in parallel; the order stays the order above.
    let loaded: Vec<Result<Vec<Source>, InputError>> = files
        .into_par_iter()
        .map(|(relative, path, _)| {
            let bytes = read_file(&path)?;
            if !is_zip(&path) {
                return Ok(vec![Source {
                    name: path.display().to_string(),
                    path,
                    relative,
                    bytes,
                }]);
            }
            let parent = relative.parent().map(Path::to_path_buf).unwrap_or_default();
            Ok(read_zip(&path, &bytes, limits)?
                .into_iter()
                .map(|(entry, bytes)| Source {
                    name: format!("{}!{}", path.display(), entry.display()),
                    path: path.clone(),
                    relative: parent.join(&entry),
                    bytes,
                })
                .collect())
        })
        .collect();
    let mut out = Vec::new();
    for l in loaded {
        out.extend(l?);
    }
    Ok(out)
}

/// `true` when `a` and `b` name the same existing file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}
