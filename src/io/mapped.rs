//! A large input file read in place: mapped into memory instead of copied into fresh memory
//! (filling 200 MB of fresh memory costs a tenth of a large `apply`).
//!
//! A mapping shows the file as it is now, not as it was when read: another program writing
//! the file meanwhile would change the bytes under the reader. So a mapped input remembers its
//! file's identity, size and change times, and every job that writes from it asks
//! [`Mapped::unchanged`] before its outputs are moved into place: an input changed while it
//! was read is an error, and nothing is written. (A file cut shorter while mapped stops the
//! process with a bus error, before anything is moved into place: what it staged is removed
//! by the next run, see [`super::abandon_outputs`].)
//!
//! Only on Linux without `portable-io`; elsewhere every file is read.

use std::fs::{File, Metadata};
use std::path::{Path, PathBuf};

use super::InputError;

/// A file mapped read-only into memory, and what it was when mapped.
pub struct Mapped {
    map: super::sys::Map,
    path: PathBuf,
    stamp: Stamp,
}

/// What tells a file's content changed: its identity, size, and modification and change times
/// (the change time is set by the system on every write, and no program can set it back).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    id: (u64, u64, i64, i64),
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            id: (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec()),
        }
    }
}

impl Mapped {
    /// `file` (at `path`, described by `meta`) mapped, or `None` where files are not mapped
    /// or the mapping fails (the caller reads the file instead).
    pub(crate) fn map(file: &File, path: &Path, meta: &Metadata) -> Option<Mapped> {
        let map = super::sys::map(file)?;
        (map.len() as u64 == meta.len()).then(|| Mapped {
            map,
            path: path.to_path_buf(),
            stamp: Stamp::of(meta),
        })
    }

    /// The file's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// An error when the file is no longer what it was when mapped.
    pub(crate) fn unchanged(&self) -> Result<(), InputError> {
        let now = std::fs::metadata(&self.path).map(|m| Stamp::of(&m));
        match now {
            Ok(s) if s == self.stamp => Ok(()),
            _ => Err(InputError::Changed {
                path: self.path.clone(),
            }),
        }
    }
}

#[cfg(all(
    test,
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-io")
))]
mod tests {
    use super::Mapped;
    use std::os::unix::fs::FileExt;

    #[test]
    fn a_file_written_or_cut_while_mapped_is_told_apart() {
        let path = std::env::temp_dir().join(format!("snr-mapped-{}.xml", std::process::id()));
        std::fs::write(&path, b"<unload>one</unload>").unwrap();
        let open = || {
            let f = std::fs::File::open(&path).unwrap();
            let meta = f.metadata().unwrap();
            Mapped::map(&f, &path, &meta).unwrap()
        };
        let m = open();
        assert_eq!(m.bytes(), b"<unload>one</unload>");
        assert!(m.unchanged().is_ok());
        // Written in place, same size: the change time moves.
        let w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        w.write_all_at(b"two", 8).unwrap();
        assert!(m.unchanged().is_err());
        // Cut shorter (its bytes are not read again: the map would fault past the end).
        let m = open();
        w.set_len(4).unwrap();
        assert!(m.unchanged().is_err());
        // Replaced by another file of the same size.
        let m = open();
        drop(w);
        std::fs::write(path.with_extension("new"), b"<unl").unwrap();
        std::fs::rename(path.with_extension("new"), &path).unwrap();
        assert!(m.unchanged().is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
