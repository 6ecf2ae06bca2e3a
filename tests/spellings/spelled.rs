//! Spellings: hosts, sys_ids, namespaces and secret-bearing values as XML source text at the
//! level of the document that holds them, and near misses that are not the source.

use proptest::prelude::*;

use super::{HOSTS, ID, ID2, NAMESPACE, ROW1};

/// How one character of a token is written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Char {
    Plain,
    /// In the other letter case.
    Case,
    /// `&#46;`
    Dec,
    /// `&#x2e;` (`&#x2E;` when upper)
    Hex {
        upper: bool,
    },
    /// `&#00046;`
    DecZeros,
    /// `&amp;#46;`: a reference one level deeper (the value holds the reference itself, as
    /// HTML does).
    Deeper,
}

pub(super) fn char_strategy() -> impl Strategy<Value = Char> {
    prop_oneof![
        40 => Just(Char::Plain),
        6 => Just(Char::Case),
        1 => Just(Char::Dec),
        1 => any::<bool>().prop_map(|upper| Char::Hex { upper }),
        1 => Just(Char::DecZeros),
        1 => Just(Char::Deeper),
    ]
}

/// `token` with each character written as `how` says (cycled).
pub(super) fn spell(token: &str, how: &[Char]) -> String {
    let mut out = String::new();
    for (i, c) in token.chars().enumerate() {
        let n = c as u32;
        match how[i % how.len()] {
            Char::Plain => out.push(c),
            Char::Case if c.is_ascii_lowercase() => out.push(c.to_ascii_uppercase()),
            Char::Case => out.push(c.to_ascii_lowercase()),
            Char::Dec => out.push_str(&format!("&#{n};")),
            Char::Hex { upper: false } => out.push_str(&format!("&#x{n:x};")),
            Char::Hex { upper: true } => out.push_str(&format!("&#x{n:X};")),
            Char::DecZeros => out.push_str(&format!("&#000{n};")),
            Char::Deeper => out.push_str(&format!("&amp;#{n};")),
        }
    }
    out
}

/// A source host in some spelling, in a URL or beside other text.
pub(super) fn host_strategy() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("https://"),
        Just("http://"),
        Just("HTTPS://"),
        Just("https://user:pw@"),
        Just("https://user%40x.example@"),
        Just("//"),
        Just("https%3A%2F%2F"),
        Just("https%3a%2f%2f"),
        Just("https%253A%252F%252F"),
        Just("https:\\/\\/"),
        Just("redirect_uri=https%3A%2F%2F"),
        Just("'"),
        Just("&quot;"),
        Just("("),
        Just("="),
        Just("@"),
        Just("&lt;a href=&quot;https://"),
        Just("url: "),
    ];
    let suffix = prop_oneof![
        Just(""),
        Just("/"),
        Just("/oauth_token.do"),
        Just("/x.do?sys_id=1&amp;a=b"),
        Just(":443/x"),
        Just("."),
        Just("./x"),
        Just(","),
        Just("'"),
        Just("&quot;"),
        Just(" "),
        Just("%2F"),
        Just("%2Fx"),
        Just("&amp;x=1"),
        Just("?"),
        Just("#frag"),
        Just(")"),
        Just("\\/"),
        Just("&quot;&gt;link&lt;/a&gt;"),
    ];
    let how = proptest::collection::vec(char_strategy(), 1..24);
    (prop::sample::select(HOSTS.to_vec()), how, prefix, suffix)
        .prop_map(|(host, how, p, s)| format!("{p}{}{s}", spell(host, &how)))
}

