//! One integration test binary; one module per concern.

mod any_bytes;
mod apply;
mod bundle;
mod check;
mod cli;
mod corpus;
mod fixtures;
mod oracle;
mod properties;
mod regressions;
mod seed000;
mod support;
