//! Instance hosts in text: `<name>.service-now.com`, boundary-aware.
//!
//! In: any text (a field value, a script, an escaped payload: host names contain no escapable
//! character, so raw bytes are searched as they are). Out: every [`HostMatch`], with its span.
//! A match is a whole host name: `xdev1.service-now.com` is the instance `xdev1`, not `dev1`;
//! `dev1.service-now.com.evil.example` is no ServiceNow host at all.

use memchr::memmem;

use crate::scan::Span;

/// Domains whose hosts are ServiceNow instances.
pub const INSTANCE_DOMAINS: [&str; 2] = [".service-now.com", ".servicenowservices.com"];

/// `s` in lower case, borrowed when it already is (host names are compared in lower case).
pub fn lowercase(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// One instance host found in text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostMatch<'a> {
    /// The whole host, e.g. `dev12345.service-now.com`.
    pub host: &'a str,
    /// The instance name, e.g. `dev12345` (the labels before the domain).
    pub instance: &'a str,
    /// Where the host is in the searched text.
    pub span: Span,
}

fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

/// A reusable searcher for instance hosts.
///
/// ```
/// use sn_retarget::analyze::hosts::HostFinder;
/// let f = HostFinder::new();
/// let text = "https://dev1.service-now.com/oauth_token.do, https://dev1.service-now.com.evil.example/";
/// let hosts: Vec<_> = f.find_all(text.as_bytes()).map(|m| m.host).collect();
/// assert_eq!(hosts, ["dev1.service-now.com"]);
/// ```
#[derive(Debug, Clone)]
pub struct HostFinder {
    /// `.service` and `.SERVICE`, the prefix both instance domains share: a pass each finds
    /// both domains in lower or upper case (mixed case such as `.Service-Now.com` is not seen).
    finders: [memmem::Finder<'static>; 2],
    /// Whether to look for upper case at all (see [`HostFinder::for_document`]).
    upper: bool,
}

impl Default for HostFinder {
    fn default() -> Self {
        HostFinder::new()
    }
}

impl HostFinder {
    /// A finder for [`INSTANCE_DOMAINS`].
    pub fn new() -> HostFinder {
        HostFinder {
            finders: [
                memmem::Finder::new(b".service").into_owned(),
                memmem::Finder::new(b".SERVICE").into_owned(),
            ],
            upper: true,
        }
    }

    /// A finder for the texts of one document: upper-case hosts are looked for only when the
    /// document has one (one pass over the document instead of one per value).
    pub fn for_document(document: &[u8]) -> HostFinder {
        let mut f = HostFinder::new();
        f.upper = f.finders[1].find(document).is_some();
        f
    }

    /// Every instance host in `text`: lower-case ones in order of position, then (when the
    /// finder looks for them) upper-case ones. Nothing is allocated.
    pub fn find_all<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = HostMatch<'t>> + 't {
        let lower = self.finders[0].find_iter(text);
        let upper = self
            .upper
            .then(|| self.finders[1].find_iter(text))
            .into_iter()
            .flatten();
        lower.chain(upper).filter_map(move |at| {
            let rest = &text[at..];
            let dlen = INSTANCE_DOMAINS
                .iter()
                .find(|d| {
                    rest.len() >= d.len() && rest[..d.len()].eq_ignore_ascii_case(d.as_bytes())
                })?
                .len();
            host_at(text, at, dlen)
        })
    }

    /// Where a host may be in `text`, in order: the offset of every `.service` the finder looks
    /// for. One pass over a whole document, so that values without one are skipped.
    pub fn candidates(&self, text: &[u8]) -> Vec<usize> {
        let mut at: Vec<usize> = self.finders[0].find_iter(text).collect();
        if self.upper {
            at.extend(self.finders[1].find_iter(text));
            at.sort_unstable();
        }
        at
    }

