//! Files out: atomic writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    write_atomic_with(path, force, |w| w.write_all(bytes))
}

/// [`write_atomic`], with the bytes written by `write` (through a buffer) instead of held in
/// memory: an output can go straight from its input and its edits to the disk. Nothing is
/// left behind if `write` fails.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("snr-atomic-with-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use sn_retarget::io::write_atomic_with;
/// let out = dir.join("out.xml");
/// write_atomic_with(&out, false, |w| w.write_all(b"<unload/>")).unwrap();
/// assert!(write_atomic_with(&dir.join("x.xml"), false, |_| Err(std::io::Error::other("full"))).is_err());
/// assert!(!dir.join("x.xml").exists());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_atomic_with(
    path: &Path,
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let mut write = Some(write);
    write_atomic_inner(path, force, &mut |f: fs::File| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        if let Some(write) = write.take() {
            write(&mut w)?;
        }
        w.into_inner().map_err(|e| e.into_error())
    })
}

/// Creates the temporary file, lets `fill` write it, flushes it to disk and renames it.
fn write_atomic_inner(
    path: &Path,
    force: bool,
    fill: &mut dyn FnMut(fs::File) -> std::io::Result<fs::File>,
) -> Result<(), OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !force && fs::symlink_metadata(path).is_ok() {
        return Err(OutputError::Exists(path.to_path_buf()));
    }
    let tmp = temp_path(path);
    if let Some(dir) = tmp.parent() {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let result = (|| {
        let f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let f = fill(f)?;
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

/// [`write_atomic`] for an output of `len` bytes written by `write` straight into the file
/// (e.g. in pieces at their offsets, from several threads, with `FileExt::write_all_at`).
/// The file must be `len` bytes long after `write`. Nothing is left behind if `write` fails.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("snr-atomic-file-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// use std::io::Write;
/// use sn_retarget::io::write_atomic_file;
/// let out = dir.join("out.xml");
/// write_atomic_file(&out, false, 9, |mut f| f.write_all(b"<unload/>")).unwrap();
/// assert_eq!(std::fs::read(&out).unwrap(), b"<unload/>");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_atomic_file(
    path: &Path,
    force: bool,
    len: u64,
    write: impl FnOnce(&fs::File) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let mut write = Some(write);
    write_atomic_inner(path, force, &mut |f: fs::File| {
        if let Some(w) = write.take() {
            w(&f)?;
        }
        if f.metadata()?.len() != len {
            return Err(std::io::Error::other(format!(
                "wrote {} bytes instead of {len}",
                f.metadata()?.len()
            )));
        }
        Ok(f)
    })
}

/// The temporary path [`write_atomic`] writes `path` through (beside it, named after it and
/// this process), for whoever must clean up after an interruption.
pub fn temp_path(path: &Path) -> PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy());
    dir.join(format!(".{name}.sn-retarget-{}.tmp", std::process::id()))
}
