//! Names that hold secrets: the known secret columns, the field types, and the names that look
//! secret.
//!
//! In: a column, property or key name. Out: whether it names a secret. Data first (each list a
//! table of rows), then the one function that reads them.

/// `table.field` columns that hold secrets (password2 and friends), from DOMAIN.md and the
/// password2 columns of tables an update set can carry.
pub const KNOWN_SECRET_COLUMNS: &[(&str, &str)] = &[
    ("oauth_entity", "client_secret"),
    ("sys_auth_profile_oauth2", "password"),
    ("sys_auth_profile_basic", "password"),
    ("sys_rest_message", "basic_auth_password"),
    ("sys_rest_message_fn", "basic_auth_password"),
    ("sys_soap_message", "basic_auth_password"),
    ("sys_soap_message_function", "basic_auth_password"),
    ("sys_soap_message_function", "key_store_password"),
    ("sys_soap_message", "password"),
    ("sys_soap_message_function", "password"),
    ("jwt_keystore_aliases", "signing_key_password"),
    ("jwt_verifier_map", "shared_key"),
    ("ldap_server_config", "password"),
    ("sys_data_source", "jdbc_password"),
    ("sys_data_source", "scp_password"),
    ("discovery_credentials", "password"),
    ("basic_auth_credentials", "password"),
    ("api_key_credentials", "api_key"),
    ("oauth_credential", "token"),
    ("oauth_credential", "refresh_token"),
    ("oauth_credential", "token_received"),
    ("oauth_credential", "refresh_token_received"),
    ("ssh_credentials", "password"),
    ("ssh_private_key_credentials", "ssh_passphrase"),
    ("ssh_private_key_credentials", "ssh_private_key"),
    ("sys_email_account", "password"),
    ("sys_certificate", "key_store_password"),
    ("ecc_agent_property", "password"),
    ("sys_encryption_context", "encryption_key"),
    ("sys_cs_collab_provider_application", "signing_secret"),
    ("sn_twilio_direct_twilio_config", "auth_token"),
    ("ws_security_username_profile_outbound", "password"),
    ("ws_security_x509_profile_outbound", "key_store_password"),
];

/// Field types whose values are secrets (matched in any letter case).
pub const SECRET_TYPES: [&str; 2] = ["password", "password2"];

/// The start of the default placeholder (`plan::DEFAULT_PLACEHOLDER`): a value starting with
/// it is a placeholder this tool wrote, not a secret.
pub const PLACEHOLDER_PREFIX: &str = "SN-RETARGET-SECRET(";

/// Parts of a name that say it holds a secret (a name holding one looks secret, unless it
/// ends as in [`NOT_SECRET_ENDINGS`]).
pub const SECRET_NAME_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "passphrase",
    "private_key",
    "privatekey",
    "api_key",
    "apikey",
    "shared_key",
    "signing_key",
    "encryption_key",
    "access_token",
    "refresh_token",
    "auth_token",
    "bearer",
];

/// Endings that say a name holds a secret (`x_api_token`), or the whole name (`token`).
pub const SECRET_NAME_ENDINGS: &[&str] = &["_token", "_pwd"];

/// Whole names that hold secrets.
pub const SECRET_NAMES: &[&str] = &["token", "pwd", "pin"];

/// Endings of names that describe a secret rather than hold one (`token_url`,
/// `access_token_lifespan`, `token_format`, `send_client_credentials_as`,
/// `password_needs_reset`...).
pub const NOT_SECRET_ENDINGS: &[&str] = &[
    "_url",
    "_uri",
    "_endpoint",
    "_lifespan",
    "_format",
    "_type",
    "_length",
    "_as",
    "_name",
    "_label",
    "_hint",
    "_policy",
    "_expiry",
    "_expires",
    "_expires_in",
    "_expiration",
    "_date",
    "_time",
    "_count",
    "_enabled",
    "_required",
    "_reset",
    "_mode",
    "_strength",
    "_field",
    "_header",
    "_location",
    "_method",
    "_algorithm",
    "_validity",
    "_rotation",
    "_changed",
    "_updated",
    "_set",
    "_id_field",
];

