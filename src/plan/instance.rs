//! Instance hosts: parsed from a name, host or URL, and mapped old to new.

use std::collections::BTreeMap;

use super::PlanError;

/// An instance host, lower case, e.g. `dev12345.service-now.com`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instance {
    host: String,
}

impl Instance {
    /// Parses `dev12345`, `dev12345.service-now.com` or `https://dev12345.service-now.com/`.
    ///
    /// ```
    /// use sn_retarget::plan::Instance;
    /// assert_eq!(Instance::parse("DEV1").unwrap().host(), "dev1.service-now.com");
    /// assert_eq!(Instance::parse("https://a.service-now.com/").unwrap().name(), "a");
    /// assert!(Instance::parse("https://a.service-now.com/x y").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Instance, PlanError> {
        let bad = || PlanError::BadHost(s.to_string());
        let lower = s.trim().to_ascii_lowercase();
        let t = lower.as_str();
        let t = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .unwrap_or(t);
        let t = t.trim_end_matches('/');
        if t.is_empty()
            || !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            || t.starts_with(['.', '-'])
            || t.ends_with('.')
            || t.contains("..")
        {
            return Err(bad());
        }
        let host = if t.contains('.') {
            t.to_string()
        } else {
            format!("{t}.service-now.com")
        };
        Ok(Instance { host })
    }

    /// The host, e.g. `dev12345.service-now.com`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The instance name: the first label, e.g. `dev12345`.
    pub fn name(&self) -> &str {
        self.host.split('.').next().unwrap_or(&self.host)
    }
}

/// The host map: every `--source` to the target, and each `--host OLD=NEW`; a host mapped to
/// itself is dropped, one mapped to two targets refused.
pub(super) fn host_map(
    sources: &[Instance],
    target: Option<&Instance>,
    hosts: &BTreeMap<String, String>,
) -> Result<Vec<(Instance, Instance)>, PlanError> {
    let mut map: BTreeMap<Instance, Instance> = BTreeMap::new();
    let pairs = sources
        .iter()
        .filter_map(|s| target.map(|t| Ok((s.clone(), t.clone()))))
        .chain(
            hosts
                .iter()
                .map(|(old, new)| Ok((Instance::parse(old)?, Instance::parse(new)?))),
        );
    for pair in pairs {
        let (old, new) = pair?;
        if old == new {
            continue;
        }
        if let Some(first) = map.get(&old).filter(|first| **first != new) {
            return Err(PlanError::HostMappedTwice {
                host: old.host().to_string(),
                first: first.host().to_string(),
                second: new.host().to_string(),
            });
        }
        map.insert(old, new);
    }
    Ok(map.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_every_way() {
        for s in [
            "dev1",
            "dev1.service-now.com",
            "https://dev1.service-now.com",
            "https://dev1.service-now.com/",
            "HTTPS://DEV1.service-now.com",
        ] {
            let i = Instance::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(i.host(), "dev1.service-now.com", "{s}");
        }
        for s in ["", "https://", "dev 1", "a..b", ".a", "a/b/c"] {
            assert!(Instance::parse(s).is_err(), "{s}");
        }
    }
}
