//! Running the `sn-retarget` binary and judging how it ended: [`cli`] makes a command,
//! [`run`] runs it to a [`Run`], whose checks say the run was sane (no panic, no signal, no
//! secret shown) or refused (exit 2, naming what it must), and [`refused_in`] also checks that
//! nothing under a folder changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A ciphertext secret (`)pR#` shape) and a plaintext password; neither may ever be shown.
pub const CIPHER: &str = ")pR#c2VjcmV0c2VjcmV0";
pub const PLAIN: &str = "hunter2-PLAINTEXT-PW";

/// The `sn-retarget` binary.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sn-retarget"))
}

/// `sn-retarget` with `args` (paths given as `&OsStr`-able pieces).
pub fn cli<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut c = bin();
    c.args(args);
    c
}

/// `sn-retarget` with `args` (words and paths alike: `sn(&[&"inspect", &path])`), run to its
/// end.
pub fn sn(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Run {
    run(&mut cli(args))
}

/// What a child process did.
#[derive(Debug)]
pub struct Run {
    /// The command, for messages.
    pub what: String,
    pub code: Option<i32>,
    /// The signal that ended it (Unix).
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to its end.
pub fn run(cmd: &mut Command) -> Run {
    let what = format!("{cmd:?}");
    let out = cmd.output().unwrap();
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&out.status);
    #[cfg(not(unix))]
    let signal = None;
    Run {
        what,
        code: out.status.code(),
        signal,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    /// Standard output and error together.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Standard output, parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}):\n{}", self.what, self.all()))
    }

    /// Never a panic, never a signal, no secret in what it printed.
    pub fn sane(&self) -> &Self {
        assert!(
            self.signal.is_none() && self.code.is_some_and(|c| [0, 1, 2].contains(&c)),
            "{}: died or odd exit ({:?}, signal {:?})\n{}",
            self.what,
            self.code,
            self.signal,
            self.stderr
        );
        assert!(
            !self.stderr.contains("panicked"),
            "{}: {}",
            self.what,
            self.stderr
        );
        no_secret(&self.what, &self.stderr);
        self
    }

    /// Refused: exit 2, an error line naming every one of `names`.
    pub fn refused(&self, names: &[&str]) -> &Self {
        self.sane();
        assert_eq!(self.code, Some(2), "{}\n{}", self.what, self.stderr);
        assert!(
            self.stderr.contains("sn-retarget: error: "),
            "{}\n{}",
            self.what,
            self.stderr
        );
        for n in names {
            assert!(
                self.stderr.contains(n),
                "{}: the message does not name {n:?}\n{}",
                self.what,
                self.stderr
            );
        }
        self.says_causes_once()
    }

    /// Each error line says its system error once (`File too large (os error 27)`, not twice).
    fn says_causes_once(&self) -> &Self {
        for line in self.stderr.lines().filter(|l| l.contains("(os error ")) {
            assert_eq!(
                line.matches("(os error ").count(),
                1,
                "{}: cause repeated in {line:?}",
                self.what
            );
        }
        self
    }

    /// The error names `path` with a line and a column: `path:LINE:COL: `.
    pub fn at_position(&self, path: &Path) -> (usize, usize) {
        let p = format!("{}:", path.display());
        for (i, _) in self.stderr.match_indices(&p) {
            let rest = &self.stderr[i + p.len()..];
            let mut parts = rest.splitn(3, ':');
            let line = parts.next().and_then(|l| l.parse().ok());
            let col = parts.next().and_then(|c| c.parse().ok());
            if let (Some(l), Some(c)) = (line, col) {
                assert!(l >= 1 && c >= 1);
                return (l, c);
            }
        }
        panic!(
            "{}: no {}:LINE:COL in\n{}",
            self.what,
            path.display(),
            self.stderr
        );
    }
}

/// Neither [`CIPHER`] nor [`PLAIN`], nor a piece of them, in `text`.
pub fn no_secret(what: &str, text: &str) {
    for s in [CIPHER, PLAIN, "c2VjcmV0c2VjcmV0", "hunter2"] {
        assert!(!text.contains(s), "{what}: secret {s:?} shown\n{text}");
    }
}

/// Every file and folder under `dir` (hidden ones too), with the bytes of files.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.insert(p.clone(), None);
                walk(&p, out);
            } else if meta.is_file() {
                out.insert(p.clone(), Some(std::fs::read(&p).unwrap_or_default()));
            } else {
                out.insert(p, None);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}

/// Asserts `dir` is exactly as `before` (nothing new, nothing changed), naming what differs.
pub fn unchanged(what: &str, dir: &Path, before: &BTreeMap<PathBuf, Option<Vec<u8>>>) {
    let after = tree(dir);
    if &after != before {
        let new: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
        let gone: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
        let changed: Vec<_> = after
            .iter()
            .filter(|(k, v)| before.get(*k).is_some_and(|b| b != *v))
            .map(|(k, _)| k)
            .collect();
        panic!("{what}: left behind {new:?}, removed {gone:?}, changed {changed:?}");
    }
}

/// Runs `cmd` (which must leave `dir` untouched) and checks it was refused, naming `names`.
pub fn refused_in(dir: &Path, cmd: &mut Command, names: &[&str]) -> Run {
    let before = tree(dir);
    let r = run(cmd);
    r.refused(names);
    unchanged(&r.what, dir, &before);
    r
}

/// `apply` (dev12345 to acme) and `bundle` writing to `out`, `inspect` and `check`, on `inputs`.
pub fn every_command(inputs: &[&str], out: &Path) -> [Command; 4] {
    let mut apply = cli(["apply", "--target", "acme", "--source", "dev12345"]);
    apply.args(inputs).arg("--out").arg(out);
    let mut bundle = cli(["bundle", "--quiet", "--target", "acme"]);
    bundle.args(inputs).arg("--out").arg(out);
    let mut inspect = cli(["inspect"]);
    inspect.args(inputs);
    let mut check = cli(["check"]);
    check.args(inputs);
    [apply, bundle, inspect, check]
}

/// Runs the command with writes limited to `bytes` per file (RLIMIT_FSIZE) and SIGXFSZ set to
/// `on_signal` (`SIG_IGN`: a write past the limit fails with EFBIG, as on a full disk; or
/// `SIG_DFL`: what `ulimit -f` leaves, ending a process that does not handle it).
#[cfg(unix)]
pub fn limit_file_size(
    cmd: &mut Command,
    bytes: u64,
    on_signal: libc::sighandler_t,
) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec only async-signal-safe calls (signal, setrlimit).
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, on_signal);
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}
