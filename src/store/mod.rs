//! The findings store: SQLite (bundled), WAL, numbered migrations, one
//! writer. It keeps every file mamori has seen and every finding's history:
//! re-scanning updates findings without duplicating them; a finding that
//! disappears is resolved with its date and kept; a deleted file keeps its
//! history; a file moved with identical content is recognised by its hash
//! and keeps its history. An append-only event log records what happened.
//! Review decisions and retention flags (later) key on
//! (path, member, kind, fingerprint), which survive rescans.
//!
//! The database and its WAL files are created readable by the owner only:
//! they hold masked values and keyed fingerprints, never full values.

mod migrate;
mod sink;

pub use sink::StoreSink;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use thiserror::Error;

use crate::pipeline::FileOutcome;

/// Store errors.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("creating {path}: {error}")]
    Create {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "the database is schema version {found}, newer than this mamori ({known}); upgrade mamori"
    )]
    TooNew { found: i64, known: i64 },
    #[error(
        "this database was written with another fingerprint key; its findings would not match: \
         use that key (--key-file or MAMORI_KEY_FILE) or a new database"
    )]
    OtherKey,
}

use crate::time::now;

/// The store (one writer connection).
pub struct Store {
    conn: Connection,
}

/// What `mamori status` shows.
#[derive(Debug, Default)]
pub struct Status {
    pub files: i64,
    pub deleted: i64,
    pub unreadable_by_reason: BTreeMap<String, i64>,
    pub open_by_kind: BTreeMap<String, i64>,
    pub resolved: i64,
    pub last_run: Option<(i64, String, Option<String>, String)>,
    /// Jobs waiting in the service, as it last reported.
    pub queue_length: Option<String>,
    pub recent_events: Vec<(String, String, String)>,
}

