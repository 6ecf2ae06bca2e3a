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
    pub bytes: Bytes,
}

/// An export's bytes: in memory, or (a large file read by `io` on Linux) the file
/// mapped into memory, read in place instead of copied; both read as a `[u8]`.
///
/// ```
/// use sn_retarget::Bytes;
/// let b = Bytes::from(b"<unload/>".to_vec());
/// assert_eq!(&b[..], b"<unload/>");
/// assert_eq!(b.into_vec(), b"<unload/>");
/// ```
#[derive(Clone, Default)]
pub struct Bytes(Held);

#[derive(Clone)]
enum Held {
    Owned(Vec<u8>),
    #[cfg(feature = "io")]
    Mapped(std::sync::Arc<crate::io::Mapped>),
}

impl Bytes {
    /// The bytes as a slice.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Held::Owned(v) => v,
            #[cfg(feature = "io")]
            Held::Mapped(m) => m.bytes(),
        }
    }

    /// The bytes as a vector (a copy, for a mapped file).
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Held::Owned(v) => v,
            #[cfg(feature = "io")]
            Held::Mapped(m) => m.bytes().to_vec(),
        }
    }

    #[cfg(feature = "io")]
    pub(crate) fn mapped(m: crate::io::Mapped) -> Bytes {
        Bytes(Held::Mapped(std::sync::Arc::new(m)))
    }

    /// For a mapped file, an error if it changed since it was mapped (its bytes may then be
    /// partly old and partly new); `Ok` otherwise.
    #[cfg(feature = "io")]
    pub(crate) fn unchanged(&self) -> Result<(), crate::io::InputError> {
        match &self.0 {
            Held::Mapped(m) => m.unchanged(),
            _ => Ok(()),
        }
    }
}

impl Default for Held {
    fn default() -> Held {
        Held::Owned(Vec::new())
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes(Held::Owned(v))
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Bytes {}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bytes({} bytes)", self.len())
    }
}
