//! Numbered schema migrations (`PRAGMA user_version`). Each migration runs
//! once, in a transaction; a database newer than this binary is refused.

use rusqlite::Connection;

use super::StoreError;

/// Migration N brings the schema from version N-1 to N.
const MIGRATIONS: &[&str] = &[
    // 1: files, findings, scan runs, append-only events, settings.
    r#"
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE scan_runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        roots TEXT NOT NULL,
        detector_set TEXT NOT NULL,
        status TEXT NOT NULL,
        files_scanned INTEGER NOT NULL DEFAULT 0,
        findings INTEGER NOT NULL DEFAULT 0,
        unreadable INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        root TEXT,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash BLOB,
        detector_set TEXT,
        format TEXT,
        first_seen_at TEXT NOT NULL,
        last_scanned_at TEXT,
        last_run_id INTEGER REFERENCES scan_runs(id),
        deleted_at TEXT,
        unreadable_reason TEXT
    );
    CREATE INDEX files_content_hash ON files(content_hash);
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id),
        member TEXT NOT NULL,
        kind TEXT NOT NULL,
        confidence TEXT NOT NULL,
        location TEXT NOT NULL,
        masked TEXT NOT NULL,
        fingerprint BLOB NOT NULL,
        detector_id TEXT NOT NULL,
        detector_version INTEGER NOT NULL,
        first_seen_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        last_run_id INTEGER REFERENCES scan_runs(id),
        resolved_at TEXT,
        resolve_reason TEXT,
        UNIQUE (file_id, member, kind, location, fingerprint)
    );
    CREATE INDEX findings_open ON findings(file_id) WHERE resolved_at IS NULL;
    CREATE INDEX findings_fingerprint ON findings(fingerprint);
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        run_id INTEGER,
        kind TEXT NOT NULL,
        file_id INTEGER,
        detail TEXT
    );
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
    "#,
    // 2: lossless, private paths (display path, keyed path hash, sealed real
    // path), keyed content hashes (the old plain SHA-256 ones are dropped:
    // they could be brute-forced), per-file scan sequence, finding flags,
    // and the roots' last known state (a missing share is not a deletion).
    r#"
    CREATE TABLE files_v2 (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL,
        path_key BLOB UNIQUE,
        path_sealed BLOB,
        root TEXT,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash BLOB,
        detector_set TEXT,
        format TEXT,
        first_seen_at TEXT NOT NULL,
        last_scanned_at TEXT,
        last_run_id INTEGER REFERENCES scan_runs(id),
        deleted_at TEXT,
        unreadable_reason TEXT,
        scan_seq INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO files_v2(id, path, root, size, mtime_ns, content_hash, detector_set, format,
                         first_seen_at, last_scanned_at, last_run_id, deleted_at, unreadable_reason)
        SELECT id, path, root, size, mtime_ns, NULL, detector_set, format,
               first_seen_at, last_scanned_at, last_run_id, deleted_at, unreadable_reason
        FROM files;
    DROP TABLE files;
    ALTER TABLE files_v2 RENAME TO files;
    CREATE INDEX files_content_hash ON files(content_hash);
    CREATE INDEX files_path ON files(path);
    CREATE INDEX files_root ON files(root);
    ALTER TABLE findings ADD COLUMN scan_seq INTEGER;
    ALTER TABLE findings ADD COLUMN flags TEXT;
    ALTER TABLE findings ADD COLUMN recipient_domains TEXT;
    CREATE TABLE roots (
        path TEXT PRIMARY KEY,
        device INTEGER,
        files_seen INTEGER NOT NULL DEFAULT 0,
        available INTEGER NOT NULL DEFAULT 1,
        problem TEXT,
        checked_at TEXT
    );
    "#,
    // 3: records and review. Review decisions are append-only events; the
    // state they give each finding is kept beside it (`review_state`) so
    // that counts, reports and the review screen filter without joins.
    // What records rules need that the scan learns (a document's own
    // creation date, 要配慮 keywords next to personal data) is stored per
    // file; the rules' verdict per file (`file_records`) is recomputed after
    // each scan, on reload and daily.
    r#"
    ALTER TABLE files ADD COLUMN meta_date TEXT;
    ALTER TABLE findings ADD COLUMN review_state TEXT NOT NULL DEFAULT 'open';
    ALTER TABLE findings ADD COLUMN review_decision_id INTEGER;
    CREATE INDEX findings_review ON findings(review_state) WHERE resolved_at IS NULL;
    CREATE INDEX findings_kind_open ON findings(kind) WHERE resolved_at IS NULL;
    CREATE TABLE file_terms (
        file_id INTEGER NOT NULL REFERENCES files(id),
        term TEXT NOT NULL,
        scan_seq INTEGER NOT NULL,
        PRIMARY KEY (file_id, term)
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        batch INTEGER NOT NULL,
        reviewer TEXT NOT NULL,
        decision TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        file_id INTEGER NOT NULL,
        content_hash BLOB,
        path TEXT NOT NULL,
        member TEXT NOT NULL,
        kind TEXT NOT NULL,
        fingerprint BLOB NOT NULL,
        masked TEXT NOT NULL,
        finding_id INTEGER
    );
    CREATE INDEX decisions_value ON decisions(kind, fingerprint);
    CREATE INDEX decisions_file ON decisions(file_id);
    CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'review decisions are append-only'); END;
    CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, 'review decisions are append-only'); END;
    CREATE TABLE file_records (
        file_id INTEGER PRIMARY KEY REFERENCES files(id),
        as_of TEXT NOT NULL,
        document_date TEXT,
        date_source TEXT,
        date_evidence TEXT,
        retention_rule INTEGER,
        retention_class TEXT,
        retention TEXT,
        retention_start TEXT,
        retention_end TEXT,
        action TEXT,
        hold_reason TEXT,
        hold_until TEXT,
        flags TEXT NOT NULL DEFAULT '',
        evaluated_at TEXT NOT NULL
    );
    CREATE INDEX file_records_flags ON file_records(flags);
    "#,
    // 4 (web branch, issue 12): accounts, sessions, login attempts and the
    // acting user of events, for `mamori serve` (see `web_schema.rs`).
    super::web_schema::WEB_ACCOUNTS,
    // 5: the outbox for a central PostgreSQL (issue 15; see `store::outbox`).
    super::outbox::OUTBOX_SCHEMA,
];

/// The schema version this binary writes.
pub const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`CURRENT`].
pub fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > CURRENT {
        return Err(StoreError::TooNew {
            found: version,
            known: CURRENT,
        });
    }
    // Tables are rebuilt (SQLite cannot drop a constraint): foreign keys
    // are checked after each migration instead of during it.
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let n = i as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {n}; COMMIT;"
        ))?;
        tracing::info!("database migrated to schema version {n}");
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}
