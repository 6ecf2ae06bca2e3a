//! Ctrl-C leaves nothing partial behind: paths being written are registered here and removed
//! by the interrupt handler before the process exits.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the Ctrl-C handler (once, at start).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let pending = PENDING.lock().map(|p| p.clone()).unwrap_or_default();
        for p in pending {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            } else {
                let _ = std::fs::remove_file(&p);
            }
        }
        eprintln!("sn-retarget: interrupted; nothing was left behind");
        std::process::exit(130);
    });
}

/// Registers `path` as being written until the guard is dropped.
pub struct Pending(PathBuf);

impl Pending {
    pub fn new(path: &Path) -> Pending {
        if let Ok(mut p) = PENDING.lock() {
            p.push(path.to_path_buf());
        }
        Pending(path.to_path_buf())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Ok(mut p) = PENDING.lock() {
            p.retain(|x| x != &self.0);
        }
    }
}
