//! Files, folders and zip archives in; atomic writes out.
//!
//! In: paths given by the user (files, folders, `.zip` archives). Out: the exports to read, in
//! a stable order (a folder's `*.xml` files recursively, sorted by path; an archive's `*.xml`
//! entries in archive order), each read whole into memory. Symbolic links inside folders are
//! not followed, so a walk never leaves the folder given; archive entries with `..` or absolute
//! names are refused, and limits on entry count and sizes stop zip bombs. Only regular files are
//! read (a FIFO given directly is refused, not waited on); this tool's temporary files and
//! staging folders, and the outputs of the run ([`load_inputs_except`]), are never inputs.
//! Out: [`write_atomic`] (temporary file, then rename), [`Staged`] (several outputs, all or
//! none), [`write_folder`] (a folder at once) and zip archives ([`zip_bytes`]); an interruption
//! takes away what is half-written ([`abandon_outputs`]).

mod archive;
mod direct;
mod durable;
mod folder;
mod mapped;
mod names;
mod pending;
mod sys;
mod write;

pub use archive::{Limits, read_zip, read_zip_files, zip_bytes};
#[cfg_attr(feature = "internals", visibility::make(pub))]
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub(crate) use direct::{Direct, DirectAt, write_direct};
#[cfg_attr(feature = "internals", visibility::make(pub))]
pub(crate) use durable::{WriteAt, start_writeback, sync_all};
pub use folder::write_folder;
pub(crate) use mapped::Mapped;
pub use names::temp_owner;
#[cfg_attr(feature = "internals", visibility::make(pub))]
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub(crate) use names::temp_path;
pub use pending::abandon_outputs;
#[cfg_attr(feature = "internals", visibility::make(pub))]
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub(crate) use write::write_atomic_with;
pub use write::{OutputError, Staged, write_atomic};

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use crate::Source;

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
    /// Two entries of an archive name the same file.
    #[error("{}: entries {first:?} and {entry:?} name the same file twice; refused", path.display())]
    DuplicateEntry {
        /// The archive.
        path: PathBuf,
        /// The first entry's name.
        first: String,
        /// The second entry's name.
        entry: String,
    },
    /// An input that another program changed while it was read in place (a large file is
    /// mapped into memory, not copied): what was read may be partly old and partly new, so
    /// nothing is written from it.
    #[error("{}: changed while it was read; nothing is written (run again once it is saved)", path.display())]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// An input that is not a regular file (a FIFO, a device, a socket): never read, as
    /// reading it could wait forever.
    #[error("{}: is {kind}, not a regular file; refused", path.display())]
    NotAFile {
        /// The path given.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
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
/// // A staging folder a killed run left: never an input.
/// # std::fs::create_dir_all(dir.join(".out.sn-retarget-4242.tmp")).unwrap();
/// # std::fs::write(dir.join(".out.sn-retarget-4242.tmp/01_2.xml"), "<unload/>").unwrap();
/// let files = sn_retarget::io::expand_inputs(&[dir.clone()]).unwrap();
/// assert_eq!(files, [dir.join("1.XML"), dir.join("b/2.xml")]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    Ok(list_inputs(paths, &[])?
        .into_iter()
        .filter(|(_, path, in_folder)| !in_folder || is_xml(path))
        .map(|(_, path, _)| path)
        .collect())
}

/// The files `paths` name: `(relative name, path, found in a folder)`, a folder's files (xml
/// and zip) sorted, files given directly as they are. Folders are walked past `outputs` and
/// this tool's temporary names.
fn list_inputs(
    paths: &[PathBuf],
    outputs: &[&Path],
) -> Result<Vec<(PathBuf, PathBuf, bool)>, InputError> {
    // The outputs that exist, as the walk sees them (canonical paths).
    let skip: HashSet<PathBuf> = outputs
        .iter()
        .filter_map(|o| fs::canonicalize(o).ok())
        .collect();
    let mut files = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).map_err(io_error(p))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            let canonical = match skip.is_empty() {
                true => None,
                false => fs::canonicalize(p).ok(),
            };
            let walk = Walk { skip: &skip };
            walk.folder(p, canonical.as_deref(), &mut found)?;
            found.sort();
            files.extend(
                found
                    .into_iter()
                    .map(|f| (f.strip_prefix(p).unwrap_or(&f).to_path_buf(), f, true)),
            );
        } else if meta.is_file() {
            let name = p
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| p.clone());
            files.push((name, p.clone(), false));
        } else {
            return Err(not_a_file(p, &meta));
        }
    }
    Ok(files)
}

/// What an input that is neither a folder nor a regular file is.
fn not_a_file(path: &Path, meta: &fs::Metadata) -> InputError {
    let kind = kind_of(&meta.file_type());
    InputError::NotAFile {
        path: path.to_path_buf(),
        kind,
    }
}

#[cfg(unix)]
fn kind_of(t: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

#[cfg(not(unix))]
fn kind_of(_: &fs::FileType) -> &'static str {
    "not a file"
}

/// A folder walk: `*.xml` and `*.zip` files, symbolic links not followed, outputs of the run
/// and this tool's temporary files and staging folders skipped.
struct Walk<'a> {
    /// Canonical paths of outputs.
    skip: &'a HashSet<PathBuf>,
}

