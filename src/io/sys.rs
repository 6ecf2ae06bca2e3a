//! The calls the standard library lacks, each with a fallback made of the standard library
//! alone.
//!
//! On Linux and Android, [`rustix`] gives five of them (and `memmap2` a sixth, mapping a large
//! input into memory instead of copying it): starting an output's writeback early
//! (`posix_fadvise`), one flush per filesystem for a folder of outputs (`syncfs`), writes past
//! the page cache (`O_DIRECT`), whether a process still runs (`kill` with signal 0), and opening
//! a file without waiting on a FIFO put in its place (`O_NONBLOCK`). Everywhere else, and on
//! Linux when the `portable-io` feature is on (CI builds, lints and tests that way, so the
//! fallbacks cannot rot unseen), the fallbacks run: no early writeback, an `fsync` per file,
//! the page cache, "cannot tell" (nothing is removed), and a look at the path before opening
//! it. The outputs are the same bytes either way, as safely on the disk.

pub(crate) use imp::*;

#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-io")
))]
mod imp {
    use std::fs::{File, OpenOptions};
    use std::path::{Path, PathBuf};
    use std::sync::OnceLock;

    /// Asks the kernel to start writing `len` bytes of `file` from `offset` (all of it when
    /// `len` is 0) to the disk, without waiting. Linux has no safe `sync_file_range` wrapper;
    /// `posix_fadvise(DONTNEED)` starts the same asynchronous writeback of the range's dirty
    /// pages (PostgreSQL's `pg_flush_data` falls back on it likewise) and drops nothing that is
    /// not yet on the disk. A hint only: errors are ignored, and the final `fsync` reports any
    /// write error.
    pub(crate) fn start_writeback(file: &File, offset: u64, len: u64) {
        let _ = rustix::fs::fadvise(
            file,
            offset,
            std::num::NonZeroU64::new(len),
            rustix::fs::Advice::DontNeed,
        );
    }

    /// Flushes the filesystems holding `files` with one `syncfs` each, or `None` when this
    /// kernel's `syncfs` would not report a write error (before Linux 5.8): the caller then
    /// `fsync`s each file.
    pub(crate) fn sync_filesystems(
        files: &[&Path],
    ) -> Option<Result<(), (PathBuf, std::io::Error)>> {
        if !syncfs_reports_errors() {
            return None;
        }
        Some(syncfs_each(files))
    }

    fn syncfs_each(files: &[&Path]) -> Result<(), (PathBuf, std::io::Error)> {
        use std::os::unix::fs::MetadataExt;
        let folders: std::collections::BTreeSet<&Path> = files
            .iter()
            .map(|p| {
                p.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
            })
            .collect();
        let mut devices = std::collections::BTreeSet::new();
        for dir in folders {
            let with = |e| (dir.to_path_buf(), e);
            let d = File::open(dir).map_err(with)?;
            if devices.insert(d.metadata().map_err(with)?.dev()) {
                rustix::fs::syncfs(&d).map_err(|e| with(e.into()))?;
            }
        }
        Ok(())
    }

    /// `syncfs` reports the write errors of the filesystem's files since Linux 5.8 (commit
    /// 735e4ae5ba28, "vfs: track per-sb writeback errors and report them to syncfs"); before,
    /// it returned 0 whatever happened. Read once from the running kernel's release.
    fn syncfs_reports_errors() -> bool {
        static REPORTS: OnceLock<bool> = OnceLock::new();
        *REPORTS.get_or_init(|| {
            let uname = rustix::system::uname();
            let release = uname.release().to_string_lossy();
            super::release_at_least(&release, (5, 8))
        })
    }

    /// A file mapped read-only into memory (see [`super::Mapped`]).
    pub(crate) type Map = memmap2::Mmap;

