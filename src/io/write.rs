//! Files out: atomic writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::durable::{self, WriteAt};

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
    let mut staged = Staged::new(force);
    staged.add_with(path, write)?;
    staged.commit()
}

/// Outputs written beside their destinations and moved into place together, once all are
/// written and flushed to the disk: if any write fails (a full disk, a refused folder), none
/// appears, and the folders made for them are removed again. Dropped without [`Staged::commit`], it removes everything
/// it wrote.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("snr-staged-{}", std::process::id()));
/// use std::io::Write;
/// use sn_retarget::io::Staged;
/// let mut staged = Staged::new(false);
/// staged.add_with(&dir.join("a/one.xml"), |w| w.write_all(b"<unload/>")).unwrap();
/// assert!(staged.add_with(&dir.join("a/two.xml"), |_| Err(std::io::Error::other("disk full"))).is_err());
/// drop(staged); // not committed: nothing is left, not even the folders
/// assert!(!dir.exists());
/// ```
#[derive(Debug)]
pub struct Staged {
    force: bool,
    /// (temporary file, destination), in the order added.
    files: Vec<(PathBuf, PathBuf)>,
    /// Folders made for the outputs, outermost first.
    dirs: Vec<PathBuf>,
    done: bool,
}

impl Staged {
    /// An empty set; `force` lets outputs replace existing files.
    pub fn new(force: bool) -> Staged {
        Staged {
            force,
            files: Vec::new(),
            dirs: Vec::new(),
            done: false,
        }
    }

    /// Writes the output for `path` (through a buffer) into its temporary file, starting its
    /// writeback to the disk as it goes ([`Staged::commit`] waits for it to end). An existing
    /// `path` is refused unless `force`.
    pub fn add_with(
        &mut self,
        path: &Path,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), OutputError> {
        let mut write = Some(write);
        self.add(path, &mut |f: fs::File| {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, WriteAt::new(&f, 0));
            if let Some(write) = write.take() {
                write(&mut w)?;
            }
            w.flush()?;
            drop(w);
            Ok(f)
        })
    }

    /// [`Staged::add_with`] for an output of `len` bytes written by `write` straight into the
    /// file (e.g. in pieces at their offsets, from several threads).
    pub fn add_file(
        &mut self,
        path: &Path,
        len: u64,
        write: impl FnOnce(&fs::File) -> std::io::Result<()>,
    ) -> Result<(), OutputError> {
        let mut write = Some(write);
        self.add(path, &mut |f: fs::File| {
            if let Some(w) = write.take() {
                w(&f)?;
            }
            let written = f.metadata()?.len();
            if written != len {
                return Err(std::io::Error::other(format!(
                    "wrote {written} bytes instead of {len}"
                )));
            }
            Ok(f)
        })
    }

    fn add(
        &mut self,
        path: &Path,
        fill: &mut dyn FnMut(fs::File) -> std::io::Result<fs::File>,
    ) -> Result<(), OutputError> {
        let io = |source| OutputError::Io {
            path: path.to_path_buf(),
            source,
        };
        if !self.force && fs::symlink_metadata(path).is_ok() {
            return Err(OutputError::Exists(path.to_path_buf()));
        }
        let tmp = temp_path(path);
        if let Some(dir) = tmp.parent() {
            self.make_dirs(dir).map_err(io)?;
        }
        let f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io)?;
        self.files.push((tmp, path.to_path_buf()));
        fill(f).map_err(io)?;
        Ok(())
    }

    /// Creates `dir` and its missing parents, remembering which were made.
    fn make_dirs(&mut self, dir: &Path) -> std::io::Result<()> {
        create_dirs(dir, &mut self.dirs)
    }

    /// The temporary files written so far (for whoever must clean up after an interruption).
    pub fn temp_paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(t, _)| t.as_path())
    }

    /// Waits until every output is on the disk, then moves them into place. Destinations that
    /// appeared meanwhile are refused (unless `force`) before anything moves; should a move
    /// fail, those already moved are removed.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let temps: Vec<&Path> = self.temp_paths().collect();
        durable::sync_all(&temps).map_err(|(path, source)| OutputError::Io { path, source })?;
        if !self.force {
            if let Some((_, dest)) = self
                .files
                .iter()
                .find(|(_, d)| fs::symlink_metadata(d).is_ok())
            {
                return Err(OutputError::Exists(dest.clone()));
            }
        }
        for k in 0..self.files.len() {
            let (tmp, dest) = &self.files[k];
            if let Err(source) = fs::rename(tmp, dest) {
                let dest = dest.clone();
                if !self.force {
                    for (_, moved) in &self.files[..k] {
                        let _ = fs::remove_file(moved);
                    }
                }
                self.files.drain(..k);
                return Err(OutputError::Io { path: dest, source });
            }
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for (tmp, _) in &self.files {
            let _ = fs::remove_file(tmp);
        }
        remove_dirs(&self.dirs);
    }
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
    let mut staged = Staged::new(force);
    staged.add_file(path, len, write)?;
    staged.commit()
}

/// Creates `dir` and its missing parents (like `fs::create_dir_all`), adding those it made to
/// `made`, outermost first, so that [`remove_dirs`] can take them away again.
pub fn create_dirs(dir: &Path, made: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let missing: Vec<PathBuf> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && fs::symlink_metadata(d).is_err())
        .map(Path::to_path_buf)
        .collect();
    for d in missing.into_iter().rev() {
        match fs::create_dir(&d) {
            Ok(()) => made.push(d),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Removes the folders [`create_dirs`] made, innermost first, each only if empty.
pub fn remove_dirs(made: &[PathBuf]) {
    for d in made.iter().rev() {
        let _ = fs::remove_dir(d);
    }
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
