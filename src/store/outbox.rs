//! The store's side of shipping to a central PostgreSQL (`crate::central`):
//! the outbox and the state of the sync, kept here so that the rest of the
//! store needs no change to be shipped.
//!
//! Every change the service commits to a shipped table (files, findings,
//! records verdicts, decisions, events, roots, scan runs) puts the row's
//! key into `outbox` **in the same transaction**, by triggers: a crash or a
//! kill can never leave a committed change unrecorded, nor record a change
//! that was rolled back. The outbox holds keys only (table, row id), each
//! at most once: the sync reads the row's state when it ships it, so a row
//! changed a thousand times while the centre was down is shipped once. The
//! triggers fire only on changes the centre shows (not on `last_seen_at`,
//! which every walk moves), and only while `meta.central_outbox` is `on`:
//! a site without a centre grows no outbox.
//!
//! `seq` is AUTOINCREMENT so that a key queued again while its earlier
//! entry is being shipped gets a new, larger `seq`: the acknowledgement
//! deletes the entries it shipped by `seq`, never the newer one.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::{Store, StoreError};

/// Schema migration: the outbox, its triggers, and where a decision made
/// at the centre came from (so that it is applied once and not shipped
/// back as a new one).
pub(super) const OUTBOX_SCHEMA: &str = r#"
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tbl TEXT NOT NULL,
        row_id INTEGER NOT NULL,
        UNIQUE (tbl, row_id)
    );
    ALTER TABLE decisions ADD COLUMN central_id INTEGER;
    CREATE UNIQUE INDEX decisions_central ON decisions(central_id) WHERE central_id IS NOT NULL;
    CREATE TRIGGER outbox_roots_insert AFTER INSERT ON roots
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
    BEGIN
        DELETE FROM outbox WHERE tbl = 'roots' AND row_id = NEW.rowid;
        INSERT INTO outbox(tbl, row_id) VALUES ('roots', NEW.rowid);
    END;
    CREATE TRIGGER outbox_roots_update AFTER UPDATE ON roots
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
      AND (OLD.rowid IS NOT NEW.rowid
         OR OLD.path IS NOT NEW.path
         OR OLD.device IS NOT NEW.device
         OR OLD.available IS NOT NEW.available
         OR OLD.problem IS NOT NEW.problem)
    BEGIN
        DELETE FROM outbox WHERE tbl = 'roots' AND row_id = NEW.rowid;
        INSERT INTO outbox(tbl, row_id) VALUES ('roots', NEW.rowid);
    END;
    CREATE TRIGGER outbox_scan_runs_insert AFTER INSERT ON scan_runs
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
    BEGIN
        DELETE FROM outbox WHERE tbl = 'scan_runs' AND row_id = NEW.id;
        INSERT INTO outbox(tbl, row_id) VALUES ('scan_runs', NEW.id);
    END;
    CREATE TRIGGER outbox_scan_runs_update AFTER UPDATE ON scan_runs
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
      AND (OLD.id IS NOT NEW.id
         OR OLD.status IS NOT NEW.status
         OR OLD.finished_at IS NOT NEW.finished_at)
    BEGIN
        DELETE FROM outbox WHERE tbl = 'scan_runs' AND row_id = NEW.id;
        INSERT INTO outbox(tbl, row_id) VALUES ('scan_runs', NEW.id);
    END;
    CREATE TRIGGER outbox_files_insert AFTER INSERT ON files
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
    BEGIN
        DELETE FROM outbox WHERE tbl = 'files' AND row_id = NEW.id;
        INSERT INTO outbox(tbl, row_id) VALUES ('files', NEW.id);
    END;
    CREATE TRIGGER outbox_files_update AFTER UPDATE ON files
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
      AND (OLD.id IS NOT NEW.id
         OR OLD.path IS NOT NEW.path
         OR OLD.path_key IS NOT NEW.path_key
         OR OLD.root IS NOT NEW.root
         OR OLD.size IS NOT NEW.size
         OR OLD.mtime_ns IS NOT NEW.mtime_ns
         OR OLD.content_hash IS NOT NEW.content_hash
         OR OLD.detector_set IS NOT NEW.detector_set
         OR OLD.format IS NOT NEW.format
         OR OLD.deleted_at IS NOT NEW.deleted_at
         OR OLD.unreadable_reason IS NOT NEW.unreadable_reason
         OR OLD.meta_date IS NOT NEW.meta_date)
    BEGIN
        DELETE FROM outbox WHERE tbl = 'files' AND row_id = NEW.id;
        INSERT INTO outbox(tbl, row_id) VALUES ('files', NEW.id);
    END;
    CREATE TRIGGER outbox_findings_insert AFTER INSERT ON findings
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
    BEGIN
        DELETE FROM outbox WHERE tbl = 'findings' AND row_id = NEW.id;
        INSERT INTO outbox(tbl, row_id) VALUES ('findings', NEW.id);
    END;
    CREATE TRIGGER outbox_findings_update AFTER UPDATE ON findings
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
      AND (OLD.id IS NOT NEW.id
         OR OLD.member IS NOT NEW.member
         OR OLD.kind IS NOT NEW.kind
         OR OLD.confidence IS NOT NEW.confidence
         OR OLD.location IS NOT NEW.location
         OR OLD.masked IS NOT NEW.masked
         OR OLD.fingerprint IS NOT NEW.fingerprint
         OR OLD.detector_id IS NOT NEW.detector_id
         OR OLD.detector_version IS NOT NEW.detector_version
         OR OLD.resolved_at IS NOT NEW.resolved_at
         OR OLD.resolve_reason IS NOT NEW.resolve_reason
         OR OLD.flags IS NOT NEW.flags
         OR OLD.recipient_domains IS NOT NEW.recipient_domains
         OR OLD.review_state IS NOT NEW.review_state
         OR OLD.review_decision_id IS NOT NEW.review_decision_id)
    BEGIN
        DELETE FROM outbox WHERE tbl = 'findings' AND row_id = NEW.id;
        INSERT INTO outbox(tbl, row_id) VALUES ('findings', NEW.id);
    END;
    CREATE TRIGGER outbox_file_records_insert AFTER INSERT ON file_records
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
    BEGIN
        DELETE FROM outbox WHERE tbl = 'file_records' AND row_id = NEW.file_id;
        INSERT INTO outbox(tbl, row_id) VALUES ('file_records', NEW.file_id);
    END;
    CREATE TRIGGER outbox_file_records_update AFTER UPDATE ON file_records
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
      AND (OLD.file_id IS NOT NEW.file_id
         OR OLD.document_date IS NOT NEW.document_date
         OR OLD.date_source IS NOT NEW.date_source
         OR OLD.date_evidence IS NOT NEW.date_evidence
         OR OLD.retention_rule IS NOT NEW.retention_rule
         OR OLD.retention_class IS NOT NEW.retention_class
         OR OLD.retention IS NOT NEW.retention
         OR OLD.retention_start IS NOT NEW.retention_start
         OR OLD.retention_end IS NOT NEW.retention_end
         OR OLD.action IS NOT NEW.action
         OR OLD.hold_reason IS NOT NEW.hold_reason
         OR OLD.hold_until IS NOT NEW.hold_until
         OR OLD.flags IS NOT NEW.flags)
    BEGIN
        DELETE FROM outbox WHERE tbl = 'file_records' AND row_id = NEW.file_id;
        INSERT INTO outbox(tbl, row_id) VALUES ('file_records', NEW.file_id);
    END;
    CREATE TRIGGER outbox_file_records_delete AFTER DELETE ON file_records
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
    BEGIN
        DELETE FROM outbox WHERE tbl = 'file_records' AND row_id = OLD.file_id;
        INSERT INTO outbox(tbl, row_id) VALUES ('file_records', OLD.file_id);
    END;
    CREATE TRIGGER outbox_decisions_insert AFTER INSERT ON decisions
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
    BEGIN
        DELETE FROM outbox WHERE tbl = 'decisions' AND row_id = NEW.id;
        INSERT INTO outbox(tbl, row_id) VALUES ('decisions', NEW.id);
    END;
    CREATE TRIGGER outbox_events_insert AFTER INSERT ON events
    WHEN (SELECT value FROM meta WHERE key = 'central_outbox') = 'on'
    BEGIN
        DELETE FROM outbox WHERE tbl = 'events' AND row_id = NEW.id;
        INSERT INTO outbox(tbl, row_id) VALUES ('events', NEW.id);
    END;
