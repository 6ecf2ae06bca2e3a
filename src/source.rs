//! One export in memory: what `bundle` and `check` take, and what `io` (feature `io`) reads
//! from files, folders and zip archives.

use std::path::PathBuf;

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
