//! Instance hosts in text: `<name>.service-now.com`, boundary-aware.
//!
//! In: any text (a field value, a script, an escaped payload: host names contain no escapable
//! character, so raw bytes are searched as they are; the rewrite decodes first a value that
//! spells a host's character with a character reference, `dev1&#46;service-now.com`). Out: every [`HostMatch`], with its span.
//! A match is a whole host name: `xdev1.service-now.com` is the instance `xdev1`, not `dev1`;
//! `dev1.service-now.com.evil.example` is no ServiceNow host at all. Hosts are found in any
//! letter case (`Dev1.Service-Now.com`) and after percent-escapes
//! (`https%3A%2F%2Fdev1.service-now.com`).

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

/// The longest host name DNS allows.
const MAX_HOST: usize = 253;

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

/// A reusable searcher for instance hosts, in any letter case.
///
/// ```
/// use sn_retarget::analyze::hosts::HostFinder;
/// let f = HostFinder::new();
/// let text = "https://dev1.service-now.com/oauth_token.do, https://Dev2.Service-Now.com/x, https://dev1.service-now.com.evil.example/, \\ndev3.service-now.com";
/// let hosts: Vec<_> = f.find_all(text.as_bytes()).map(|m| m.host).collect();
/// assert_eq!(hosts, ["dev1.service-now.com", "Dev2.Service-Now.com", "dev3.service-now.com"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct HostFinder {
    _private: (),
}

/// `.service`, the start both instance domains share.
const SERVICE: &[u8; 8] = b".service";

/// The offset of the `.` of every `.service` in `text` that may start an instance domain, in
/// any letter case, in order.
fn service_dots(text: &[u8]) -> Vec<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(finders) = pair_finders::get() {
        if text.len() >= finders.min_len {
            return finders.service_dots(text);
        }
    }
    let mut dots = Vec::new();
    service_dots_by_v(text, 0, &mut dots);
    dots
}

/// [`service_dots`] from each `v` (rarer than the dot in XML and scripts), one pass for both
/// cases: every `.service`, whatever follows it, as offsets from `base`.
fn service_dots_by_v(text: &[u8], base: usize, out: &mut Vec<usize>) {
    for v in memchr::memchr2_iter(b'v', b'V', text) {
        // The dot first: it rules out almost every `v` of other words.
        if v >= 4
            && text[v - 4] == b'.'
            && text.len() >= v + 4
            && text[v - 4..v + 4].eq_ignore_ascii_case(SERVICE)
        {
            out.push(base + v - 4);
        }
    }
}

/// On x86-64, the instance domains are found from two bytes each that no letter case changes
/// (AVX2 or SSE2, 16 or 32 bytes at a time): the `.` and the `-` of `.service-now.com`, the
/// two dots of `.servicenowservices.com`. A `v` is common in text, that pair is rare, so the
/// candidates to look at are few.
#[cfg(target_arch = "x86_64")]
mod pair_finders {
    use memchr::arch::all::packedpair::Pair;
    use memchr::arch::x86_64::avx2::packedpair::Finder;

    use super::{INSTANCE_DOMAINS, SERVICE};

    pub(super) struct Finders {
        /// Per domain: its finder and its length.
        domains: [(Finder, usize); 2],
        /// The shortest text the finders take (shorter texts are searched from each `v`).
        pub(super) min_len: usize,
    }

    /// The finders, when the processor has SSE2 and AVX2.
    pub(super) fn get() -> Option<&'static Finders> {
        static FINDERS: std::sync::OnceLock<Option<Finders>> = std::sync::OnceLock::new();
        FINDERS
            .get_or_init(|| {
                let finder = |domain: &str| {
                    let d = domain.as_bytes();
                    // The first byte after the leading dot that is not a letter.
                    let second = d.iter().skip(1).position(|b| !b.is_ascii_alphabetic())? + 1;
                    let pair = Pair::with_indices(d, 0, u8::try_from(second).ok()?)?;
                    Some((Finder::with_pair(d, pair)?, d.len()))
                };
                let domains = [
                    finder(INSTANCE_DOMAINS[0])?,
                    finder(INSTANCE_DOMAINS[1])?,
                ];
                let min_len = domains
                    .iter()
                    .map(|(f, len)| f.min_haystack_len().max(*len))
                    .max()?;
                Some(Finders { domains, min_len })
            })
            .as_ref()
    }

    impl Finders {
        /// Every `.service` whose domain's two case-free bytes are in place, in order. The
        /// finders stop short of the end (their shortest haystack): the rest is searched from
        /// each `v`.
        pub(super) fn service_dots(&self, text: &[u8]) -> Vec<usize> {
            let mut dots = Vec::new();
            let mut tail = text.len();
            for (finder, len) in &self.domains {
                let mut at = 0;
                loop {
                    if text.len() - at < finder.min_haystack_len() {
                        tail = tail.min(at);
                        break;
                    }
                    let Some(i) = finder.find_prefilter(&text[at..]) else {
                        break;
                    };
                    let dot = at + i;
                    if text.len() >= dot + len && text[dot..dot + 8].eq_ignore_ascii_case(SERVICE) {
                        dots.push(dot);
                    }
                    at = dot + 1;
                }
            }
            // A dot may pass both finders' bytes (`.service-now.com.x.servicenow.`), and what
            // one finder found in the other's tail is found again there.
            dots.retain(|&dot| dot < tail);
            dots.sort_unstable();
            dots.dedup();
            super::service_dots_by_v(&text[tail..], tail, &mut dots);
            dots
        }
    }
}