"#;

/// The type of a shipped column, as both databases store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Text,
    Blob,
}

/// A table shipped to the centre: its local key (the outbox's `row_id`)
/// and the columns the centre keeps, under the same names.
#[derive(Debug)]
pub struct ShippedTable {
    pub name: &'static str,
    /// The local key: `id`, `file_id`, or `rowid` (roots, keyed by path).
    pub key: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
}

use ColumnType::{Blob, Int, Text};

/// The shipped tables, in the order a batch applies them (files before
/// their findings, findings before the verdicts and decisions on them).
pub const SHIPPED: &[ShippedTable] = &[
    ShippedTable {
        name: "roots",
        key: "rowid",
        columns: &[
            ("path", Text),
            ("device", Int),
            ("files_seen", Int),
            ("available", Int),
            ("problem", Text),
            ("checked_at", Text),
        ],
    },
    ShippedTable {
        name: "scan_runs",
        key: "id",
        columns: &[
            ("started_at", Text),
            ("finished_at", Text),
            ("roots", Text),
            ("detector_set", Text),
            ("status", Text),
            ("files_scanned", Int),
            ("findings", Int),
            ("unreadable", Int),
        ],
    },
    ShippedTable {
        name: "files",
        key: "id",
        columns: &[
            ("path", Text),
            ("path_key", Blob),
            ("root", Text),
            ("size", Int),
            ("mtime_ns", Int),
            ("content_hash", Blob),
            ("detector_set", Text),
            ("format", Text),
            ("first_seen_at", Text),
            ("last_scanned_at", Text),
            ("deleted_at", Text),
            ("unreadable_reason", Text),
            ("meta_date", Text),
        ],
    },
    ShippedTable {
        name: "findings",
        key: "id",
        columns: &[
            ("file_id", Int),
            ("member", Text),
            ("kind", Text),
            ("confidence", Text),
            ("location", Text),
            ("masked", Text),
            ("fingerprint", Blob),
            ("detector_id", Text),
            ("detector_version", Int),
            ("first_seen_at", Text),
            ("last_seen_at", Text),
            ("resolved_at", Text),
            ("resolve_reason", Text),
            ("flags", Text),
            ("recipient_domains", Text),
            ("review_state", Text),
            ("review_decision_id", Int),
        ],
    },
    ShippedTable {
        name: "file_records",
        key: "file_id",
        columns: &[
            ("as_of", Text),
            ("document_date", Text),
            ("date_source", Text),
            ("date_evidence", Text),
            ("retention_rule", Int),
            ("retention_class", Text),
            ("retention", Text),
            ("retention_start", Text),
            ("retention_end", Text),
            ("action", Text),
            ("hold_reason", Text),
            ("hold_until", Text),
            ("flags", Text),
            ("evaluated_at", Text),
        ],
    },
    ShippedTable {
        name: "decisions",
        key: "id",
        columns: &[
            ("at", Text),
            ("batch", Int),
            ("reviewer", Text),
            ("decision", Text),
            ("note", Text),
            ("file_id", Int),
            ("content_hash", Blob),
            ("path", Text),
            ("member", Text),
            ("kind", Text),
            ("fingerprint", Blob),
            ("masked", Text),
            ("finding_id", Int),
            ("central_id", Int),
        ],
    },
    ShippedTable {
        name: "events",
        key: "id",
        columns: &[
            ("at", Text),
            ("run_id", Int),
            ("kind", Text),
            ("file_id", Int),
            ("detail", Text),
        ],
    },
];