    /// [`HostFinder::for_document`] and its [`HostFinder::candidates`] in the document, from
    /// one pass over it (both cases a block at a time).
    ///
    /// ```
    /// use sn_retarget::analyze::hosts::HostFinder;
    /// let doc = b"<a>https://dev1.service-now.com/ x DEV2.SERVICE-NOW.COM</a>";
    /// let (finder, at) = HostFinder::scan_document(doc);
    /// assert_eq!(at, [15, 39]);
    /// assert_eq!(finder.find_all(doc).count(), 2);
    /// ```
    pub fn scan_document(document: &[u8]) -> (HostFinder, Vec<usize>) {
        // Both cases a block at a time: the second search reads the block from the cache.
        const BLOCK: usize = 256 << 10;
        let mut f = HostFinder::new();
        let mut at = Vec::new();
        let mut upper = Vec::new();
        let overlap = b".service".len() - 1;
        let mut start = 0;
        while start < document.len() {
            let end = (start + BLOCK).min(document.len());
            // A match starting in the block may end in the next one (and one starting in the
            // next block does not fit in this one's hay).
            let hay = &document[start..(end + overlap).min(document.len())];
            for (finder, out) in f.finders.iter().zip([&mut at, &mut upper]) {
                out.extend(finder.find_iter(hay).map(|i| start + i));
            }
            start = end;
        }
        f.upper = !upper.is_empty();
        if f.upper {
            at.extend(upper);
            at.sort_unstable();
        }
        (f, at)
    }

    /// `true` when `text` holds at least one instance host.
    pub fn contains(&self, text: &[u8]) -> bool {
        self.find_all(text).next().is_some()
    }
}

/// The host around a domain match at `at` (the domain's leading dot), if it is a whole host.
fn host_at(text: &[u8], at: usize, dlen: usize) -> Option<HostMatch<'_>> {
    let end = at + dlen;
    // After the domain: not more of a host name (a label byte, or a dot and another label).
    match text.get(end) {
        Some(&b) if is_label_byte(b) => return None,
        Some(b'.') if text.get(end + 1).is_some_and(|&b| is_label_byte(b)) => return None,
        _ => {}
    }
    let mut start = at;
    while start > 0 && (is_label_byte(text[start - 1]) || text[start - 1] == b'.') {
        start -= 1;
    }
    // Trim leading dots or hyphens (not part of a host name).
    while start < at && matches!(text[start], b'.' | b'-') {
        start += 1;
    }
    if start == at {
        return None;
    }
    let host = std::str::from_utf8(&text[start..end]).ok()?;
    let instance = std::str::from_utf8(&text[start..at]).ok()?;
    Some(HostMatch {
        host,
        instance,
        span: Span::new(start, end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(s: &str) -> Vec<String> {
        HostFinder::new()
            .find_all(s.as_bytes())
            .map(|m| m.host.to_string())
            .collect()
    }

    /// Hosts that straddle the blocks the document is searched in are found once each.
    #[test]
    fn scan_document_across_blocks() {
        for shift in 5..25 {
            let mut doc = vec![b'x'; (256 << 10) - shift];
            for k in 0..3 {
                doc.extend_from_slice(b" https://dev1.service-now.com/ DEV2.SERVICE-NOW.COM ");
                doc.resize(doc.len() + (256 << 10) * k, b'y');
            }
            let (finder, at) = HostFinder::scan_document(&doc);
            let mut naive: Vec<usize> = memmem::find_iter(&doc, b".service").collect();
            naive.extend(memmem::find_iter(&doc, b".SERVICE"));
            naive.sort_unstable();
            assert_eq!(at, naive, "shift {shift}");
            assert_eq!(finder.find_all(&doc).count(), 6);
        }
    }

    #[test]
    fn boundaries() {
        assert_eq!(
            hosts("https://dev1.service-now.com"),
            ["dev1.service-now.com"]
        );
        assert_eq!(hosts("x=dev1.service-now.com."), ["dev1.service-now.com"]);
        assert_eq!(hosts("xdev1.service-now.com/a"), ["xdev1.service-now.com"]);
        assert!(hosts("dev1.service-now.com.evil.example").is_empty());
        assert!(hosts("dev1.service-now.community").is_empty());
        assert!(hosts("https://.service-now.com").is_empty());
        assert_eq!(
            hosts("HTTPS://DEV1.SERVICE-NOW.COM/x"),
            ["DEV1.SERVICE-NOW.COM"]
        );
        assert_eq!(
            hosts("a.gov.servicenowservices.com, hi.service-now.com"),
            ["a.gov.servicenowservices.com", "hi.service-now.com"]
        );
    }
}
