//! Records rules applied to the store: gathers each file's facts from the
//! stored findings (after review decisions), evaluates them (the pure
//! [`evaluate`](super::evaluate)) and keeps the verdict per file in
//! `file_records`, so that lists, reports and the review screen can filter
//! by flag. Recomputed after a file's scan, when the rules change (SIGHUP)
//! and when the day changes; `--as-of` evaluations are made in memory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use rusqlite::Connection;
use sha2::Digest;

use super::{dates::mtime_date, evaluate, Evaluation, FileFacts, RecordsConfig, Rules};
use crate::finding::Kind;
use crate::keys::KeySet;
use crate::store::{Store, StoreError};

/// A root as the records rules see it.
#[derive(Debug, Clone)]
pub struct RootInfo {
    pub path: PathBuf,
    pub label: String,
    /// A root of kind `mail_export`: every file in it is mail.
    pub mail_export: bool,
}

/// The rules and the roots they are applied under.
#[derive(Debug, Clone)]
pub struct RecordsContext {
    pub rules: Rules,
    pub roots: Vec<RootInfo>,
    /// A digest of the rules as written: a change means re-evaluation.
    pub digest: String,
}

impl RecordsContext {
    pub fn new(config: &RecordsConfig, roots: Vec<RootInfo>) -> Result<Self, super::RulesError> {
        Ok(RecordsContext {
            rules: Rules::compile(config)?,
            roots,
            digest: hex::encode(&sha2::Sha256::digest(format!("{config:?}").as_bytes())[..8]),
        })
    }

    fn root_of(&self, shown_root: Option<&str>, real: &Path) -> Option<&RootInfo> {
        self.roots
            .iter()
            .filter(|r| {
                real.starts_with(&r.path) || shown_root == Some(&*crate::paths::display(&r.path))
            })
            .max_by_key(|r| r.path.as_os_str().len())
    }
}

/// The facts of a file from a scan's outcome (no store: `mamori scan
/// --config` adds records flags to its JSONL lines). `roots` are the
/// scan's PATH arguments; a configured root under which the file lies is
/// preferred for the relative path rules see.
pub fn facts_from_outcome(
    ctx: &RecordsContext,
    roots: &[PathBuf],
    file: &crate::outcome::FileRef,
    content: &crate::outcome::Content,
    format: Option<&str>,
) -> FileFacts {
    let info = ctx.root_of(None, &file.path);
    let base = info.map(|r| r.path.clone()).or_else(|| {
        roots
            .iter()
            .filter(|r| file.path.starts_with(r) && **r != file.path)
            .max_by_key(|r| r.as_os_str().len())
            .cloned()
    });
    let rel = match &base {
        Some(b) => file.path.strip_prefix(b).unwrap_or(&file.path),
        None => file.path.file_name().map(Path::new).unwrap_or(&file.path),
    };
    let rel = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/");
    let medium = |f: &crate::finding::Finding| f.confidence >= crate::finding::Confidence::Medium;
    let mut counts: BTreeMap<Kind, u32> = BTreeMap::new();
    for (_, f) in content.findings.iter().filter(|(_, f)| medium(f)) {
        *counts.entry(f.kind).or_default() += 1;
    }
    let fingerprints: Vec<(Kind, String)> = content
        .findings
        .iter()
        .filter(|(_, f)| medium(f))
        .map(|(_, f)| (f.kind, hex::encode(f.fingerprint)))
        .collect();
    let mut terms: Vec<String> = content
        .sensitive_terms
        .iter()
        .map(|(_, t)| t.clone())
        .collect();
    terms.sort();
    terms.dedup();
    FileFacts {
        path: rel,
        metadata_date: content.document_created(),
        mtime_date: (file.modified_ns > 0)
            .then(|| mtime_date(file.modified_ns))
            .flatten(),
        finding_counts: counts,
        distinct_persons: super::flags::distinct_persons(
            fingerprints.iter().map(|(k, f)| (*k, f.as_str())),
        ),
        mail_export: matches!(
            format,
            Some("eml" | "mbox" | "msg (Outlook)" | "msg" | "tnef")
        ) || info.is_some_and(|r| r.mail_export),
        outbound_messages: content.outbound.len() as u32,
        outbound_my_number: content
            .outbound
            .iter()
            .any(|m| m.kinds.contains_key(&Kind::MyNumber)),
        sensitive_keywords: terms,
    }
}

