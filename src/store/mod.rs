//! The findings store: SQLite (bundled), WAL, numbered migrations, one
//! writer. It keeps every file mamori has seen and every finding's history:
//! re-scanning updates findings without duplicating them; a finding gone
//! from a file's latest scan is resolved with its date and kept; a deleted
//! file keeps its history; a file moved with identical content is
//! recognised by its (keyed) content hash and keeps its history. An
//! append-only event log records what happened.
//!
//! Paths: `files.path` is the path as shown to people (names holding an
//! identifier masked, undecodable bytes escaped); a file's row is found by
//! `path_key`, a keyed hash of the real path's bytes; where the shown path
//! is not the real one, `path_sealed` holds the real path encrypted under
//! the install's key, so that the service can still tell whether the file
//! exists. Without the key the database never shows a name's identifier.
//!
//! The database and its WAL files are created readable by the owner only:
//! they hold masked values and keyed fingerprints, never full values.

mod migrate;
pub mod outbox;
mod records;
pub mod review;
mod sink;
pub mod web;
mod web_schema;

/// The schema version a store opened by this build has (tests compare with
/// it rather than with a number that each branch's migration changes).
pub use migrate::CURRENT as SCHEMA_VERSION;
pub use records::FileRecordRow;
pub use sink::StoreSink;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use thiserror::Error;

use crate::keys::KeySet;
use crate::outcome::{Content, FileEnd, FileRef, Outcome, OUTBOUND_FLAG};
use crate::time::now;

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
    #[error(
        "{0} is empty (0 bytes): a findings database is never empty, so it was probably \
         truncated or replaced. Restore it from a backup, or delete it to start a new store \
         (all history is then lost)"
    )]
    Empty(PathBuf),
    #[error("{path} is in use by another mamori process (pid {pid}): one service per database")]
    Locked { path: PathBuf, pid: String },
    #[error("locking {path}: {error}")]
    Lock {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Prepared statements kept per connection. Every write statement on
/// `files`, `findings`, `events` and `file_records` carries the outbox
/// triggers (`outbox.rs`), and SQLite compiles a statement's triggers into
/// it: preparing each statement anew cost 40 % of a first scan's time.
const STATEMENT_CACHE: usize = 128;

/// `execute` through the connection's statement cache.
pub(crate) trait CachedExecute {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl CachedExecute for Connection {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// The store (one writer connection).
pub struct Store {
    conn: Connection,
    keys: KeySet,
    /// Files whose scan is under way (parts recorded, last outcome not yet):
    /// file id → that scan's sequence number.
    open_scans: HashMap<i64, i64>,
}

/// What `mamori status` shows.
#[derive(Debug, Default)]
pub struct Status {
    pub files: i64,
    pub deleted: i64,
    pub unreadable_by_reason: BTreeMap<String, i64>,
    /// Files reported `unsupported`, by format.
    pub unsupported_by_format: BTreeMap<String, i64>,
    pub open_by_kind: BTreeMap<String, i64>,
    pub resolved: i64,
    /// Open findings in outbound leak candidates, and the files holding them.
    pub outbound_findings: i64,
    pub outbound_files: i64,
    pub last_run: Option<(i64, String, Option<String>, String)>,
    /// Jobs waiting in the service, as it last reported.
    pub queue_length: Option<String>,
    /// Roots found unavailable at their last check: (root, problem, since).
    pub unavailable_roots: Vec<(String, String, String)>,
    pub recent_events: Vec<(String, String, String)>,
}

/// A root as the walk found it: whether deletions may be recorded under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCheck {
    pub path: PathBuf,
    /// Why it cannot be walked (missing, not a directory, unreadable), if so.
    pub problem: Option<String>,
    /// The file system it lives on (Unix device id).
    pub device: Option<u64>,
    /// Files the walk found under it.
    pub files: u64,
}

impl RootCheck {
    /// Looks at `path` before it is walked.
    pub fn inspect(path: &Path) -> RootCheck {
        let mut check = RootCheck {
            path: path.to_path_buf(),
            problem: None,
            device: None,
            files: 0,
        };
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                check.problem = Some("missing (not mounted?)".into())
            }
            Err(e) => check.problem = Some(format!("cannot be read: {e}")),
            Ok(m) => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    check.device = Some(m.dev());
                }
                if m.is_dir() {
                    if let Err(e) = std::fs::read_dir(path) {
                        check.problem = Some(format!("cannot be listed: {e}"));
                    }
                } else if !m.is_file() {
                    check.problem = Some("not a directory".into());
                }
            }
        }
        check
    }
}

