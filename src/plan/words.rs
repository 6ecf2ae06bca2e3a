//! Whole-word replacement: what `--label` and `--replace` do to a text.
//!
//! In: a text and `OLD -> NEW` pairs. Out: the text with every whole-word occurrence of an
//! `OLD` replaced, all pairs at once (a replacement is never replaced again, so `Dev=Prod` and
//! `Prod=Live` swap rather than chain). A word is a run of letters, digits and `_`; an `OLD`
//! that starts (ends) with a word character must not have one just before (after) it, so
//! `Dev` is found in "OAuth Client Dev" and "Dev-1" but not in "Development" or "DevOps".

/// `true` for a character that continues a word.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` with every whole-word occurrence of each `old` replaced by its `new` (longest `old`
/// first where two start at the same place); `None` when nothing matched.
///
/// ```
/// use sn_retarget::plan::replace_words;
/// let pairs = [("Dev".to_string(), "Prod".to_string())];
/// assert_eq!(replace_words("OAuth Client Dev", &pairs).as_deref(), Some("OAuth Client Prod"));
/// assert_eq!(replace_words("Development", &pairs), None);
/// assert_eq!(replace_words("Dev-1, dev, Dev_x, (Dev)", &pairs).as_deref(), Some("Prod-1, dev, Dev_x, (Prod)"));
/// ```
pub fn replace_words(text: &str, pairs: &[(String, String)]) -> Option<String> {
    replace_with(text, pairs, true)
}

/// [`replace_words`] without the word boundaries: every occurrence, inside words too.
pub fn replace_substrings(text: &str, pairs: &[(String, String)]) -> Option<String> {
    replace_with(text, pairs, false)
}

fn replace_with(text: &str, pairs: &[(String, String)], whole: bool) -> Option<String> {
    if pairs
        .iter()
        .all(|(old, _)| old.is_empty() || !text.contains(old.as_str()))
    {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    let mut at = 0;
    let mut copied = 0;
    while at < text.len() {
        let rest = &text[at..];
        let before = text[..at].chars().next_back();
        let found = pairs
            .iter()
            .filter(|(old, _)| !old.is_empty() && rest.starts_with(old.as_str()))
            .filter(|(old, _)| {
                !whole || {
                    let first = old.chars().next().is_some_and(is_word);
                    let last = old.chars().next_back().is_some_and(is_word);
                    let after = rest[old.len()..].chars().next();
                    let glued_before = first && before.is_some_and(is_word);
                    let glued_after = last && after.is_some_and(is_word);
                    !glued_before && !glued_after
                }
            })
            .max_by_key(|(old, _)| old.len());
        match found {
            Some((old, new)) => {
                out.push_str(&text[copied..at]);
                out.push_str(new);
                at += old.len();
                copied = at;
                changed |= old != new;
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    out.push_str(&text[copied..]);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn whole_words_only() {
        let dev = p(&[("Dev", "Prod")]);
        assert_eq!(replace_words("Prodelopment", &dev), None);
        assert_eq!(
            replace_words("OAuth Provider Dev default_profile", &dev).as_deref(),
            Some("OAuth Provider Prod default_profile")
        );
        assert_eq!(
            replace_words("DevOps Dev", &dev).as_deref(),
            Some("DevOps Prod")
        );
        assert_eq!(
            replace_words("ÉDev Dev", &dev).as_deref(),
            Some("ÉDev Prod")
        );
    }

    #[test]
    fn all_pairs_at_once() {
        let swap = p(&[("Dev", "Prod"), ("Prod", "Dev")]);
        assert_eq!(
            replace_words("Dev to Prod", &swap).as_deref(),
            Some("Prod to Dev")
        );
        let longest = p(&[("OAuth", "X"), ("OAuth Client", "Y")]);
        assert_eq!(
            replace_words("OAuth Client", &longest).as_deref(),
            Some("Y")
        );
        // An OLD ending in a non-word character needs no boundary after it.
        let url = p(&[("dev1.", "prod1.")]);
        assert_eq!(replace_words("dev1.x", &url).as_deref(), Some("prod1.x"));
    }

    #[test]
    fn substrings_ignore_words() {
        let dev = p(&[("Dev", "Prod")]);
        assert_eq!(
            replace_substrings("Development", &dev).as_deref(),
            Some("Prodelopment")
        );
    }
}
