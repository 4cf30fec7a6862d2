//! The store's side of review: decisions as append-only rows, the state
//! they give findings (kept in `findings.review_state`), and the queries
//! the review command, reports and the review screen share. Handlers never
//! write SQL: they call these.

use std::path::Path;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Transaction};

use super::{event, Store, StoreError};
use crate::keys::KeySet;
use crate::review::{Decision, FindingFilter, FindingRow, ReviewState, TrailEntry};

/// The latest decision on a value (kind + fingerprint) in file `file_id`,
/// or in a file with the same content: (decision id, state).
pub(super) fn decision_for(
    conn: &Connection,
    file_id: i64,
    kind: &str,
    fingerprint: &[u8; 32],
) -> Result<Option<(i64, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT d.id, d.decision FROM decisions d
             WHERE d.kind = ?1 AND d.fingerprint = ?2
               AND (d.file_id = ?3 OR (d.content_hash IS NOT NULL
                    AND d.content_hash = (SELECT content_hash FROM files WHERE id = ?3)))
             ORDER BY d.id DESC LIMIT 1",
            params![kind, fingerprint.as_slice(), file_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// A finding as a decision records it: file, content hash, shown path,
/// member, kind, fingerprint, masked value.
type DecidedFinding = (
    i64,
    Option<Vec<u8>>,
    String,
    String,
    String,
    Vec<u8>,
    String,
);

/// A finding's key for re-deriving its state: id, file, kind, fingerprint,
/// resolved at, last seen at.
type FindingKey = (i64, i64, String, Vec<u8>, Option<String>, String);

/// Why a decision cannot be recorded.
#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("a {0} decision needs a note saying why (the legal basis)")]
    NoteNeeded(&'static str),
    #[error("the reviewer's name is empty")]
    NoReviewer,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for DecisionError {
    fn from(e: rusqlite::Error) -> Self {
        DecisionError::Store(StoreError::Sql(e))
    }
}

impl Store {
    /// Records one decision on each of `finding_ids` (one batch), and gives
    /// its state to every finding of the same value in the same file.
    /// Returns how many findings took the state.
    pub fn decide(
        &mut self,
        finding_ids: &[i64],
        decision: Decision,
        note: &str,
        reviewer: &str,
    ) -> Result<usize, DecisionError> {
        if reviewer.trim().is_empty() {
            return Err(DecisionError::NoReviewer);
        }
        if decision.needs_note() && note.trim().is_empty() {
            return Err(DecisionError::NoteNeeded(decision.as_str()));
        }
        let tx = self.conn.transaction()?;
        let t = crate::time::now();
        let batch: i64 = tx.query_row(
            "SELECT coalesce(max(batch), 0) + 1 FROM decisions",
            [],
            |r| r.get(0),
        )?;
        let mut changed = 0;
        for &id in finding_ids {
            let row: Option<DecidedFinding> = tx
                .query_row(
                    "SELECT f.file_id, x.content_hash, x.path, f.member, f.kind, f.fingerprint, f.masked
                     FROM findings f JOIN files x ON x.id = f.file_id WHERE f.id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
                )
                .optional()?;
            let Some((file_id, hash, path, member, kind, fp, masked)) = row else {
                continue;
            };
            tx.execute(
                "INSERT INTO decisions(at, batch, reviewer, decision, note, file_id, content_hash, path, member, kind, fingerprint, masked, finding_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![t, batch, reviewer, decision.as_str(), note, file_id, hash, path, member, kind, fp, masked, id],
            )?;
            let decision_id = tx.last_insert_rowid();
            changed += tx.execute(
                "UPDATE findings SET review_state = ?1, review_decision_id = ?2
                 WHERE file_id = ?3 AND kind = ?4 AND fingerprint = ?5",
                params![decision.as_str(), decision_id, file_id, kind, fp],
            )?;
        }
        event(
            &tx,
            None,
            "review_decision",
            None,
            &format!(
                "batch {batch}: {} by {} on {} finding(s)",
                decision.as_str(),
                crate::paths::escape_control(reviewer),
                finding_ids.len()
            ),
        )?;
        tx.commit()?;
        Ok(changed)
    }

    /// Gives every finding the state of its latest decision again, from
    /// the decision rows alone (a check that the kept states agree with the
    /// trail; also after an upgrade).
    pub fn rederive_review_states(&mut self) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let ids: Vec<FindingKey> = {
            let mut st = tx.prepare(
                "SELECT id, file_id, kind, fingerprint, resolved_at, last_seen_at FROM findings",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut n = 0;
        for (id, file_id, kind, fp, resolved, last_seen) in ids {
            let fp: [u8; 32] = fp.as_slice().try_into().unwrap_or([0; 32]);
            let latest = decision_at(&tx, file_id, &kind, &fp)?;
            let (state, decision_id) = match latest {
                None => ("open".to_string(), None),
                Some((d, state, at)) => {
                    let back = state == "remediated" && resolved.is_none() && last_seen > at;
                    (if back { "regressed".into() } else { state }, Some(d))
                }
            };
            n += tx.execute(
                "UPDATE findings SET review_state = ?1, review_decision_id = ?2 WHERE id = ?3 AND (review_state != ?1 OR review_decision_id IS NOT ?2)",
                params![state, decision_id, id],
            )?;
        }
        tx.commit()?;
        Ok(n)
    }
}

fn decision_at(
    tx: &Transaction<'_>,
    file_id: i64,
    kind: &str,
    fp: &[u8; 32],
) -> Result<Option<(i64, String, String)>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT d.id, d.decision, d.at FROM decisions d
             WHERE d.kind = ?1 AND d.fingerprint = ?2
               AND (d.file_id = ?3 OR (d.content_hash IS NOT NULL
                    AND d.content_hash = (SELECT content_hash FROM files WHERE id = ?3)))
             ORDER BY d.id DESC LIMIT 1",
            params![kind, fp.as_slice(), file_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?)
}

/// The WHERE clause and parameters of a finding filter (over [`FROM`]).
pub(super) fn filter_sql(f: &FindingFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut w = vec!["1 = 1".to_string()];
    let mut p: Vec<Value> = Vec::new();
    match f.status {
        // One finding is named whatever its state (a decision may be revised).
        _ if f.finding_id.is_some() => {}
        None => match &f.open_at {
            None => w.push("f.resolved_at IS NULL AND f.review_state != 'false_positive'".into()),
            Some(at) => {
                p.push(Value::Text(at.clone()));
                let n = p.len();
                w.push(format!(
                    "f.first_seen_at < ?{n} AND (f.resolved_at IS NULL OR f.resolved_at >= ?{n}) \
                     AND f.review_state != 'false_positive'"
                ));
            }
        },
        Some(ReviewState::Open) => {
            w.push("f.resolved_at IS NULL AND f.review_state = 'open'".into())
        }
        Some(s) => {
            p.push(Value::Text(s.as_str().into()));
            w.push(format!("f.review_state = ?{}", p.len()));
        }
    }
    if let Some(k) = f.kind {
        p.push(Value::Text(k.as_str().into()));
        w.push(format!("f.kind = ?{}", p.len()));
    }
    if let Some(c) = f.min_confidence {
        let allowed: &[&str] = match c {
            crate::finding::Confidence::Low => &["low", "medium", "high"],
            crate::finding::Confidence::Medium => &["medium", "high"],
            crate::finding::Confidence::High => &["high"],
        };
        w.push(format!(
            "f.confidence IN ({})",
            allowed
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(id) = f.file_id {
        p.push(Value::Integer(id));
        w.push(format!("f.file_id = ?{}", p.len()));
    }
    if let Some(id) = f.finding_id {
        p.push(Value::Integer(id));
        w.push(format!("f.id = ?{}", p.len()));
    }
    if let Some(since) = &f.since {
        p.push(Value::Text(since.clone()));
        w.push(format!("f.first_seen_at >= ?{}", p.len()));
    }
    if let Some(flag) = &f.flag {
        p.push(Value::Text(format!("%,{flag},%")));
        w.push(format!("(',' || r.flags || ',') LIKE ?{}", p.len()));
    }
    let under = |p: &mut Vec<Value>, root: &str| -> String {
        p.push(Value::Text(root.to_string()));
        let a = p.len();
        p.push(Value::Text(super::under_prefix(root)));
        let b = p.len();
        format!("(x.root = ?{a} OR x.path LIKE ?{b} ESCAPE '\\')")
    };
    if let Some(root) = &f.root {
        let c = under(&mut p, root);
        w.push(c);
    }
    if !f.allowed_roots.is_empty() {
        let parts: Vec<String> = f.allowed_roots.iter().map(|r| under(&mut p, r)).collect();
        w.push(format!("({})", parts.join(" OR ")));
    }
    (w.join(" AND "), p)
}

pub(super) const FROM: &str = "FROM findings f JOIN files x ON x.id = f.file_id LEFT JOIN file_records r ON r.file_id = f.file_id";

/// Findings matching `filter`, by id, after `after_id` (keyset paging: a
/// page of a million findings costs as much as the first), at most `limit`.
pub fn list_findings(
    conn: &Connection,
    filter: &FindingFilter,
    after_id: i64,
    limit: usize,
) -> Result<Vec<FindingRow>, StoreError> {
    let (w, mut p) = filter_sql(filter);
    p.push(rusqlite::types::Value::Integer(after_id));
    let a = p.len();
    p.push(rusqlite::types::Value::Integer(limit as i64));
    let l = p.len();
    let sql =
        format!("SELECT {ROW_COLUMNS} {FROM} WHERE {w} AND f.id > ?{a} ORDER BY f.id LIMIT ?{l}");
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params_from_iter(p), finding_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The columns a [`FindingRow`] is read from, in order (over [`FROM`]).
pub(super) const ROW_COLUMNS: &str =
    "f.id, f.file_id, x.path, f.member, f.kind, f.confidence, f.location, f.masked, f.review_state,
                f.first_seen_at, f.last_seen_at, f.resolved_at, coalesce(r.flags, ''), x.root";

/// A [`FindingRow`] from a row selected with [`ROW_COLUMNS`].
pub(super) fn finding_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FindingRow> {
    let member: String = r.get(3)?;
    let flags: String = r.get(12)?;
    Ok(FindingRow {
        id: r.get(0)?,
        file_id: r.get(1)?,
        path: r.get(2)?,
        root: r.get(13)?,
        member: (!member.is_empty()).then_some(member),
        kind: r.get(4)?,
        confidence: r.get(5)?,
        location: r.get(6)?,
        masked: r.get(7)?,
        state: r.get(8)?,
        first_seen: r.get(9)?,
        last_seen: r.get(10)?,
        resolved: r.get(11)?,
        flags: flags
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// How many findings match `filter`.
pub fn count_findings(conn: &Connection, filter: &FindingFilter) -> Result<i64, StoreError> {
    let (w, p) = filter_sql(filter);
    Ok(conn.query_row(
        &format!("SELECT count(*) {FROM} WHERE {w}"),
        params_from_iter(p),
        |r| r.get(0),
    )?)
}

/// The ids of every finding matching `filter` (for a decision on a set).
pub fn finding_ids(conn: &Connection, filter: &FindingFilter) -> Result<Vec<i64>, StoreError> {
    let (w, p) = filter_sql(filter);
    let mut st = conn.prepare(&format!("SELECT f.id {FROM} WHERE {w} ORDER BY f.id"))?;
    let rows = st.query_map(params_from_iter(p), |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The stored file a user names: by its real path (keyed hash), or by the
/// path as mamori shows it (masked names, escaped bytes).
pub fn file_id(conn: &Connection, keys: &KeySet, path: &str) -> Result<Option<i64>, StoreError> {
    let real: Option<i64> = conn
        .query_row(
            "SELECT id FROM files WHERE path_key = ?1",
            params![keys.path_key(Path::new(path)).as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    if real.is_some() {
        return Ok(real);
    }
    Ok(conn
        .query_row(
            "SELECT id FROM files WHERE path = ?1 ORDER BY deleted_at IS NOT NULL, id DESC LIMIT 1",
            params![path],
            |r| r.get(0),
        )
        .optional()?)
}

/// The trail of a file: every decision on its findings and every event
/// about it, oldest first.
pub fn trail(conn: &Connection, file_id: i64) -> Result<Vec<TrailEntry>, StoreError> {
    let mut out = Vec::new();
    let mut st = conn.prepare(
        "SELECT at, decision, reviewer, note, kind, masked, member FROM decisions WHERE file_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map(params![file_id], |r| {
        let (at, decision, reviewer, note, kind, masked, member): (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
        ) = (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        );
        let member = if member.is_empty() {
            String::new()
        } else {
            format!(" [{member}]")
        };
        let note = if note.is_empty() {
            String::new()
        } else {
            format!(": {note}")
        };
        Ok(TrailEntry {
            at,
            what: "decision".into(),
            reviewer: Some(reviewer),
            detail: format!("{decision} {kind} {masked}{member}{note}"),
        })
    })?;
    for r in rows {
        out.push(r?);
    }
    let mut st = conn.prepare(
        "SELECT at, kind, coalesce(detail, ''), actor FROM events WHERE file_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map(params![file_id], |r| {
        Ok(TrailEntry {
            at: r.get(0)?,
            what: r.get(1)?,
            // Who, for what people did (the review screen's views).
            reviewer: r.get(3)?,
            detail: r.get(2)?,
        })
    })?;
    for r in rows {
        out.push(r?);
    }
    out.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(out)
}

/// Findings of the latest decision batches (review activity for reports):
/// (at, reviewer, decision, count), newest first.
pub fn recent_batches(
    conn: &Connection,
    since: &str,
) -> Result<Vec<(String, String, String, i64)>, StoreError> {
    let mut st = conn.prepare(
        "SELECT min(at), reviewer, decision, count(*) FROM decisions WHERE at >= ?1
         GROUP BY batch ORDER BY batch DESC",
    )?;
    let rows = st.query_map(params![since], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
