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
/// ended. Those of running processes (another run writing there) are left alone, and so is
/// everything where it cannot be told whether the process still runs. Errors are ignored: this
/// is tidying, not the output.
pub(crate) fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = temp_owner(&entry.file_name()) else {
            continue;
        };
        if pid == std::process::id() || !has_ended(pid) {
            continue;
        }
        let path = entry.path();
        let _ = match entry.file_type() {
            Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
            _ => std::fs::remove_file(&path),
        };
    }
}

/// `true` when no process `pid` runs (signal 0 answers "no such process").
#[cfg(any(target_os = "linux", target_os = "android"))]
fn has_ended(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
}

/// Elsewhere it cannot be told: nothing is removed (the leftovers are still never inputs).
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn has_ended(_: u32) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ended_processes_leftovers_are_removed() {
        let dir = std::env::temp_dir().join(format!("snr-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mine = format!(".a.xml{MARK}{}.tmp", std::process::id());
        std::fs::write(dir.join(&mine), "x").unwrap();
        std::fs::write(dir.join("keep.xml"), "x").unwrap();
        remove_stale(&dir);
        assert!(dir.join(&mine).exists() && dir.join("keep.xml").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
