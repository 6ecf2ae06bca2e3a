//! Records to facts: instance hosts, secrets, references, scopes and applications.
//!
//! In: [`Record`](crate::model::Record)s from the reader, or plain text. Out: small typed
//! findings (host matches, why a value is secret, kinds of reference) that the
//! inventory and, later, the rewrite planner build on. Detection only; nothing here edits.

internal_mod!(apps);
internal_mod!(embedded);
internal_mod!(hosts);
pub mod inspect;
internal_mod!(refs);
internal_mod!(secrets);

// The types of these internals that public items name.
pub use apps::{AppEntry, AppFacts};
pub use refs::RefKind;
pub use secrets::CipherShape;
pub use secrets::{NotSecret, SecretReason, SecretRules};
