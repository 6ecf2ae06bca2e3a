//! What this process is writing and has not yet moved into place: temporary files, staging
//! folders and the folders made for outputs. [`abandon_outputs`] takes them all away, for a
//! signal handler (Ctrl-C, SIGTERM, SIGHUP) that is about to end the process.
//!
//! Everything is created while the registry is held, and the moves that put outputs in place
//! happen while it is held too, so an interruption finds either nothing of a set of outputs in
//! place, or all of them: never a half-committed set, never a file created after the clean-up.

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

struct Registry {
    /// Temporary files.
    files: BTreeSet<PathBuf>,
    /// Staging folders, removed with everything in them.
    trees: BTreeSet<PathBuf>,
    /// Folders made for outputs, removed only if empty.
    dirs: BTreeSet<PathBuf>,
    /// Set by [`abandon_outputs`]: nothing is created or committed any more.
    abandoned: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    files: BTreeSet::new(),
    trees: BTreeSet::new(),
    dirs: BTreeSet::new(),
    abandoned: false,
});

fn lock() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The registry, held: creations and commits happen through it.
pub(crate) struct Held(MutexGuard<'static, Registry>);

/// Holds the registry (waiting for a commit in progress), or fails once the outputs have been
/// abandoned.
pub(crate) fn hold() -> std::io::Result<Held> {
    let g = lock();
    if g.abandoned {
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "interrupted",
        ));
    }
    Ok(Held(g))
}

impl Held {
    /// Creates the temporary file `path` (which must not exist), registered until forgotten.
    pub(crate) fn create_file(&mut self, path: &Path) -> std::io::Result<File> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        self.0.files.insert(path.to_path_buf());
        Ok(f)
    }

    /// Creates the folder `path`: a staging folder (`tree`: removed whole), or a folder made for
    /// outputs (removed if empty).
    pub(crate) fn create_dir(&mut self, path: &Path, tree: bool) -> std::io::Result<()> {
        std::fs::create_dir(path)?;
        match tree {
            true => self.0.trees.insert(path.to_path_buf()),
            false => self.0.dirs.insert(path.to_path_buf()),
        };
        Ok(())
    }

    /// Registers the staging folder or file `path` made by a rename (e.g. an old output moved
    /// aside), to be removed whole.
    pub(crate) fn adopt_tree(&mut self, path: &Path) {
        self.0.trees.insert(path.to_path_buf());
    }

    /// `path` is in place, or was removed: no longer to be removed on an interruption.
    pub(crate) fn forget(&mut self, path: &Path) {
        self.0.files.remove(path);
        self.0.trees.remove(path);
        self.0.dirs.remove(path);
    }

    /// Creates `dir` and its missing parents (like `fs::create_dir_all`), adding those it made
    /// to `made`, outermost first.
    pub(crate) fn create_dirs(
        &mut self,
        dir: &Path,
        made: &mut Vec<PathBuf>,
    ) -> std::io::Result<()> {
        let missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && std::fs::symlink_metadata(d).is_err())
            .map(Path::to_path_buf)
            .collect();
        for d in missing.into_iter().rev() {
            match self.create_dir(&d, false) {
                Ok(()) => made.push(d),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Removes every partial output of this process: temporary files, staging folders, and the
/// folders made for outputs (if empty). Waits for a commit in progress to end (the outputs it
/// moves are then whole and stay); from then on every write of this process through this module
/// fails. For a signal handler about to end the process.
///
/// ```no_run
/// // In a signal handler (here `ctrlc`'s, which runs on a thread of its own):
/// # fn set_handler(f: impl Fn()) {}
/// set_handler(|| {
///     sn_retarget::io::abandon_outputs();
///     eprintln!("interrupted; nothing was left behind");
///     std::process::exit(130);
/// });
/// ```
pub fn abandon_outputs() {
    let mut g = lock();
    g.abandoned = true;
    for f in std::mem::take(&mut g.files) {
        let _ = std::fs::remove_file(f);
    }
    for t in std::mem::take(&mut g.trees) {
        remove_tree(&t);
    }
    // Innermost first.
    let mut dirs: Vec<PathBuf> = std::mem::take(&mut g.dirs).into_iter().collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        let _ = std::fs::remove_dir(d);
    }
}

/// `path` is in place or removed: no longer to be removed on an interruption.
pub(crate) fn forget(path: &Path) {
    let mut g = lock();
    g.files.remove(path);
    g.trees.remove(path);
    g.dirs.remove(path);
}

/// Removes those of `paths` this process is not writing. A name is compared, not a path:
/// however a folder is spelled, what is being written is kept. (Under the registry, so that
/// nothing created meanwhile is taken for a leftover.)
pub(crate) fn remove_unless_writing(paths: &[PathBuf]) {
    let g = lock();
    let writing: HashSet<&OsStr> = g
        .files
        .iter()
        .chain(&g.trees)
        .chain(&g.dirs)
        .filter_map(|p| p.file_name())
        .collect();
    for p in paths {
        if p.file_name().is_some_and(|n| !writing.contains(n)) {
            remove_tree(p);
        }
    }
}

/// Removes `path` (a folder and what it holds, or a file), again while other threads are still
/// creating files in it, until it is gone (or cannot be removed).
pub(crate) fn remove_tree(path: &Path) {
    for _ in 0..1000 {
        let removed = match std::fs::symlink_metadata(path) {
            Err(_) => return,
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
        };
        match removed {
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => {}
            _ => return,
        }
    }
}
