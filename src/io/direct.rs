//! Large outputs written past the page cache.
//!
//! A 200 MB output written the usual way is first copied into 200 MB of page cache, then
//! written to the disk from there (the final `fsync` waits for it anyway). On the project's
//! virtual machine that copy is what makes identity runs slow half the time: `perf` caught
//! 52% of a slow run in `copy_folio_from_iter_atomic`, filling pages the host had taken back.
//! [`write_direct`] opens the file for direct I/O (`O_DIRECT` on Linux) and hands the disk
//! aligned 2 MB chunks from a few recycled buffers, several in flight at once. The few bytes
//! that cannot go that way (the unaligned start and end of each writer's range) are written
//! through the page cache once the chunks are on the disk. Where direct I/O is refused (tmpfs,
//! other systems), every chunk is written the usual way: same bytes, same API.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Bytes per chunk handed to the disk.
const CHUNK: usize = 2 << 20;
/// Chunks in flight at once (one writing thread each).
const WRITERS: usize = 3;
/// Alignment of direct I/O offsets, lengths and buffers (the page size; any block size up to
/// it divides it).
const ALIGN: usize = 4096;
/// Buffers made before producers wait for one to come back (each producer holds one).
const BUFFERS: usize = WRITERS + 4;

/// Writes `file` through `produce`, which makes one [`Direct::at`] writer per range it fills
/// (from as many threads as it likes). Returns what `produce` returns once every byte is in
/// the file (not necessarily flushed to the disk: `fsync` as usual), or the first error of
/// `produce` or of a write.
///
/// ```
/// # let path = std::env::temp_dir().join(format!("snr-direct-{}.xml", std::process::id()));
/// use std::io::Write;
/// let file = std::fs::File::create(&path).unwrap();
/// let body = vec![b'x'; 5 << 20];
/// sn_retarget::io::write_direct(&file, |d| {
///     std::thread::scope(|s| {
///         s.spawn(|| d.at(8).write_all(&body));
///         d.at(0).write_all(b"<unload>")?;
///         d.at(8 + body.len() as u64).write_all(b"</unload>")
///     })
/// })
/// .unwrap();
/// let written = std::fs::read(&path).unwrap();
/// assert_eq!(written.len(), 8 + body.len() + 9);
/// assert!(written.starts_with(b"<unload>xxx") && written.ends_with(b"xxx</unload>"));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_direct<T>(
    file: &File,
    produce: impl FnOnce(&Direct) -> io::Result<T>,
) -> io::Result<T> {
    let direct = super::sys::set_direct(file, true);
    let (to_disk, chunks) = sync_channel::<(Chunk, u64)>(WRITERS);
    let (give_back, spare) = sync_channel::<Chunk>(BUFFERS);
    let chunks = Arc::new(Mutex::new(chunks));
    let shared = Direct {
        to_disk,
        spare: Mutex::new((spare, 0)),
        seams: Mutex::new(Vec::new()),
    };
    let (produced, written) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let chunks = Arc::clone(&chunks);
                let give_back = give_back.clone();
                s.spawn(move || write_chunks(file, &chunks, &give_back))
            })
            .collect();
        drop((chunks, give_back));
        let produced = produce(&shared);
        // No more chunks: the writers end once the queue is empty.
        let Direct { to_disk, seams, .. } = shared;
        drop(to_disk);
        let written = writers.into_iter().try_for_each(|w| {
            w.join()
                .unwrap_or_else(|_| Err(io::Error::other("a writing thread failed")))
        });
        (produced, written.map(|()| seams))
    });
    // A write error first: the producer's is then most likely that the writers stopped.
    let seams = written?.into_inner().unwrap_or_else(|e| e.into_inner());
    let produced = produced?;
    if direct {
        super::sys::set_direct(file, false);
    }
    for (offset, bytes) in seams {
        write_all_at(file, &bytes, offset)?;
    }
    Ok(produced)
}

/// The chunks' queue to the disk, shared by the range writers of one [`write_direct`].
#[derive(Debug)]
pub struct Direct {
    to_disk: SyncSender<(Chunk, u64)>,
    /// Buffers back from the disk, and how many were made.
    spare: Mutex<(Receiver<Chunk>, usize)>,
    /// Bytes outside whole aligned blocks, written last: (offset, bytes).
    seams: Mutex<Vec<(u64, Vec<u8>)>>,
}

impl Direct {
    /// A writer of the file's bytes from `offset` on. Ranges of different writers must not
    /// overlap. What a writer holds when dropped is written by the end of [`write_direct`].
    /// Each writer holds one buffer while it fills it and a few are shared, so a thread should
    /// fill its writers one after another, not several at once.
    pub fn at(&self, offset: u64) -> DirectAt<'_> {
        DirectAt {
            shared: self,
            offset,
            chunk: None,
        }
    }

    fn buffer(&self) -> io::Result<Chunk> {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(chunk) = spare.0.try_recv() {
            return Ok(chunk);
        }
        if spare.1 < BUFFERS {
            spare.1 += 1;
            return Ok(Chunk::new());
        }
        spare.0.recv().map_err(|_| stopped())
    }

    fn seam(&self, offset: u64, bytes: &[u8]) {
        if !bytes.is_empty() {
            let mut seams = self.seams.lock().unwrap_or_else(|e| e.into_inner());
            seams.push((offset, bytes.to_vec()));
        }
    }
}

/// Writes a range of the file for [`write_direct`]: the bytes from its offset on.
#[derive(Debug)]
pub struct DirectAt<'d> {
    shared: &'d Direct,
    /// Offset of the next byte written.
    offset: u64,
    /// The chunk being filled and the offset of its first byte (aligned).
    chunk: Option<(Chunk, u64)>,
}

