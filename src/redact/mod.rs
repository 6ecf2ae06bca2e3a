//! What may be secret, found in bytes and names, and hidden from people: the bottom layer that
//! error messages ([`crate::error`]) and the analysis ([`crate::analyze::secrets`]) both build on.
//!
//! In: raw bytes at any escaping depth, a decoded value, a name, a line to show. Out: where
//! ciphertext is ([`cipher`]), whether a name holds a secret ([`names`]), and the line with
//! every possible secret replaced by `***` ([`mask`]). Nothing here knows records or plans.

pub(crate) mod cipher;
pub(crate) mod mask;
pub(crate) mod names;