/// Counts a run records when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub files: u64,
    pub findings: u64,
    pub unreadable: u64,
}

impl Store {
    /// Opens (creating, owner-only) and migrates the database at `path`,
    /// and checks that it was written with `keys` (a new one records them).
    pub fn open(path: &Path, keys: &KeySet) -> Result<Store, StoreError> {
        match std::fs::metadata(path) {
            Ok(m) if m.len() == 0 => return Err(StoreError::Empty(path.to_path_buf())),
            Ok(_) => {}
            Err(_) => create_new(path)?,
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Statements are prepared once per connection (see `CachedExecute`).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Transactions take the write lock when they begin: one that read
        // first could not take it after another connection (the central
        // sync's outbox acknowledgements, `review mark`) wrote meanwhile
        // (SQLITE_BUSY_SNAPSHOT, which waiting does not cure).
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        paths_are_case_sensitive(&conn)?;
        migrate::migrate(&conn)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let store = Store {
            conn,
            keys: keys.clone(),
            open_scans: HashMap::new(),
        };
        store.check_key(&keys.fingerprinter().key_check())?;
        store.fill_path_keys()?;
        Ok(store)
    }

    /// A read-only handle (status, reports); never blocks the writer (WAL).
    pub fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
        match std::fs::metadata(path) {
            Ok(m) if m.len() == 0 => return Err(StoreError::Empty(path.to_path_buf())),
            _ => {}
        }
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        paths_are_case_sensitive(&conn)?;
        Ok(conn)
    }