/// The shipped table called `name`.
pub fn shipped(name: &str) -> Option<&'static ShippedTable> {
    SHIPPED.iter().find(|t| t.name == name)
}

/// One outbox entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub table: String,
    pub row_id: i64,
}

/// A shipped row as it is now: its key and its columns' values in the
/// order of [`ShippedTable::columns`].
#[derive(Debug, Clone, PartialEq)]
pub struct ShippedRow {
    pub key: i64,
    pub values: Vec<Value>,
}

/// The sync's own state, kept in `meta` (shown by `mamori status`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CentralStatus {
    /// Whether changes are being queued for a centre.
    pub enabled: bool,
    pub outbox_length: i64,
    /// The last sync that reached the centre and emptied what it took.
    pub last_sync: Option<String>,
    /// The last failure, if the latest attempt failed.
    pub last_error: Option<String>,
    /// The first full snapshot (or a resync) is still under way.
    pub snapshot_pending: bool,
}

/// Meta keys of the sync's state.
pub mod meta_keys {
    pub const SWITCH: &str = "central_outbox";
    pub const LAST_SYNC: &str = "central_last_sync";
    pub const LAST_ERROR: &str = "central_last_error";
    /// `<centre id>/<generation>`: the snapshot the cursor belongs to.
    pub const SNAPSHOT_OF: &str = "central_snapshot_of";
    /// `<table>:<last key sent>` while a snapshot is under way, `done` after.
    pub const SNAPSHOT_CURSOR: &str = "central_snapshot_cursor";
    /// The outbox's last `seq` when the snapshot started: entries up to it
    /// are covered by the snapshot.
    pub const SNAPSHOT_SEQ: &str = "central_snapshot_seq";
    /// This store's identity towards the centre (random, made once).
    pub const INSTANCE: &str = "central_instance";
}

