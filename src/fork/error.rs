//! Why a fork was refused.

use std::path::PathBuf;

use crate::apply::ApplyError;
use crate::error::ReadError;
#[cfg(feature = "io")]
use crate::io::{InputError, OutputError};

/// Why a fork was refused (nothing is written).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForkError {
    /// The new namespace is not a valid scope.
    #[error("--scope {namespace:?} is not a valid scope: {why}")]
    BadNamespace {
        /// As given.
        namespace: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The new namespace is the application's own.
    #[error("the application's namespace is already {0}; give a new one")]
    SameNamespace(String),
    /// The new display name is empty or holds a control character.
    #[error("--name must be non-empty text without control characters")]
    BadName,
    /// No scoped application in the input.
    #[error(
        "no scoped application in the input (no sys_app record, and no record in a scope other than global)"
    )]
    NoApp,
    /// The application's namespace is not written anywhere in the input.
    #[error("the input never says the namespace of application {0}")]
    NoNamespace(String),
    /// More than one application.
    #[error("the input holds more than one application: {}; fork one at a time", .0.join(", "))]
    SeveralApps(Vec<String>),
    /// The new namespace already occurs in the input.
    #[error("{at}: the input already names {namespace}; forking into it would mix the two")]
    NamespaceInUse {
        /// The new namespace.
        namespace: String,
        /// `file:line:column` of its first occurrence.
        at: String,
    },
    /// `--name` given, but the application's current name is not in the input.
    #[error("--name: the application's current name is not in the input")]
    NoName,
    /// The repository layout is not usable.
    #[error("{0}")]
    Layout(String),
    /// Two files would be written to one path.
    #[error("{0}")]
    PathClash(String),
    /// An input could not be read.
    #[cfg(feature = "io")]
    #[error(transparent)]
    Input(#[from] InputError),
    /// An export is not well-formed.
    #[error("{0}")]
    Read(ReadError),
    /// The rewrite refused (a bad id map, ciphertext left...).
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The output could not be written.
    #[cfg(feature = "io")]
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The output exists and is not an earlier fork into the same namespace.
    #[error("{}: exists and is not a fork into {namespace}; not replaced", path.display())]
    NotAFork {
        /// The output folder.
        path: PathBuf,
        /// The new namespace.
        namespace: String,
    },
    /// The output and the input overlap.
    #[error("{}: is the input, inside it or holds it; inputs are never modified", .0.display())]
    OverlapsInput(PathBuf),
}
