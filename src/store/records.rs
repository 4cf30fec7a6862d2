//! The store's side of records: the verdict per file (`file_records`) and
//! the day and rules it was computed for.

use super::CachedExecute;
use rusqlite::{params, OptionalExtension};

use super::{Store, StoreError};

/// One file's stored verdict (dates as `YYYY-MM-DD`, flags comma-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileRecordRow {
    pub file_id: i64,
    pub document_date: Option<String>,
    pub date_source: Option<String>,
    pub date_evidence: Option<String>,
    pub retention_rule: Option<i64>,
    pub retention_class: Option<String>,
    pub retention: Option<String>,
    pub retention_start: Option<String>,
    pub retention_end: Option<String>,
    pub action: Option<String>,
    pub hold_reason: Option<String>,
    pub hold_until: Option<String>,
    pub flags: String,
}

impl Store {
    /// Stores verdicts. `all`: they cover every live file (rows of files
    /// no longer live are removed, and the day and rules digest are
    /// recorded).
    pub fn write_file_records(
        &mut self,
        rows: &[FileRecordRow],
        all: bool,
        as_of: &str,
        digest: &str,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let t = crate::time::now();
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO file_records(file_id, as_of, document_date, date_source, date_evidence, retention_rule,
                     retention_class, retention, retention_start, retention_end, action, hold_reason, hold_until, flags, evaluated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT(file_id) DO UPDATE SET as_of = excluded.as_of, document_date = excluded.document_date,
                     date_source = excluded.date_source, date_evidence = excluded.date_evidence,
                     retention_rule = excluded.retention_rule, retention_class = excluded.retention_class,
                     retention = excluded.retention, retention_start = excluded.retention_start,
                     retention_end = excluded.retention_end, action = excluded.action,
                     hold_reason = excluded.hold_reason, hold_until = excluded.hold_until,
                     flags = excluded.flags, evaluated_at = excluded.evaluated_at",
            )?;
            for r in rows {
                st.execute(params![
                    r.file_id,
                    as_of,
                    r.document_date,
                    r.date_source,
                    r.date_evidence,
                    r.retention_rule,
                    r.retention_class,
                    r.retention,
                    r.retention_start,
                    r.retention_end,
                    r.action,
                    r.hold_reason,
                    r.hold_until,
                    r.flags,
                    t
                ])?;
            }
        }
        if all {
            // Rows are updated in place, not deleted and written again, so
            // that an unchanged verdict is not a change (the outbox to a
            // central database sees only real ones); `rows` covers every
            // live file, so what is left is of files no longer live.
            tx.execute_cached(
                "DELETE FROM file_records WHERE file_id NOT IN (SELECT id FROM files WHERE deleted_at IS NULL)",
                [],
            )?;
            for (k, v) in [("records_as_of", as_of), ("records_rules", digest)] {
                tx.execute_cached(
                    "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    params![k, v],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks the stored verdicts out of date (after a scan without rules).
    pub fn invalidate_records(&self) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM meta WHERE key = 'records_as_of'", [])?;
        Ok(())
    }

    /// The day and rules digest the stored verdicts were computed for.
    pub fn records_state(&self) -> Result<(Option<String>, Option<String>), StoreError> {
        let get = |k: &str| -> Result<Option<String>, StoreError> {
            Ok(self
                .conn
                .query_row("SELECT value FROM meta WHERE key = ?1", params![k], |r| {
                    r.get(0)
                })
                .optional()?)
        };
        Ok((get("records_as_of")?, get("records_rules")?))
    }
}