/// A sys_id of a record in the input, in some spelling and context.
pub(super) fn id_strategy() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("sys_id="),
        Just("sys_idIN"),
        Just("sys_idNOT IN"),
        Just("^ORsys_id="),
        Just("sys_id%3D"),
        Just("SYS_ID="),
        Just("&quot;sys_id&quot;:&quot;"),
        Just("'"),
        Just(","),
        Just("_"),
        Just("/"),
        Just("sys_script_"),
        Just("sys_id&#61;"),
        Just("%2C"),
        Just("documentkey="),
        Just("?sys_id="),
        Just("x_app_group.do?sys_id="),
    ];
    let suffix = prop_oneof![
        Just(""),
        Just(","),
        Just("^EQ"),
        Just("^"),
        Just("&quot;"),
        Just("'"),
        Just("&amp;x=1"),
        Just("%2C"),
        Just("%26"),
        Just("/"),
        Just("_x"),
        Just(" "),
        Just("."),
        Just("-"),
    ];
    let how = proptest::collection::vec(char_strategy(), 1..40);
    (
        prop::sample::select(vec![ID, ID2, ROW1]),
        any::<bool>(),
        how,
        prefix,
        suffix,
    )
        .prop_map(|(id, upper, how, p, s)| {
            let id = match upper {
                true => id.to_ascii_uppercase(),
                false => id.to_string(),
            };
            // An id's characters are not spelled in the other case one by one (`Case`): a
            // token is of one case.
            let how: Vec<Char> = how
                .into_iter()
                .map(|c| match c {
                    Char::Case => Char::Plain,
                    c => c,
                })
                .collect();
            format!("{p}{}{s}", spell(&id, &how))
        })
}

/// A namespace where it names the scope: alone, prefixing a name, in a REST path.
pub(super) fn namespace_strategy() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![
        Just(""),
        Just("/api/"),
        Just("sys_dictionary_"),
        Just("'"),
        Just("new "),
        Just("&quot;"),
        Just("scope="),
    ];
    let suffix = prop_oneof![
        Just(""),
        Just(".Util"),
        Just("_table"),
        Just("_t_f"),
        Just("/v1/x"),
        Just("'"),
        Just("."),
    ];
    // Spelled one character at a time; never in another case (see the tests in `found`).
    let how = proptest::collection::vec(char_strategy(), 1..8).prop_map(|how| {
        how.into_iter()
            .map(|c| match c {
                Char::Case => Char::Plain,
                c => c,
            })
            .collect::<Vec<_>>()
    });
    (prefix, how, suffix).prop_map(|(p, how, s)| format!("{p}{}{s}", spell(NAMESPACE, &how)))
}

/// Text beside the tokens (never a letter or digit touching one: see the named tests).
pub(super) fn filler_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("var x = 1;".to_string()),
        Just("abc".to_string()),
        Just("é ü".to_string()),
        Just("&amp;".to_string()),
        Just("&lt;b&gt;bold&lt;/b&gt;".to_string()),
        Just("&#13;".to_string()),
        Just("&#34;".to_string()),
        Just("&#233;".to_string()),
        Just("]]".to_string()),
        Just("".to_string()),
    ]
}

/// A generated value: XML source text at the level of its document.
#[derive(Debug, Clone)]
pub(super) struct Value {
    pub(super) source: String,
}

pub(super) fn separator_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(" "),
        Just(","),
        Just(", "),
        Just("\n"),
        Just("^"),
        Just("; "),
        Just(" + "),
        Just("&#13;\n"),
        Just("|"),
        Just("\t"),
        // Escapes of a JSON or JavaScript string (see the tests in `found`).
        Just("\\n"),
        Just("\\t"),
    ]
}

/// A host or an id, or text.
pub(super) fn piece_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => host_strategy(),
        3 => id_strategy(),
        1 => namespace_strategy(),
        1 => filler_strategy(),
    ]
}

/// Hosts, ids and text, with separators.
pub(super) fn tokens_strategy() -> impl Strategy<Value = Value> {
    proptest::collection::vec((piece_strategy(), separator_strategy()), 1..4).prop_map(|pieces| {
        let mut out = String::new();
        for (i, (p, s)) in pieces.iter().enumerate() {
            if i > 0 {
                out.push_str(s);
            }
            out.push_str(p);
        }
        Value { source: out }
    })
}

/// Blanks before a value: a line break is written `&#13;` + LF by ServiceNow's exports.
pub(super) fn lead_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just(""),
        1 => Just(" "),
        1 => Just("\n"),
        1 => Just("&#13;\n"),
        1 => Just("&#10;"),
        1 => Just("&#32;"),
    ]
}

/// A secret-named key, in some spelling.
pub(super) fn secret_key_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("password"),
        Just("client_secret"),
        Just("Client_Secret"),
        Just("CLIENT_SECRET"),
        Just("client&#95;secret"),
        Just("api_key"),
        Just("refresh_token"),
    ]
}

/// The secret itself.
pub(super) fn secret_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just("s3cr3tValue"),
        1 => Just("s3cr]]>et"),
        1 => Just("a&amp;b"),
        1 => Just("&#115;3cr3t"),
    ]
}

