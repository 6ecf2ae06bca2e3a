//! Where reading went wrong, and what did not stop it.
//!
//! In: a byte offset where something went wrong (in the file, or inside a payload document
//! decoded from the file). Out: a [`Position`] with line and column, a typed [`ReadError`]
//! for input that cannot be read, and [`Diagnostic`]s for findings that do not stop reading.
//!
//! Messages never quote field values: a value may be a secret. Only element and attribute
//! names, which are schema, appear in them.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// A place in a document: the byte offset and its 1-based line and column (in characters).
///
/// ```
/// use sn_retarget::Position;
/// let p = Position::locate(b"<a>\n  <b>", 6);
/// assert_eq!((p.line, p.column), (2, 3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Byte offset from the start of the buffer.
    pub offset: u64,
    /// Line number, starting at 1. `\n` ends a line (so CRLF counts once).
    pub line: u64,
    /// Column, starting at 1, counted in Unicode scalar values.
    pub column: u64,
}

impl Position {
    /// Computes line and column of `offset` in `buf` (clamped to the buffer's length).
    pub fn locate(buf: &[u8], offset: usize) -> Position {
        let offset = offset.min(buf.len());
        let before = &buf[..offset];
        let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        let column = count_chars(&before[line_start..]) as u64 + 1;
        Position {
            offset: offset as u64,
            line,
            column,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The positions of many offsets in one buffer, in any order, in about linear time overall:
/// line starts, and the column at every 4 KB of the buffer, are found once (at the first
/// question); a column is then counted from the nearest of those before the offset (a whole
/// export may be one line).
///
/// ```
/// use sn_retarget::error::Locator;
/// let l = Locator::new(b"<a>\n  <b><c>");
/// assert_eq!(l.locate(6).to_string(), "2:3");
/// assert_eq!(l.locate(9).to_string(), "2:6");
/// assert_eq!(l.locate(1).to_string(), "1:2");
/// ```
#[derive(Debug)]
pub struct Locator<'b> {
    buf: &'b [u8],
    index: std::sync::OnceLock<(Vec<usize>, Vec<u64>)>,
}

impl<'b> Locator<'b> {
    /// Every this many bytes, the column is known.
    const STEP: usize = 4096;

    /// A locator for `buf`.
    pub fn new(buf: &'b [u8]) -> Locator<'b> {
        Locator {
            buf,
            index: std::sync::OnceLock::new(),
        }
    }

    /// Line starts, and the column (0-based) at every `STEP` bytes.
    fn index(&self) -> &(Vec<usize>, Vec<u64>) {
        self.index.get_or_init(|| {
            let buf = self.buf;
            let mut starts = vec![0];
            starts.extend(memchr::memchr_iter(b'\n', buf).map(|i| i + 1));
            let mut columns = Vec::with_capacity(buf.len() / Self::STEP + 1);
            let mut line = 0;
            for k in 0..=buf.len() / Self::STEP {
                let at = k * Self::STEP;
                while line + 1 < starts.len() && starts[line + 1] <= at {
                    line += 1;
                }
                let from = match k {
                    0 => 0,
                    _ => (at - Self::STEP).max(starts[line]),
                };
                let base = match k {
                    _ if from == starts[line] => 0,
                    _ => columns[k - 1],
                };
                columns.push(base + count_chars(&buf[from..at]) as u64);
            }
            (starts, columns)
        })
    }

    /// The position of `offset` (clamped to the buffer's length).
    pub fn locate(&self, offset: usize) -> Position {
        let offset = offset.min(self.buf.len());
        let (starts, columns) = self.index();
        let line = starts.partition_point(|&s| s <= offset);
        let start = starts[line - 1];
        let k = offset / Self::STEP;
        let checkpoint = k * Self::STEP;
        let column = match checkpoint >= start {
            true => columns[k] + count_chars(&self.buf[checkpoint..offset]) as u64,
            false => count_chars(&self.buf[start..offset]) as u64,
        };
        Position {
            offset: offset as u64,
            line: line as u64,
            column: column + 1,
        }
    }
}

fn count_chars(bytes: &[u8]) -> usize {
    // Count UTF-8 lead bytes; continuation bytes are 0b10xx_xxxx.
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// Where a payload document sits: the payload field's value in the enclosing buffer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadFrame {
    /// Table of the record that owns the payload field (e.g. `sys_update_xml`).
    pub table: String,
    /// That record's sys_id, when it has one.
    pub sys_id: Option<String>,
    /// Where the payload's text starts, in the file.
    pub start: Position,
}

/// A location for an error or diagnostic: file position, plus the chain of payloads it is in
/// (outermost first) and the position inside the innermost payload document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Position in the file (inside a payload: mapped back to the raw bytes).
    pub file: Position,
    /// Payloads enclosing the place, outermost first; empty at the top level.
    pub payloads: Vec<PayloadFrame>,
    /// Position inside the innermost payload document (decoded text), if any.
    pub inner: Option<Position>,
    /// The offending line, with values that look secret masked, for a caret display.
    #[serde(skip)]
    pub snippet: Option<Snippet>,
}

impl Location {
    /// A top-level location in `buf` at `offset`.
    pub fn at(buf: &[u8], offset: usize) -> Location {
        Location {
            file: Position::locate(buf, offset),
            payloads: Vec::new(),
            inner: None,
            snippet: Snippet::capture(buf, offset),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(last), Some(inner)) = (self.payloads.last(), self.inner) {
            write!(
                f,
                " (inside the payload of {}",
                last.table.as_str().trim_end()
            )?;
            if let Some(id) = &last.sys_id {
                write!(f, " {id}")?;
            }
            write!(f, " starting at {}, payload position {inner}", last.start)?;
            if self.payloads.len() > 1 {
                write!(f, ", payload depth {}", self.payloads.len())?;
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

/// One line of the input around an error, with a caret column, secrets masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The line text (possibly shortened around the column; masked).
    pub line: String,
    /// 0-based character column of the caret within `line`.
    pub caret: usize,
}

impl Snippet {
    const WIDTH: usize = 100;
    /// How far from the offset a line is looked at.
    const REACH: usize = 512;

    /// Captures the line around `offset`, secrets masked, shortened to about 100 characters.
    pub fn capture(buf: &[u8], offset: usize) -> Option<Snippet> {
        let offset = offset.min(buf.len());
        // The line around the offset, looked for at most `REACH` bytes either way (a whole
        // export may be one line): a cut line is masked as if what was cut held a secret.
        let from = offset.saturating_sub(Self::REACH);
        let to = (offset + Self::REACH).min(buf.len());
        let found_start = memchr::memrchr(b'\n', &buf[from..offset]).map(|i| from + i + 1);
        let found_end = memchr::memchr(b'\n', &buf[offset..to]).map(|i| offset + i);
        let mut start = found_start.unwrap_or(from);
        let mut end = found_end.unwrap_or(to);
        while start < offset && (buf[start] & 0xC0) == 0x80 {
            start += 1; // not inside a character
        }
        while end > offset && end < buf.len() && (buf[end] & 0xC0) == 0x80 {
            end -= 1;
        }
        let cut_start = found_start.is_none() && from > 0;
        let cut_end = found_end.is_none() && to < buf.len();
        let raw = &buf[start..end];
        let caret_byte = String::from_utf8_lossy(&raw[..offset - start]).len();
        let line = String::from_utf8_lossy(raw);
        let line = line.trim_end_matches('\r');
        let mut caret_byte = caret_byte.min(line.len());
        while !line.is_char_boundary(caret_byte) {
            caret_byte -= 1;
        }
        // Mask the whole line first, so that no window can cut a secret in two.
        let (masked, caret_byte) =
            crate::redact::mask::mask_cut_line_at(line, caret_byte, cut_start, cut_end);
        let chars: Vec<char> = masked.chars().collect();
        let caret_chars = masked[..caret_byte].chars().count();
        let from = caret_chars.saturating_sub(Self::WIDTH / 2);
        let to = (from + Self::WIDTH).min(chars.len());
        let from = from.min(to);
        Some(Snippet {
            line: chars[from..to].iter().collect(),
            caret: caret_chars - from,
        })
    }
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "  | {}", self.line)?;
        // Tabs stay tabs under the line, so the caret lands under the character.
        let pad: String = self
            .line
            .chars()
            .take(self.caret)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "  | {pad}^")
    }
}

/// What is wrong with a document that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyntaxError {
    /// The input ended inside markup or with elements still open.
    #[error("unexpected end of input {0}")]
    UnexpectedEof(&'static str),
    /// `</b>` closes `<a>`.
    #[error("mismatched end tag: expected </{expected}>, found </{found}>")]
    MismatchedEndTag {
        /// The open element.
        expected: String,
        /// The end tag found.
        found: String,
    },
    /// An end tag with no open element.
    #[error("end tag </{0}> without a matching start tag")]
    UnmatchedEndTag(String),
    /// A second root element, or text after the root.
    #[error("content after the root element ({0})")]
    TrailingContent(&'static str),
    /// Text before the root element.
    #[error("text before the root element")]
    TextBeforeRoot,
    /// No root element at all.
    #[error("no root element")]
    NoRoot,
    /// Not a valid XML name where one is needed.
    #[error("invalid or missing name {0}")]
    InvalidName(&'static str),
    /// Malformed attribute syntax.
    #[error("malformed attribute: {0}")]
    BadAttribute(&'static str),
    /// The same attribute twice on one element.
    #[error("duplicate attribute {0}")]
    DuplicateAttribute(String),
    /// `&...;` that is not a predefined entity or a valid character reference.
    #[error("invalid entity or character reference {0}")]
    BadReference(String),
    /// `<` inside an attribute value.
    #[error("'<' is not allowed in an attribute value")]
    LtInAttribute,
    /// A DOCTYPE (and any entity declaration) is refused, never expanded.
    #[error("DOCTYPE declarations are refused (no entity is ever expanded)")]
    Doctype,
    /// A character other than the one the syntax requires here.
    #[error("expected {0}")]
    Expected(&'static str),
    /// Markup that starts with `<!` but is neither a comment nor CDATA.
    #[error("unknown markup declaration")]
    UnknownDeclaration,
    /// An XML declaration (`<?xml`) not at the very start.
    #[error("XML declaration not at the start of the document")]
    MisplacedDeclaration,
    /// The bytes are not UTF-8.
    #[error("invalid UTF-8")]
    InvalidUtf8,
    /// The document is in another encoding, told by its byte-order mark or by how its first
    /// `<` is written (`"UTF-16"` or `"UTF-32"`).
    #[error("{0} is not supported: save as UTF-8")]
    UnsupportedEncoding(&'static str),
    /// A control character XML does not allow (a C0 control other than tab, newline and
    /// carriage return).
    #[error("control character U+{0:04X} is not allowed in XML (the import would stop on it)")]
    ControlCharacter(u8),
    /// Elements nest deeper than the reader's limit.
    #[error("elements nested deeper than {0} levels")]
    TooDeep(usize),
    /// The document is larger than the reader's limit.
    #[error("document larger than {0} bytes")]
    TooLarge(u64),
}

/// A document that could not be read: what is wrong and where.
///
/// The message names the file (when known), the line and column, and, inside a payload, the
/// payload's position and the position within it. It never contains field values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    inner: Box<ReadErrorInner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ReadErrorInner {
    path: Option<PathBuf>,
    location: Location,
    kind: SyntaxError,
}

impl ReadError {
    pub(crate) fn new(kind: SyntaxError, location: Location) -> ReadError {
        ReadError {
            inner: Box::new(ReadErrorInner {
                path: None,
                location,
                kind,
            }),
        }
    }

    /// Attaches the file name shown in the message.
    pub fn with_path(mut self, path: impl AsRef<Path>) -> ReadError {
        self.inner.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// The file, when one was attached.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// What is wrong.
    pub fn kind(&self) -> &SyntaxError {
        &self.inner.kind
    }

    /// Where it is wrong.
    pub fn location(&self) -> &Location {
        &self.inner.location
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.inner.path {
            write!(f, "{}:", p.display())?;
        }
        write!(f, "{}: {}", self.inner.location, self.inner.kind)
    }
}

impl std::error::Error for ReadError {}

/// How serious a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information.
    Info,
    /// Something the user should look at; reading went on.
    Warning,
    /// Something that is wrong.
    Error,
}

/// A finding that did not stop reading, e.g. a malformed payload passed through untouched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// How serious.
    pub severity: Severity,
    /// Short machine-readable code, e.g. `malformed-payload`.
    pub code: &'static str,
    /// Human-readable message (never contains field values).
    pub message: String,
    /// Where.
    pub location: Location,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} [{}]: {}",
            self.location, self.severity, self.code, self.message
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn locator_agrees_with_locate() {
        let mut buf = Vec::new();
        for k in 0..3000 {
            buf.extend_from_slice(if k % 7 == 0 {
                "é\n".as_bytes()
            } else {
                b"abc"
            });
            if k % 500 == 0 {
                buf.extend(std::iter::repeat_n(b'x', 9000));
            }
        }
        let l = super::Locator::new(&buf);
        for offset in (0..buf.len()).step_by(37).rev() {
            let p = super::Position::locate(&buf, offset);
            if buf.get(offset).is_none_or(|b| (b & 0xC0) != 0x80) {
                assert_eq!(l.locate(offset), p, "{offset}");
            }
        }
    }
}
