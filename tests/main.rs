//! One integration test binary; one module per concern.

mod cli;
mod corpus;
mod fixtures;
mod oracle;
mod properties;
mod support;