impl Write for DirectAt<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let Some((chunk, start)) = &mut self.chunk else {
            // Up to the first aligned offset: a seam.
            let misalign = (self.offset % ALIGN as u64) as usize;
            if misalign != 0 {
                let n = buf.len().min(ALIGN - misalign);
                self.shared.seam(self.offset, &buf[..n]);
                self.offset += n as u64;
                return Ok(n);
            }
            self.chunk = Some((self.shared.buffer()?, self.offset));
            return self.write(buf);
        };
        let n = chunk.push(buf);
        self.offset += n as u64;
        if chunk.is_full() {
            let start = *start;
            let (chunk, _) = self.chunk.take().expect("a chunk is being filled");
            self.shared
                .to_disk
                .send((chunk, start))
                .map_err(|_| stopped())?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for DirectAt<'_> {
    /// The whole blocks of the last chunk go to the disk; the rest is a seam.
    fn drop(&mut self) {
        let Some((mut chunk, start)) = self.chunk.take() else {
            return;
        };
        let whole = chunk.len / ALIGN * ALIGN;
        self.shared
            .seam(start + whole as u64, &chunk.bytes()[whole..]);
        chunk.len = whole;
        if whole > 0 {
            // Should the writers have stopped, their error is the one reported.
            let _ = self.shared.to_disk.send((chunk, start));
        }
    }
}

/// An aligned buffer of [`CHUNK`] bytes (a little more is allocated, to align its start).
#[derive(Debug)]
struct Chunk {
    buf: Vec<u8>,
    /// Where the aligned bytes start in `buf`.
    at: usize,
    len: usize,
}

impl Chunk {
    fn new() -> Chunk {
        let buf = vec![0; CHUNK + ALIGN];
        let at = buf.as_ptr().align_offset(ALIGN).min(ALIGN);
        Chunk { buf, at, len: 0 }
    }

    fn push(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(CHUNK - self.len);
        let to = self.at + self.len;
        self.buf[to..to + n].copy_from_slice(&bytes[..n]);
        self.len += n;
        n
    }

    fn is_full(&self) -> bool {
        self.len == CHUNK
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[self.at..self.at + self.len]
    }
}

/// A writing thread: chunks from the queue to their offsets, each buffer given back emptied.
fn write_chunks(
    file: &File,
    chunks: &Mutex<Receiver<(Chunk, u64)>>,
    give_back: &SyncSender<Chunk>,
) -> io::Result<()> {
    loop {
        let next = chunks.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok((mut chunk, offset)) = next else {
            return Ok(());
        };
        match write_all_at(file, chunk.bytes(), offset) {
            // Direct I/O refused after all (an alignment the device does not take): the usual
            // way, for this chunk and the rest (another writer may have turned it off already).
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
                super::sys::set_direct(file, false);
                write_all_at(file, chunk.bytes(), offset)?
            }
            written => written?,
        }
        chunk.len = 0;
        let _ = give_back.try_send(chunk);
    }
}

fn stopped() -> io::Error {
    io::Error::other("the output's writers stopped")
}

fn write_all_at(file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    #[cfg(unix)]
    return std::os::unix::fs::FileExt::write_all_at(file, bytes, offset);
    #[cfg(windows)]
    {
        let mut w = super::WriteAt::new(file, offset);
        w.write_all(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("snr-direct-{name}-{}", std::process::id()))
    }

    /// Ranges of every alignment, written in pieces of every size, from several threads, in
    /// the directory the tests run in (a real disk, where direct I/O is taken) and in the
    /// temporary one.
    #[test]
    fn ranges_written_apart_make_the_whole_file() {
        let whole: Vec<u8> = (0..(9 << 20) + 123).map(|i: u32| (i % 251) as u8).collect();
        let cuts = [0, 1, 4095, 4096, 4097, 3 << 20, (5 << 20) + 7, whole.len()];
        let whole = &whole;
        for dir in [std::path::PathBuf::from("target"), std::env::temp_dir()] {
            let path = dir.join(format!("snr-direct-{}", std::process::id()));
            let file = File::create(&path).unwrap();
            write_direct(&file, |d| {
                std::thread::scope(|s| {
                    let ranges: Vec<_> = (cuts.windows(2).enumerate())
                        .map(|(k, w)| {
                            s.spawn(move || {
                                let mut at = d.at(w[0] as u64);
                                for piece in whole[w[0]..w[1]].chunks(1 + k * 100_003) {
                                    at.write_all(piece)?;
                                }
                                io::Result::Ok(())
                            })
                        })
                        .collect();
                    ranges.into_iter().try_for_each(|r| r.join().unwrap())
                })
            })
            .unwrap();
            drop(file);
            assert!(
                std::fs::read(&path).unwrap() == *whole,
                "in {}",
                dir.display()
            );
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn an_error_of_the_producer_is_returned() {
        let path = temp("err");
        let file = File::create(&path).unwrap();
        let got = write_direct(&file, |d| -> io::Result<()> {
            d.at(0).write_all(&[1; 10_000])?;
            Err(io::Error::other("stop"))
        });
        assert_eq!(got.unwrap_err().to_string(), "stop");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_write_error_is_returned() {
        let path = temp("ro");
        std::fs::write(&path, b"").unwrap();
        let file = File::open(&path).unwrap(); // read-only: every write fails
        let got = write_direct(&file, |d| d.at(0).write_all(&vec![1; 9 << 20]));
        assert!(got.is_err());
        std::fs::remove_file(&path).unwrap();
    }
}
