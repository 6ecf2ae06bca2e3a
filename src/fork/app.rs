//! A scoped application as given: a source-control folder, an update-set file, or a zip of
//! either, read into memory with every file's path.

use super::error::refuse;
use crate::error::Error;
use std::path::{Path, PathBuf};

use super::ForkError;

/// The name of the file ServiceNow's source control writes at the root of a repository.
pub const PROPERTIES: &str = "sn_source_control.properties";

/// The file ServiceNow's source control writes beside the application's files.
pub const CHECKSUM: &str = "checksum.txt";

/// One file of an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFile {
    /// Its path, relative to what was given (for a single file: its name).
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What a file is to the fork.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// An export of the application (`*.xml` in the application's folder): rewritten.
    Xml,
    /// `sn_source_control.properties`: its `path=` follows the application's folder.
    Properties,
    /// The application folder's `checksum.txt`: describes the original files (see the module
    /// docs of [`crate::fork`]).
    Checksum,
    /// Anything else (other repository content): copied as it is.
    Other,
}

/// An application read into memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct App {
    /// Every file, sorted by path.
    pub files: Vec<AppFile>,
    /// Entries left out: names starting with `.` (`.git`, ...) and symbolic links.
    pub skipped: Vec<PathBuf>,
}

impl App {
    /// An application from files already in memory (paths relative to its root).
    ///
    /// ```
    /// use sn_retarget::fork::App;
    /// let app = App::from_files(vec![("b.xml".into(), b"<unload/>".to_vec()), ("a.xml".into(), vec![])]);
    /// assert_eq!(app.files[0].path, std::path::PathBuf::from("a.xml"));
    /// ```
    pub fn from_files(files: Vec<(PathBuf, Vec<u8>)>) -> App {
        let mut files: Vec<AppFile> = files
            .into_iter()
            .map(|(path, bytes)| AppFile { path, bytes })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        App {
            files,
            skipped: Vec::new(),
        }
    }
}

/// Where the application lies among the files: the repository root (the folder of
/// `sn_source_control.properties`, when there is one) and the application's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Index of the properties file in [`App::files`].
    pub properties: Option<usize>,
    /// The application's folder, relative to what was given (empty: all of it).
    pub app_dir: PathBuf,
}

impl Layout {
    /// Finds the layout: one `sn_source_control.properties` names the folder (`path=`, empty
    /// for its own folder); none means every file given is the application's. Several are
    /// several applications.
    pub fn of(app: &App) -> Result<Layout, Error> {
        let props: Vec<usize> = app
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.path.file_name().is_some_and(|n| n == PROPERTIES))
            .map(|(i, _)| i)
            .collect();
        let Some(&k) = props.first() else {
            return Ok(Layout {
                properties: None,
                app_dir: PathBuf::new(),
            });
        };
        if props.len() > 1 {
            let found = props
                .iter()
                .map(|&i| app.files[i].path.display().to_string())
                .collect();
            return refuse(ForkError::SeveralApps(found));
        }
        let root = app.files[k]
            .path
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let text = String::from_utf8_lossy(&app.files[k].bytes);
        let value = properties_path(&text).map_or("", |(v, _)| v);
        let app_dir = root.join(value.trim_matches('/'));
        let holds = app
            .files
            .iter()
            .any(|f| f.path.starts_with(&app_dir) && f.path != app.files[k].path);
        if !holds || value.split('/').any(|c| c == "..") {
            return refuse(ForkError::Layout(format!(
                "{}: path={value} names no folder of the application",
                app.files[k].path.display()
            )));
        }
        Ok(Layout {
            properties: Some(k),
            app_dir,
        })
    }

    /// What `file` is to the fork.
    pub fn kind(&self, i: usize, file: &AppFile) -> FileKind {
        let name = file.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let in_app = file.path.starts_with(&self.app_dir);
        if self.properties == Some(i) {
            FileKind::Properties
        } else if in_app && name == CHECKSUM && file.path.parent() == Some(&self.app_dir) {
            FileKind::Checksum
        } else if in_app
            && Path::new(name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
        {
            FileKind::Xml
        } else {
            FileKind::Other
        }
    }
}

/// The value of the `path` key of a properties text and its byte span (`key=value`,
/// `key: value` or `key value`; `#` and `!` comment lines skipped).
pub fn properties_path(text: &str) -> Option<(&str, std::ops::Range<usize>)> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let rest = &body[lead..];
        if rest.starts_with(['#', '!']) {
            continue;
        }
        let Some(after) = rest.strip_prefix("path") else {
            continue;
        };
        let sep_free = after.trim_start_matches([' ', '\t']);
        let value = match sep_free.strip_prefix(['=', ':']) {
            Some(v) => v.trim_start_matches([' ', '\t']),
            None if sep_free.len() < after.len() => sep_free,
            None => continue, // `pathology=`: another key
        };
        let value = value.trim_end();
        // `value` ends where the line's text ends.
        let from = start + body.trim_end().len() - value.len();
        return Some((value, from..from + value.len()));
    }
    None
}
