//! `.sn-retarget-bundle`: the mark of a bundle this tool wrote. It lists every other file of
//! the bundle with its sha256, so that `--force` can tell an unchanged bundle of its own (the
//! check is `check_replaceable`, with the feature `io`).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The marker's file name.
pub const MARKER: &str = ".sn-retarget-bundle";

/// What the marker says it was made by.
pub(super) const MADE_BY: &str = "sn-retarget bundle";

#[derive(Serialize, Deserialize)]
pub(super) struct Marker {
    pub(super) made_by: String,
    pub(super) files: Vec<Digested>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Digested {
    pub(super) file: String,
    pub(super) sha256: String,
}

/// An existing output that `--force` does not replace: it is not a bundle this tool made, or it
/// changed since.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: exists and is not a bundle sn-retarget made ({why}); not replaced",
    path.display()
)]
pub struct NotReplaceable {
    /// The existing output.
    pub path: PathBuf,
    /// Why it is not replaced.
    pub why: String,
}

/// The marker of a bundle of `files` (name and sha256, hex), as written into it.
pub(super) fn marker(files: &[(&str, String)]) -> Vec<u8> {
    let m = Marker {
        made_by: MADE_BY.into(),
        files: files
            .iter()
            .map(|(file, sha256)| Digested {
                file: (*file).into(),
                sha256: sha256.clone(),
            })
            .collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&m).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
