//! Whether an existing folder or zip is a bundle this tool wrote, unchanged since (see
//! [`super::MARKER`]), so that `--force` may replace it.
//!
//! A folder or zip is replaceable only when it holds the marker, a `manifest.json` that parses
//! as a bundle manifest, exactly the files the marker lists (nothing added, nothing removed, no
//! folder) and each with the bytes it was written with: anything else (a project folder that
//! happens to hold a `manifest.json`, a bundle someone added notes to or edited by hand) is not
//! this tool's to delete.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::marker::{MADE_BY, MARKER, Marker, NotReplaceable};

/// Bytes read at most from an existing bundle to check it (its files are hashed as read).
const MAX_READ: u64 = 8 << 30;

/// The part of `manifest.json` that tells it is a bundle's.
#[derive(Deserialize)]
#[allow(dead_code)] // parsed to be checked, not read
struct ManifestHead {
    tool: String,
    order: Vec<ManifestFile>,
    totals: serde_json::Map<String, serde_json::Value>,
    secrets: usize,
}

#[derive(Deserialize)]
struct ManifestFile {
    file: String,
    sha256: String,
}

/// `Ok` when `out` (a folder or a zip) is a bundle this tool wrote and nothing in it changed
/// since, so that replacing it loses nothing; otherwise why not.
///
/// ```
/// use sn_retarget::bundle::{build, check_replaceable};
/// use sn_retarget::io::{load_inputs, write_folder, Limits};
/// use sn_retarget::plan::Plan;
/// # let dir = std::env::temp_dir().join(format!("snr-replaceable-{}", std::process::id()));
/// let sources = load_inputs(&["fixtures/seed000_dev".into()], &Limits::default()).unwrap();
/// let bundle = build(&Plan { target: Some("acme".into()), ..Plan::default() }, &sources).unwrap();
/// let out = dir.join("b");
/// write_folder(&out, &bundle.files, false).unwrap();
/// assert!(check_replaceable(&out).is_ok());
/// std::fs::write(out.join("notes.txt"), "mine").unwrap();
/// let why = check_replaceable(&out).unwrap_err().why;
/// assert_eq!(why, "notes.txt was added to it");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn check_replaceable(out: &Path) -> Result<(), NotReplaceable> {
    let refuse = |why: String| NotReplaceable {
        path: out.to_path_buf(),
        why,
    };
    let meta = std::fs::symlink_metadata(out).map_err(|e| refuse(e.to_string()))?;
    let found = if meta.is_dir() {
        folder_files(out)
    } else if meta.is_file() && crate::io::is_zip(out) {
        zip_files(out)
    } else {
        Err("it is neither a folder nor a zip archive".into())
    };
    let mut found = found.map_err(refuse)?;
    let Some(marker) = found.remove(MARKER) else {
        return Err(refuse(format!("no {MARKER} marker")));
    };
    let marker: Marker = serde_json::from_slice(&marker.bytes)
        .ok()
        .filter(|m: &Marker| m.made_by == MADE_BY)
        .ok_or_else(|| refuse(format!("its {MARKER} marker is not this tool's")))?;
    let manifest = found
        .get("manifest.json")
        .and_then(|m| serde_json::from_slice::<ManifestHead>(&m.bytes).ok())
        .filter(|m| m.tool.starts_with("sn-retarget "))
        .ok_or_else(|| refuse("its manifest.json is not a bundle manifest".into()))?;
    let listed: BTreeMap<&str, &str> = marker
        .files
        .iter()
        .map(|d| (d.file.as_str(), d.sha256.as_str()))
        .collect();
    if let Some(f) = manifest
        .order
        .iter()
        .find(|f| listed.get(f.file.as_str()) != Some(&f.sha256.as_str()))
    {
        return Err(refuse(format!(
            "its manifest.json does not match its marker ({})",
            f.file
        )));
    }
    for (name, file) in &found {
        match listed.get(name.as_str()) {
            None if file.folder => return Err(refuse(format!("{name}/ was added to it"))),
            None => return Err(refuse(format!("{name} was added to it"))),
            Some(sha) if *sha != file.sha256 => {
                return Err(refuse(format!("{name} was changed since it was written")));
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = listed.keys().find(|n| !found.contains_key(**n)) {
        return Err(refuse(format!("{missing} was removed from it")));
    }
    Ok(())
}

/// A file of an existing bundle: its digest, and its bytes when they are the marker or the
/// manifest.
struct Found {
    sha256: String,
    bytes: Vec<u8>,
    folder: bool,
}

/// Reads `r` (at most `MAX_READ` bytes), hashing it; keeps the bytes of the marker and the
/// manifest.
fn digest(name: &str, r: impl Read) -> std::io::Result<Found> {
    let keep = name == MARKER || name == "manifest.json";
    let mut r = r.take(MAX_READ);
    let mut hasher = Sha256::new();
    let mut bytes = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if keep {
            bytes.extend_from_slice(&buf[..n]);
        }
    }
    Ok(Found {
        sha256: hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        bytes,
        folder: false,
    })
}

/// The entries of the folder `dir` (a bundle is flat: a folder in it is reported as one).
fn folder_files(dir: &Path) -> Result<BTreeMap<String, Found>, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        let found = if kind.is_file() {
            let f = std::fs::File::open(entry.path()).map_err(|e| format!("{name}: {e}"))?;
            digest(&name, f).map_err(|e| format!("{name}: {e}"))?
        } else {
            // A folder or a link the bundle never holds.
            Found {
                sha256: String::new(),
                bytes: Vec::new(),
                folder: kind.is_dir(),
            }
        };
        out.insert(name, found);
    }
    Ok(out)
}

/// The entries of the zip archive `path`.
fn zip_files(path: &Path) -> Result<BTreeMap<String, Found>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("not a readable zip: {e}"))?;
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().to_string();
        let folder = entry.is_dir();
        let mut found = digest(&name, entry).map_err(|e| format!("{name}: {e}"))?;
        found.folder = folder;
        out.insert(name.trim_end_matches('/').to_string(), found);
    }
    Ok(out)
}
