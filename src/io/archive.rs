//! Zip archives: entries read in memory within limits, and written deterministically.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

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
    /// Uncompressed bytes of all entries of one archive.
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
/// Entries with an absolute or `..` name are refused, as are archives over `limits`; sizes
/// are checked on the bytes actually inflated, not on what the archive declares.
///
/// ```
/// use sn_retarget::io::{read_zip, zip_bytes, Limits};
/// let zip = zip_bytes(&[("a/one.xml".into(), b"<unload/>".to_vec())]).unwrap();
/// let entries = read_zip("x.zip".as_ref(), &zip, &Limits::default()).unwrap();
/// assert_eq!(entries[0].0, std::path::PathBuf::from("a/one.xml"));
/// ```
pub fn read_zip(
    path: &Path,
    bytes: &[u8],
    limits: &Limits,
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
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(zip_err)?;
    if archive.len() > limits.max_entries {
        return Err(over("entry count", limits.max_entries as u64));
    }
    let mut out = Vec::new();
    let mut total: u64 = 0;
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
        if entry.is_dir()
            || !name
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
        {
            continue;
        }
        let mut data = Vec::new();
        let budget = limits.max_entry_bytes.min(limits.max_total_bytes - total);
        (&mut entry)
            .take(budget + 1)
            .read_to_end(&mut data)
            .map_err(|e| InputError::Zip {
                path: path.to_path_buf(),
                message: format!("{raw_name}: {e}"),
            })?;
        if data.len() as u64 > budget {
            return Err(if data.len() as u64 > limits.max_entry_bytes {
                over("an entry's size", limits.max_entry_bytes)
            } else {
                over("the total size", limits.max_total_bytes)
            });
        }
        total += data.len() as u64;
        out.push((name, data));
    }
    Ok(out)
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