    /// `file` mapped read-only into memory, or `None` when it cannot be.
    pub(crate) fn map(file: &File) -> Option<Map> {
        // SAFETY: the map is read-only and private, owned by the `Mapped` that holds it, and
        // only read. Another program changing the file while it is mapped would change the
        // bytes under the reader: `Mapped::unchanged` finds that before anything is written
        // from them.
        #[allow(unsafe_code)]
        unsafe { memmap2::MmapOptions::new().map(file) }.ok()
    }

    /// Turns direct I/O (`O_DIRECT`) on or off for `file`; whether it changed.
    pub(crate) fn set_direct(file: &File, on: bool) -> bool {
        use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
        let Ok(flags) = fcntl_getfl(file) else {
            return false;
        };
        if flags.contains(OFlags::DIRECT) == on {
            return false;
        }
        let flags = if on {
            flags | OFlags::DIRECT
        } else {
            flags - OFlags::DIRECT
        };
        fcntl_setfl(file, flags).is_ok()
    }

    /// `true` when no process `pid` runs (signal 0 answers "no such process").
    pub(crate) fn has_ended(pid: u32) -> bool {
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
    }

    /// Makes `options` open without waiting (`O_NONBLOCK`: a FIFO opens at once, to be refused
    /// as not a file); `true`, as it is done.
    pub(crate) fn open_without_waiting(options: &mut OpenOptions) -> bool {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
        true
    }
}

#[cfg(not(all(
    any(target_os = "linux", target_os = "android"),
    not(feature = "portable-io")
)))]
mod imp {
    use std::fs::{File, OpenOptions};
    use std::path::{Path, PathBuf};

    /// No early writeback: the final `fsync` writes everything.
    pub(crate) fn start_writeback(_: &File, _: u64, _: u64) {}

    /// No `syncfs`: the caller `fsync`s each file.
    pub(crate) fn sync_filesystems(_: &[&Path]) -> Option<Result<(), (PathBuf, std::io::Error)>> {
        None
    }

    /// Nothing is mapped: no value of this type exists.
    pub(crate) enum Map {}

    impl std::ops::Deref for Map {
        type Target = [u8];
        fn deref(&self) -> &[u8] {
            match *self {}
        }
    }

    /// No mapping: every file is read.
    pub(crate) fn map(_: &File) -> Option<Map> {
        None
    }

    /// No direct I/O: every chunk goes through the page cache.
    pub(crate) fn set_direct(_: &File, _: bool) -> bool {
        false
    }

    /// It cannot be told: nothing is removed (the leftovers are still never inputs).
    pub(crate) fn has_ended(_: u32) -> bool {
        false
    }

    /// Cannot open without waiting: the caller looks at the path first.
    pub(crate) fn open_without_waiting(_: &mut OpenOptions) -> bool {
        false
    }
}

/// `true` when the kernel release `release` (`6.18.0-1-amd64`, `5.4.0`) is at least `min`
/// (major, minor); `false` when it cannot be read.
#[cfg_attr(
    not(all(
        any(target_os = "linux", target_os = "android"),
        not(feature = "portable-io")
    )),
    allow(dead_code)
)]
fn release_at_least(release: &str, min: (u32, u32)) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let mut number = || parts.next().and_then(|p| p.parse::<u32>().ok());
    match (number(), number()) {
        (Some(major), Some(minor)) => (major, minor) >= min,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::release_at_least;

    #[test]
    fn kernel_releases_from_5_8_on_count_as_reporting_syncfs_errors() {
        assert!(release_at_least("5.8.0", (5, 8)));
        assert!(release_at_least("6.18.0-1-amd64", (5, 8)));
        assert!(release_at_least("5.10.0-28-cloud-amd64", (5, 8)));
        assert!(!release_at_least("5.7.19", (5, 8)));
        assert!(!release_at_least("4.19.0-26-amd64", (5, 8)));
        assert!(!release_at_least("", (5, 8)));
        assert!(!release_at_least("garbage", (5, 8)));
    }
}
