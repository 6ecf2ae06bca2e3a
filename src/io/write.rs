//! Files out: atomic writes, of one output or of several together (all or none).

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::durable::{self, WriteAt};
use super::names::{aside_path, remove_stale, temp_path};
use super::pending;

/// An output that could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    /// The output exists and overwriting was not asked for.
    #[error("{}: already exists (use --force to replace it)", .0.display())]
    Exists(PathBuf),
    /// The output's place is a folder; it is never replaced by a file.
    #[error("{}: is a folder; not replaced", .0.display())]
    IsFolder(PathBuf),
    /// The process was interrupted (see [`abandon_outputs`](super::abandon_outputs)): nothing
    /// more is written.
    #[error("interrupted; nothing written")]
    Interrupted,
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
/// appears, and the folders made for them are removed again; if moving one into place fails,
/// those already moved are taken back and the files they replaced put back. A destination that
/// is a folder is refused, even with `force`. Dropped without [`Staged::commit`], it removes
/// everything it wrote. Temporary files of ended runs found beside the outputs are removed
/// first (see [`temp_owner`](super::temp_owner)); an interruption takes away what is staged
/// ([`abandon_outputs`](super::abandon_outputs)).
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
    /// Folders already cleared of ended runs' temporary files.
    tidied: BTreeSet<PathBuf>,
    done: bool,
}

impl Staged {
    /// An empty set; `force` lets outputs replace existing files.
    pub fn new(force: bool) -> Staged {
        Staged {
            force,
            files: Vec::new(),
            dirs: Vec::new(),
            tidied: BTreeSet::new(),
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
        refuse_over(path, self.force)?;
        let tmp = temp_path(path);
        let dir = tmp.parent().unwrap_or(Path::new("."));
        if !self.tidied.contains(dir) {
            remove_stale(dir);
            self.tidied.insert(dir.to_path_buf());
        }
        let f = {
            let mut held = held()?;
            held.create_dirs(dir, &mut self.dirs).map_err(io)?;
            held.create_file(&tmp).map_err(io)?
        };
        self.files.push((tmp, path.to_path_buf()));
        fill(f).map_err(io)?;
        Ok(())
    }

    /// The temporary files written so far (for whoever must clean up after an interruption).
    pub fn temp_paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(t, _)| t.as_path())
    }

    /// Waits until every output is on the disk, then moves them into place. Destinations that
    /// appeared meanwhile are refused (unless `force`) before anything moves; should a move
    /// fail, the outputs already moved are taken back and what they replaced is put back.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let temps: Vec<&Path> = self.temp_paths().collect();
        durable::sync_all(&temps).map_err(|(path, source)| OutputError::Io { path, source })?;
        // An interruption waits until every output is in place, or none.
        let mut held = held()?;
        if !self.force {
            if let Some((_, dest)) = self
                .files
                .iter()
                .find(|(_, d)| fs::symlink_metadata(d).is_ok())
            {
                return Err(OutputError::Exists(dest.clone()));
            }
        }
        // (output index, where the file it replaces was moved)
        let mut moved: Vec<(usize, Option<PathBuf>)> = Vec::with_capacity(self.files.len());
        let mut failed = None;
        for (k, (tmp, dest)) in self.files.iter().enumerate() {
            // A file being replaced is moved aside, to be put back should a later move fail
            // (a folder is never moved: the move into its place fails).
            let aside = match self.force.then(|| fs::symlink_metadata(dest)) {
                Some(Ok(m)) if !m.is_dir() => {
                    let aside = aside_path(dest);
                    if let Err(e) = fs::rename(dest, &aside) {
                        failed = Some((dest, e));
                        break;
                    }
                    Some(aside)
                }
                _ => None,
            };
            if let Err(e) = fs::rename(tmp, dest) {
                if let Some(aside) = &aside {
                    let _ = fs::rename(aside, dest);
                }
                failed = Some((dest, e));
                break;
            }
            moved.push((k, aside));
        }
        if let Some((path, source)) = failed {
            let path = path.clone();
            for (k, aside) in moved.into_iter().rev() {
                let dest = &self.files[k].1;
                let _ = match aside {
                    Some(aside) => fs::rename(aside, dest),
                    None => fs::remove_file(dest),
                };
            }
            drop(held);
            return Err(OutputError::Io { path, source }); // the rest goes when dropped
        }
        for (_, aside) in moved {
            if let Some(aside) = aside {
                let _ = fs::remove_file(aside);
            }
        }
        for (tmp, _) in &self.files {
            held.forget(tmp);
        }
        for d in &self.dirs {
            held.forget(d);
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
            pending::forget(tmp);
        }
        remove_dirs(&self.dirs);
    }
}

/// Refuses to write over `path` when it is a folder, or exists and `force` is not given.
pub(super) fn refuse_over(path: &Path, force: bool) -> Result<(), OutputError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => Err(OutputError::IsFolder(path.to_path_buf())),
        Ok(_) if !force => Err(OutputError::Exists(path.to_path_buf())),
        _ => Ok(()),
    }
}

/// The registry of what is being written, held; [`OutputError::Interrupted`] once abandoned.
pub(super) fn held() -> Result<pending::Held, OutputError> {
    pending::hold().map_err(|_| OutputError::Interrupted)
}

/// Removes the folders made for outputs (`made`, outermost first), innermost first, each only
/// if empty.
pub(super) fn remove_dirs(made: &[PathBuf]) {
    for d in made.iter().rev() {
        let _ = fs::remove_dir(d);
        pending::forget(d);
    }
}
