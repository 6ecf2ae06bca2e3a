//! Zip archives: entries read in memory within limits, and written deterministically.

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::InputError;

/// Limits on what an archive may hold (a zip bomb stops at the first one crossed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries in one archive.
    pub max_entries: usize,
    /// Uncompressed bytes of one entry.
    pub max_entry_bytes: u64,
    /// Uncompressed bytes of all entries of all the archives of one run (one
    /// [`load_inputs`](super::load_inputs)), or of one [`read_zip`].
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 100_000,
            max_entry_bytes: 1 << 30,
            max_total_bytes: 4 << 30,
        }
    }
}

/// The `*.xml` entries of the archive `bytes` (read from `path`), in archive order.
///
/// Entries with an absolute or `..` name are refused, as are two entries naming the same file
/// (the same name twice, or spelled two ways: `a/b.xml`, `a//b.xml`, `./a/b.xml`) and archives
/// over `limits`; sizes are checked on the bytes actually inflated, not on what the archive
/// declares.
///
/// ```
/// use sn_retarget::io::{read_zip, zip_bytes, Limits};
/// let zip = zip_bytes(&[("a/one.xml".into(), b"<unload/>".to_vec())]).unwrap();
/// let entries = read_zip("x.zip".as_ref(), &zip, &Limits::default()).unwrap();
/// assert_eq!(entries[0].0, std::path::PathBuf::from("a/one.xml"));
/// let twice = zip_bytes(&[("a/one.xml".into(), vec![]), ("a//one.xml".into(), vec![])]).unwrap();
/// assert!(read_zip("x.zip".as_ref(), &twice, &Limits::default()).is_err());
/// ```
pub fn read_zip(
    path: &Path,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<(PathBuf, Vec<u8>)>, InputError> {
    read_zip_within(path, bytes, limits, &AtomicU64::new(limits.max_total_bytes))
}

/// Bytes inflated between two checks of the limits.
const STEP: u64 = 1 << 20;

/// [`read_zip`], the inflated bytes taken from `budget` (shared by the archives of one run).
pub(super) fn read_zip_within(
    path: &Path,
    bytes: &[u8],
    limits: &Limits,
    budget: &AtomicU64,
) -> Result<Vec<(PathBuf, Vec<u8>)>, InputError> {
    read_zip_entries(path, bytes, limits, budget, |name| {
        name.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
    })
}

/// Every file entry of the archive `bytes` (read from `path`), whatever its name, in archive
/// order, with the checks and limits of [`read_zip`].
///
/// ```
/// use sn_retarget::io::{read_zip_files, zip_bytes, Limits};
/// let zip = zip_bytes(&[("a/one.xml".into(), b"<unload/>".to_vec()), ("notes.txt".into(), b"hi".to_vec())]).unwrap();
/// assert_eq!(read_zip_files("x.zip".as_ref(), &zip, &Limits::default()).unwrap().len(), 2);
/// ```
pub fn read_zip_files(
    path: &Path,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Vec<(PathBuf, Vec<u8>)>, InputError> {
    let budget = AtomicU64::new(limits.max_total_bytes);
    read_zip_entries(path, bytes, limits, &budget, |_| true)
}

/// The entries whose names are `wanted`, the inflated bytes taken from `budget`.
fn read_zip_entries(
    path: &Path,
    bytes: &[u8],
    limits: &Limits,
    budget: &AtomicU64,
    wanted: impl Fn(&Path) -> bool,
) -> Result<Vec<(PathBuf, Vec<u8>)>, InputError> {
    let zip_err = |e: zip::result::ZipError| InputError::Zip {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let over = |what, limit| InputError::OverLimit {
        path: path.to_path_buf(),
        what,
        limit,
    };
    let twice = |first: &str, entry: &str| InputError::DuplicateEntry {
        path: path.to_path_buf(),
        first: first.to_string(),
        entry: entry.to_string(),
    };
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(zip_err)?;
    if archive.len() > limits.max_entries {
        return Err(over("entry count", limits.max_entries as u64));
    }
    // The reader keeps one entry of a name given twice: the directory itself is read for them.
    let start = usize::try_from(archive.central_directory_start()).unwrap_or(usize::MAX);
    if let Some((first, entry)) = repeated_name(bytes, start, limits.max_entries) {
        return Err(twice(&first, &entry));
    }
    let mut out = Vec::new();
    // Each file named by the entries read, by its normalised path.
    let mut named: HashMap<PathBuf, String> = HashMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(zip_err)?;
        let raw_name = entry.name().to_string();
        let absolute = raw_name.starts_with(['/', '\\'])
            || raw_name.as_bytes().get(1) == Some(&b':')
            || raw_name.split(['/', '\\']).any(|c| c == "..");
        let Some(name) = entry.enclosed_name().filter(|_| !absolute) else {
            return Err(InputError::UnsafeEntry {
                path: path.to_path_buf(),
                entry: raw_name,
            });
        };
        if entry.is_dir() || !wanted(&name) {
            continue;
        }
        let file: PathBuf = name
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .collect();
        if let Some(first) = named.insert(file, raw_name.clone()) {
            return Err(twice(&first, &raw_name));
        }
        let data = inflate(&mut entry, &raw_name, path, limits, budget)?;
        out.push((name, data));
    }
    Ok(out)
}

/// An entry's bytes (`raw_name` in the archive at `path`), inflated a step at a time, each
/// step taken from `budget`; refused over the limits.
fn inflate(
    mut entry: impl Read,
    raw_name: &str,
    path: &Path,
    limits: &Limits,
    budget: &AtomicU64,
) -> Result<Vec<u8>, InputError> {
    let over = |what, limit| InputError::OverLimit {
        path: path.to_path_buf(),
        what,
        limit,
    };
    let mut data = Vec::new();
    loop {
        let got = (&mut entry)
            .take(STEP)
            .read_to_end(&mut data)
            .map_err(|e| InputError::Zip {
                path: path.to_path_buf(),
                message: format!("{raw_name}: {e}"),
            })? as u64;
        if data.len() as u64 > limits.max_entry_bytes {
            return Err(over("an entry's size", limits.max_entry_bytes));
        }
        let charged = budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
            left.checked_sub(got)
        });
        if charged.is_err() {
            return Err(over("the total size", limits.max_total_bytes));
        }
        if got < STEP {
            break;
        }
    }
    Ok(data)
}

