//! Where outputs would go, when it is not usable.

use std::path::PathBuf;

use super::{Error, ErrorKind};

/// Where outputs would go is not usable (nothing was written).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    /// A `FILE.xml` output for several inputs.
    #[error(
        "--out {}: names one file, but the inputs are {inputs} files; give a folder to write them into",
        out.display()
    )]
    OneFileForMany {
        /// The output given.
        out: PathBuf,
        /// How many inputs.
        inputs: usize,
    },
    /// Two inputs would be written to one output.
    #[error("{}: two inputs would be written to the same output", .0.display())]
    SameOutput(PathBuf),
    /// The report would replace an input or an output.
    #[error("{}: the report would replace an input or an output", .0.display())]
    ReportClash(PathBuf),
    /// A bundle named like one XML file.
    #[error(
        "--out {}: a bundle is a folder or a FILE.zip (several files, manifest.json, CHECKLIST.md); for one rewritten file use `sn-retarget apply`",
        .0.display()
    )]
    NotABundle(PathBuf),
    /// An existing output that `--force` does not replace (not a bundle this tool made, or
    /// changed since).
    #[error(transparent)]
    NotReplaceable(#[from] crate::bundle::NotReplaceable),
    /// The bundle could not be written (nothing of it is left).
    #[error("{}: bundle not written: {source}", out.display())]
    NotWritten {
        /// The bundle asked for.
        out: PathBuf,
        /// Why.
        #[source]
        source: crate::io::OutputError,
    },
    /// No export under the inputs given.
    #[error("no *.xml or *.zip input found in {}", names(.0))]
    NoInput(Vec<PathBuf>),
}

fn names(paths: &[PathBuf]) -> String {
    let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    named.join(", ")
}

impl From<DestinationError> for Error {
    fn from(e: DestinationError) -> Error {
        ErrorKind::Destination(e).into()
    }
}

impl From<crate::bundle::NotReplaceable> for Error {
    fn from(e: crate::bundle::NotReplaceable) -> Error {
        DestinationError::from(e).into()
    }
}
