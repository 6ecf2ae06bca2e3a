//! Getting outputs onto the disk without waiting longer than needed.
//!
//! An output is only moved into place once it is on the disk (see [`super::Staged`]). Two
//! things keep that wait short:
//! - [`WriteAt`] asks the kernel to start writing each 8 MB of a large output to the disk as
//!   soon as it is written, so the disk works while the rest is produced and the final
//!   `fsync` has only the tail left. The pages of what it handed to writeback two steps
//!   earlier, on the disk by then, are dropped from the page cache and reused for the next
//!   steps: a large output passes through some 24 MB of page cache instead of taking its
//!   whole size in fresh memory.
//!   Small outputs start their writeback when flushed, so the one flush that ends a batch
//!   finds them on the disk already.
//!   A large copy made a piece at a time goes past the page cache instead
//!   ([`super::write_direct`]).
//! - [`sync_all`] flushes many closed files at once: one `syncfs` per filesystem on Linux
//!   (5.8 and later) instead of one `fsync` (one journal commit) per file.

use std::fs::File;
use std::path::{Path, PathBuf};

/// Bytes written between two requests to start writeback.
const WRITEBACK_STEP: u64 = 8 << 20;

/// Writes to `file` from an offset on (positioned writes, so several can write one file at
/// once), starts the writeback of every 8 MB written (and of the rest when flushed), and drops
/// from the page cache what it handed to writeback two steps before (only pages already on the
/// disk are dropped).
///
/// ```
/// # let path = std::env::temp_dir().join(format!("snr-write-at-{}.xml", std::process::id()));
/// use std::io::Write;
/// use sn_retarget::io::WriteAt;
/// let file = std::fs::File::create(&path).unwrap();
/// WriteAt::new(&file, 8).write_all(b"</unload>").unwrap();
/// WriteAt::new(&file, 0).write_all(b"<unload>").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"<unload></unload>");
/// # std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug)]
pub struct WriteAt<'f> {
    file: &'f File,
    offset: u64,
    /// Start of what has been written and not yet handed to writeback.
    unflushed: u64,
    /// Where this writer started.
    start: u64,
}

impl<'f> WriteAt<'f> {
    /// A writer into `file` from `offset` on.
    pub fn new(file: &'f File, offset: u64) -> WriteAt<'f> {
        WriteAt {
            file,
            offset,
            unflushed: offset,
            start: offset,
        }
    }
}

impl std::io::Write for WriteAt<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // At most a step at a time, so that writeback starts as the bytes go out.
        let buf = &buf[..buf.len().min(WRITEBACK_STEP as usize)];
        let n = write_at(self.file, buf, self.offset)?;
        self.offset += n as u64;
        if self.offset - self.unflushed >= WRITEBACK_STEP {
            super::sys::start_writeback(self.file, self.unflushed, self.offset - self.unflushed);
            // What was handed to writeback two steps ago is on the disk by now, mostly: its
            // pages are dropped (only clean ones are), to be reused for the next steps.
            let done = self.unflushed.checked_sub(2 * WRITEBACK_STEP);
            if let Some(done) = done.filter(|&d| d >= self.start) {
                super::sys::start_writeback(self.file, done, WRITEBACK_STEP);
            }
            self.unflushed = self.offset;
        }
        Ok(n)
    }

    /// Starts the writeback of what was written since the last step (a small file's whole
    /// content), so that the flush ending a batch finds it on the disk already.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.offset > self.unflushed {
            super::sys::start_writeback(self.file, self.unflushed, self.offset - self.unflushed);
            self.unflushed = self.offset;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::write_at(file, buf, offset)
}

#[cfg(windows)]
fn write_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_write(file, buf, offset)
}

/// Asks the kernel to start writing all of `file` to the disk, without waiting: called on each
/// of many small files as it is written, the flush that ends a batch ([`sync_all`]) finds most
/// of them on the disk already instead of waiting for all of them. A hint only (see
/// [`WriteAt`]); a no-op where it is not supported.
///
/// ```
/// let path = std::env::temp_dir().join(format!("sn-retarget-doc-wb-{}", std::process::id()));
/// std::fs::write(&path, b"<unload/>").unwrap();
/// sn_retarget::io::start_writeback(&std::fs::File::open(&path).unwrap());
/// sn_retarget::io::sync_all(&[path.as_path()]).unwrap();
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn start_writeback(file: &File) {
    super::sys::start_writeback(file, 0, 0);
}

/// Flushes `files` (written and closed) to the disk. A few are `fsync`ed one by one; more, on
/// Linux from 5.8 on, by one `syncfs` per filesystem holding them (one journal commit instead
/// of one per file, which also flushes whatever else that filesystem has waiting; before 5.8,
/// `syncfs` did not report write errors, so each file is `fsync`ed). On error, the path whose
/// flush failed and why.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("snr-sync-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// let paths: Vec<_> = (0..20).map(|i| dir.join(format!("{i}.xml"))).collect();
/// for p in &paths {
///     std::fs::write(p, b"<unload/>").unwrap();
/// }
/// let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
/// sn_retarget::io::sync_all(&refs).unwrap();
/// assert!(sn_retarget::io::sync_all(&[dir.join("absent").as_path()]).is_err());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn sync_all(files: &[&Path]) -> Result<(), (PathBuf, std::io::Error)> {
    /// Up to this many files, an `fsync` each.
    const FEW: usize = 8;
    if files.len() > FEW {
        if let Some(synced) = super::sys::sync_filesystems(files) {
            return synced;
        }
    }
    for path in files {
        let with = |e| (path.to_path_buf(), e);
        let f = std::fs::OpenOptions::new()
            .read(cfg!(unix))
            .write(!cfg!(unix))
            .open(path)
            .map_err(with)?;
        f.sync_all().map_err(with)?;
    }
    Ok(())
}
