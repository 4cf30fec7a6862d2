//! Walking the PATH arguments: files to scan, with include/exclude globs,
//! the size limit and walk errors turned into items (never aborts).
//!
//! Explicitly named files are always scanned (ripgrep's rule); symbolic
//! links are not followed, so a link loop or a link out of a share cannot
//! widen the scan.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::extract::UnreadableReason;

/// Office lock and temporary files, skipped unless `--no-default-excludes`.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "~$*",
    ".~lock.*#",
    "*.tmp",
    "Thumbs.db",
    "desktop.ini",
    ".DS_Store",
];

/// What to walk.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
}

impl WalkOptions {
    /// Builds the glob sets. A glob without `/` matches the file name; one
    /// with `/` matches the path relative to the walked root.
    pub fn new(
        include: &[String],
        exclude: &[String],
        default_excludes: bool,
    ) -> Result<Self, globset::Error> {
        let build =
            |pats: &mut dyn Iterator<Item = &str>| -> Result<Option<GlobSet>, globset::Error> {
                let mut b = GlobSetBuilder::new();
                let mut any = false;
                for p in pats {
                    b.add(Glob::new(p)?);
                    any = true;
                }
                Ok(if any { Some(b.build()?) } else { None })
            };
        let mut ex: Vec<&str> = exclude.iter().map(String::as_str).collect();
        if default_excludes {
            ex.extend(DEFAULT_EXCLUDES);
        }
        Ok(WalkOptions {
            include: build(&mut include.iter().map(String::as_str))?,
            exclude: build(&mut ex.into_iter())?,
        })
    }

    fn matches(set: &GlobSet, rel: &Path) -> bool {
        set.is_match(rel) || rel.file_name().is_some_and(|n| set.is_match(Path::new(n)))
    }

    /// Whether `rel` (a path relative to its root) is excluded.
    pub fn excludes(&self, rel: &Path) -> bool {
        self.excluded(rel)
    }

    /// Whether the file at `rel` (relative to its root) is walked: no
    /// folder on its way and not itself excluded, and included.
    pub fn admits(&self, rel: &Path) -> bool {
        let mut prefix = PathBuf::new();
        for c in rel.components() {
            prefix.push(c);
            if self.excluded(&prefix) {
                return false;
            }
        }
        self.included(rel)
    }

    fn excluded(&self, rel: &Path) -> bool {
        self.exclude.as_ref().is_some_and(|s| Self::matches(s, rel))
    }

    fn included(&self, rel: &Path) -> bool {
        self.include.as_ref().is_none_or(|s| Self::matches(s, rel))
    }
}

/// One item of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkItem {
    /// A regular file to scan.
    File {
        path: PathBuf,
        size: u64,
        mtime_ns: i64,
    },
    /// A file or directory that could not be read.
    Unreadable {
        path: PathBuf,
        reason: UnreadableReason,
        detail: String,
    },
    /// A PATH argument that does not exist (a usage error: exit 2).
    Missing { path: PathBuf },
}

/// Walks every root in order.
pub fn walk<'a>(
    roots: &'a [PathBuf],
    opts: &'a WalkOptions,
) -> impl Iterator<Item = WalkItem> + Send + 'a {
    roots.iter().flat_map(move |root| walk_root(root, opts))
}

fn walk_root<'a>(
    root: &'a Path,
    opts: &'a WalkOptions,
) -> Box<dyn Iterator<Item = WalkItem> + Send + 'a> {
    walk_below(root, root.to_path_buf(), opts)
}