/// The first name the central directory (from `start` in `bytes`) gives twice, with the same
/// bytes, as `(first, second)`; looks at `max` records at most.
fn repeated_name(bytes: &[u8], start: usize, max: usize) -> Option<(String, String)> {
    const RECORD: &[u8] = b"PK\x01\x02";
    let u16_at = |at: usize| -> Option<usize> {
        Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as usize)
    };
    let mut seen = std::collections::HashSet::new();
    let mut at = start;
    for _ in 0..=max {
        if bytes.get(at..at + 4) != Some(RECORD) {
            return None;
        }
        let (n, m, k) = (u16_at(at + 28)?, u16_at(at + 30)?, u16_at(at + 32)?);
        let name = bytes.get(at + 46..at + 46 + n)?;
        if !seen.insert(name) {
            let name = String::from_utf8_lossy(name).into_owned();
            return Some((name.clone(), name));
        }
        at += 46 + n + m + k;
    }
    None
}

/// A zip archive of `files` (name, bytes), deflated, with fixed timestamps: the same files
/// give the same bytes.
pub fn zip_bytes(files: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let mut w = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default());
    for (name, bytes) in files {
        w.start_file(name.as_str(), options)
            .map_err(std::io::Error::other)?;
        w.write_all(bytes)?;
    }
    Ok(w.finish().map_err(std::io::Error::other)?.into_inner())
}