/// One stored file, evaluated.
#[derive(Debug, Clone)]
pub struct FileVerdict {
    pub file_id: i64,
    /// The path as mamori shows it.
    pub path: String,
    /// The root's label (or its path when not configured).
    pub root: String,
    /// The path relative to its root, `/`-separated (as rules see it).
    pub rel_path: String,
    pub facts: FileFacts,
    pub evaluation: Evaluation,
}

const PERSONAL: &str =
    "resolved_at IS NULL AND review_state != 'false_positive' AND confidence IN ('medium', 'high')";

/// Gathers the facts of the live files (all, or those in `only`), and
/// hands each file's (id, shown path, root label, facts) to `each`.
fn gather(
    conn: &Connection,
    keys: &KeySet,
    ctx: &RecordsContext,
    only: Option<&[i64]>,
    mut each: impl FnMut(i64, String, String, FileFacts),
) -> Result<(), StoreError> {
    let in_files = |col: &str| match only {
        None => String::new(),
        Some(ids) => format!(
            " AND {col} IN ({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        ),
    };
    let mut counts: HashMap<i64, BTreeMap<Kind, u32>> = HashMap::new();
    let mut st = conn.prepare(&format!(
        "SELECT file_id, kind, count(*) FROM findings WHERE {PERSONAL}{} GROUP BY file_id, kind",
        in_files("file_id")
    ))?;
    for row in st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (id, kind, n) = row?;
        if let Ok(k) = kind.parse::<Kind>() {
            counts.entry(id).or_default().insert(k, n as u32);
        }
    }
    let person_kinds = super::flags::PERSON_IDENTIFYING_KINDS
        .iter()
        .map(|k| format!("'{}'", k.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let mut persons: HashMap<i64, u32> = HashMap::new();
    let mut st = conn.prepare(&format!(
        "SELECT file_id, max(n) FROM (SELECT file_id, kind, count(DISTINCT fingerprint) AS n FROM findings
           WHERE {PERSONAL} AND kind IN ({person_kinds}){} GROUP BY file_id, kind) GROUP BY file_id",
        in_files("file_id")
    ))?;
    for row in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (id, n) = row?;
        persons.insert(id, n as u32);
    }
    let mut outbound: HashMap<i64, (u32, bool)> = HashMap::new();
    let mut st = conn.prepare(&format!(
        "SELECT file_id, count(DISTINCT member || recipient_domains), max(kind = 'my_number') FROM findings
           WHERE {PERSONAL} AND flags = '{}'{} GROUP BY file_id",
        crate::outcome::OUTBOUND_FLAG,
        in_files("file_id")
    ))?;
    for row in st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, bool>(2)?,
        ))
    })? {
        let (id, n, mine) = row?;
        outbound.insert(id, (n as u32, mine));
    }
    let mut terms: HashMap<i64, Vec<String>> = HashMap::new();
    let mut st = conn.prepare(&format!(
        "SELECT file_id, term FROM file_terms WHERE 1 = 1{} ORDER BY file_id, term",
        in_files("file_id")
    ))?;
    for row in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (id, t) = row?;
        terms.entry(id).or_default().push(t);
    }
    let mut st = conn.prepare(&format!(
        "SELECT id, path, path_sealed, root, format, mtime_ns, meta_date FROM files WHERE deleted_at IS NULL{} ORDER BY id",
        in_files("id")
    ))?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    for row in rows {
        let (id, shown, sealed, root, format, mtime, meta) = row?;
        let real = match &sealed {
            Some(s) => keys.open_path(s).unwrap_or_else(|| PathBuf::from(&shown)),
            None => PathBuf::from(&shown),
        };
        let info = ctx.root_of(root.as_deref(), &real);
        let base = info
            .map(|r| r.path.clone())
            .or_else(|| root.as_ref().map(PathBuf::from))
            .unwrap_or_default();
        let rel = real
            .strip_prefix(&base)
            .unwrap_or(&real)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let mail = matches!(
            format.as_deref(),
            Some("eml" | "mbox" | "msg (Outlook)" | "msg" | "tnef")
        ) || info.is_some_and(|r| r.mail_export);
        let (ob, ob_mine) = outbound.get(&id).copied().unwrap_or((0, false));
        let facts = FileFacts {
            path: rel.clone(),
            metadata_date: meta.and_then(|m| m.parse::<Date>().ok()),
            mtime_date: (mtime != i64::MIN).then(|| mtime_date(mtime)).flatten(),
            finding_counts: counts.remove(&id).unwrap_or_default(),
            distinct_persons: persons.get(&id).copied().unwrap_or(0),
            mail_export: mail,
            outbound_messages: ob,
            outbound_my_number: ob_mine,
            sensitive_keywords: terms.remove(&id).unwrap_or_default(),
        };
        let label = info.map(|r| r.label.clone()).or(root).unwrap_or_default();
        each(id, shown, label, facts);
    }
    Ok(())
}

