//! The names of what this tool writes before an output is in place, and the clean-up of those a
//! killed run left behind.
//!
//! An output `dir/name` is written as `dir/.name.sn-retarget-PID.tmp` (a file, or a bundle's
//! staging folder), then moved into place; an output it replaces is first moved aside to
//! `dir/.name.sn-retarget-PID.old`. Such names are never read as inputs ([`temp_owner`]), and a
//! run that writes into `dir` first removes those of processes that have ended
//! ([`remove_stale`]): what a run killed past any handler (SIGKILL, a power cut) left.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Between an output's name and the process id in its temporary names.
const MARK: &str = ".sn-retarget-";

/// The temporary path an output `path` is written through (beside it, named after it and this
/// process), for whoever must clean up after an interruption.
///
/// ```
/// use std::path::Path;
/// use sn_retarget::io::{temp_owner, temp_path};
/// let tmp = temp_path(Path::new("out/a.xml"));
/// assert_eq!(tmp, Path::new("out").join(format!(".a.xml.sn-retarget-{}.tmp", std::process::id())));
/// assert_eq!(temp_owner(tmp.file_name().unwrap()), Some(std::process::id()));
/// ```
pub fn temp_path(path: &Path) -> PathBuf {
    beside(path, "tmp")
}

/// Where an output `path` that is being replaced is moved aside until its replacement is in
/// place (then removed): `.name.sn-retarget-PID.old` beside it.
pub fn aside_path(path: &Path) -> PathBuf {
    beside(path, "old")
}

fn beside(path: &Path, ext: &str) -> PathBuf {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy());
    dir.join(format!(".{name}{MARK}{}.{ext}", std::process::id()))
}

/// The process that made `name`, when it is one of this tool's temporary names
/// (`.NAME.sn-retarget-PID.tmp` or `.old`); such files and folders are never inputs.
///
/// ```
/// use sn_retarget::io::temp_owner;
/// assert_eq!(temp_owner(".bundle.sn-retarget-4242.tmp".as_ref()), Some(4242));
/// assert_eq!(temp_owner(".a.xml.sn-retarget-7.old".as_ref()), Some(7));
/// assert_eq!(temp_owner("a.xml.sn-retarget-7.old".as_ref()), None); // not hidden
/// assert_eq!(temp_owner(".a.xml.sn-retarget-7x.tmp".as_ref()), None);
/// assert_eq!(temp_owner(".a.xml".as_ref()), None);
/// ```
pub fn temp_owner(name: &OsStr) -> Option<u32> {
    let name = name.to_str()?;
    let rest = name.strip_prefix('.')?;
    let rest = rest
        .strip_suffix(".tmp")
        .or_else(|| rest.strip_suffix(".old"))?;
    let at = rest.rfind(MARK)?;
    let pid = &rest[at + MARK.len()..];
    if at == 0 || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes from `dir` (not below it) this tool's temporary files and folders whose process has
/// ended (or is this one, which is not writing them: a process that had this id before). Those
/// of running processes (another run writing there) are left alone, and so is everything where
/// it cannot be told whether the process still runs. Errors are ignored: this is tidying, not
/// the output.
pub(crate) fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    // Names of this process's id: left by a process that had it before, unless being written.
    let mut own = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = temp_owner(&entry.file_name()) else {
            continue;
        };
        if pid == std::process::id() {
            own.push(entry.path());
        } else if super::sys::has_ended(pid) {
            super::pending::remove_tree(&entry.path());
        }
    }
    if !own.is_empty() {
        super::pending::remove_unless_writing(&own);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_this_process_writes_is_not_stale_but_its_id_left_by_another_is() {
        let dir = std::env::temp_dir().join(format!("snr-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let writing = temp_path(&dir.join("a.xml"));
        let left = temp_path(&dir.join("b.xml"));
        let _file = super::super::pending::hold()
            .unwrap()
            .create_file(&writing)
            .unwrap();
        std::fs::write(&left, "x").unwrap();
        std::fs::write(dir.join("keep.xml"), "x").unwrap();
        remove_stale(&dir);
        assert!(writing.exists() && dir.join("keep.xml").exists());
        assert!(!left.exists());
        super::super::pending::forget(&writing);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