impl Store {
    /// Opens (creating, owner-only) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            create_private(path)?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate::migrate(&conn)?;
        Ok(Store { conn })
    }

    /// A read-only handle (status, reports); never blocks the writer (WAL).
    pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn event(
        &self,
        run: Option<i64>,
        kind: &str,
        file: Option<i64>,
        detail: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO events(at, run_id, kind, file_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now(), run, kind, file, detail],
        )?;
        Ok(())
    }

    /// Sets a service value shown by `mamori status` (queue length, …).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// A file whose size or mtime changed but whose content hash did not:
    /// its new size and mtime are stored, its findings stay as they are.
    pub fn touch_changed_mtime(&mut self, run: i64, o: &FileOutcome) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE files SET size = ?1, mtime_ns = ?2 WHERE path = ?3",
            params![o.size as i64, o.modified_ns, o.path.to_string_lossy()],
        )?;
        self.event(
            Some(run),
            "content_unchanged",
            None,
            &o.path.to_string_lossy(),
        )?;
        self.touch(run, &o.path)
    }

    /// Records the fingerprint key's check value, or refuses a different key.
    pub fn check_key(&self, check: &str) -> Result<(), StoreError> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'fingerprint_key_check'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match stored {
            Some(s) if s != check => Err(StoreError::OtherKey),
            Some(_) => Ok(()),
            None => {
                self.conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('fingerprint_key_check', ?1)",
                    params![check],
                )?;
                Ok(())
            }
        }
    }

    /// Starts a scan run over `roots`.
    pub fn begin_run(&self, roots: &[PathBuf], detector_set: &str) -> Result<i64, StoreError> {
        let roots: Vec<String> = roots
            .iter()
            .map(|r| r.to_string_lossy().into_owned())
            .collect();
        self.conn.execute(
            "INSERT INTO scan_runs(started_at, roots, detector_set, status) VALUES (?1, ?2, ?3, 'running')",
            params![now(), roots.join("\n"), detector_set],
        )?;
        let id = self.conn.last_insert_rowid();
        self.event(Some(id), "run_started", None, &roots.join(", "))?;
        Ok(id)
    }

    /// Marks a file seen by `run` without rescanning it (unchanged): its open
    /// findings stay open.
    pub fn touch(&mut self, run: i64, path: &Path) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let t = now();
        tx.execute(
            "UPDATE files SET last_run_id = ?1, last_scanned_at = ?2 WHERE path = ?3",
            params![run, t, path.to_string_lossy()],
        )?;
        tx.execute(
            "UPDATE findings SET last_run_id = ?1, last_seen_at = ?2
             WHERE resolved_at IS NULL AND file_id = (SELECT id FROM files WHERE path = ?3)",
            params![run, t, path.to_string_lossy()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records an outcome of `run`. Parts of one file (mbox messages) may
    /// come in several calls; findings not seen again are resolved when the
    /// file's last outcome (`partial == false`) arrives.
    pub fn record(
        &mut self,
        run: i64,
        root: Option<&Path>,
        o: &FileOutcome,
        detector_set: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let t = now();
        let path = o.path.to_string_lossy().into_owned();
        let existing: Option<i64> = tx
            .query_row("SELECT id FROM files WHERE path = ?1", params![path], |r| {
                r.get(0)
            })
            .optional()?;
        let file_id = match existing {
            Some(id) => id,
            None => {
                // A file moved with identical content: the stored file whose
                // path no longer exists takes the new path and keeps its history.
                // In the service, a rename's deletion event may have been
                // recorded first: a row deleted with the same content also
                // counts (its findings reopen below, as they are seen again).
                let moved: Option<(i64, String)> = match &o.content_hash {
                    Some(h) if !o.partial => {
                        let mut st = tx.prepare(
                            "SELECT id, path FROM files WHERE content_hash = ?1
                             ORDER BY deleted_at IS NOT NULL, deleted_at DESC, id",
                        )?;
                        let rows =
                            st.query_map(params![h.as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))?;
                        let mut found = None;
                        for row in rows {
                            let (id, p): (i64, String) = row?;
                            if !Path::new(&p).exists() {
                                found = Some((id, p));
                                break;
                            }
                        }
                        found
                    }
                    _ => None,
                };
                match moved {
                    Some((id, old)) => {
                        tx.execute(
                            "UPDATE files SET path = ?1 WHERE id = ?2",
                            params![path, id],
                        )?;
                        tx.execute(
                            "INSERT INTO events(at, run_id, kind, file_id, detail) VALUES (?1, ?2, 'file_moved', ?3, ?4)",
                            params![t, run, id, format!("{old} -> {path}")],
                        )?;
                        id
                    }
                    None => {
                        tx.execute(
                            "INSERT INTO files(path, root, size, mtime_ns, first_seen_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![path, root.map(|r| r.to_string_lossy().into_owned()), o.size as i64, o.modified_ns, t],
                        )?;
                        let id = tx.last_insert_rowid();
                        tx.execute(
                            "INSERT INTO events(at, run_id, kind, file_id, detail) VALUES (?1, ?2, 'file_added', ?3, ?4)",
                            params![t, run, id, path],
                        )?;
                        id
                    }
                }
            }
        };
        for (member, f) in &o.findings {
            let member = member.to_contract().unwrap_or_default();
            let location = f.location.to_string();
            let changed = tx.execute(
                "UPDATE findings SET last_seen_at = ?1, last_run_id = ?2, confidence = ?3, masked = ?4,
                     detector_version = ?5, resolved_at = NULL, resolve_reason = NULL
                 WHERE file_id = ?6 AND member = ?7 AND kind = ?8 AND location = ?9 AND fingerprint = ?10",
                params![
                    t,
                    run,
                    f.confidence.as_str(),
                    f.masked,
                    f.detector_version,
                    file_id,
                    member,
                    f.kind.as_str(),
                    location,
                    f.fingerprint.as_slice()
                ],
            )?;
            if changed == 0 {
                tx.execute(
                    "INSERT INTO findings(file_id, member, kind, confidence, location, masked, fingerprint,
                         detector_id, detector_version, first_seen_at, last_seen_at, last_run_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)",
                    params![
                        file_id,
                        member,
                        f.kind.as_str(),
                        f.confidence.as_str(),
                        location,
                        f.masked,
                        f.fingerprint.as_slice(),
                        &*f.detector_id,
                        f.detector_version,
                        t,
                        run
                    ],
                )?;
            }
        }
        for u in &o.unreadable {
            tx.execute(
                "INSERT INTO events(at, run_id, kind, file_id, detail) VALUES (?1, ?2, 'unreadable', ?3, ?4)",
                params![
                    t,
                    run,
                    file_id,
                    format!("{}{}: {}", u.member.to_contract().map(|m| format!("[{m}] ")).unwrap_or_default(), u.reason, u.detail)
                ],
            )?;
        }
        if !o.partial {
            let reason = o
                .unreadable
                .iter()
                .find(|u| u.member.0.is_empty())
                .map(|u| u.reason.as_str());
            tx.execute(
                "UPDATE files SET size = ?1, mtime_ns = ?2, content_hash = ?3, detector_set = ?4, format = ?5,
                     last_scanned_at = ?6, last_run_id = ?7, deleted_at = NULL, unreadable_reason = ?8
                 WHERE id = ?9",
                params![
                    o.size as i64,
                    o.modified_ns,
                    o.content_hash.as_ref().map(|h| h.as_slice()),
                    detector_set,
                    o.format,
                    t,
                    run,
                    reason,
                    file_id
                ],
            )?;
            // Findings of this file not seen in this run are gone: resolved, kept.
            let gone = tx.execute(
                "UPDATE findings SET resolved_at = ?1, resolve_reason = 'not found on rescan'
                 WHERE file_id = ?2 AND resolved_at IS NULL AND (last_run_id IS NULL OR last_run_id != ?3)",
                params![t, file_id, run],
            )?;
            if gone > 0 {
                tx.execute(
                    "INSERT INTO events(at, run_id, kind, file_id, detail) VALUES (?1, ?2, 'findings_resolved', ?3, ?4)",
                    params![t, run, file_id, format!("{gone} finding(s) no longer found")],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Ends a run: files under its roots that it did not see are deleted
    /// (history kept, open findings resolved). Returns how many.
    pub fn finish_run(
        &mut self,
        run: i64,
        roots: &[PathBuf],
        files: u64,
        findings: u64,
        unreadable: u64,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let t = now();
        let mut deleted = 0;
        for root in roots {
            let r = root.to_string_lossy().into_owned();
            let prefix = format!("{}/%", r.trim_end_matches('/'));
            let ids: Vec<(i64, String)> = {
                let mut st = tx.prepare(
                    "SELECT id, path FROM files WHERE deleted_at IS NULL AND (last_run_id IS NULL OR last_run_id != ?1)
                       AND (path = ?2 OR path LIKE ?3 ESCAPE '\\')",
                )?;
                let rows = st.query_map(params![run, r, escape_like(&prefix)], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            for (id, path) in ids {
                if Path::new(&path).exists() {
                    continue; // excluded by this run's filters, not deleted
                }
                delete_file(&tx, run, id, &path, &t)?;
                deleted += 1;
            }
        }
        tx.execute(
            "UPDATE scan_runs SET finished_at = ?1, status = 'finished', files_scanned = ?2, findings = ?3, unreadable = ?4 WHERE id = ?5",
            params![t, files as i64, findings as i64, unreadable as i64, run],
        )?;
        tx.execute(
            "INSERT INTO events(at, run_id, kind, detail) VALUES (?1, ?2, 'run_finished', ?3)",
            params![t, run, format!("{files} files, {findings} findings, {unreadable} unreadable, {deleted} deleted")],
        )?;
        tx.commit()?;
        Ok(deleted)
    }

    /// Marks one file deleted now (a file-system event said so): its open
    /// findings are resolved, its history kept.
    pub fn mark_deleted(&mut self, run: i64, path: &Path) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let t = now();
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM files WHERE path = ?1 AND deleted_at IS NULL",
                params![path.to_string_lossy()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else { return Ok(false) };
        delete_file(&tx, run, id, &path.to_string_lossy(), &t)?;
        tx.commit()?;
        Ok(true)
    }

    /// Runs left `running` by a process that died are marked `interrupted`.
    pub fn close_interrupted_runs(&self) -> Result<usize, StoreError> {
        let n = self.conn.execute(
            "UPDATE scan_runs SET status = 'interrupted', finished_at = ?1 WHERE status = 'running'",
            params![now()],
        )?;
        if n > 0 {
            self.event(
                None,
                "runs_interrupted",
                None,
                &format!("{n} run(s) did not finish (crash or kill); their files are rescanned"),
            )?;
        }
        Ok(n)
    }

    /// Marks a run as ended without a deletion sweep (service event runs, shutdowns).
    pub fn end_run(&self, run: i64, status: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE scan_runs SET status = ?1, finished_at = ?2 WHERE id = ?3",
            params![status, now(), run],
        )?;
        Ok(())
    }

    /// Records a service event (started, reloaded, stopped …).
    pub fn log(&self, kind: &str, detail: &str) -> Result<(), StoreError> {
        self.event(None, kind, None, detail)
    }

    /// What the store knows (for `mamori status`).
    pub fn status(conn: &Connection) -> Result<Status, StoreError> {
        let mut s = Status {
            files: conn.query_row(
                "SELECT count(*) FROM files WHERE deleted_at IS NULL",
                [],
                |r| r.get(0),
            )?,
            deleted: conn.query_row(
                "SELECT count(*) FROM files WHERE deleted_at IS NOT NULL",
                [],
                |r| r.get(0),
            )?,
            resolved: conn.query_row(
                "SELECT count(*) FROM findings WHERE resolved_at IS NOT NULL",
                [],
                |r| r.get(0),
            )?,
            ..Status::default()
        };
        let mut st = conn.prepare("SELECT kind, count(*) FROM findings WHERE resolved_at IS NULL GROUP BY kind ORDER BY kind")?;
        for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (k, n) = row?;
            s.open_by_kind.insert(k, n);
        }
        let mut st = conn.prepare(
            "SELECT unreadable_reason, count(*) FROM files WHERE deleted_at IS NULL AND unreadable_reason IS NOT NULL GROUP BY 1",
        )?;
        for row in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (k, n) = row?;
            s.unreadable_by_reason.insert(k, n);
        }
        s.queue_length = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'queue_length'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        s.last_run = conn
            .query_row(
                "SELECT id, started_at, finished_at, status FROM scan_runs ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let mut st = conn.prepare(
            "SELECT at, kind, coalesce(detail, '') FROM events ORDER BY id DESC LIMIT 10",
        )?;
        for row in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
            s.recent_events.push(row?);
        }
        Ok(s)
    }

    /// The underlying connection (tests, reports).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Marks file `id` deleted at `t`: its open findings are resolved, its
/// history kept, and the deletion logged.
fn delete_file(
    tx: &rusqlite::Transaction<'_>,
    run: i64,
    id: i64,
    path: &str,
    t: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE files SET deleted_at = ?1 WHERE id = ?2",
        params![t, id],
    )?;
    tx.execute(
        "UPDATE findings SET resolved_at = ?1, resolve_reason = 'file deleted' WHERE file_id = ?2 AND resolved_at IS NULL",
        params![t, id],
    )?;
    tx.execute(
        "INSERT INTO events(at, run_id, kind, file_id, detail) VALUES (?1, ?2, 'file_deleted', ?3, ?4)",
        params![t, run, id, path],
    )?;
    Ok(())
}

/// The walk's first check, on any connection: whether `path` is stored
/// with this size, mtime and detector set (and not deleted); with the
/// stored content hash, for the second check when size or mtime differ.
pub fn stored_state(
    conn: &Connection,
    path: &Path,
    size: u64,
    mtime_ns: i64,
    detector_set: &str,
) -> (bool, Option<[u8; 32]>) {
    let row: Option<(bool, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT size = ?2 AND mtime_ns = ?3, content_hash FROM files
             WHERE path = ?1 AND detector_set = ?4 AND deleted_at IS NULL",
            params![path.to_string_lossy(), size as i64, mtime_ns, detector_set],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    match row {
        Some((same, hash)) => (
            same,
            hash.and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok()),
        ),
        None => (false, None),
    }
}

fn escape_like(s: &str) -> String {
    // The prefix's own % and _ are literal; the trailing % is the wildcard.
    let (head, tail) = s.split_at(s.len() - 1);
    let mut out = String::new();
    for c in head.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str(tail);
    out
}

/// Creates an empty file readable by the owner only (SQLite gives its WAL
/// and shared-memory files the database file's permissions).
fn create_private(path: &Path) -> Result<(), StoreError> {
    let err = |error| StoreError::Create {
        path: path.to_path_buf(),
        error,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_prefix_escapes() {
        assert_eq!(escape_like("/a_b%/%"), "/a\\_b\\%/%");
    }
}
