//! The store's side of the review screen (`mamori serve`): accounts,
//! sessions, login attempts, the audit events of people (logins, views,
//! decisions, exports), and the read queries its pages need beyond
//! `store::review` (dashboard counts, a file's findings, the retention
//! queue, outbound mail, unreadable files, the trend). Handlers never write
//! SQL: they call these.
//!
//! Root restriction: every query that lists or counts files or findings
//! takes `roots`, the display paths of the roots the user may see; empty
//! means every root. (A user restricted to roots that no longer exist is
//! given a root no file has by the caller, never an empty list.)

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::review::{filter_sql, finding_row, FROM, ROW_COLUMNS};
use super::{under_prefix, StoreError};
use crate::review::{FindingFilter, FindingRow};

/// An account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    /// `viewer`, `reviewer` or `admin`.
    pub role: String,
    pub disabled: bool,
    /// Root labels the user is restricted to; empty: every root.
    pub roots: Vec<String>,
    pub created_at: String,
    pub password_changed_at: String,
}

/// A live session and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user: UserRow,
    pub csrf: String,
    /// Unix seconds.
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// Why an account change cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("a user named {0:?} already exists")]
    Exists(String),
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for AccountError {
    fn from(e: rusqlite::Error) -> Self {
        AccountError::Store(StoreError::Sql(e))
    }
}

const USER_COLUMNS: &str = "id, name, role, disabled, created_at, password_changed_at";

fn user_of(conn: &Connection, r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    let id: i64 = r.get(0)?;
    Ok(UserRow {
        id,
        name: r.get(1)?,
        role: r.get(2)?,
        disabled: r.get(3)?,
        roots: user_roots(conn, id)?,
        created_at: r.get(4)?,
        password_changed_at: r.get(5)?,
    })
}

fn user_roots(conn: &Connection, user_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare_cached(
        "SELECT root_label FROM user_roots WHERE user_id = ?1 ORDER BY root_label",
    )?;
    let rows = st.query_map(params![user_id], |r| r.get(0))?;
    rows.collect()
}

/// Creates an account. `password_hash` is a PHC string (argon2id).
pub fn create_user(
    conn: &Connection,
    name: &str,
    role: &str,
    password_hash: &str,
    roots: &[String],
) -> Result<i64, AccountError> {
    let tx = conn.unchecked_transaction()?;
    let exists: bool = tx.query_row(
        "SELECT count(*) > 0 FROM users WHERE name = ?1",
        params![name],
        |r| r.get(0),
    )?;
    if exists {
        return Err(AccountError::Exists(name.to_string()));
    }
    let t = crate::time::now();
    tx.execute(
        "INSERT INTO users(name, role, password_hash, created_at, password_changed_at) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![name, role, password_hash, t],
    )?;
    let id = tx.last_insert_rowid();
    for root in roots {
        tx.execute(
            "INSERT OR IGNORE INTO user_roots(user_id, root_label) VALUES (?1, ?2)",
            params![id, root],
        )?;
    }
    tx.commit()?;
    Ok(id)
}

/// Every account, by name.
pub fn users(conn: &Connection) -> Result<Vec<UserRow>, StoreError> {
    let mut st = conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))?;
    let rows = st.query_map([], |r| user_of(conn, r))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One account by name, with its password hash.
pub fn user_by_name(
    conn: &Connection,
    name: &str,
) -> Result<Option<(UserRow, String)>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE name = ?1"),
            params![name],
            |r| Ok((user_of(conn, r)?, r.get(6)?)),
        )
        .optional()?)
}

/// One account by id.
pub fn user_by_id(conn: &Connection, id: i64) -> Result<Option<UserRow>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
            params![id],
            |r| user_of(conn, r),
        )
        .optional()?)
}

fn user_id(conn: &Connection, name: &str) -> Result<i64, AccountError> {
    conn.query_row("SELECT id FROM users WHERE name = ?1", params![name], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| AccountError::NoSuchUser(name.to_string()))
}

/// Sets a new password; the user's sessions end.
pub fn set_password(
    conn: &Connection,
    name: &str,
    password_hash: &str,
) -> Result<(), AccountError> {
    let id = user_id(conn, name)?;
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE users SET password_hash = ?1, password_changed_at = ?2 WHERE id = ?3",
        params![password_hash, crate::time::now(), id],
    )?;
    tx.execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
    tx.commit()?;
    Ok(())
}