/// Walks `start`, a directory or file under `root`, with the globs applied
/// to paths relative to `root` (the service looks into a directory that
/// was just created or moved in, under the same rules as the walk).
pub fn walk_below<'a>(
    root: &'a Path,
    start: PathBuf,
    opts: &'a WalkOptions,
) -> Box<dyn Iterator<Item = WalkItem> + Send + 'a> {
    let rel_of = move |p: &Path| -> PathBuf { p.strip_prefix(root).unwrap_or(p).to_path_buf() };
    if start != root {
        // Every folder between the root and the start must be admitted too.
        let rel = rel_of(&start);
        let mut prefix = PathBuf::new();
        for c in rel.components() {
            prefix.push(c);
            if opts.excluded(&prefix) {
                return Box::new(std::iter::empty());
            }
        }
    }
    match std::fs::metadata(&start) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Box::new(std::iter::once(WalkItem::Missing { path: start }))
        }
        Err(e) => {
            return Box::new(std::iter::once(io_item(&start, &e)));
        }
        Ok(m) if m.is_file() => {
            if start != root && !opts.included(&rel_of(&start)) {
                return Box::new(std::iter::empty());
            }
            return Box::new(std::iter::once(WalkItem::File {
                path: start,
                size: m.len(),
                mtime_ns: m.modified().map(crate::time::nanos).unwrap_or(0),
            }));
        }
        Ok(m) if !m.is_dir() => return Box::new(std::iter::once(special(&start, &m.file_type()))),
        Ok(_) => {}
    }
    let it = walkdir::WalkDir::new(&start)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            let rel = e.path().strip_prefix(root).unwrap_or(e.path());
            e.depth() == 0 || !opts.excluded(rel)
        })
        .filter_map(move |entry| match entry {
            Ok(e) => {
                let t = e.file_type();
                if t.is_dir() || t.is_symlink() {
                    // Links are not followed (a loop or a link out of the
                    // share must not widen the scan).
                    return None;
                }
                if !t.is_file() {
                    let rel = e.path().strip_prefix(root).unwrap_or(e.path());
                    return opts.included(rel).then(|| special(e.path(), &t));
                }
                let rel = e.path().strip_prefix(root).unwrap_or(e.path());
                if !opts.included(rel) {
                    return None;
                }
                match e.metadata() {
                    Ok(m) => Some(WalkItem::File {
                        path: e.into_path(),
                        size: m.len(),
                        mtime_ns: m.modified().map(crate::time::nanos).unwrap_or(0),
                    }),
                    Err(err) => Some(WalkItem::Unreadable {
                        path: e.into_path(),
                        reason: UnreadableReason::PermissionDenied,
                        detail: err.to_string(),
                    }),
                }
            }
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                match err.io_error() {
                    Some(io) => Some(io_item(&path, io)),
                    None => Some(WalkItem::Unreadable {
                        path,
                        reason: UnreadableReason::Corrupt,
                        detail: err.to_string(),
                    }),
                }
            }
        });
    Box::new(it)
}

/// A named pipe, socket or device: listed, never opened (reading a FIFO
/// would wait forever), reported so that nothing is silently skipped.
fn special(path: &Path, t: &std::fs::FileType) -> WalkItem {
    WalkItem::Unreadable {
        path: path.to_path_buf(),
        reason: UnreadableReason::Unsupported,
        detail: format!(
            "not a regular file ({}): not read",
            crate::pipeline::file_type_name(t)
        ),
    }
}

fn io_item(path: &Path, e: &std::io::Error) -> WalkItem {
    WalkItem::Unreadable {
        path: path.to_path_buf(),
        reason: io_reason(e),
        detail: e.to_string(),
    }
}

/// Maps an I/O error to a contract reason.
pub fn io_reason(e: &std::io::Error) -> UnreadableReason {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => UnreadableReason::PermissionDenied,
        std::io::ErrorKind::FileTooLarge | std::io::ErrorKind::OutOfMemory => {
            UnreadableReason::TooLarge
        }
        _ => UnreadableReason::Corrupt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_filter_and_defaults_exclude_lock_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("sub/skip")).unwrap();
        for f in ["a.csv", "b.txt", "~$a.xlsx", "sub/c.csv", "sub/skip/d.csv"] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        let roots = vec![d.to_path_buf()];
        let opts = WalkOptions::new(&["*.csv".into()], &["sub/skip".into()], true).unwrap();
        let mut got: Vec<String> = walk(&roots, &opts)
            .filter_map(|i| match i {
                WalkItem::File { path, .. } => {
                    Some(path.strip_prefix(d).unwrap().display().to_string())
                }
                _ => None,
            })
            .collect();
        got.sort();
        assert_eq!(got, vec!["a.csv", "sub/c.csv"]);
        let opts = WalkOptions::new(&[], &[], true).unwrap();
        let n = walk(&roots, &opts).count();
        assert_eq!(n, 4, "lock file excluded by default");
    }

    #[test]
    fn missing_root_is_reported() {
        let roots = vec![PathBuf::from("/nonexistent/mamori")];
        let opts = WalkOptions::default();
        assert!(matches!(
            walk(&roots, &opts).next(),
            Some(WalkItem::Missing { .. })
        ));
    }
}