/// Reads a `meta` value.
pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Sets (or with `None` removes) a `meta` value.
pub fn set_meta(conn: &Connection, key: &str, value: Option<&str>) -> Result<(), StoreError> {
    match value {
        Some(v) => conn.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, v],
        )?,
        None => conn.execute("DELETE FROM meta WHERE key = ?1", params![key])?,
    };
    Ok(())
}

/// Turns queueing on (a centre is configured) or off. Turning it off
/// empties the outbox and forgets the snapshot: a centre configured later
/// gets a full snapshot again. Returns whether anything changed.
pub fn set_enabled(conn: &Connection, on: bool) -> Result<bool, StoreError> {
    let now_on = meta(conn, meta_keys::SWITCH)?.as_deref() == Some("on");
    if now_on == on {
        return Ok(false);
    }
    let tx = conn.unchecked_transaction()?;
    if on {
        set_meta(&tx, meta_keys::SWITCH, Some("on"))?;
    } else {
        set_meta(&tx, meta_keys::SWITCH, Some("off"))?;
        tx.execute("DELETE FROM outbox", [])?;
        for k in [
            meta_keys::SNAPSHOT_OF,
            meta_keys::SNAPSHOT_CURSOR,
            meta_keys::SNAPSHOT_SEQ,
        ] {
            set_meta(&tx, k, None)?;
        }
    }
    tx.commit()?;
    Ok(true)
}