impl HostFinder {
    /// A finder for [`INSTANCE_DOMAINS`].
    pub fn new() -> HostFinder {
        HostFinder::default()
    }

    /// A finder for the texts of one document.
    pub fn for_document(_document: &[u8]) -> HostFinder {
        HostFinder::new()
    }

    /// Every instance host in `text`, in order of position, in any letter case. A host written
    /// after a percent-escape (`redirect_uri=https%3A%2F%2Fdev1.service-now.com`) starts after
    /// the escape's two hex digits.
    pub fn find_all<'t>(&self, text: &'t [u8]) -> impl Iterator<Item = HostMatch<'t>> + use<'t> {
        self.find_at(text, service_dots(text))
    }

    /// The hosts [`HostFinder::find_all`] finds in `text`, from the offsets in `text` of the
    /// `.service`s that may start one, in order (the [`HostFinder::candidates`] of a larger
    /// text inside `text`, shifted): `text` is not searched again.
    pub(crate) fn find_at<'t, I: IntoIterator<Item = usize>>(
        &self,
        text: &'t [u8],
        dots: I,
    ) -> impl Iterator<Item = HostMatch<'t>> + use<'t, I> {
        dots.into_iter().filter_map(move |at| {
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

    /// Where a host may be in `text`, in order: the offset of each `.service` (in any case)
    /// that may start an instance domain.
    /// One pass over a whole document, so that values without one are skipped.
    pub fn candidates(&self, text: &[u8]) -> Vec<usize> {
        service_dots(text)
    }

    /// A finder and its [`HostFinder::candidates`] in the document.
    ///
    /// ```
    /// use sn_retarget::analyze::hosts::HostFinder;
    /// let doc = b"<a>https://dev1.service-now.com/ x DEV2.SERVICE-NOW.COM Dev3.Service-Now.com</a>";
    /// let (finder, at) = HostFinder::scan_document(doc);
    /// assert_eq!(at, [15, 39, 60]);
    /// assert_eq!(finder.find_all(doc).count(), 3);
    /// ```
    pub fn scan_document(document: &[u8]) -> (HostFinder, Vec<usize>) {
        let f = HostFinder::new();
        let at = f.candidates(document);
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
    // A host name is at most 253 bytes: looking further back would make a long run of labels
    // quadratic (`a.a.a....service-now.com`).
    let floor = at.saturating_sub(MAX_HOST);
    let mut start = at;
    while start > floor && (is_label_byte(text[start - 1]) || text[start - 1] == b'.') {
        start -= 1;
    }
    if start == floor && floor > 0 && (is_label_byte(text[floor - 1]) || text[floor - 1] == b'.') {
        return None; // longer than any host name
    }
    // An empty label (`..`) ends a host name: only what follows the last one can be a host.
    if let Some(k) = memchr::memmem::rfind(&text[start..=at], b"..") {
        start += k + 2;
    }
    // After a percent-escape (`%2F`, `%252F`) or a backslash escape (`\ndev1...` in a JSON
    // string), the escape's digits or letter are not part of the host.
    start = crate::scan::escapes::past_escape(text, start);
    // Trim leading dots or hyphens (not part of a host name).
    while start < at && matches!(text[start], b'.' | b'-') {
        start += 1;
    }
    if start >= at {
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

/// A URL as shown in messages: scheme, host and path only (user info and query may hold
/// secrets).
///
/// ```
/// use sn_retarget::analyze::hosts::shown_url;
/// assert_eq!(shown_url("https://u:p@dev1.service-now.com/x?token=1"), "https://dev1.service-now.com/x");
/// ```
pub fn shown_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    format!("{scheme}://{rest}")
}

/// `https://host/...` URLs in a text (comma lists split), with their host.
///
/// ```
/// use sn_retarget::analyze::hosts::urls;
/// let found: Vec<_> = urls("https://a.service-now.com/x, http://b.example").collect();
/// assert_eq!(found, [("https://a.service-now.com/x", "a.service-now.com"), ("http://b.example", "b.example")]);
/// ```
pub fn urls(text: &str) -> impl Iterator<Item = (&str, &str)> {
    static HTTP: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("http"));
    const SEPARATORS: [char; 3] = [',', ' ', '\n'];
    // The pieces between separators, trimmed, that start with a scheme: found from each
    // `http` (most values hold none, long scripts a few), not by splitting every value. Each
    // piece is looked at once (`seen`: where the last one ended), however many `http` it holds.
    let mut seen = 0;
    HTTP.find_iter(text.as_bytes()).filter_map(move |at| {
        if at < seen {
            return None;
        }
        let start = text[seen..at].rfind(SEPARATORS).map_or(seen, |i| seen + i + 1);
        let end = text[at..].find(SEPARATORS).map_or(text.len(), |i| at + i);
        seen = end;
        // Only the `http` that starts its piece (after the blanks `trim` takes away).
        if start + (end - start - text[start..end].trim_start().len()) != at {
            return None;
        }
        let u = text[at..end].trim_end();
        let rest = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"))?;
        let host = rest.split(['/', '?', '#', ':']).next().unwrap_or("");
        Some((u, host))
    })
}

/// `true` for a ServiceNow instance host (in any letter case).
///
/// ```
/// use sn_retarget::analyze::hosts::is_instance_host;
/// assert!(is_instance_host("Dev1.Service-Now.com"));
/// assert!(!is_instance_host("service-now.com"));
/// ```
pub fn is_instance_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    INSTANCE_DOMAINS
        .iter()
        .any(|d| h.ends_with(d) && h.len() > d.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The URLs as first found: every value split at its separators.
    fn urls_by_splitting(text: &str) -> Vec<(&str, &str)> {
        text.split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(|u| {
                let rest = u.split_once("://").map_or("", |(_, r)| r);
                (u, rest.split(['/', '?', '#', ':']).next().unwrap_or(""))
            })
            .collect()
    }

    proptest! {
        #[test]
        fn urls_are_the_pieces_between_separators_that_start_with_a_scheme(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just("https://".to_string()),
                    Just("http://".to_string()),
                    Just("http".to_string()),
                    "[a-z.:/?#]{0,6}",
                    "[ ,\n\t\r]{1,2}",
                    Just("\u{a0}".to_string()),
                    Just("é".to_string()),
                ],
                0..16,
            )
        ) {
            let text = pieces.concat();
            prop_assert_eq!(urls(&text).collect::<Vec<_>>(), urls_by_splitting(&text));
        }
    }

    fn hosts(s: &str) -> Vec<String> {
        HostFinder::new()
            .find_all(s.as_bytes())
            .map(|m| m.host.to_string())
            .collect()
    }

    /// The candidates are in order, once each, every `.service` that starts an instance
    /// domain in any case (wherever it is, the end of the document too), and only `.service`s.
    #[test]
    fn candidates_are_every_domain_start_in_any_case() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let pieces: [&[u8]; 10] = [
            b".service",
            b".SERVICE",
            b".SeRvIcE",
            b"v",
            b"x.serv",
            b"ice",
            b"-now.com",
            b"-NOW.CoM",
            b"nowservices.com",
            b"NowServices.",
        ];
        for len in [3, 12, 40, 120] {
            for _ in 0..400 {
                let mut doc = Vec::new();
                for _ in 0..len {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    doc.extend_from_slice(pieces[(state % 10) as usize]);
                }
                let starts = |i: usize, d: &str| {
                    doc.len() >= i + d.len() && doc[i..i + d.len()].eq_ignore_ascii_case(d.as_bytes())
                };
                let found = HostFinder::new().candidates(&doc);
                let shown = String::from_utf8_lossy(&doc);
                assert!(found.windows(2).all(|w| w[0] < w[1]), "{found:?} {shown:?}");
                assert!(found.iter().all(|&i| starts(i, ".service")), "{shown:?}");
                for i in 0..doc.len() {
                    if INSTANCE_DOMAINS.iter().any(|d| starts(i, d)) {
                        assert!(found.contains(&i), "{i} in {shown:?}");
                    }
                }
            }
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
        // An empty label ends a host name (a fuzz find: `a....dev1` is no host).
        assert_eq!(hosts("lifespa....dev1.service-now.com"), ["dev1.service-now.com"]);
        assert!(hosts("dev1..service-now.com").is_empty());
        assert_eq!(
            hosts("HTTPS://DEV1.SERVICE-NOW.COM/x"),
            ["DEV1.SERVICE-NOW.COM"]
        );
        assert_eq!(
            hosts("a.gov.servicenowservices.com, hi.service-now.com"),
            ["a.gov.servicenowservices.com", "hi.service-now.com"]
        );
        assert_eq!(
            hosts("https://Dev1.Service-Now.COM/x"),
            ["Dev1.Service-Now.COM"]
        );
        assert_eq!(
            hosts("x sErViCe-NoW.com dEv1.sErViCe-NoW.cOm"),
            ["dEv1.sErViCe-NoW.cOm"]
        );
        assert_eq!(
            hosts("redirect_uri=https%3A%2F%2Fdev1.service-now.com%2Foauth_redirect.do"),
            ["dev1.service-now.com"]
        );
        assert_eq!(
            hosts("u=https%253A%252F%252Fdev1.service-now.com"),
            ["dev1.service-now.com"]
        );
        assert_eq!(hosts("u=%2fDEV1.service-now.com"), ["DEV1.service-now.com"]);
    }
}
