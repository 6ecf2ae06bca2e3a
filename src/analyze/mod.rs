//! Records to facts: instance hosts, secrets, references, scopes and applications.
//!
//! In: [`Record`](crate::model::Record)s from the reader, or plain text. Out: small typed
//! findings ([`hosts::HostMatch`], [`secrets::SecretReason`], [`refs::RefKind`]) that the
//! inventory and, later, the rewrite planner build on. Detection only; nothing here edits.

pub mod apps;
pub mod embedded;
pub mod hosts;
pub mod inspect;
pub mod refs;
pub mod secrets;