/// `true` when a column, property or key named `name` looks as if it holds a secret (any
/// letter case; dots and hyphens read as `_`): it holds one of [`SECRET_NAME_PARTS`], ends with
/// one of [`SECRET_NAME_ENDINGS`] or is one of [`SECRET_NAMES`], and does not end with one of
/// [`NOT_SECRET_ENDINGS`].
///
/// ```
/// use sn_retarget::analyze::secrets::looks_secret;
/// for name in ["client_secret", "x_app.google_translate_api_key", "apiKey", "u_slack_token", "Password"] {
///     assert!(looks_secret(name), "{name}");
/// }
/// for name in ["token_url", "access_token_lifespan", "token_format", "send_client_credentials_as",
///              "password_needs_reset", "client_id", "name", "tokens"] {
///     assert!(!looks_secret(name), "{name}");
/// }
/// ```
pub fn looks_secret(name: &str) -> bool {
    // Names repeat (a few hundred columns in a whole export): each thread remembers the
    // verdicts of the last names it judged, in a small table indexed by a hash of the name.
    const SLOTS: usize = 509;
    const LONGEST: usize = 40;
    type Slot = (u8, [u8; LONGEST], bool);
    thread_local! {
        static SEEN: std::cell::RefCell<[Slot; SLOTS]> =
            const { std::cell::RefCell::new([(0, [0; LONGEST], false); SLOTS]) };
    }
    let b = name.as_bytes();
    if b.is_empty() || b.len() > LONGEST {
        return judge(name);
    }
    let slot = (b
        .len()
        .wrapping_mul(31)
        .wrapping_add(usize::from(b[0]).wrapping_mul(7))
        .wrapping_add(usize::from(b[b.len() - 1]).wrapping_mul(131))
        .wrapping_add(usize::from(b[b.len() / 2]).wrapping_mul(17))
        .wrapping_add(usize::from(b[b.len() / 3]).wrapping_mul(3)))
        % SLOTS;
    SEEN.with_borrow_mut(|seen| {
        let (len, bytes, verdict) = &mut seen[slot];
        if usize::from(*len) == b.len() && &bytes[..b.len()] == b {
            return *verdict;
        }
        let v = judge(name);
        *len = b.len() as u8;
        bytes[..b.len()].copy_from_slice(b);
        *verdict = v;
        v
    })
}

/// [`looks_secret`], worked out: the name in lower case with `_` separators, judged.
fn judge(name: &str) -> bool {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain {
        return judge_name(name);
    }
    let n: String = name
        .bytes()
        .map(|b| match b {
            b'.' | b'-' => '_',
            b => b.to_ascii_lowercase() as char,
        })
        .collect();
    judge_name(&n)
}

/// [`looks_secret`] of a name in lower case with `_` separators. Each part is looked for where
/// its first letter is (no searcher is built: names are short and there are many).
fn judge_name(n: &str) -> bool {
    // Which parts start with each byte (bit k: part k).
    const FIRST: [u16; 256] = {
        let mut t = [0u16; 256];
        let mut k = 0;
        while k < SECRET_NAME_PARTS.len() {
            t[SECRET_NAME_PARTS[k].as_bytes()[0] as usize] |= 1 << k;
            k += 1;
        }
        t
    };
    let b = n.as_bytes();
    let has_part = (0..b.len()).any(|i| {
        let mut parts = FIRST[b[i] as usize];
        while parts != 0 {
            let k = parts.trailing_zeros() as usize;
            if b[i..].starts_with(SECRET_NAME_PARTS[k].as_bytes()) {
                return true;
            }
            parts &= parts - 1;
        }
        false
    });
    let secret = has_part
        || SECRET_NAME_ENDINGS.iter().any(|e| n.ends_with(e))
        || SECRET_NAMES
            .iter()
            .any(|w| n == *w || (n.ends_with(w) && b.get(n.len() - w.len() - 1) == Some(&b'_')));
    secret && !NOT_SECRET_ENDINGS.iter().any(|e| n.ends_with(e))
}