    /// The schema version.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Rows from before path keys (a database of an earlier version) get
    /// theirs: their `path` was the real path.
    fn fill_path_keys(&self) -> Result<(), StoreError> {
        let rows: Vec<(i64, String)> = {
            let mut st = self
                .conn
                .prepare("SELECT id, path FROM files WHERE path_key IS NULL")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        if rows.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction()?;
        for (id, path) in &rows {
            tx.execute_cached(
                "UPDATE files SET path_key = ?1 WHERE id = ?2",
                params![self.keys.path_key(Path::new(path)).as_slice(), id],
            )?;
        }
        tx.commit()?;
        tracing::info!("{} stored path(s) given path keys", rows.len());
        Ok(())
    }

    fn event(
        &self,
        run: Option<i64>,
        kind: &str,
        file: Option<i64>,
        detail: &str,
    ) -> Result<(), StoreError> {
        event(&self.conn, run, kind, file, detail)
    }

    /// Sets a service value shown by `mamori status` (queue length, …).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute_cached(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Records the fingerprint key's check value, or refuses a different key.
    fn check_key(&self, check: &str) -> Result<(), StoreError> {
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
                self.conn.execute_cached(
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
            .map(|r| crate::paths::display(r).into_owned())
            .collect();
        self.conn.execute_cached(
            "INSERT INTO scan_runs(started_at, roots, detector_set, status) VALUES (?1, ?2, ?3, 'running')",
            params![now(), roots.join("\n"), detector_set],
        )?;
        let id = self.conn.last_insert_rowid();
        self.event(Some(id), "run_started", None, &roots.join(", "))?;
        Ok(id)
    }

    /// Records an outcome of `run`: a part or the last outcome of a file's
    /// scan, or that the file is unchanged. Findings of the file not seen in
    /// its latest scan are resolved when the last outcome arrives, whatever
    /// run the earlier scan belonged to. Returns the file's row id when the
    /// outcome was a file's last (its records verdict is then due).
    pub fn record(
        &mut self,
        run: i64,
        root: Option<&Path>,
        outcome: &Outcome,
        detector_set: &str,
    ) -> Result<Option<i64>, StoreError> {
        match outcome {
            Outcome::Unchanged { file, by_hash } => self.touch(run, file, *by_hash).map(|_| None),
            Outcome::Part { file, content } => {
                let tx = self.conn.transaction()?;
                let (id, seq) =
                    file_row(&tx, &self.keys, &mut self.open_scans, run, root, file, None)?;
                record_content(&tx, run, id, seq, content)?;
                tx.commit()?;
                Ok(None)
            }
            Outcome::Done { file, content, end } => {
                let tx = self.conn.transaction()?;
                let (id, seq) = file_row(
                    &tx,
                    &self.keys,
                    &mut self.open_scans,
                    run,
                    root,
                    file,
                    end.content_hash.as_ref(),
                )?;
                record_content(&tx, run, id, seq, content)?;
                finish_file(&tx, run, id, seq, file, content, end, detector_set)?;
                tx.commit()?;
                self.open_scans.remove(&id);
                Ok(Some(id))
            }
        }
    }

    /// A file seen by `run` without being re-extracted: its open findings
    /// stay open. `by_hash`: its size or mtime changed but not its content;
    /// the new size and mtime are stored.
    fn touch(&mut self, run: i64, file: &FileRef, by_hash: bool) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let t = now();
        let key = self.keys.path_key(&file.path);
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM files WHERE path_key = ?1",
                params![key.as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else {
            return Ok(()); // not stored (a file the walk saw before its row was written)
        };
        if by_hash {
            tx.execute_cached(
                "UPDATE files SET size = ?1, mtime_ns = ?2 WHERE id = ?3",
                params![file.size as i64, file.modified_ns, id],
            )?;
            event(&tx, Some(run), "content_unchanged", Some(id), &file.shown())?;
        }
        tx.execute_cached(
            "UPDATE files SET last_run_id = ?1, last_scanned_at = ?2 WHERE id = ?3",
            params![run, t, id],
        )?;
        tx.execute_cached(
            "UPDATE findings SET last_run_id = ?1, last_seen_at = ?2 WHERE resolved_at IS NULL AND file_id = ?3",
            params![run, t, id],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Ends a run: files under its roots that it did not see are deleted
    /// (history kept, open findings resolved), except under a root that is
    /// unavailable (missing, unreadable, on another device than before, or
    /// empty when it held files): there the state is kept and the root is
    /// recorded `root_unavailable`. Returns how many files were deleted.
    pub fn finish_run(
        &mut self,
        run: i64,
        roots: &[RootCheck],
        counts: RunCounts,
    ) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let t = now();
        let mut deleted = 0;
        for root in roots {
            let problem = root_problem(&tx, root)?;
            let shown = crate::paths::display(&root.path).into_owned();
            match problem {
                Some(problem) => {
                    tracing::warn!(
                        root = %shown,
                        "{problem}: no deletions recorded under this root; its files keep their state"
                    );
                    tx.execute_cached(
                        "INSERT INTO roots(path, available, problem, checked_at) VALUES (?1, 0, ?2, ?3)
                         ON CONFLICT(path) DO UPDATE SET available = 0, problem = excluded.problem,
                             checked_at = CASE WHEN roots.available = 0 THEN roots.checked_at ELSE excluded.checked_at END",
                        params![shown, problem, t],
                    )?;
                    event(
                        &tx,
                        Some(run),
                        "root_unavailable",
                        None,
                        &format!("{shown}: {problem}"),
                    )?;
                    continue;
                }
                None => {
                    tx.execute_cached(
                        "INSERT INTO roots(path, device, files_seen, available, problem, checked_at)
                         VALUES (?1, ?2, ?3, 1, NULL, ?4)
                         ON CONFLICT(path) DO UPDATE SET device = excluded.device, files_seen = excluded.files_seen,
                             available = 1, problem = NULL, checked_at = excluded.checked_at",
                        params![shown, root.device.map(|d| d as i64), root.files as i64, t],
                    )?;
                }
            }
            let ids: Vec<(i64, String, Option<Vec<u8>>)> = {
                let mut st = tx.prepare_cached(&format!(
                    "SELECT id, path, path_sealed FROM files WHERE deleted_at IS NULL
                       AND (last_run_id IS NULL OR last_run_id != ?1) AND {UNDER_ROOT}"
                ))?;
                let rows = st.query_map(params![run, shown, under_prefix(&shown)], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            for (id, path, sealed) in ids {
                let real = real_path(&self.keys, &path, sealed.as_deref());
                if real.as_deref().is_none_or(Path::exists) {
                    continue; // excluded by this run's filters, not deleted
                }
                delete_file(&tx, run, id, &path, &t)?;
                deleted += 1;
            }
        }
        close_run(&tx, run, "finished", counts, deleted, &t)?;
        tx.commit()?;
        Ok(deleted)
    }

    /// Ends a run without a deletion sweep (service event runs, stops,
    /// interrupted scans), with its counts.
    pub fn end_run(&self, run: i64, status: &str, counts: RunCounts) -> Result<(), StoreError> {
        close_run(&self.conn, run, status, counts, 0, &now())
    }

    /// Marks `path` deleted now (a file-system event said so): a file, or
    /// every file under it when it was a directory (moved out of the root
    /// or removed). Open findings are resolved as "file deleted", history
    /// kept. Returns how many files.
    pub fn mark_deleted(&mut self, run: i64, path: &Path) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let t = now();
        let key = self.keys.path_key(path);
        let file: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, path FROM files WHERE path_key = ?1 AND deleted_at IS NULL",
                params![key.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let mut n = 0;
        if let Some((id, shown)) = file {
            delete_file(&tx, run, id, &shown, &t)?;
            n = 1;
        } else {
            // A directory: its files. Plain paths by prefix; sealed ones
            // (names with identifiers) by their real path.
            let prefix = format!(
                "{}{}",
                path.to_string_lossy()
                    .trim_end_matches(std::path::MAIN_SEPARATOR),
                std::path::MAIN_SEPARATOR
            );
            let rows: Vec<(i64, String, Option<Vec<u8>>)> = {
                let mut st = tx.prepare_cached(
                    "SELECT id, path, path_sealed FROM files WHERE deleted_at IS NULL
                       AND (path_sealed IS NOT NULL OR path LIKE ?1 ESCAPE '\\')",
                )?;
                let rows = st.query_map(params![escape_like(&format!("{prefix}%"))], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
                rows.collect::<Result<_, _>>()?
            };
            for (id, shown, sealed) in rows {
                let under = real_path(&self.keys, &shown, sealed.as_deref())
                    .is_some_and(|p| p.starts_with(path) && !p.exists());
                if under {
                    delete_file(&tx, run, id, &shown, &t)?;
                    n += 1;
                }
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Runs left `running` by a process that died or was stopped are
    /// marked `interrupted`.
    pub fn close_interrupted_runs(&self) -> Result<usize, StoreError> {
        let n = self.conn.execute_cached(
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

    /// Records a service event (started, reloaded, stopped …).
    pub fn log(&self, kind: &str, detail: &str) -> Result<(), StoreError> {
        self.event(None, kind, None, detail)
    }

    /// What the store knows (for `mamori status`).
    pub fn status(conn: &Connection) -> Result<Status, StoreError> {
        let one =
            |sql: &str| -> Result<i64, rusqlite::Error> { conn.query_row(sql, [], |r| r.get(0)) };
        let mut s = Status {
            files: one("SELECT count(*) FROM files WHERE deleted_at IS NULL")?,
            deleted: one("SELECT count(*) FROM files WHERE deleted_at IS NOT NULL")?,
            resolved: one("SELECT count(*) FROM findings WHERE resolved_at IS NOT NULL")?,
            outbound_findings: one(&format!(
                "SELECT count(*) FROM findings WHERE resolved_at IS NULL AND review_state != 'false_positive' AND flags = '{OUTBOUND_FLAG}'"
            ))?,
            outbound_files: one(&format!(
                "SELECT count(DISTINCT file_id) FROM findings WHERE resolved_at IS NULL AND review_state != 'false_positive' AND flags = '{OUTBOUND_FLAG}'"
            ))?,
            ..Status::default()
        };
        let pairs = |sql: &str| -> Result<BTreeMap<String, i64>, StoreError> {
            let mut st = conn.prepare_cached(sql)?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        s.open_by_kind = pairs("SELECT kind, count(*) FROM findings WHERE resolved_at IS NULL AND review_state != 'false_positive' GROUP BY kind ORDER BY kind")?;
        s.unreadable_by_reason = pairs(
            "SELECT unreadable_reason, count(*) FROM files WHERE deleted_at IS NULL AND unreadable_reason IS NOT NULL GROUP BY 1",
        )?;
        s.unsupported_by_format = pairs(
            "SELECT coalesce(format, 'unknown'), count(*) FROM files WHERE deleted_at IS NULL AND unreadable_reason = 'unsupported' GROUP BY 1",
        )?;
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
        let mut st = conn.prepare_cached(
            "SELECT path, coalesce(problem, ''), coalesce(checked_at, '') FROM roots WHERE available = 0 ORDER BY path",
        )?;
        for row in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
            s.unavailable_roots.push(row?);
        }
        let mut st = conn.prepare_cached(
            "SELECT at, kind, coalesce(detail, '') FROM events ORDER BY id DESC LIMIT 10",
        )?;
        for row in st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))? {
            s.recent_events.push(row?);
        }
        Ok(s)
    }

    /// Live files stored under a root (for `mamori status`).
    pub fn files_under(conn: &Connection, root: &Path) -> Result<i64, StoreError> {
        let shown = crate::paths::display(root);
        Ok(conn.query_row(
            &format!(
                "SELECT count(*) FROM files WHERE deleted_at IS NULL AND {}",
                UNDER_ROOT.replace("?2", "?1").replace("?3", "?2")
            ),
            params![shown, under_prefix(&shown)],
            |r| r.get(0),
        )?)
    }

    /// The underlying connection (tests, reports).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The keys the store was opened with.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }
}

pub(crate) fn event(
    conn: &Connection,
    run: Option<i64>,
    kind: &str,
    file: Option<i64>,
    detail: &str,
) -> Result<(), StoreError> {
    conn.execute_cached(
        "INSERT INTO events(at, run_id, kind, file_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![now(), run, kind, file, detail],
    )?;
    Ok(())
}

/// The real path of a stored file: its `path`, or the sealed one.
fn real_path(keys: &KeySet, shown: &str, sealed: Option<&[u8]>) -> Option<PathBuf> {
    match sealed {
        None => Some(PathBuf::from(shown)),
        Some(s) => keys.open_path(s),
    }
}

/// Rows under the root `?2` (its display path), recorded under it or under
/// a folder below it (`?3` is [`under_prefix`]).
const UNDER_ROOT: &str = "(root = ?2 OR path = ?2 OR path LIKE ?3 ESCAPE '\\')";

/// The LIKE pattern of paths below a root's display path.
pub(crate) fn under_prefix(shown: &str) -> String {
    escape_like(&format!(
        "{}{}%",
        shown.trim_end_matches(std::path::MAIN_SEPARATOR),
        std::path::MAIN_SEPARATOR
    ))
}

/// Makes `LIKE` match ASCII letters case-sensitively on this connection.
/// Paths are matched by prefix with `LIKE` (a root's files, a moved
/// folder's): SQLite's default folds ASCII case, so a user restricted to
/// `/srv/Soumu` also saw the files of a root `/srv/soumu` (another folder
/// on Linux). The other `LIKE`s match lower-case flag names.
pub(crate) fn paths_are_case_sensitive(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "case_sensitive_like", true)?;
    Ok(())
}

/// Why deletions must not be recorded under `root` now, if so: it cannot
/// be walked, it is on another device than before, or it is empty while
/// files are stored under it.
fn root_problem(tx: &Transaction<'_>, root: &RootCheck) -> Result<Option<String>, StoreError> {
    if let Some(p) = &root.problem {
        return Ok(Some(p.clone()));
    }
    let shown = crate::paths::display(&root.path);
    let device: Option<Option<i64>> = tx
        .query_row(
            "SELECT device FROM roots WHERE path = ?1",
            params![shown],
            |r| r.get(0),
        )
        .optional()?;
    if let (Some(Some(before)), Some(now)) = (device, root.device) {
        if before != now as i64 {
            return Ok(Some(format!(
                "on another file system than before (device {before} then, {now} now): an unmounted share?"
            )));
        }
    }
    if root.files == 0 {
        let stored: i64 = tx.query_row(
            &format!(
                "SELECT count(*) FROM files WHERE deleted_at IS NULL AND {}",
                UNDER_ROOT.replace("?2", "?1").replace("?3", "?2")
            ),
            params![shown, under_prefix(&shown)],
            |r| r.get(0),
        )?;
        if stored > 0 {
            return Ok(Some(format!(
                "empty, but {stored} file(s) were stored under it: an unmounted or emptied share?"
            )));
        }
    }
    Ok(None)
}

fn close_run(
    conn: &Connection,
    run: i64,
    status: &str,
    counts: RunCounts,
    deleted: usize,
    t: &str,
) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE scan_runs SET finished_at = ?1, status = ?2, files_scanned = ?3, findings = ?4, unreadable = ?5 WHERE id = ?6",
        params![t, status, counts.files as i64, counts.findings as i64, counts.unreadable as i64, run],
    )?;
    let kind = if status == "finished" {
        "run_finished"
    } else {
        "run_ended"
    };
    event(
        conn,
        Some(run),
        kind,
        None,
        &format!(
            "{status}: {} files, {} findings, {} unreadable, {deleted} deleted",
            counts.files, counts.findings, counts.unreadable
        ),
    )
}

/// The row of `file` (created, or found by path key, or a moved file found
/// by content hash), and the sequence number of the scan under way.
#[allow(clippy::too_many_arguments)]
fn file_row(
    tx: &Transaction<'_>,
    keys: &KeySet,
    open_scans: &mut HashMap<i64, i64>,
    run: i64,
    root: Option<&Path>,
    file: &FileRef,
    content_hash: Option<&[u8; 32]>,
) -> Result<(i64, i64), StoreError> {
    let t = now();
    let key = keys.path_key(&file.path);
    let shown = file.shown().into_owned();
    let sealed = (file.path.to_str() != Some(shown.as_str())).then(|| keys.seal_path(&file.path));
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM files WHERE path_key = ?1",
            params![key.as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    let id = match existing {
        Some(id) => {
            // The display form may change (detectors changed what a name holds).
            tx.execute_cached(
                "UPDATE files SET path = ?1, path_sealed = ?2 WHERE id = ?3",
                params![shown, sealed, id],
            )?;
            id
        }
        None => match moved_from(tx, keys, content_hash)? {
            Some((id, old)) => {
                tx.execute_cached(
                    "UPDATE files SET path = ?1, path_key = ?2, path_sealed = ?3, root = ?4 WHERE id = ?5",
                    params![shown, key.as_slice(), sealed, root.map(|r| crate::paths::display(r).into_owned()), id],
                )?;
                event(
                    tx,
                    Some(run),
                    "file_moved",
                    Some(id),
                    &format!("{old} -> {shown}"),
                )?;
                id
            }
            None => {
                tx.execute_cached(
                    "INSERT INTO files(path, path_key, path_sealed, root, size, mtime_ns, first_seen_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        shown,
                        key.as_slice(),
                        sealed,
                        root.map(|r| crate::paths::display(r).into_owned()),
                        file.size as i64,
                        file.modified_ns,
                        t
                    ],
                )?;
                let id = tx.last_insert_rowid();
                event(tx, Some(run), "file_added", Some(id), &shown)?;
                id
            }
        },
    };
    let seq = match open_scans.get(&id) {
        Some(&seq) => seq,
        None => {
            tx.execute_cached(
                "UPDATE files SET scan_seq = scan_seq + 1 WHERE id = ?1",
                params![id],
            )?;
            let seq: i64 = tx.query_row(
                "SELECT scan_seq FROM files WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )?;
            open_scans.insert(id, seq);
            seq
        }
    };
    Ok((id, seq))
}

/// A stored file with this content whose path no longer exists: the file
/// was moved (the service may have recorded the rename's deletion first:
/// a row deleted with the same content also counts, and its findings
/// reopen as they are seen again).
fn moved_from(
    tx: &Transaction<'_>,
    keys: &KeySet,
    content_hash: Option<&[u8; 32]>,
) -> Result<Option<(i64, String)>, StoreError> {
    let Some(h) = content_hash else {
        return Ok(None);
    };
    let mut st = tx.prepare_cached(
        "SELECT id, path, path_sealed FROM files WHERE content_hash = ?1
         ORDER BY deleted_at IS NOT NULL, deleted_at DESC, id",
    )?;
    let rows = st.query_map(params![h.as_slice()], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
        ))
    })?;
    for row in rows {
        let (id, shown, sealed) = row?;
        if real_path(keys, &shown, sealed.as_deref()).is_some_and(|p| !p.exists()) {
            return Ok(Some((id, shown)));
        }
    }
    Ok(None)
}

/// Upserts a content's findings and logs its unreadable members.
fn record_content(
    tx: &Transaction<'_>,
    run: i64,
    file_id: i64,
    seq: i64,
    content: &Content,
) -> Result<(), StoreError> {
    let t = now();
    // A value seen again after it was marked remediated has come back.
    let mut update = tx.prepare_cached(
        "UPDATE findings SET last_seen_at = ?1, last_run_id = ?2, scan_seq = ?3, confidence = ?4, masked = ?5,
             detector_version = ?6, flags = ?7, recipient_domains = ?8, resolved_at = NULL, resolve_reason = NULL,
             review_state = CASE review_state WHEN 'remediated' THEN 'regressed' ELSE review_state END
         WHERE file_id = ?9 AND member = ?10 AND kind = ?11 AND location = ?12 AND fingerprint = ?13",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO findings(file_id, member, kind, confidence, location, masked, fingerprint,
             detector_id, detector_version, first_seen_at, last_seen_at, last_run_id, scan_seq, flags, recipient_domains)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for (member, f) in &content.findings {
        let outbound = crate::output::outbound_of(content, member, f.kind);
        let flags = outbound.map(|_| OUTBOUND_FLAG);
        let domains = outbound.map(|m| m.recipient_domains.join(","));
        let member = member.to_contract().unwrap_or_default();
        let location = f.location.to_string();
        let changed = update.execute(params![
            t,
            run,
            seq,
            f.confidence.as_str(),
            f.masked,
            f.detector_version,
            flags,
            domains,
            file_id,
            member,
            f.kind.as_str(),
            location,
            f.fingerprint.as_slice()
        ])?;
        if changed == 0 {
            let inherited = review::decision_for(tx, file_id, f.kind.as_str(), &f.fingerprint)?;
            insert.execute(params![
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
                run,
                seq,
                flags,
                domains
            ])?;
            if let Some((decision_id, state)) = inherited {
                // The same value in the same file was decided on before (the
                // file was deleted and restored, or the value moved within it).
                let state = if state == "remediated" {
                    "regressed"
                } else {
                    state.as_str()
                };
                tx.execute_cached(
                    "UPDATE findings SET review_state = ?1, review_decision_id = ?2 WHERE id = ?3",
                    params![state, decision_id, tx.last_insert_rowid()],
                )?;
            }
        }
    }
    for (_, term) in &content.sensitive_terms {
        tx.execute_cached(
            "INSERT INTO file_terms(file_id, term, scan_seq) VALUES (?1, ?2, ?3)
             ON CONFLICT(file_id, term) DO UPDATE SET scan_seq = excluded.scan_seq",
            params![file_id, term, seq],
        )?;
    }
    if let Some(created) = content.document_created() {
        tx.execute_cached(
            "UPDATE files SET meta_date = ?1 WHERE id = ?2 AND (meta_date IS NULL OR meta_date < ?1)",
            params![created.to_string(), file_id],
        )?;
    }
    for u in &content.unreadable {
        let detail = format!(
            "{}{}: {}",
            u.member
                .to_contract()
                .map(|m| format!("[{m}] "))
                .unwrap_or_default(),
            u.reason,
            crate::paths::escape_control(&u.detail)
        );
        event(tx, Some(run), "unreadable", Some(file_id), &detail)?;
    }
    Ok(())
}

/// The file's last outcome: its new state, and its findings not seen in
/// this scan resolved.
#[allow(clippy::too_many_arguments)]
fn finish_file(
    tx: &Transaction<'_>,
    run: i64,
    file_id: i64,
    seq: i64,
    file: &FileRef,
    content: &Content,
    end: &FileEnd,
    detector_set: &str,
) -> Result<(), StoreError> {
    let t = now();
    let reason = content
        .unreadable
        .iter()
        .find(|u| u.member.0.is_empty())
        .map(|u| u.reason.as_str());
    // A file that changed while it was read is stored without its hash and
    // with an mtime no file has: the next walk reads it again.
    let mtime = if end.changed_during_scan {
        i64::MIN
    } else {
        file.modified_ns
    };
    tx.execute_cached(
        "UPDATE files SET size = ?1, mtime_ns = ?2, content_hash = ?3, detector_set = ?4, format = ?5,
             last_scanned_at = ?6, last_run_id = ?7, deleted_at = NULL, unreadable_reason = ?8
         WHERE id = ?9",
        params![
            file.size as i64,
            mtime,
            end.content_hash.as_ref().map(|h| h.as_slice()),
            detector_set,
            end.format,
            t,
            run,
            reason,
            file_id
        ],
    )?;
    if end.changed_during_scan {
        event(
            tx,
            Some(run),
            "changed_during_scan",
            Some(file_id),
            "read again on the next walk",
        )?;
    }
    if end.failed {
        event(
            tx,
            Some(run),
            "scan_failed",
            Some(file_id),
            "mamori failed on this file; it is scanned again on the next walk",
        )?;
        tx.execute_cached(
            "UPDATE files SET mtime_ns = ?1 WHERE id = ?2",
            params![i64::MIN, file_id],
        )?;
        return Ok(()); // its findings stay as they were: nothing was learnt
    }
    let gone = tx.execute_cached(
        "UPDATE findings SET resolved_at = ?1, resolve_reason = 'not found on rescan'
         WHERE file_id = ?2 AND resolved_at IS NULL AND (scan_seq IS NULL OR scan_seq != ?3)",
        params![t, file_id, seq],
    )?;
    if gone > 0 {
        event(
            tx,
            Some(run),
            "findings_resolved",
            Some(file_id),
            &format!("{gone} finding(s) no longer found"),
        )?;
    }
    Ok(())
}

/// Marks file `id` deleted at `t`: its open findings are resolved, its
/// history kept, and the deletion logged.
fn delete_file(
    tx: &Transaction<'_>,
    run: i64,
    id: i64,
    shown: &str,
    t: &str,
) -> Result<(), StoreError> {
    tx.execute_cached(
        "UPDATE files SET deleted_at = ?1 WHERE id = ?2",
        params![t, id],
    )?;
    tx.execute_cached(
        "UPDATE findings SET resolved_at = ?1, resolve_reason = 'file deleted' WHERE file_id = ?2 AND resolved_at IS NULL",
        params![t, id],
    )?;
    tx.execute_cached("DELETE FROM file_records WHERE file_id = ?1", params![id])?;
    event(tx, Some(run), "file_deleted", Some(id), shown)
}

/// The walk's first check, on any connection: whether `path` is stored
/// with this size, mtime and detector set (and not deleted); with the
/// stored content hash, for the second check when size or mtime differ.
pub fn stored_state(
    conn: &Connection,
    keys: &KeySet,
    path: &Path,
    size: u64,
    mtime_ns: i64,
    detector_set: &str,
) -> (bool, Option<[u8; 32]>) {
    let row: Option<(bool, Option<Vec<u8>>)> = conn
        .query_row(
            "SELECT size = ?2 AND mtime_ns = ?3, content_hash FROM files
             WHERE path_key = ?1 AND detector_set = ?4 AND deleted_at IS NULL",
            params![
                keys.path_key(path).as_slice(),
                size as i64,
                mtime_ns,
                detector_set
            ],
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

/// `s` for a LIKE pattern: its own `%`, `_` and `\` are literal; a trailing
/// `%` stays the wildcard.
pub fn escape_like(s: &str) -> String {
    let (head, tail) = match s.strip_suffix('%') {
        Some(h) => (h, "%"),
        None => (s, ""),
    };
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

/// Creates a new database: initialised under a temporary name, owner-only,
/// then renamed into place, so that `path` is never an empty file (an
/// empty database is refused as a sign of truncation).
fn create_new(path: &Path) -> Result<(), StoreError> {
    let err = |error| StoreError::Create {
        path: path.to_path_buf(),
        error,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".new-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(&tmp).map_err(err)?;
    {
        let conn = Connection::open(&tmp)?;
        // The rollback journal, not WAL, while it is renamed into place.
        migrate::migrate(&conn)?;
    }
    match std::fs::hard_link(&tmp, path) {
        Ok(()) => {}
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(_) => std::fs::rename(&tmp, path).map_err(err)?,
    }
    let _ = std::fs::remove_file(&tmp);
    Ok(())
}

/// An exclusive lock on a database for one writing process (the service,
/// or `scan --db`): a lock file beside it, held while the process lives.
pub struct WriterLock {
    _file: std::fs::File,
}

impl WriterLock {
    /// Takes the lock, or says which process holds it.
    pub fn acquire(database: &Path) -> Result<WriterLock, StoreError> {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let path = PathBuf::from(name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(&path).map_err(|error| StoreError::Lock {
            path: path.clone(),
            error,
        })?;
        match file.try_lock() {
            Ok(()) => {
                use std::io::{Seek, Write};
                let _ = file.set_len(0);
                let _ = file.seek(std::io::SeekFrom::Start(0));
                let _ = write!(file, "{}", std::process::id());
                Ok(WriterLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(&path).unwrap_or_default();
                Err(StoreError::Locked {
                    path: database.to_path_buf(),
                    pid: pid.trim().to_string(),
                })
            }
            Err(std::fs::TryLockError::Error(error)) => Err(StoreError::Lock { path, error }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_prefix_escapes() {
        assert_eq!(escape_like("/a_b%/%"), "/a\\_b\\%/%");
        assert_eq!(escape_like("50%"), "50%");
        assert_eq!(escape_like("a_b"), "a\\_b");
    }

    #[test]
    fn an_empty_database_is_refused_and_a_new_one_is_never_empty() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeySet::new([1; 32]);
        let db = dir.path().join("m.db");
        std::fs::write(&db, b"").unwrap();
        assert!(matches!(Store::open(&db, &keys), Err(StoreError::Empty(_))));
        std::fs::remove_file(&db).unwrap();
        let s = Store::open(&db, &keys).unwrap();
        assert_eq!(s.schema_version().unwrap(), migrate::CURRENT);
        assert!(std::fs::metadata(&db).unwrap().len() > 0);
        drop(s);
        assert!(matches!(
            Store::open(&db, &KeySet::new([2; 32])),
            Err(StoreError::OtherKey)
        ));
    }

    #[test]
    fn one_writer_per_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("m.db");
        let first = WriterLock::acquire(&db).unwrap();
        let second = WriterLock::acquire(&db);
        assert!(
            matches!(&second, Err(StoreError::Locked { pid, .. }) if *pid == std::process::id().to_string()),
            "{:?}",
            second.err()
        );
        drop(first);
        assert!(WriterLock::acquire(&db).is_ok());
    }
}