impl Walk<'_> {
    /// Walks `dir`, whose canonical path is `canonical` (when outputs are to be skipped).
    fn folder(
        &self,
        dir: &Path,
        canonical: Option<&Path>,
        out: &mut Vec<PathBuf>,
    ) -> Result<(), InputError> {
        let err = io_error(dir);
        for entry in fs::read_dir(dir).map_err(err)? {
            let entry = entry.map_err(err)?;
            let name = entry.file_name();
            if temp_owner(&name).is_some() {
                continue;
            }
            // Symbolic links are not followed, so the canonical path goes on name by name.
            let canonical = canonical.map(|c| c.join(&name));
            if canonical.as_ref().is_some_and(|c| self.skip.contains(c)) {
                continue;
            }
            let kind = entry.file_type().map_err(err)?;
            let path = entry.path();
            if kind.is_dir() {
                self.folder(&path, canonical.as_deref(), out)?;
            } else if kind.is_file() && (is_xml(&path) || is_zip(&path)) {
                out.push(path);
            }
            // Symbolic links are skipped: never followed out of the folder.
        }
        Ok(())
    }
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

/// Reads a whole input file; anything but a regular file is refused without waiting on it.
pub fn read_file(path: &Path) -> Result<Vec<u8>, InputError> {
    let (file, meta) = open_regular(path)?;
    read_whole(&file, &meta).map_err(io_error(path))
}

/// Files from this size on are mapped into memory (see [`Mapped`]) where they can be, and read
/// in two halves at once otherwise.
const LARGE: u64 = 32 << 20;

/// Reads an input file for a [`Source`]: a large one is mapped where it can be (see
/// [`Mapped`]), any other read whole.
fn read_source(path: &Path) -> Result<crate::Bytes, InputError> {
    let (file, meta) = open_regular(path)?;
    if meta.len() >= LARGE {
        if let Some(m) = Mapped::map(&file, path, &meta) {
            return Ok(crate::Bytes::mapped(m));
        }
    }
    Ok(read_whole(&file, &meta).map_err(io_error(path))?.into())
}

/// An error when an input mapped into memory changed since it was mapped (see [`Mapped`]):
/// asked before anything written from them is moved into place.
pub(crate) fn inputs_unchanged(sources: &[Source]) -> Result<(), InputError> {
    sources.iter().try_for_each(|s| s.bytes.unchanged())
}

/// Opens `path` for reading if it is a regular file. Where it can (Linux), without waiting: a
/// FIFO put in a file's place is opened at once, and then refused.
fn open_regular(path: &Path) -> Result<(fs::File, fs::Metadata), InputError> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    if !sys::open_without_waiting(&mut options) {
        let meta = fs::metadata(path).map_err(io_error(path))?;
        if !meta.is_file() {
            return Err(not_a_file(path, &meta));
        }
    }
    let file = options.open(path).map_err(io_error(path))?;
    let meta = file.metadata().map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(not_a_file(path, &meta));
    }
    Ok((file, meta))
}

/// Reads all of `file`; a large file is read in two halves at once (filling fresh memory is the
/// cost of reading a file in the page cache, and two cores fill it twice as fast).
fn read_whole(file: &fs::File, meta: &fs::Metadata) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        if meta.len() >= LARGE && usize::try_from(meta.len()).is_ok() {
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
        }
    }
    // (Positioned reads leave the file at its start.)
    let mut file = file;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads every export the paths name: files as given, folders walked for `*.xml` (and
/// `*.zip`), archives opened in memory (their `*.xml` entries; all the archives together within
/// `limits`).
pub fn load_inputs(paths: &[PathBuf], limits: &Limits) -> Result<Vec<Source>, InputError> {
    load_inputs_except(paths, limits, &[])
}

/// [`load_inputs`], the walk of a folder skipping `outputs` (files or folders this run writes,
/// e.g. a bundle inside the folder it bundles): a run never reads its own output.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("snr-doc-except-{}", std::process::id()));
/// # std::fs::create_dir_all(dir.join("bundle")).unwrap();
/// # std::fs::write(dir.join("a.xml"), "<unload/>").unwrap();
/// # std::fs::write(dir.join("bundle/01_a.xml"), "<unload/>").unwrap();
/// use sn_retarget::io::{load_inputs_except, Limits};
/// let out = dir.join("bundle");
/// let sources = load_inputs_except(&[dir.clone()], &Limits::default(), &[&out]).unwrap();
/// assert_eq!(sources.len(), 1);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn load_inputs_except(
    paths: &[PathBuf],
    limits: &Limits,
    outputs: &[&Path],
) -> Result<Vec<Source>, InputError> {
    use rayon::prelude::*;
    let files = list_inputs(paths, outputs)?;
    let budget = AtomicU64::new(limits.max_total_bytes);
    // Read (and unpack) in parallel; the order stays the order above.
    let loaded: Vec<Result<Vec<Source>, InputError>> = files
        .into_par_iter()
        .map(|(relative, path, _)| {
            if !is_zip(&path) {
                let bytes = read_source(&path)?;
                return Ok(vec![Source {
                    name: path.display().to_string(),
                    path,
                    relative,
                    bytes,
                }]);
            }
            let bytes = read_file(&path)?;
            let parent = relative.parent().map(Path::to_path_buf).unwrap_or_default();
            Ok(archive::read_zip_within(&path, &bytes, limits, &budget)?
                .into_iter()
                .map(|(entry, bytes)| Source {
                    name: format!("{}!{}", path.display(), entry.display()),
                    path: path.clone(),
                    relative: parent.join(&entry),
                    bytes: bytes.into(),
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
