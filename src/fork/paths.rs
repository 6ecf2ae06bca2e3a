//! File names of the fork: each part of a path with its sys_ids mapped and its namespace
//! renamed, as the files' contents are (`update/sys_script_include_<id>.xml`,
//! `dictionary/x_ns_table.xml`, `sys_dictionary_x_ns_table_field.xml`, the application folder
//! named by its sys_id), and `sn_source_control.properties` pointing at the renamed folder.

use std::path::{Component, Path, PathBuf};

use super::app::properties_path;
use crate::plan::ids::IdMap;
use crate::plan::namespace::NamespaceRenames;
use crate::plan::tokens::id_tokens;

/// How names change.
#[derive(Debug, Clone)]
pub struct Renamer<'a> {
    /// Old sys_id -> new.
    pub ids: &'a IdMap,
    /// The namespace renames.
    pub namespaces: &'a NamespaceRenames,
}

impl Renamer<'_> {
    /// One name (a path's part, or any text) with its ids and namespaces renamed.
    ///
    /// ```
    /// use sn_retarget::fork::Renamer;
    /// use sn_retarget::plan::{ids::IdMap, namespace::NamespaceRenames};
    /// let mut ids = IdMap::default();
    /// ids.insert("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
    /// let ns = NamespaceRenames::new(vec![("x_1_a".into(), "x_2_b".into())]);
    /// let r = Renamer { ids: &ids, namespaces: &ns };
    /// assert_eq!(r.name("sys_script_0123456789abcdef0123456789abcdef.xml"), "sys_script_fedcba9876543210fedcba9876543210.xml");
    /// assert_eq!(r.name("sys_dictionary_x_1_a_t_f.xml"), "sys_dictionary_x_2_b_t_f.xml");
    /// ```
    pub fn name(&self, name: &str) -> String {
        let bytes = name.as_bytes();
        let mut out = String::with_capacity(name.len());
        let mut at = 0;
        for span in id_tokens(bytes) {
            if let Some(new) = self.ids.get(&bytes[span.range()]) {
                out.push_str(&name[at..span.start]);
                out.push_str(std::str::from_utf8(new).unwrap_or_default());
                at = span.end;
            }
        }
        out.push_str(&name[at..]);
        self.namespaces.apply_to(&out)
    }

    /// A relative path with every part renamed (parts that are not UTF-8 stay).
    pub fn path(&self, path: &Path) -> PathBuf {
        path.components()
            .map(|c| match c {
                Component::Normal(part) => match part.to_str() {
                    Some(s) => PathBuf::from(self.name(s)),
                    None => PathBuf::from(part),
                },
                other => PathBuf::from(other.as_os_str()),
            })
            .collect()
    }

    /// The properties file with its `path=` value renamed as the folders are (the rest of the
    /// file as it was). `None` when nothing changes.
    pub fn properties(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (value, span) = properties_path(text)?;
        let renamed: Vec<String> = value.split('/').map(|part| self.name(part)).collect();
        let renamed = renamed.join("/");
        if renamed == value {
            return None;
        }
        let mut out = Vec::with_capacity(bytes.len() + 8);
        out.extend_from_slice(&bytes[..span.start]);
        out.extend_from_slice(renamed.as_bytes());
        out.extend_from_slice(&bytes[span.end..]);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_path_follows_the_folder() {
        let mut ids = IdMap::default();
        ids.insert(
            "1ee5ee9383915210c86bcc50ceaad3a1",
            "ffffffffffffffffffffffffffffffff",
        );
        let ns = NamespaceRenames::new(vec![("x_1_a".into(), "x_2_b".into())]);
        let r = Renamer {
            ids: &ids,
            namespaces: &ns,
        };
        let text = "# path=<path to app content in your repo>\n#Tue Oct 22\npath=1ee5ee9383915210c86bcc50ceaad3a1\r\n";
        let out = r.properties(text.as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# path=<path to app content in your repo>\n#Tue Oct 22\npath=ffffffffffffffffffffffffffffffff\r\n"
        );
        assert_eq!(r.properties(b"path=\n"), None);
        let moved = r.properties(b"path = /src/x_1_a\n").unwrap();
        assert_eq!(moved, b"path = /src/x_2_b\n");
    }
}
