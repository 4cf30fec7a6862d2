//! The names step: identifiers in file, folder and member names.
//!
//! A file called `500080636086.csv` or `山田太郎_個人番号.xlsx`, a zip
//! member or a mail attachment named the same way, holds personal data in
//! its name. Names go through the detectors like text (findings at
//! `file name`, `folder name` or `member name`), and the name is masked
//! wherever mamori writes it (JSONL, summary, store, logs): the masked
//! display path travels with the outcome, the real path only where the
//! file must be found again (see the store's path keys).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::detect::Engine;
use crate::finding::Finding;
use crate::outcome::{MemberPath, Outcome};
use crate::redact::{redact, NAMES};
use crate::text::{Location, TextUnit};

/// Where a name was found.
pub const FILE_NAME: &str = "file name";
pub const FOLDER_NAME: &str = "folder name";
pub const MEMBER_NAME: &str = "member name";

/// One name, masked, with the findings in it.
pub fn redact_name(engine: &Engine, name: &str, location: &str) -> (String, Vec<Finding>) {
    let unit = TextUnit::fixed(name, Location::Named(location.to_string()));
    redact(engine, &unit, NAMES)
}

/// The root `path` lies under (the longest match), if any.
fn root_of<'r>(roots: &'r [PathBuf], path: &Path) -> Option<&'r Path> {
    roots
        .iter()
        .filter(|r| path.starts_with(r))
        .max_by_key(|r| r.as_os_str().len())
        .map(PathBuf::as_path)
}

/// The display path of `path` (escaped, names below its root masked) and
/// the findings in those names. A root given as a file is itself a name.
pub fn display_path(engine: &Engine, roots: &[PathBuf], path: &Path) -> (String, Vec<Finding>) {
    let base = match root_of(roots, path) {
        Some(r) if r != path => r,
        Some(r) => r.parent().unwrap_or(Path::new("")),
        None => path.parent().unwrap_or(Path::new("")),
    };
    let rel = path.strip_prefix(base).unwrap_or(path);
    let mut shown = crate::paths::display(base).into_owned();
    let mut findings = Vec::new();
    let parts: Vec<Component<'_>> = rel.components().collect();
    for (i, c) in parts.iter().enumerate() {
        let raw = Path::new(c.as_os_str());
        let text = crate::paths::display(raw);
        let location = if i + 1 == parts.len() {
            FILE_NAME
        } else {
            FOLDER_NAME
        };
        let (masked, found) = match c {
            Component::Normal(_) => redact_name(engine, &text, location),
            _ => (text.into_owned(), Vec::new()),
        };
        if !shown.is_empty() && !shown.ends_with(std::path::MAIN_SEPARATOR) {
            shown.push(std::path::MAIN_SEPARATOR);
        }
        shown.push_str(&masked);
        findings.extend(found);
    }
    (shown, findings)
}

/// The step, run on every outcome before it is printed or stored: sets the
/// display path and, on a file's last outcome, adds its name findings.
pub fn apply(engine: &Engine, roots: &[PathBuf], outcome: &mut Outcome) {
    let (shown, findings) = display_path(engine, roots, &outcome.file().path);
    outcome.file_mut().display = Some(shown);
    if let Outcome::Done { content, .. } = outcome {
        content
            .findings
            .extend(findings.into_iter().map(|f| (MemberPath::root(), f)));
    }
}

/// Masks member names as extractors report them (in the worker): each
/// component once, its findings kept for the outcome.
#[derive(Default)]
pub struct MemberNames {
    seen: HashMap<Vec<String>, MemberPath>,
}

impl MemberNames {
    /// The masked form of `member`; findings in names not seen before are
    /// added to `found` (at the masked member, location `member name`).
    pub fn mask(
        &mut self,
        engine: &Engine,
        member: &MemberPath,
        found: &mut Vec<(MemberPath, Finding)>,
    ) -> MemberPath {
        if member.0.is_empty() {
            return member.clone();
        }
        if let Some(m) = self.seen.get(&member.0) {
            return m.clone();
        }
        let parent = MemberPath(member.0[..member.0.len() - 1].to_vec());
        let masked_parent = self.mask(engine, &parent, found);
        let last = &member.0[member.0.len() - 1];
        let (masked, findings) =
            redact_name(engine, &crate::paths::escape_control(last), MEMBER_NAME);
        let masked = masked_parent.child(masked);
        found.extend(findings.into_iter().map(|f| (masked.clone(), f)));
        self.seen.insert(member.0.clone(), masked.clone());
        masked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Fingerprinter, Kind};

    fn engine() -> Engine {
        Engine::load(None, Fingerprinter::new([0; 32])).unwrap()
    }

    #[test]
    fn identifiers_in_file_and_folder_names_are_masked_and_found() {
        let e = engine();
        let roots = vec![PathBuf::from("/srv/share")];
        let p = Path::new("/srv/share/職員課/マイナンバー 314159265352.csv");
        let (shown, found) = display_path(&e, &roots, p);
        assert!(!shown.contains("59265352"), "{shown}");
        assert!(shown.starts_with("/srv/share/職員課/"), "{shown}");
        assert!(found
            .iter()
            .any(|f| f.kind == Kind::MyNumber && f.location.to_string() == FILE_NAME));
        let (shown, found) = display_path(&e, &roots, Path::new("/srv/share/議事録/20241105.docx"));
        assert_eq!(shown, "/srv/share/議事録/20241105.docx");
        assert!(found.is_empty());
    }

    #[test]
    fn member_names_are_masked_once() {
        let e = engine();
        let mut names = MemberNames::default();
        let mut found = Vec::new();
        let m = MemberPath(vec!["attachments".into(), "500080636086.csv".into()]);
        let masked = names.mask(&e, &m, &mut found);
        assert_eq!(masked.0[0], "attachments");
        assert!(!masked.0[1].contains("0636"));
        let again = names.mask(&e, &m, &mut found);
        assert_eq!(again, masked);
    }
}