/// A JSON document with a secret-named key, and a host or an id beside it.
pub(super) fn json_strategy() -> impl Strategy<Value = Value> {
    let quote = prop_oneof![4 => Just("\""), 1 => Just("&#34;"), 1 => Just("&quot;")];
    (
        lead_strategy(),
        quote,
        secret_key_strategy(),
        secret_strategy(),
        piece_strategy(),
        0..3,
    )
        .prop_map(|(lead, q, key, secret, piece, shape)| {
            let member = format!("{q}{key}{q}:{q}{secret}{q}");
            let source = match shape {
                // Flat, the token beside the secret.
                0 => format!("{lead}{{{member},{q}u{q}:{q}{piece}{q}}}"),
                // Nested.
                1 => format!("{lead}{{{q}auth{q}:{{{member}}},{q}u{q}:{q}{piece}{q}}}"),
                // Keyed by the token (credentials per instance, per record).
                _ => format!("{lead}{{{q}{piece}{q}:{{{member}}}}}"),
            };
            Value { source }
        })
}

/// A URL whose query holds a secret-named parameter, and a host or an id.
pub(super) fn query_strategy() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("client_secret"),
        Just("Client_Secret"),
        Just("client%5Fsecret"),
        Just("client&#95;secret"),
        Just("password"),
        Just("api_key"),
    ];
    let amp = prop_oneof![Just("&amp;"), Just("&#38;"), Just("&amp;amp;")];
    (
        lead_strategy(),
        key,
        secret_strategy(),
        amp,
        prop_oneof![host_strategy(), id_strategy()],
    )
        .prop_map(|(lead, key, secret, amp, piece)| {
            // One token: no blank inside (the pieces' own blanks would make it text).
            let piece = piece.replace([' ', '\t', '\n'], "");
            Value {
                source: format!("{lead}https://x.example/cb?{key}={secret}{amp}u={piece}"),
            }
        })
}

/// Any value.
pub(super) fn value_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => tokens_strategy(),
        1 => json_strategy(),
        1 => query_strategy(),
    ]
}

/// Near misses: hosts of other instances or not of ServiceNow at all, hex runs that are not an
/// id of the input, in the same spellings and places.
pub(super) fn near_miss_strategy() -> impl Strategy<Value = Value> {
    let host = prop_oneof![
        Just("xdev1.service-now.com"),
        Just("my-dev1.service-now.com"),
        Just("dev11.service-now.com"),
        Just("dev3.service-now.com"),
        Just("dev2.service-now.com"),
        Just("dev1.servicenowservices.com"),
        Just("dev1.service-now.com.evil.example"),
        Just("dev1.service-now.community"),
        Just("dev1.service-now.com-x"),
        Just("dev1-service-now.com"),
        Just("dev1.service-now.co"),
        Just("dev1.service-now"),
    ];
    // No reference one level deeper (`&amp;#46;`) here: the rewrite reads it as the character
    // (as HTML would) and the check as text, so `dev1.service-now.com&amp;#46;evil.example`
    // is a source host to the check and not to the rewrite. No export writes a deeper
    // reference beside a host.
    let how = proptest::collection::vec(char_strategy(), 1..24).prop_map(|how| {
        how.into_iter()
            .map(|c| match c {
                Char::Deeper => Char::Dec,
                c => c,
            })
            .collect::<Vec<_>>()
    });
    let host = (host, how).prop_map(|(h, how)| spell(h, &how));
    let id = prop_oneof![
        Just(format!("{ID}0")),
        Just(format!("0{ID}")),
        Just(format!("a{ID}")),
        Just(ID[..31].to_string()),
        Just(format!("{ID}{ID2}")),
        Just("0123456789abcdef0123456789abcd99".to_string()),
        Just("0123456789ABCDEF0123456789ABCD99".to_string()),
        Just(format!("{}0", ID.to_ascii_uppercase())),
        Just(format!("sys_id={}", &ID[1..])),
    ];
    let piece = prop_oneof![host.boxed(), id.boxed(), filler_strategy().boxed()];
    proptest::collection::vec((piece, separator_strategy()), 1..4).prop_map(|pieces| {
        let mut out = String::new();
        for (i, (p, s)) in pieces.iter().enumerate() {
            if i > 0 {
                out.push_str(s);
            }
            out.push_str(p);
        }
        Value { source: out }
    })
}