/// Disables (its sessions end) or enables an account.
pub fn set_disabled(conn: &Connection, name: &str, disabled: bool) -> Result<(), AccountError> {
    let id = user_id(conn, name)?;
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE users SET disabled = ?1 WHERE id = ?2",
        params![disabled, id],
    )?;
    if disabled {
        tx.execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
    }
    tx.commit()?;
    Ok(())
}

/// Changes an account's role and root restriction; its sessions end (they
/// carried the old rights).
pub fn set_role_and_roots(
    conn: &Connection,
    name: &str,
    role: &str,
    roots: &[String],
) -> Result<(), AccountError> {
    let id = user_id(conn, name)?;
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "UPDATE users SET role = ?1 WHERE id = ?2",
        params![role, id],
    )?;
    tx.execute("DELETE FROM user_roots WHERE user_id = ?1", params![id])?;
    for root in roots {
        tx.execute(
            "INSERT OR IGNORE INTO user_roots(user_id, root_label) VALUES (?1, ?2)",
            params![id, root],
        )?;
    }
    tx.execute("DELETE FROM sessions WHERE user_id = ?1", params![id])?;
    tx.commit()?;
    Ok(())
}

/// How many enabled admins there are (the last one is not disabled or demoted).
pub fn enabled_admins(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0",
        [],
        |r| r.get(0),
    )?)
}

/// Starts a session (stored by the hash of its token).
pub fn create_session(
    conn: &Connection,
    token_hash: &[u8; 32],
    user_id: i64,
    csrf: &str,
    now: i64,
    address: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions(token_hash, user_id, csrf, created_at, last_seen_at, address) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![token_hash.as_slice(), user_id, csrf, now, address],
    )?;
    Ok(())
}

/// The session of a token hash and its (enabled) user.
pub fn session(conn: &Connection, token_hash: &[u8; 32]) -> Result<Option<SessionRow>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT u.id, u.name, u.role, u.disabled, u.created_at, u.password_changed_at, s.csrf, s.created_at, s.last_seen_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND u.disabled = 0",
            params![token_hash.as_slice()],
            |r| {
                Ok(SessionRow {
                    user: user_of(conn, r)?,
                    csrf: r.get(6)?,
                    created_at: r.get(7)?,
                    last_seen_at: r.get(8)?,
                })
            },
        )
        .optional()?)
}

/// Records activity on a session (for the idle timeout).
pub fn touch_session(conn: &Connection, token_hash: &[u8; 32], now: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2",
        params![now, token_hash.as_slice()],
    )?;
    Ok(())
}

/// Ends a session.
pub fn delete_session(conn: &Connection, token_hash: &[u8; 32]) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        params![token_hash.as_slice()],
    )?;
    Ok(())
}

/// Removes sessions idle since before `idle_before` or started before
/// `started_before` (Unix seconds). Returns how many.
pub fn delete_expired_sessions(
    conn: &Connection,
    idle_before: i64,
    started_before: i64,
) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2",
        params![idle_before, started_before],
    )?)
}

/// Records a login attempt (`user_id` when the name was an account's).
pub fn record_login_attempt(
    conn: &Connection,
    user_id: Option<i64>,
    address: &str,
    ok: bool,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO login_attempts(at, user_id, address, ok) VALUES (?1, ?2, ?3, ?4)",
        params![now, user_id, address, ok],
    )?;
    Ok(())
}

/// An account's failed logins since `since` and since its last success:
/// (how many, the time of the latest).
pub fn recent_failures(
    conn: &Connection,
    user_id: i64,
    since: i64,
) -> Result<(i64, Option<i64>), StoreError> {
    Ok(conn.query_row(
        "SELECT count(*), max(at) FROM login_attempts WHERE user_id = ?1 AND ok = 0
           AND at >= max(?2, coalesce((SELECT max(at) FROM login_attempts WHERE user_id = ?1 AND ok = 1), 0))",
        params![user_id, since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// Failed logins from an address since `since`.
pub fn address_failures(conn: &Connection, address: &str, since: i64) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT count(*) FROM login_attempts WHERE address = ?1 AND ok = 0 AND at >= ?2",
        params![address, since],
        |r| r.get(0),
    )?)
}

/// Records what a person did (`web_login`, `web_view_file` …) in the
/// append-only event log, with who did it.
pub fn audit(
    conn: &Connection,
    kind: &str,
    actor: Option<&str>,
    file_id: Option<i64>,
    detail: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO events(at, kind, file_id, detail, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![crate::time::now(), kind, file_id, detail, actor],
    )?;
    Ok(())
}

/// An audit event as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub at: String,
    pub kind: String,
    pub actor: Option<String>,
    pub file_id: Option<i64>,
    pub detail: String,
}

