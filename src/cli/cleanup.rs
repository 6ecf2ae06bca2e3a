//! Interruptions leave nothing partial behind: Ctrl-C, SIGTERM and SIGHUP (CI cancellation,
//! `timeout`, `docker stop`) remove what is being written (the library keeps the list:
//! [`sn_retarget::io::abandon_outputs`]) and end the process with exit code 130. A file-size
//! limit (`ulimit -f`) makes writes fail with "File too large" instead of ending the process.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a handler runs: the process ends through it (exit 130).
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handlers (once, at start).
pub fn install() {
    ignore_file_size_signal();
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        sn_retarget::io::abandon_outputs();
        say!("sn-retarget: interrupted; nothing was left behind");
        std::process::exit(130);
    });
}

/// Waits for the handler to end the process when one runs, so that an interrupted run ends with
/// its exit code (130), not with the error its writes met once the outputs were abandoned.
pub fn wait_if_interrupted() {
    if INTERRUPTED.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

/// SIGXFSZ ignored: a write past `RLIMIT_FSIZE` then fails with EFBIG, reported like a full disk,
/// and the outputs are cleaned up (its default action ends the process on the spot). Not with
/// the `portable-io` feature, which builds what systems without the signal run.
#[cfg(all(unix, not(feature = "portable-io")))]
fn ignore_file_size_signal() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: `signal` is unsafe for the handler code it installs, which must be
    // async-signal-safe; "ignore" runs no code.
    let _ = unsafe { signal(Signal::SIGXFSZ, SigHandler::SigIgn) };
}

#[cfg(not(all(unix, not(feature = "portable-io"))))]
fn ignore_file_size_signal() {}
