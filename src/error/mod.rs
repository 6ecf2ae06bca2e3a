//! Why a job stopped, and where reading went wrong.
//!
//! Every job of the crate ([`crate::retarget`], [`crate::apply::Apply`], [`crate::bundle`],
//! [`crate::fork`], [`crate::check`]) fails with one [`Error`]: a small boxed value whose
//! [`ErrorKind`] says what happened, each kind carrying the typed error of the part that found
//! it (a [`ReadError`] with the file, line and column, a [`PlanError`], an I/O error with its
//! path...). Nothing is written when a job fails.
//!
//! Messages never quote field values: a value may be a secret. Only names (of files, tables,
//! columns, records), which are schema or chosen by people, appear in them.
//!
//! ```
//! use sn_retarget::{ErrorKind, Plan, retarget};
//! let broken = b"<unload><sys_script></unload>";
//! let e = retarget(broken, &Plan::default()).unwrap_err();
//! assert!(matches!(e.kind(), ErrorKind::Read(_)));
//! assert!(e.to_string().contains("1:"));
//! ```

#[cfg(feature = "io")]
mod destination;
mod read;

#[cfg(feature = "io")]
pub use destination::DestinationError;

pub use read::{
    Diagnostic, Location, Locator, PayloadFrame, Position, ReadError, Severity, Snippet,
    SyntaxError,
};

use crate::check::Finding;
use crate::fork::ForkError;
#[cfg(feature = "io")]
use crate::io::{InputError, OutputError};
use crate::plan::fit::MisfitError;
use crate::plan::{LooksSecret, PlanError, RewriteError};
use crate::splice::SpliceError;

/// Why a job stopped (nothing has been written): see [`Error::kind`].
#[derive(Debug)]
pub struct Error(Box<ErrorKind>);

/// What stopped a job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The plan is not usable.
    #[error("plan: {0}")]
    Plan(PlanError),
    /// An input is not well-formed.
    #[error("{0}")]
    Read(ReadError),
    /// The plan does not fit the input (a source host it does not hold, sources merged).
    #[error("{0}")]
    Misfit(MisfitError),
    /// Values in the inputs look like secrets (by their names) and no rule says whether they
    /// are: (input, what).
    #[error("{} value(s) look like secrets but no rule covers them; nothing was written:\n{}", .0.len(), looks_lines(.0))]
    LooksSecret(Vec<(String, LooksSecret)>),
    /// `--only` / `--exclude` left no record to write.
    #[error("--only/--exclude left no record to write ({0} record(s) left out)")]
    NothingLeft(usize),
    /// An input could not be rewritten safely (ciphertext left, an edit on a secret...).
    #[error("{name}: {source}")]
    Rewrite {
        /// The input.
        name: String,
        /// Why.
        #[source]
        source: RewriteError,
    },
    /// `bundle --combine` of a file that is not an `<unload>` export.
    #[error("{file}: --combine takes <unload> exports only (this is a {shape})")]
    NotCombinable {
        /// The file.
        file: String,
        /// What it is.
        shape: String,
    },
    /// The checks after the rewrite found in the outputs what the plan removes: a secret, a
    /// source host, an old sys_id or namespace (the findings, every one of them).
    #[error("the output would still hold what the plan removes ({}); nothing was written", left_rules(.0))]
    LeftBehind(Vec<Finding>),
    /// Where outputs would go is not usable (a `FILE.xml` for several inputs, two inputs to one
    /// output...), or there is nothing to read.
    #[cfg(feature = "io")]
    #[error("{0}")]
    Destination(DestinationError),
    /// A fork refused for a reason of its own (a namespace that is not a scope, not one app).
    #[error("{0}")]
    Fork(ForkError),
    /// An input could not be listed or read.
    #[cfg(feature = "io")]
    #[error(transparent)]
    Input(InputError),
    /// An output could not be written.
    #[cfg(feature = "io")]
    #[error(transparent)]
    Output(OutputError),
    /// Edits that do not fit their input (edits made for another input, or overlapping).
    #[error("{0}")]
    Splice(SpliceError),
    /// Something the crate writes (manifest.json, a report) could not be serialized.
    #[error("{what}: {source}")]
    Serialize {
        /// What was being written.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// What stopped the job.
    pub fn kind(&self) -> &ErrorKind {
        &self.0
    }

    /// What stopped the job, owned.
    pub fn into_kind(self) -> ErrorKind {
        *self.0
    }

    /// The read error, when an input was not well-formed (its snippet shows the line, secrets
    /// masked).
    pub fn read_error(&self) -> Option<&ReadError> {
        match self.kind() {
            ErrorKind::Read(e) => Some(e),
            ErrorKind::Rewrite {
                source: RewriteError::Read(e),
                ..
            } => Some(e),
            _ => None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Error {
        Error(Box::new(kind))
    }
}

macro_rules! from_inner {
    ($($t:ty => $v:ident),* $(,)?) => {
        $(impl From<$t> for Error {
            fn from(e: $t) -> Error {
                ErrorKind::$v(e).into()
            }
        })*
    };
}

from_inner! {
    PlanError => Plan,
    ReadError => Read,
    MisfitError => Misfit,
    ForkError => Fork,
    SpliceError => Splice,
}

#[cfg(feature = "io")]
from_inner! {
    InputError => Input,
    OutputError => Output,
}

/// The rules of the findings that stopped a job, each once.
fn left_rules(findings: &[Finding]) -> String {
    let mut rules: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    rules.join(", ")
}

/// One line per field that looks secret (its values counted, the first named), with what to
/// add to the plan.
fn looks_lines(list: &[(String, LooksSecret)]) -> String {
    const SHOWN: usize = 50;
    // By what to declare, in order of first appearance.
    let mut fields: Vec<(&str, usize, &String, &LooksSecret)> = Vec::new();
    for (file, l) in list {
        match fields.iter_mut().find(|(sel, ..)| *sel == l.selector) {
            Some(f) => f.1 += 1,
            None => fields.push((&l.selector, 1, file, l)),
        }
    }
    let mut lines: Vec<String> = fields
        .iter()
        .take(SHOWN)
        .map(|(sel, n, file, l)| {
            let record = l.name.as_deref().or(l.sys_id.as_deref()).unwrap_or("-");
            let more = match n {
                1 => String::new(),
                n => format!(" (and {} more value(s) of it)", n - 1),
            };
            format!(
                "  {}:{}: {}.{} of {:?}{more}: declare it with secret_fields = [{sel:?}] (or --secret-field) if it is a secret, else not_secret = [{{ field = {sel:?}, reason = \"...\" }}] (or --not-secret)",
                crate::untrusted::one_line(file),
                l.position,
                l.table,
                l.field,
                crate::untrusted::one_line(record),
            )
        })
        .collect();
    if fields.len() > SHOWN {
        lines.push(format!("  and {} more field(s)", fields.len() - SHOWN));
    }
    lines.join("\n")
}
