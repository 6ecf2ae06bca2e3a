//! Every check rule once: its id (as findings, JSON and SARIF name it), the severities it
//! reports at and what it finds. The README's rule table names the same ids (a test holds them
//! together).

macro_rules! rule_ids {
    ($($(#[$doc:meta])* $name:ident => ($id:literal, $severity:literal, $finds:literal),)*) => {
        /// A check rule.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum RuleId {
            $($(#[$doc])* $name,)*
        }

        impl RuleId {
            /// Every rule, in the order SARIF lists them.
            pub const ALL: &[RuleId] = &[$(RuleId::$name,)*];

            /// The id findings carry, e.g. `oauth-client-id`.
            ///
            /// ```
            /// use sn_retarget::check::rules::RuleId;
            /// assert_eq!(RuleId::SecretLeft.id(), "secret-left");
            /// ```
            pub fn id(self) -> &'static str {
                match self {
                    $(RuleId::$name => $id,)*
                }
            }

            /// The severities it reports at, e.g. `error / warning`.
            pub fn severity(self) -> &'static str {
                match self {
                    $(RuleId::$name => $severity,)*
                }
            }

            /// What it finds, in a line.
            pub fn finds(self) -> &'static str {
                match self {
                    $(RuleId::$name => $finds,)*
                }
            }
        }
    };
}

rule_ids! {
    /// references to records not in the bundle
    MissingReference => ("missing-reference", "error / warning / info", "references to records not in the bundle"),
    /// one sys_id defined twice with different content
    DuplicateSysId => ("duplicate-sys-id", "error", "one sys_id defined twice with different content"),
    /// records exported from more than one instance
    SeveralSourceInstances => ("several-source-instances", "warning", "records exported from more than one instance"),
    /// ciphertext, or a secret column with a value in it
    SecretLeft => ("secret-left", "error", "ciphertext, or a secret column with a value in it"),
    /// a placeholder to replace (see CHECKLIST.md)
    SecretPlaceholder => ("secret-placeholder", "info", "a placeholder to replace (see CHECKLIST.md)"),
    /// an instance URL that is not bare `https://<name>.service-now.com`
    InstanceUrlForm => ("instance-url-form", "error", "an instance URL that is not bare `https://<name>.service-now.com`"),
    /// `http://` to an instance
    HttpInstanceUrl => ("http-instance-url", "warning", "`http://` to an instance"),
    /// instance-to-instance OAuth URLs not ending in `/oauth_*.do`
    OAuthUrlPath => ("oauth-url-path", "error", "instance-to-instance OAuth URLs not ending in `/oauth_*.do`"),
    /// a provider whose client_id matches no endpoint of the bundle
    OAuthClientId => ("oauth-client-id", "error", "a provider whose client_id matches no endpoint of the bundle"),
    /// an instance record whose provider asks another host for tokens
    OAuthTokenUrlHost => ("oauth-token-url-host", "error", "an instance record whose provider asks another host for tokens"),
    /// an endpoint whose redirect list misses a caller's redirect URL
    OAuthRedirectMissing => ("oauth-redirect-missing", "error", "an endpoint whose redirect list misses a caller's redirect URL"),
    /// a provider with no default profile, or several
    OAuthDefaultProfile => ("oauth-default-profile", "error", "a provider with no default profile, or several"),
    /// default_grant_type unlike the default profile's grant_type
    OAuthGrantType => ("oauth-grant-type", "error", "default_grant_type unlike the default profile's grant_type"),
    /// an inactive registry that something uses
    OAuthInactive => ("oauth-inactive", "error", "an inactive registry that something uses"),
    /// a profile scope naming a scope the bundle does not define
    OAuthScopeUndefined => ("oauth-scope-undefined", "error", "a profile scope naming a scope the bundle does not define"),
    /// more than one instance record marked production
    SeveralProduction => ("several-production", "error", "more than one instance record marked production"),
    /// a payload that is not well-formed (its records are not read; it is kept as text)
    MalformedPayload => ("malformed-payload", "warning", "a payload that is not well-formed (its records are not read; it is kept as text)"),
    /// after `apply` or `fork`: a source host still in a value
    SourceHostLeft => ("source-host-left", "error", "after `apply` or `fork`: a source host still in a value"),
    /// after `apply` or `fork`: an old sys_id still anywhere in a file
    OldIdLeft => ("old-id-left", "error", "after `apply` or `fork`: an old sys_id still anywhere in a file"),
    /// after `fork` (`check --namespace`): the old namespace, anywhere in a file
    OldNamespaceLeft => ("old-namespace-left", "error", "after `fork` (`check --namespace`): the old namespace, anywhere in a file"),
    /// a redirect list naming one URL twice (instances merged)
    RedirectDuplicate => ("redirect-duplicate", "error", "a redirect list naming one URL twice (instances merged)"),
    /// an instance record (or provider) whose URL names another instance than its instance_name, name or environment says
    InstanceUrlMismatch => ("instance-url-mismatch", "error / warning", "an instance record (or provider) whose URL names another instance than its instance_name, name or environment says"),
    /// a provider whose client_id this run changed, with no endpoint in the bundle sharing it
    ClientIdChanged => ("client-id-changed", "error", "a provider whose client_id this run changed, with no endpoint in the bundle sharing it"),
    /// a record this run gave a new id that still carries the original's state
    DerivedState => ("derived-state", "error / warning", "a record this run gave a new id that still carries the original's state"),
    /// a record said to exist on the target (`--existing`) that the bundle would replace
    ExistingWritten => ("existing-written", "warning", "a record said to exist on the target (`--existing`) that the bundle would replace"),
    /// `check --target T` on a bundle made for another instance
    BundleTarget => ("bundle-target", "error", "`check --target T` on a bundle made for another instance"),
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
