//! One integration test binary; one module per concern.

mod any_bytes;
mod apply;
#[cfg(unix)]
mod bad_input;
mod bundle;
mod check;
mod cli;
mod corpus;
mod escape_roundtrip;
mod fixtures;
mod fork;
mod fork_cli;
mod handoff;
#[cfg(unix)]
mod hardening_io;
mod hostile;
mod intent;
mod linear;
mod namespaces;
mod properties;
mod recipes;
mod regressions;
mod seed000;
mod spellings;
mod streamed_check;
mod structured;
mod support;
mod zip_input;