/// The latest events of people (`web_*` kinds), newest first.
pub fn audit_events(conn: &Connection, limit: usize) -> Result<Vec<AuditRow>, StoreError> {
    let mut st = conn.prepare(
        "SELECT at, kind, actor, file_id, coalesce(detail, '') FROM events
         WHERE kind LIKE 'web\\_%' ESCAPE '\\' ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = st.query_map(params![limit as i64], |r| {
        Ok(AuditRow {
            at: r.get(0)?,
            kind: r.get(1)?,
            actor: r.get(2)?,
            file_id: r.get(3)?,
            detail: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `(x.root = ? OR x.path LIKE ?)` for each allowed root, OR-ed; `None`
/// when every root is allowed.
fn roots_clause(roots: &[String], p: &mut Vec<Value>) -> Option<String> {
    if roots.is_empty() {
        return None;
    }
    let parts: Vec<String> = roots
        .iter()
        .map(|root| {
            p.push(Value::Text(root.clone()));
            let a = p.len();
            p.push(Value::Text(under_prefix(root)));
            let b = p.len();
            format!("(x.root = ?{a} OR x.path LIKE ?{b} ESCAPE '\\')")
        })
        .collect();
    Some(format!("({})", parts.join(" OR ")))
}

fn and_roots(roots: &[String], p: &mut Vec<Value>) -> String {
    roots_clause(roots, p)
        .map(|c| format!(" AND {c}"))
        .unwrap_or_default()
}

fn pairs(conn: &Connection, sql: &str, p: Vec<Value>) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut st = conn.prepare(sql)?;
    let rows = st.query_map(params_from_iter(p), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Open findings (unresolved, not false positives) by kind.
pub fn open_by_kind(
    conn: &Connection,
    roots: &[String],
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut p = Vec::new();
    let w = and_roots(roots, &mut p);
    let sql = if w.is_empty() {
        // Without a restriction the files table is not needed.
        "SELECT f.kind, count(*) FROM findings f WHERE f.resolved_at IS NULL AND f.review_state != 'false_positive' GROUP BY f.kind".to_string()
    } else {
        format!(
            "SELECT f.kind, count(*) FROM findings f JOIN files x ON x.id = f.file_id
             WHERE f.resolved_at IS NULL AND f.review_state != 'false_positive'{w} GROUP BY f.kind"
        )
    };
    pairs(conn, &sql, p)
}

/// Open findings by review state (open, confirmed, regressed …).
pub fn open_by_state(
    conn: &Connection,
    roots: &[String],
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut p = Vec::new();
    let w = and_roots(roots, &mut p);
    pairs(
        conn,
        &format!(
            "SELECT f.review_state, count(*) FROM findings f JOIN files x ON x.id = f.file_id
             WHERE f.resolved_at IS NULL AND f.review_state != 'false_positive'{w} GROUP BY f.review_state"
        ),
        p,
    )
}

/// Open findings by the root their file was recorded under (its display path).
pub fn open_by_root(
    conn: &Connection,
    roots: &[String],
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut p = Vec::new();
    let w = and_roots(roots, &mut p);
    pairs(
        conn,
        &format!(
            "SELECT coalesce(x.root, ''), count(*) FROM findings f JOIN files x ON x.id = f.file_id
             WHERE f.resolved_at IS NULL AND f.review_state != 'false_positive'{w} GROUP BY x.root"
        ),
        p,
    )
}

/// Files per records flag (from the stored verdicts), and open findings in
/// files carrying each flag.
///
/// One pass: files and their open findings grouped by the verdict's list
/// of flags (a few dozen combinations), split here. A query per flag read
/// every open finding once per flag (some 10 s for a million findings).
pub fn by_flag(
    conn: &Connection,
    roots: &[String],
    flags: &[&str],
) -> Result<BTreeMap<String, (i64, i64)>, StoreError> {
    let mut out: BTreeMap<String, (i64, i64)> =
        flags.iter().map(|f| (f.to_string(), (0, 0))).collect();
    let mut p = Vec::new();
    let w = and_roots(roots, &mut p);
    let mut st = conn.prepare(&format!(
        "SELECT r.flags, count(*), coalesce(sum(o.n), 0)
         FROM file_records r JOIN files x ON x.id = r.file_id
         LEFT JOIN (SELECT f.file_id, count(*) AS n FROM findings f
                    WHERE f.resolved_at IS NULL AND f.review_state != 'false_positive'
                    GROUP BY f.file_id) o ON o.file_id = r.file_id
         WHERE r.flags != '' AND x.deleted_at IS NULL{w}
         GROUP BY r.flags"
    ))?;
    let rows = st.query_map(params_from_iter(p), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (list, files, findings) = row?;
        add_flag_counts(&mut out, &list, files, findings);
    }
    Ok(out)
}

/// Adds one group of verdicts (`list`: their comma-separated flags; how
/// many files, and their open findings) to each of its flags that `out`
/// counts (`by_flag`, here and at the centre).
pub(crate) fn add_flag_counts(
    out: &mut BTreeMap<String, (i64, i64)>,
    list: &str,
    files: i64,
    findings: i64,
) {
    for name in list.split(',') {
        if let Some(e) = out.get_mut(name.trim()) {
            e.0 += files;
            e.1 += findings;
        }
    }
}

/// Files (not deleted) whose verdict carries any of `flags`: each counted
/// once, however many of them it carries.
pub fn files_with_any_flag(
    conn: &Connection,
    roots: &[String],
    flags: &[&str],
) -> Result<i64, StoreError> {
    if flags.is_empty() {
        return Ok(0);
    }
    let mut p: Vec<Value> = flags
        .iter()
        .map(|f| Value::Text(format!("%,{f},%")))
        .collect();
    let any = (1..=flags.len())
        .map(|i| format!("(',' || r.flags || ',') LIKE ?{i}"))
        .collect::<Vec<_>>()
        .join(" OR ");
    let w = and_roots(roots, &mut p);
    Ok(conn.query_row(
        &format!(
            "SELECT count(*) FROM file_records r JOIN files x ON x.id = r.file_id
             WHERE ({any}) AND x.deleted_at IS NULL{w}"
        ),
        params_from_iter(p),
        |r| r.get(0),
    )?)
}

/// How many findings match `filter`, counting at most `cap` (a list of a
/// million findings says "more than 10,000" rather than counting them all
/// on every page).
pub fn count_findings_capped(
    conn: &Connection,
    filter: &FindingFilter,
    cap: i64,
) -> Result<i64, StoreError> {
    let (w, mut p) = filter_sql(filter);
    p.push(Value::Integer(cap));
    let l = p.len();
    Ok(conn.query_row(
        &format!("SELECT count(*) FROM (SELECT 1 {FROM} WHERE {w} LIMIT ?{l})"),
        params_from_iter(p),
        |r| r.get(0),
    )?)
}

/// For the page before the one starting after `before`: the id to list
/// after (0 for the first page), or `None` when nothing comes before.
pub fn page_before(
    conn: &Connection,
    filter: &FindingFilter,
    before: i64,
    limit: usize,
) -> Result<Option<i64>, StoreError> {
    let (w, mut p) = filter_sql(filter);
    p.push(Value::Integer(before));
    let b = p.len();
    p.push(Value::Integer(limit as i64));
    let l = p.len();
    let ids: Vec<i64> = {
        let mut st = conn.prepare(&format!(
            "SELECT f.id {FROM} WHERE {w} AND f.id < ?{b} ORDER BY f.id DESC LIMIT ?{l}"
        ))?;
        let rows = st.query_map(params_from_iter(p), |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    Ok(match ids.last() {
        None => None,
        Some(_) if ids.len() < limit => Some(0),
        Some(first) => Some(first - 1),
    })
}

/// Every finding of one file (resolved and false positives too, for the
/// file page): unresolved first, at most `limit`.
pub fn file_findings(
    conn: &Connection,
    file_id: i64,
    limit: usize,
) -> Result<Vec<FindingRow>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {ROW_COLUMNS} {FROM} WHERE f.file_id = ?1
         ORDER BY f.resolved_at IS NOT NULL, f.id LIMIT ?2"
    ))?;
    let rows = st.query_map(params![file_id, limit as i64], finding_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A stored file as the file page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileInfo {
    pub id: i64,
    pub path: String,
    /// The root's display path it was recorded under.
    pub root: Option<String>,
    pub size: i64,
    pub format: Option<String>,
    pub first_seen: String,
    pub last_scanned: Option<String>,
    pub deleted: Option<String>,
    pub unreadable_reason: Option<String>,
    pub record: Option<super::FileRecordRow>,
}

/// One stored file, if the user may see it (its root is allowed).
pub fn file_info(
    conn: &Connection,
    file_id: i64,
    roots: &[String],
) -> Result<Option<FileInfo>, StoreError> {
    let mut p = vec![Value::Integer(file_id)];
    let w = and_roots(roots, &mut p);
    let info = conn
        .query_row(
            &format!(
                "SELECT x.id, x.path, x.root, x.size, x.format, x.first_seen_at, x.last_scanned_at, x.deleted_at,
                        x.unreadable_reason
                 FROM files x WHERE x.id = ?1{w}"
            ),
            params_from_iter(p),
            |r| {
                Ok(FileInfo {
                    id: r.get(0)?,
                    path: r.get(1)?,
                    root: r.get(2)?,
                    size: r.get(3)?,
                    format: r.get(4)?,
                    first_seen: r.get(5)?,
                    last_scanned: r.get(6)?,
                    deleted: r.get(7)?,
                    unreadable_reason: r.get(8)?,
                    record: None,
                })
            },
        )
        .optional()?;
    let Some(mut info) = info else {
        return Ok(None);
    };
    info.record = conn
        .query_row(
            "SELECT document_date, date_source, date_evidence, retention_rule, retention_class, retention,
                    retention_start, retention_end, action, hold_reason, hold_until, flags
             FROM file_records WHERE file_id = ?1",
            params![file_id],
            |r| {
                Ok(super::FileRecordRow {
                    file_id,
                    document_date: r.get(0)?,
                    date_source: r.get(1)?,
                    date_evidence: r.get(2)?,
                    retention_rule: r.get(3)?,
                    retention_class: r.get(4)?,
                    retention: r.get(5)?,
                    retention_start: r.get(6)?,
                    retention_end: r.get(7)?,
                    action: r.get(8)?,
                    hold_reason: r.get(9)?,
                    hold_until: r.get(10)?,
                    flags: r.get(11)?,
                })
            },
        )
        .optional()?;
    Ok(Some(info))
}

/// A file of the retention queue (its stored verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRow {
    pub file_id: i64,
    pub path: String,
    pub root: Option<String>,
    pub record: super::FileRecordRow,
    /// Open findings in the file, and how many of them are My Number.
    pub open_findings: i64,
    pub my_numbers: i64,
}

/// Files whose retention ended: 廃棄候補 and 移管候補, and expired files
/// kept by a legal hold (from the stored verdicts), by retention end.
pub fn retention_queue(
    conn: &Connection,
    roots: &[String],
) -> Result<Vec<RetentionRow>, StoreError> {
    let mut p = Vec::new();
    let w = and_roots(roots, &mut p);
    let mut st = conn.prepare(&format!(
        "SELECT x.id, x.path, x.root, r.document_date, r.date_source, r.date_evidence, r.retention_rule,
                r.retention_class, r.retention, r.retention_start, r.retention_end, r.action, r.hold_reason,
                r.hold_until, r.flags,
                (SELECT count(*) FROM findings f WHERE f.file_id = x.id AND f.resolved_at IS NULL
                   AND f.review_state != 'false_positive'),
                (SELECT count(*) FROM findings f WHERE f.file_id = x.id AND f.resolved_at IS NULL
                   AND f.review_state != 'false_positive' AND f.kind = 'my_number')
         FROM file_records r JOIN files x ON x.id = r.file_id
         WHERE x.deleted_at IS NULL
           AND ((',' || r.flags || ',') LIKE '%,disposal_candidate,%'
             OR (',' || r.flags || ',') LIKE '%,transfer_candidate,%'
             OR ((',' || r.flags || ',') LIKE '%,retention_expired,%' AND r.hold_until IS NOT NULL)){w}
         ORDER BY r.retention_end, x.path"
    ))?;
    let rows = st.query_map(params_from_iter(p), |r| {
        let file_id: i64 = r.get(0)?;
        Ok(RetentionRow {
            file_id,
            path: r.get(1)?,
            root: r.get(2)?,
            record: super::FileRecordRow {
                file_id,
                document_date: r.get(3)?,
                date_source: r.get(4)?,
                date_evidence: r.get(5)?,
                retention_rule: r.get(6)?,
                retention_class: r.get(7)?,
                retention: r.get(8)?,
                retention_start: r.get(9)?,
                retention_end: r.get(10)?,
                action: r.get(11)?,
                hold_reason: r.get(12)?,
                hold_until: r.get(13)?,
                flags: r.get(14)?,
            },
            open_findings: r.get(15)?,
            my_numbers: r.get(16)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A message (or mail file) sent outside with personal data in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRow {
    pub file_id: i64,
    pub path: String,
    pub root: Option<String>,
    /// The message within the file (`message 3` …), if the file holds many.
    pub member: Option<String>,
    pub recipient_domains: String,
    pub findings: i64,
    /// Kinds found, comma-separated.
    pub kinds: String,
    pub first_seen: String,
    /// The smallest finding id (the list's keyset).
    pub key: i64,
}

/// Outbound leak candidates (open findings flagged by the outbound check),
/// one row per message, after the key `after`, at most `limit`.
pub fn outbound_messages(
    conn: &Connection,
    roots: &[String],
    after: i64,
    limit: usize,
) -> Result<Vec<OutboundRow>, StoreError> {
    let mut p = vec![
        Value::Text(crate::outcome::OUTBOUND_FLAG.into()),
        Value::Integer(after),
    ];
    let w = and_roots(roots, &mut p);
    p.push(Value::Integer(limit as i64));
    let l = p.len();
    let mut st = conn.prepare(&format!(
        "SELECT f.file_id, x.path, x.root, f.member, coalesce(f.recipient_domains, ''), count(*),
                group_concat(DISTINCT f.kind), min(f.first_seen_at), min(f.id)
         FROM findings f JOIN files x ON x.id = f.file_id
         WHERE f.flags = ?1 AND f.resolved_at IS NULL AND f.review_state != 'false_positive'{w}
         GROUP BY f.file_id, f.member HAVING min(f.id) > ?2
         ORDER BY min(f.id) LIMIT ?{l}"
    ))?;
    let rows = st.query_map(params_from_iter(p), |r| {
        let member: String = r.get(3)?;
        Ok(OutboundRow {
            file_id: r.get(0)?,
            path: r.get(1)?,
            root: r.get(2)?,
            member: (!member.is_empty()).then_some(member),
            recipient_domains: r.get(4)?,
            findings: r.get(5)?,
            kinds: r.get(6)?,
            first_seen: r.get(7)?,
            key: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Live files that could not be read, by reason.
pub fn unreadable_by_reason(
    conn: &Connection,
    roots: &[String],
) -> Result<BTreeMap<String, i64>, StoreError> {
    let mut p = Vec::new();
    let w = and_roots(roots, &mut p);
    pairs(
        conn,
        &format!(
            "SELECT x.unreadable_reason, count(*) FROM files x
             WHERE x.deleted_at IS NULL AND x.unreadable_reason IS NOT NULL{w} GROUP BY 1"
        ),
        p,
    )
}

/// A file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableRow {
    pub file_id: i64,
    pub path: String,
    pub root: Option<String>,
    pub reason: String,
    pub format: Option<String>,
    pub last_scanned: Option<String>,
}

/// Live unreadable files (of one reason, or all), by id after `after`.
pub fn unreadable_files(
    conn: &Connection,
    roots: &[String],
    reason: Option<&str>,
    after: i64,
    limit: usize,
) -> Result<Vec<UnreadableRow>, StoreError> {
    let mut p = vec![Value::Integer(after)];
    let mut w = String::new();
    if let Some(reason) = reason {
        p.push(Value::Text(reason.to_string()));
        w.push_str(&format!(" AND x.unreadable_reason = ?{}", p.len()));
    }
    w.push_str(&and_roots(roots, &mut p));
    p.push(Value::Integer(limit as i64));
    let l = p.len();
    let mut st = conn.prepare(&format!(
        "SELECT x.id, x.path, x.root, x.unreadable_reason, x.format, x.last_scanned_at FROM files x
         WHERE x.deleted_at IS NULL AND x.unreadable_reason IS NOT NULL AND x.id > ?1{w}
         ORDER BY x.id LIMIT ?{l}"
    ))?;
    let rows = st.query_map(params_from_iter(p), |r| {
        Ok(UnreadableRow {
            file_id: r.get(0)?,
            path: r.get(1)?,
            root: r.get(2)?,
            reason: r.get(3)?,
            format: r.get(4)?,
            last_scanned: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The files of these findings (whose verdicts a decision changes).
pub fn files_of_findings(conn: &Connection, finding_ids: &[i64]) -> Result<Vec<i64>, StoreError> {
    let mut files = Vec::new();
    let mut st = conn.prepare_cached("SELECT file_id FROM findings WHERE id = ?1")?;
    for id in finding_ids {
        if let Some(f) = st
            .query_row(params![id], |r| r.get::<_, i64>(0))
            .optional()?
        {
            files.push(f);
        }
    }
    files.sort_unstable();
    files.dedup();
    Ok(files)
}

/// One week of the dashboard's trend: open findings at the end of the
/// week, all kinds and My Number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendCount {
    pub open: i64,
    pub my_number: i64,
}

/// Open findings at each bound (an RFC 3339 UTC instant, e.g. a week's
/// [`end_bound`](crate::report::Week::end_bound)), with the weekly
/// report's definition (first seen before, not resolved by then, not a
/// false positive), in one pass over the findings.
pub fn open_at(
    conn: &Connection,
    roots: &[String],
    bounds: &[String],
) -> Result<Vec<TrendCount>, StoreError> {
    if bounds.is_empty() {
        return Ok(Vec::new());
    }
    let mut p: Vec<Value> = Vec::new();
    let mut sums = Vec::new();
    for b in bounds {
        p.push(Value::Text(b.clone()));
        let i = p.len();
        let open =
            format!("f.first_seen_at < ?{i} AND (f.resolved_at IS NULL OR f.resolved_at >= ?{i})");
        sums.push(format!("coalesce(sum({open}), 0)"));
        sums.push(format!("coalesce(sum({open} AND f.kind = 'my_number'), 0)"));
    }
    let w = and_roots(roots, &mut p);
    let from = if w.is_empty() {
        "findings f"
    } else {
        "findings f JOIN files x ON x.id = f.file_id"
    };
    let sql = format!(
        "SELECT {} FROM {from} WHERE f.review_state != 'false_positive'{w}",
        sums.join(", ")
    );
    Ok(conn.query_row(&sql, params_from_iter(p), |r| {
        (0..bounds.len())
            .map(|i| {
                Ok(TrendCount {
                    open: r.get(2 * i)?,
                    my_number: r.get(2 * i + 1)?,
                })
            })
            .collect::<rusqlite::Result<Vec<_>>>()
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeySet;
    use crate::records::apply::RecordsContext;
    use crate::report::{Week, WeeklyReport};
    use crate::store::Store;

    /// A store with findings under two roots, at known times and states.
    fn store() -> (tempfile::TempDir, Store, KeySet) {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeySet::new([7; 32]);
        let store = Store::open(&dir.path().join("m.db"), &keys).unwrap();
        let c = store.connection();
        for (id, root) in [(1, "/srv/a"), (2, "/srv/b")] {
            c.execute(
                "INSERT INTO files(id, path, path_key, root, size, mtime_ns, first_seen_at) VALUES (?1, ?2, ?3, ?4, 1, 0, '2026-09-01T00:00:00.000Z')",
                params![id, format!("{root}/x{id}.txt"), vec![id as u8; 32], root],
            )
            .unwrap();
        }
        // (file, kind, first seen, resolved, state)
        let rows: [(i64, &str, &str, Option<&str>, &str); 7] = [
            (1, "my_number", "2026-09-10T00:00:00.000Z", None, "open"),
            (
                1,
                "person_name",
                "2026-10-01T00:00:00.000Z",
                Some("2026-10-20T00:00:00.000Z"),
                "open",
            ),
            (
                1,
                "person_name",
                "2026-10-05T00:00:00.000Z",
                None,
                "false_positive",
            ),
            (
                2,
                "my_number",
                "2026-11-01T00:00:00.000Z",
                None,
                "confirmed",
            ),
            (2, "phone_number", "2026-11-20T03:00:00.000Z", None, "open"),
            (2, "phone_number", "2026-11-29T14:59:00.000Z", None, "open"),
            (2, "birth_date", "2026-11-29T15:00:00.000Z", None, "open"),
        ];
        for (i, (file, kind, first, resolved, state)) in rows.iter().enumerate() {
            c.execute(
                "INSERT INTO findings(file_id, member, kind, confidence, location, masked, fingerprint, detector_id,
                     detector_version, first_seen_at, last_seen_at, resolved_at, review_state)
                 VALUES (?1, '', ?2, 'high', ?3, '****', ?4, 'd', 1, ?5, ?5, ?6, ?7)",
                params![file, kind, format!("line {i}"), vec![i as u8; 32], first, resolved, state],
            )
            .unwrap();
        }
        (dir, store, keys)
    }

    #[test]
    fn the_dashboard_trend_counts_as_the_weekly_report_does() {
        let (_dir, store, keys) = store();
        let c = store.connection();
        let records =
            RecordsContext::new(&crate::records::RecordsConfig::default(), Vec::new()).unwrap();
        let week = Week::parse("2026-W48").unwrap();
        let report =
            WeeklyReport::gather(c, &keys, &records, week, None, crate::records::Lang::Ja).unwrap();
        let bounds: Vec<String> = report
            .trend
            .iter()
            .map(|p| Week::of(p.end).end_bound())
            .collect();
        let ours = open_at(c, &[], &bounds).unwrap();
        assert_eq!(ours.len(), report.trend.len());
        for (p, o) in report.trend.iter().zip(&ours) {
            assert_eq!(o.open, p.open_by_kind.values().sum::<i64>(), "{}", p.week);
            assert_eq!(
                o.my_number,
                p.open_by_kind.get("my_number").copied().unwrap_or(0),
                "{}",
                p.week
            );
        }
        // The last week (ends Monday 00:00 in Japan = Sunday 15:00 UTC):
        // everything but the resolved name, the false positive and the
        // finding of the next week's first minute.
        assert_eq!(ours.last().unwrap().open, 4);
        // Restricted to one root.
        let b = open_at(c, &["/srv/b".to_string()], &bounds).unwrap();
        assert_eq!(b.last().unwrap().open, 3);
        assert_eq!(b.last().unwrap().my_number, 1);
    }

    #[test]
    fn flags_count_files_and_their_open_findings() {
        let (_dir, store, _) = store();
        let c = store.connection();
        // A third file, flagged, deleted: never counted.
        c.execute(
            "INSERT INTO files(id, path, path_key, root, size, mtime_ns, first_seen_at, deleted_at)
             VALUES (3, '/srv/b/gone.txt', ?1, '/srv/b', 1, 0, '2026-09-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z')",
            params![vec![3u8; 32]],
        )
        .unwrap();
        for (file, flags) in [
            (1, "retention_unknown,my_number_outside_area"),
            (2, "my_number_outside_area"),
            (3, "retention_unknown"),
        ] {
            c.execute(
                "INSERT INTO file_records(file_id, as_of, flags, evaluated_at) VALUES (?1, '2026-11-30', ?2, '2026-11-30T00:00:00.000Z')",
                params![file, flags],
            )
            .unwrap();
        }
        let names = ["retention_unknown", "my_number_outside_area", "legal_hold"];
        let all = by_flag(c, &[], &names).unwrap();
        // File 1 has one open finding (the resolved name and the false
        // positive are not); file 2 has four.
        assert_eq!(all["retention_unknown"], (1, 1));
        assert_eq!(all["my_number_outside_area"], (2, 5));
        assert_eq!(all["legal_hold"], (0, 0));
        let b = by_flag(c, &["/srv/b".to_string()], &names).unwrap();
        assert_eq!(b["retention_unknown"], (0, 0));
        assert_eq!(b["my_number_outside_area"], (1, 4));
        // A file with both flags is one file.
        let both = ["retention_unknown", "my_number_outside_area"];
        assert_eq!(files_with_any_flag(c, &[], &both).unwrap(), 2);
        assert_eq!(
            files_with_any_flag(c, &[], &["retention_unknown"]).unwrap(),
            1
        );
        assert_eq!(
            files_with_any_flag(c, &["/srv/a".to_string()], &both).unwrap(),
            1
        );
        assert_eq!(files_with_any_flag(c, &[], &[]).unwrap(), 0);
    }

    #[test]
    fn counts_and_pages_respect_the_roots() {
        let (_dir, store, _) = store();
        let c = store.connection();
        let all = open_by_kind(c, &[]).unwrap();
        assert_eq!(all.values().sum::<i64>(), 5, "{all:?}");
        let a = open_by_kind(c, &["/srv/a".to_string()]).unwrap();
        assert_eq!(a.values().sum::<i64>(), 1, "{a:?}");
        assert!(file_info(c, 2, &["/srv/a".to_string()]).unwrap().is_none());
        assert!(file_info(c, 2, &["/srv/b".to_string()]).unwrap().is_some());
        assert!(file_info(c, 2, &[]).unwrap().is_some());
        // Capped counts and the page before a page.
        let f = FindingFilter::default();
        assert_eq!(count_findings_capped(c, &f, 3).unwrap(), 3);
        assert_eq!(count_findings_capped(c, &f, 100).unwrap(), 5);
        // Ids of unresolved non-false-positives: 1, 4, 5, 6, 7. The page
        // before the one starting at 6 (pages of 2) is 4, 5: after 3.
        assert_eq!(page_before(c, &f, 6, 2).unwrap(), Some(3));
        assert_eq!(page_before(c, &f, 5, 2).unwrap(), Some(0));
        assert_eq!(page_before(c, &f, 1, 2).unwrap(), None);
    }
}
