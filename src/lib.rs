//! # sn-retarget
//!
//! Prepare ServiceNow XML exports for import into another instance, offline.
//!
//! ServiceNow moves configuration between instances as XML: record and list exports
//! (`<unload>`), update-set exports (a `sys_remote_update_set` and its `sys_update_xml` rows,
//! each carrying a whole XML document in its `<payload>`, CDATA-wrapped or entity-escaped) and
//! source-control files (`<record_update>`, `<database>`). This crate reads every one of those
//! shapes without losing a byte, descends into payloads at every depth, and writes documents
//! back only as *the input bytes plus edits*: a document written back with no edits is the
//! input, byte for byte.
//!
//! One file is one call, [`retarget`], with a [`Plan`] (the TOML `sn-retarget --plan` reads):
//!
//! ```
//! use sn_retarget::{Plan, retarget};
//!
//! let xml = br#"<?xml version="1.0" encoding="UTF-8"?><unload unload_date="2024-05-01 10:00:00">
//! <sys_update_xml action="INSERT_OR_UPDATE"><name>sys_properties_0123456789abcdef0123456789abcdef</name><payload><![CDATA[<?xml version="1.0" encoding="UTF-8"?><record_update table="sys_properties"><sys_properties action="INSERT_OR_UPDATE"><name>x.url</name><sys_id>0123456789abcdef0123456789abcdef</sys_id><value>https://dev1.service-now.com</value></sys_properties></record_update>]]></payload><sys_id>fedcba9876543210fedcba9876543210</sys_id></sys_update_xml>
//! </unload>"#;
//!
//! // Identity first: a plan that changes nothing gives the same bytes back.
//! assert_eq!(retarget(xml, &Plan::default()).unwrap(), xml);
//!
//! // The instance's URLs, inside the payload too, now name the target.
//! let plan: Plan = toml::from_str(r#"hosts = { dev1 = "acme" }"#).unwrap();
//! let out = String::from_utf8(retarget(xml, &plan).unwrap()).unwrap();
//! assert!(out.contains("<value>https://acme.service-now.com</value>"));
//! assert_eq!(out.len(), xml.len()); // dev1 and acme: same length, nothing else touched
//! ```
//!
//! Many files, from disk to disk, go through the builders [`Apply`] and
//! [`bundle::Bundler`] (inputs read, outputs checked, everything staged and moved in at once);
//! every job fails with one [`Error`], whose [`ErrorKind`] says what stopped it.
//!
//! The data's path through the crate:
//!
//! | module | in | out |
//! |---|---|---|
//! | `scan` (internal) | bytes | tokens with byte spans; decoded payloads with offset maps |
//! | [`model`] | tokens | records, fields, payload records (borrowed, streamed to a visitor) |
//! | [`analyze`] | records | instance hosts, references, scopes, secrets, apps; the inventory `sn-retarget inspect` prints |
//! | [`plan`] | a plan and records | the edits of each file (sys_ids, hosts, scopes, secrets, fields) |
//! | [`splice`] | input bytes + edits | output bytes (the only writer) |
//! | [`apply`] | a plan and inputs | outputs and the report |
//! | [`bundle`] | a plan and inputs | ordered outputs, manifest.json, CHECKLIST.md |
//! | [`fork`] | a scoped application | the same application in a new scope |
//! | [`handoff`] | a report and its outputs | CHECKLIST.md (steps as data) and review.html |
//! | [`check`] | outputs or any bundle | findings (the offline doctor) |
//! | `io` | paths | the files to read; outputs written atomically (feature `io`, default) |
//! | [`error`] | where reading failed | positions, snippets (secrets masked), diagnostics |
//! | [`untrusted`] | text from an input | the same, safe for terminals, Markdown and HTML |
//!
//! Without the default features the crate is its in-memory core: bytes in, bytes out, no file
//! system code. The feature `io` adds the file-system layer: [`io`] (files, folders and zip
//! archives in, atomic writes out), `fork`'s `App::load` and `Forked::write`, `bundle`'s
//! `check_replaceable`, and `apply`'s writes to disk ([`Apply::write_to`]).

// One exception, in `io::mapped`: a large input file is mapped into memory rather than copied.
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Declares an internal module: public with the feature `internals` (which the crate's own
/// tests, fuzz targets and benchmarks turn on; not a supported API), crate-private otherwise,
/// where parts of it serve only those.
macro_rules! internal_mod {
    ($name:ident) => {
        #[cfg(feature = "internals")]
        pub mod $name;
        #[cfg(not(feature = "internals"))]
        #[allow(dead_code, unused_imports)]
        pub(crate) mod $name;
    };
}

pub mod analyze;
pub mod apply;
pub mod bundle;
pub mod check;
pub mod error;
pub mod fork;
pub mod handoff;
#[cfg(feature = "io")]
pub mod io;
pub mod model;
pub mod plan;
mod redact;
internal_mod!(scan);
mod source;
pub mod splice;
#[cfg(feature = "synth")]
pub mod synth;
pub mod untrusted;

pub use apply::{Apply, retarget};
pub use error::{
    Diagnostic, Error, ErrorKind, Location, Position, ReadError, Severity, SyntaxError,
};
pub use plan::Plan;
pub use scan::Span;
pub use source::{Bytes, Source};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
