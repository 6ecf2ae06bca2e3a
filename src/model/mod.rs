//! Tokens to records.
//!
//! In: the bytes of one export file. Out: a stream of [`Record`]s handed to a [`Visitor`], in
//! document order, each with its table, action, sys_id, fields (with their attributes and the
//! raw byte span of every value) and its place: top level, or inside the payload of which
//! record, at what depth. Payloads (`<payload>` fields holding a whole XML document, in CDATA or
//! entity-escaped) are read where they lie, at every depth. Records borrow the input; nothing is
//! copied but escaped payloads, decoded one at a time into a reused buffer.
//!
//! ```
//! use sn_retarget::model::{read, Collect};
//! let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <unload unload_date="2024-01-01 00:00:00">
//! <sys_properties action="INSERT_OR_UPDATE"><name>a.b</name><sys_id>0123456789abcdef0123456789abcdef</sys_id><value>x &amp; y</value></sys_properties>
//! </unload>"#;
//! let mut records = Collect::default();
//! let outcome = read(xml, &mut records).unwrap();
//! assert_eq!(outcome.shape.to_string(), "record export");
//! let r = &records.records[0];
//! assert_eq!(r.table, "sys_properties");
//! assert_eq!(r.sys_id.as_deref(), Some("0123456789abcdef0123456789abcdef"));
//! let value = r.fields.iter().find(|f| f.name == "value").unwrap();
//! assert_eq!(value.text, "x & y");
//! assert_eq!(&xml[value.file_span.range()], b"x &amp; y");
//! ```

mod collect;
mod cuts;
mod input;
mod outline;
// `read_parts` (all files in parts, in order) serves the tests only, through `internals`.
#[cfg_attr(not(feature = "internals"), allow(dead_code))]
mod parts;
mod reader;
mod record;
mod select;
mod shape;
mod streamed;

pub use collect::{Collect, OwnedField, OwnedRecord, Records, records};
pub use outline::{check_outer, root_element};
// Reading one file in parts on every core: internals.
#[cfg_attr(feature = "internals", visibility::make(pub))]
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub(crate) use parts::{PART_STRIDE, Parts, read_parts, read_parts_with};
pub use reader::{MAX_PAYLOAD_DEPTH, ReadOutcome, read, read_with};
pub use record::{Attr, Escaping, Field, PayloadInfo, Place, Record, ValueKind};
pub(crate) use record::{DISPLAY_KEYS, IN_PAYLOAD, path_step};
pub use select::{Filter, MemoValues, RecordValues, Selector, SelectorError};
pub use shape::Shape;
pub use streamed::check_outer_streamed;
#[cfg_attr(feature = "internals", visibility::make(pub))]
#[cfg_attr(not(feature = "internals"), allow(unused_imports))]
pub(crate) use streamed::check_outer_streamed_with;

/// Receives the records of a document as the reader finds them.
///
/// Records arrive when their element closes, so a nested record arrives before the record that
/// holds it, and the records of a payload arrive before the `sys_update_xml` that carries it;
/// [`Record::index`] gives document order. When a payload turns out to be malformed, the
/// records already handed over from it are withdrawn with [`Visitor::discard_from`].
pub trait Visitor {
    /// One complete record.
    fn record(&mut self, record: &Record<'_>);

    /// Forget every record whose index is `>= first_index` (they came from a payload that
    /// turned out to be malformed; it is kept as text).
    fn discard_from(&mut self, first_index: usize);
}