/// Evaluates the live files (all, or those in `only`) as of `as_of`, in memory.
pub fn evaluate_files(
    conn: &Connection,
    keys: &KeySet,
    ctx: &RecordsContext,
    as_of: Date,
    only: Option<&[i64]>,
) -> Result<Vec<FileVerdict>, StoreError> {
    let mut out = Vec::new();
    for_each_verdict(conn, keys, ctx, as_of, only, |v| out.push(v))?;
    Ok(out)
}

/// Evaluates the live files (all, or those in `only`) as of `as_of`, one at
/// a time: for callers that keep only part of each verdict (the weekly
/// report over 100,000 files), so that the verdicts are never all in memory.
pub fn for_each_verdict(
    conn: &Connection,
    keys: &KeySet,
    ctx: &RecordsContext,
    as_of: Date,
    only: Option<&[i64]>,
    mut f: impl FnMut(FileVerdict),
) -> Result<(), StoreError> {
    gather(conn, keys, ctx, only, |file_id, path, root, facts| {
        f(FileVerdict {
            evaluation: evaluate(&ctx.rules, &facts, as_of),
            rel_path: facts.path.clone(),
            file_id,
            path,
            root,
            facts,
        })
    })
}

/// Evaluates and stores the verdicts (all files, or those in `only`).
/// Returns how many files were evaluated.
pub fn refresh(
    store: &mut Store,
    ctx: &RecordsContext,
    as_of: Date,
    only: Option<&[i64]>,
) -> Result<usize, StoreError> {
    let verdicts = evaluate_files(store.connection(), store.keys(), ctx, as_of, only)?;
    let rows: Vec<crate::store::FileRecordRow> = verdicts.iter().map(record_row).collect();
    store.write_file_records(&rows, only.is_none(), &as_of.to_string(), &ctx.digest)?;
    Ok(rows.len())
}

/// Re-evaluates everything when the stored verdicts are of another day or
/// other rules; returns whether it did.
pub fn refresh_if_stale(
    store: &mut Store,
    ctx: &RecordsContext,
    today: Date,
) -> Result<bool, StoreError> {
    let (as_of, digest) = store.records_state()?;
    if as_of.as_deref() == Some(&today.to_string()) && digest.as_deref() == Some(&ctx.digest) {
        return Ok(false);
    }
    refresh(store, ctx, today, None)?;
    Ok(true)
}

fn record_row(v: &FileVerdict) -> crate::store::FileRecordRow {
    let e = &v.evaluation;
    crate::store::FileRecordRow {
        file_id: v.file_id,
        document_date: e.document_date.as_ref().map(|d| d.date.to_string()),
        date_source: e
            .document_date
            .as_ref()
            .map(|d| d.source.as_str().to_string()),
        date_evidence: e.document_date.as_ref().map(|d| d.evidence().to_string()),
        retention_rule: e.retention_rule.map(|n| n as i64),
        retention_class: e.retention_class.clone(),
        retention: e.retention.map(|r| r.to_string()),
        retention_start: e.retention_start.map(|d| d.to_string()),
        retention_end: e.retention_end.map(|d| d.to_string()),
        action: e.action.map(|a| a.as_str().to_string()),
        hold_reason: e.hold.as_ref().map(|h| h.reason.clone()),
        hold_until: e.hold.as_ref().map(|h| h.until.to_string()),
        flags: e.flag_names().join(","),
    }
}