/// The oldest `limit` outbox entries.
pub fn pending(conn: &Connection, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
    let mut st =
        conn.prepare_cached("SELECT seq, tbl, row_id FROM outbox ORDER BY seq LIMIT ?1")?;
    let rows = st.query_map(params![limit as i64], |r| {
        Ok(OutboxEntry {
            seq: r.get(0)?,
            table: r.get(1)?,
            row_id: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The outbox's last `seq` (0 when it is empty and always was).
pub fn last_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM outbox", [], |r| r.get(0))?)
}

/// Removes the entries the centre acknowledged (committed).
pub fn acknowledge(conn: &Connection, seqs: &[i64]) -> Result<(), StoreError> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut st = tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
        for s in seqs {
            st.execute(params![s])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Removes every entry up to `seq` (a snapshot covered them).
pub fn acknowledge_up_to(conn: &Connection, seq: i64) -> Result<(), StoreError> {
    conn.execute("DELETE FROM outbox WHERE seq <= ?1", params![seq])?;
    Ok(())
}

fn select_list(t: &ShippedTable) -> String {
    let mut cols = vec![t.key.to_string()];
    cols.extend(t.columns.iter().map(|(c, _)| c.to_string()));
    cols.join(", ")
}

fn shipped_row(t: &ShippedTable, r: &rusqlite::Row<'_>) -> rusqlite::Result<ShippedRow> {
    let mut values = Vec::with_capacity(t.columns.len());
    for i in 0..t.columns.len() {
        values.push(r.get::<_, Value>(i + 1)?);
    }
    Ok(ShippedRow {
        key: r.get(0)?,
        values,
    })
}

/// The current state of rows `keys` of `table`; keys without a row (it
/// was deleted) are left out.
pub fn read_rows(
    conn: &Connection,
    table: &ShippedTable,
    keys: &[i64],
) -> Result<Vec<ShippedRow>, StoreError> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let sql = format!(
            "SELECT {} FROM {} WHERE {} IN ({marks})",
            select_list(table),
            table.name,
            table.key
        );
        let mut st = conn.prepare(&sql)?;
        let rows = st.query_map(params_from_iter(chunk.iter()), |r| shipped_row(table, r))?;
        for r in rows {
            out.push(r?);
        }
    }
    Ok(out)
}

/// Rows of `table` after key `after`, in key order, at most `limit` (a
/// snapshot's pages).
pub fn rows_after(
    conn: &Connection,
    table: &ShippedTable,
    after: i64,
    limit: usize,
) -> Result<Vec<ShippedRow>, StoreError> {
    let sql = format!(
        "SELECT {} FROM {} WHERE {} > ?1 ORDER BY {} LIMIT ?2",
        select_list(table),
        table.name,
        table.key,
        table.key
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params![after, limit as i64], |r| shipped_row(table, r))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What `mamori status` shows about the centre.
pub fn central_status(conn: &Connection) -> Result<CentralStatus, StoreError> {
    let has_outbox: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'outbox'",
        [],
        |r| r.get(0),
    )?;
    if !has_outbox {
        return Ok(CentralStatus::default());
    }
    Ok(CentralStatus {
        enabled: meta(conn, meta_keys::SWITCH)?.as_deref() == Some("on"),
        outbox_length: conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?,
        last_sync: meta(conn, meta_keys::LAST_SYNC)?,
        last_error: meta(conn, meta_keys::LAST_ERROR)?,
        snapshot_pending: meta(conn, meta_keys::SNAPSHOT_CURSOR)?.as_deref() != Some("done"),
    })
}

/// A review decision made at the centre, as a site receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralDecision {
    /// Its id at the centre (recorded locally: applied once).
    pub central_id: i64,
    pub at: String,
    pub reviewer: String,
    pub decision: crate::review::Decision,
    pub note: String,
    /// The file as the centre knows it: this store's row id and its path
    /// key (which finds the file again after a store was rebuilt).
    pub file_id: i64,
    pub path_key: Option<Vec<u8>>,
    pub kind: String,
    pub fingerprint: Vec<u8>,
}

impl Store {
    /// Records decisions made at the centre, each once (by its central id),
    /// on the findings of the same value in the same file, as
    /// [`Store::decide`] does for local ones. Returns the ids of the files
    /// whose findings changed (their records verdicts are due).
    pub fn record_central_decisions(
        &mut self,
        decisions: &[CentralDecision],
    ) -> Result<Vec<i64>, StoreError> {
        let tx = self.conn.transaction()?;
        let mut files = Vec::new();
        for d in decisions {
            let known: bool = tx.query_row(
                "SELECT count(*) > 0 FROM decisions WHERE central_id = ?1",
                params![d.central_id],
                |r| r.get(0),
            )?;
            if known {
                continue;
            }
            let by_key: Option<i64> = match &d.path_key {
                Some(k) => tx
                    .query_row(
                        "SELECT id FROM files WHERE path_key = ?1",
                        params![k],
                        |r| r.get(0),
                    )
                    .optional()?,
                None => None,
            };
            let file: Option<(i64, Option<Vec<u8>>, String)> = tx
                .query_row(
                    "SELECT id, content_hash, path FROM files WHERE id = ?1",
                    params![by_key.unwrap_or(d.file_id)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((file_id, hash, path)) = file else {
                tracing::warn!(
                    central_id = d.central_id,
                    "a central decision names a file this store does not have; skipped"
                );
                continue;
            };
            let finding: Option<(i64, String, String)> = tx
                .query_row(
                    "SELECT id, member, masked FROM findings WHERE file_id = ?1 AND kind = ?2 AND fingerprint = ?3
                     ORDER BY resolved_at IS NOT NULL, id LIMIT 1",
                    params![file_id, d.kind, d.fingerprint],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (finding_id, member, masked) = match finding {
                Some((id, m, x)) => (Some(id), m, x),
                None => (None, String::new(), String::new()),
            };
            let batch: i64 = tx.query_row(
                "SELECT coalesce(max(batch), 0) + 1 FROM decisions",
                [],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO decisions(at, batch, reviewer, decision, note, file_id, content_hash, path, member, kind,
                     fingerprint, masked, finding_id, central_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    d.at,
                    batch,
                    d.reviewer,
                    d.decision.as_str(),
                    d.note,
                    file_id,
                    hash,
                    path,
                    member,
                    d.kind,
                    d.fingerprint,
                    masked,
                    finding_id,
                    d.central_id
                ],
            )?;
            let decision_id = tx.last_insert_rowid();
            tx.execute(
                "UPDATE findings SET review_state = ?1, review_decision_id = ?2
                 WHERE file_id = ?3 AND kind = ?4 AND fingerprint = ?5",
                params![
                    d.decision.as_str(),
                    decision_id,
                    file_id,
                    d.kind,
                    d.fingerprint
                ],
            )?;
            super::event(
                &tx,
                None,
                "review_decision",
                Some(file_id),
                &format!(
                    "central decision {}: {} by {}",
                    d.central_id,
                    d.decision.as_str(),
                    crate::paths::escape_control(&d.reviewer)
                ),
            )?;
            files.push(file_id);
        }
        tx.commit()?;
        files.sort_unstable();
        files.dedup();
        Ok(files)
    }
}

/// The central ids of decisions this store has recorded, among `ids`.
pub fn recorded_central_decisions(
    conn: &Connection,
    ids: &[i64],
) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        let mut st = conn.prepare(&format!(
            "SELECT central_id, id FROM decisions WHERE central_id IN ({marks})"
        ))?;
        let rows = st.query_map(params_from_iter(chunk.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        for r in rows {
            out.push(r?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeySet;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("m.db"), &KeySet::new([3; 32])).unwrap();
        (dir, s)
    }

    fn add_file(conn: &Connection, path: &str) -> i64 {
        conn.execute(
            "INSERT INTO files(path, path_key, size, mtime_ns, first_seen_at) VALUES (?1, ?1, 1, 1, 't')",
            params![path],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    fn entries(conn: &Connection) -> Vec<(String, i64)> {
        pending(conn, 1000)
            .unwrap()
            .into_iter()
            .map(|e| (e.table, e.row_id))
            .collect()
    }

    #[test]
    fn nothing_is_queued_without_a_centre_and_turning_it_off_empties_the_outbox() {
        let (_d, s) = store();
        let c = s.connection();
        add_file(c, "/a");
        assert!(entries(c).is_empty());
        assert!(set_enabled(c, true).unwrap());
        assert!(!set_enabled(c, true).unwrap());
        let id = add_file(c, "/b");
        assert_eq!(entries(c), vec![("files".to_string(), id)]);
        assert!(central_status(c).unwrap().enabled);
        assert!(set_enabled(c, false).unwrap());
        assert!(entries(c).is_empty());
        add_file(c, "/c");
        assert!(entries(c).is_empty());
    }

    #[test]
    fn a_row_is_queued_once_and_a_change_during_shipping_is_not_lost() {
        let (_d, s) = store();
        let c = s.connection();
        set_enabled(c, true).unwrap();
        let id = add_file(c, "/a");
        c.execute("UPDATE files SET format = 'csv' WHERE id = ?1", params![id])
            .unwrap();
        let first = pending(c, 10).unwrap();
        assert_eq!(first.len(), 1, "one entry per row");
        // Changed again while that entry is being shipped: queued anew, and
        // the acknowledgement of the shipped entry leaves the new one.
        c.execute(
            "UPDATE files SET unreadable_reason = 'corrupt' WHERE id = ?1",
            params![id],
        )
        .unwrap();
        acknowledge(c, &[first[0].seq]).unwrap();
        let left = pending(c, 10).unwrap();
        assert_eq!(left.len(), 1);
        assert!(
            left[0].seq > first[0].seq,
            "a new, larger seq (AUTOINCREMENT)"
        );
        let rows = read_rows(c, shipped("files").unwrap(), &[id]).unwrap();
        assert_eq!(rows.len(), 1);
        let reason = shipped("files")
            .unwrap()
            .columns
            .iter()
            .position(|(n, _)| *n == "unreadable_reason")
            .unwrap();
        assert_eq!(rows[0].values[reason], Value::Text("corrupt".into()));
    }

    #[test]
    fn what_every_walk_moves_is_not_a_change() {
        let (_d, s) = store();
        let c = s.connection();
        let id = add_file(c, "/a");
        c.execute(
            "INSERT INTO findings(file_id, member, kind, confidence, location, masked, fingerprint, detector_id,
                 detector_version, first_seen_at, last_seen_at) VALUES (?1, '', 'my_number', 'high', 'line 1', '****', x'01', 'd', 1, 't', 't')",
            params![id],
        )
        .unwrap();
        c.execute(
            "INSERT INTO file_records(file_id, as_of, flags, evaluated_at) VALUES (?1, '2026-01-01', 'x', 't')",
            params![id],
        )
        .unwrap();
        set_enabled(c, true).unwrap();
        c.execute(
            "UPDATE files SET last_scanned_at = 'u', last_run_id = NULL WHERE id = ?1",
            params![id],
        )
        .unwrap();
        c.execute("UPDATE findings SET last_seen_at = 'u', scan_seq = 2", [])
            .unwrap();
        c.execute(
            "INSERT INTO file_records(file_id, as_of, flags, evaluated_at) VALUES (?1, '2026-01-02', 'x', 'u')
             ON CONFLICT(file_id) DO UPDATE SET as_of = excluded.as_of, evaluated_at = excluded.evaluated_at",
            params![id],
        )
        .unwrap();
        assert!(entries(c).is_empty(), "{:?}", entries(c));
        c.execute("UPDATE findings SET review_state = 'confirmed'", [])
            .unwrap();
        c.execute("UPDATE file_records SET flags = 'y'", [])
            .unwrap();
        c.execute("DELETE FROM file_records", []).unwrap();
        let e = entries(c);
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            read_rows(c, shipped("file_records").unwrap(), &[id])
                .unwrap()
                .is_empty(),
            "deleted: shipped as a deletion"
        );
    }
}
