//! The review screen's questions at the centre (`mamori serve --central`):
//! the queries of `store::web` over every site, answering in its shapes
//! (`FileInfo`, `RetentionRow`, `OutboundRow`, `UnreadableRow`,
//! `TrendCount`) with the centre's ids (`cid`) and names (`SITE:PATH`,
//! roots `SITE:LABEL`), so that the pages are the same on a site and at the
//! centre. `scope` is the user's roots as `query::root_condition` reads
//! them (`SITE` or `SITE:ROOT`; empty: every root).

use std::collections::BTreeMap;

use postgres::Client;

use super::query::{
    finding_row, scope_condition, site_path, site_root, split_flags, Params, FROM, ROW_COLUMNS,
};
use super::CentralError;
use crate::records::Lang;
use crate::review::{FindingFilter, FindingRow};
use crate::store::web::{FileInfo, OutboundRow, RetentionRow, TrendCount, UnreadableRow};
use crate::store::FileRecordRow;

/// Open: unresolved and not a false positive (as on a site).
const OPEN: &str = "f.resolved_at IS NULL AND f.review_state <> 'false_positive'";

/// A finding with its file, site and root label.
const FINDING_FILE: &str = "FROM findings f
    JOIN files x ON x.site_id = f.site_id AND x.id = f.file_id
    JOIN sites s ON s.id = f.site_id
    LEFT JOIN site_roots sr ON sr.site_id = x.site_id AND sr.path = x.root";

/// What the overview counts open findings by.
#[derive(Debug, Clone, Copy)]
pub enum By {
    Kind,
    State,
    /// `SITE:LABEL` (as `FindingRow::root` at the centre).
    Root,
}

/// Open findings by kind, review state or root.
pub fn open_by(
    client: &mut Client,
    scope: &[String],
    by: By,
) -> Result<BTreeMap<String, i64>, CentralError> {
    let mut p = Params::default();
    let w = scope_condition(&mut p, scope);
    let key = match by {
        By::Kind => "coalesce(f.kind, ''), ''::text",
        By::State => "coalesce(f.review_state, ''), ''::text",
        By::Root => "s.name, coalesce(sr.label, x.root)",
    };
    let rows = client.query(
        &format!("SELECT {key}, count(*) {FINDING_FILE} WHERE {OPEN} AND {w} GROUP BY 1, 2"),
        &p.refs(),
    )?;
    let mut out = BTreeMap::new();
    for r in rows {
        let name = match by {
            By::Root => site_root(r.get(0), r.get::<_, Option<&str>>(1)),
            _ => r.get(0),
        };
        *out.entry(name).or_insert(0) += r.get::<_, i64>(2);
    }
    Ok(out)
}

/// Files per records flag and open findings in them (as
/// `store::web::by_flag`), from the sites' latest verdicts.
pub fn by_flag(
    client: &mut Client,
    scope: &[String],
    flags: &[&str],
) -> Result<BTreeMap<String, (i64, i64)>, CentralError> {
    let mut out: BTreeMap<String, (i64, i64)> =
        flags.iter().map(|f| (f.to_string(), (0, 0))).collect();
    let mut p = Params::default();
    let w = scope_condition(&mut p, scope);
    let rows = client.query(
        &format!(
            "SELECT r.flags, count(*), coalesce(sum(o.n), 0)::bigint
             FROM file_records r JOIN files x ON x.site_id = r.site_id AND x.id = r.file_id
             JOIN sites s ON s.id = x.site_id
             LEFT JOIN (SELECT f.site_id, f.file_id, count(*) AS n FROM findings f WHERE {OPEN}
                        GROUP BY f.site_id, f.file_id) o ON o.site_id = r.site_id AND o.file_id = r.file_id
             WHERE coalesce(r.flags, '') <> '' AND x.deleted_at IS NULL AND {w}
             GROUP BY r.flags"
        ),
        &p.refs(),
    )?;
    for r in rows {
        crate::store::web::add_flag_counts(&mut out, r.get(0), r.get(1), r.get(2));
    }
    Ok(out)
}

/// Live files whose verdict carries any of `flags`, each counted once.
pub fn files_with_any_flag(
    client: &mut Client,
    scope: &[String],
    flags: &[&str],
) -> Result<i64, CentralError> {
    if flags.is_empty() {
        return Ok(0);
    }
    let mut p = Params::default();
    let patterns: Vec<String> = flags.iter().map(|f| format!("%,{f},%")).collect();
    let any = p.push(patterns);
    let w = scope_condition(&mut p, scope);
    Ok(client
        .query_one(
            &format!(
                "SELECT count(*) FROM file_records r JOIN files x ON x.site_id = r.site_id AND x.id = r.file_id
                 JOIN sites s ON s.id = x.site_id
                 WHERE (',' || r.flags || ',') LIKE ANY({any}) AND x.deleted_at IS NULL AND {w}"
            ),
            &p.refs(),
        )?
        .get(0))
}

/// Live unreadable files by reason.
pub fn unreadable_by_reason(
    client: &mut Client,
    scope: &[String],
) -> Result<BTreeMap<String, i64>, CentralError> {
    let mut p = Params::default();
    let w = scope_condition(&mut p, scope);
    Ok(client
        .query(
            &format!(
                "SELECT x.unreadable_reason, count(*) FROM files x JOIN sites s ON s.id = x.site_id
                 WHERE x.deleted_at IS NULL AND x.unreadable_reason IS NOT NULL AND {w} GROUP BY 1"
            ),
            &p.refs(),
        )?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Open findings at each bound, all kinds and My Number (as
/// `store::web::open_at`: the weekly report's definition), in one pass.
pub fn open_at(
    client: &mut Client,
    scope: &[String],
    bounds: &[String],
) -> Result<Vec<TrendCount>, CentralError> {
    if bounds.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = Params::default();
    let mut sums = Vec::new();
    for b in bounds {
        let i = p.push(b.clone());
        let open =
            format!("f.first_seen_at < {i} AND (f.resolved_at IS NULL OR f.resolved_at >= {i})");
        sums.push(format!("count(*) FILTER (WHERE {open})"));
        sums.push(format!(
            "count(*) FILTER (WHERE {open} AND f.kind = 'my_number')"
        ));
    }
    let w = scope_condition(&mut p, scope);
    let r = client.query_one(
        &format!(
            "SELECT {} FROM findings f JOIN files x ON x.site_id = f.site_id AND x.id = f.file_id
             JOIN sites s ON s.id = f.site_id
             WHERE f.review_state <> 'false_positive' AND {w}",
            sums.join(", ")
        ),
        &p.refs(),
    )?;
    Ok((0..bounds.len())
        .map(|i| TrendCount {
            open: r.get(2 * i),
            my_number: r.get(2 * i + 1),
        })
        .collect())
}

/// How many findings match `filter`, counting at most `cap`.
pub fn count_findings_capped(
    client: &mut Client,
    filter: &FindingFilter,
    cap: i64,
) -> Result<i64, CentralError> {
    let mut p = Params::default();
    let w = super::query::filter_sql(filter, &mut p);
    let l = p.push(cap);
    Ok(client
        .query_one(
            &format!("SELECT count(*) FROM (SELECT 1 {FROM} WHERE {w} LIMIT {l}) t"),
            &p.refs(),
        )?
        .get(0))
}

/// For the page before the one starting after `before`: the id to list
/// after (0: the first page), or `None` when nothing comes before.
pub fn page_before(
    client: &mut Client,
    filter: &FindingFilter,
    before: i64,
    limit: usize,
) -> Result<Option<i64>, CentralError> {
    let mut p = Params::default();
    let w = super::query::filter_sql(filter, &mut p);
    let b = p.push(before);
    let l = p.push(limit as i64);
    let ids: Vec<i64> = client
        .query(
            &format!("SELECT f.cid {FROM} WHERE {w} AND f.cid < {b} ORDER BY f.cid DESC LIMIT {l}"),
            &p.refs(),
        )?
        .iter()
        .map(|r| r.get(0))
        .collect();
    Ok(match ids.last() {
        None => None,
        Some(_) if ids.len() < limit => Some(0),
        Some(first) => Some(first - 1),
    })
}

/// The centre's ids of the files of these findings.
pub fn files_of_findings(
    client: &mut Client,
    finding_ids: &[i64],
) -> Result<Vec<i64>, CentralError> {
    Ok(client
        .query(
            "SELECT DISTINCT x.cid FROM findings f JOIN files x ON x.site_id = f.site_id AND x.id = f.file_id
             WHERE f.cid = ANY($1) ORDER BY 1",
            &[&finding_ids],
        )?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// The verdict columns of `file_records r` in [`FileRecordRow`]'s order.
const RECORD_COLUMNS: &str = "r.document_date, r.date_source, r.date_evidence, r.retention_rule,
    r.retention_class, r.retention, r.retention_start, r.retention_end, r.action, r.hold_reason,
    r.hold_until, coalesce(r.flags, '')";

fn record_row(r: &postgres::Row, from: usize, file_id: i64) -> FileRecordRow {
    FileRecordRow {
        file_id,
        document_date: r.get(from),
        date_source: r.get(from + 1),
        date_evidence: r.get(from + 2),
        retention_rule: r.get(from + 3),
        retention_class: r.get(from + 4),
        retention: r.get(from + 5),
        retention_start: r.get(from + 6),
        retention_end: r.get(from + 7),
        action: r.get(from + 8),
        hold_reason: r.get(from + 9),
        hold_until: r.get(from + 10),
        flags: r.get(from + 11),
    }
}

/// One file (by the centre's id) if the user may see it.
pub fn file_info(
    client: &mut Client,
    file_cid: i64,
    scope: &[String],
) -> Result<Option<FileInfo>, CentralError> {
    let mut p = Params::default();
    let id = p.push(file_cid);
    let w = scope_condition(&mut p, scope);
    let Some(r) = client.query_opt(
        &format!(
            "SELECT x.cid, s.name, x.path, coalesce(sr.label, x.root), x.size, x.format, x.first_seen_at,
                    x.last_scanned_at, x.deleted_at, x.unreadable_reason, r.file_id IS NOT NULL, {RECORD_COLUMNS}
             FROM files x JOIN sites s ON s.id = x.site_id
             LEFT JOIN site_roots sr ON sr.site_id = x.site_id AND sr.path = x.root
             LEFT JOIN file_records r ON r.site_id = x.site_id AND r.file_id = x.id
             WHERE x.cid = {id} AND {w}"
        ),
        &p.refs(),
    )?
    else {
        return Ok(None);
    };
    let site: &str = r.get(1);
    Ok(Some(FileInfo {
        id: r.get(0),
        path: site_path(site, r.get(2)),
        root: Some(site_root(site, r.get::<_, Option<&str>>(3))),
        size: r.get::<_, Option<i64>>(4).unwrap_or(0),
        format: r.get(5),
        first_seen: r.get::<_, Option<String>>(6).unwrap_or_default(),
        last_scanned: r.get(7),
        deleted: r.get(8),
        unreadable_reason: r.get(9),
        record: r.get::<_, bool>(10).then(|| record_row(&r, 11, file_cid)),
    }))
}

/// Every finding of one file (resolved and false positives too):
/// unresolved first, at most `limit`.
pub fn file_findings(
    client: &mut Client,
    file_cid: i64,
    limit: usize,
) -> Result<Vec<FindingRow>, CentralError> {
    Ok(client
        .query(
            &format!(
                "SELECT {ROW_COLUMNS} {FROM} WHERE x.cid = $1
                 ORDER BY f.resolved_at IS NOT NULL, f.cid LIMIT $2"
            ),
            &[&file_cid, &(limit as i64)],
        )?
        .iter()
        .map(finding_row)
        .collect())
}

/// A file's reasons and flags, as its site last evaluated them (the centre
/// does not have the sites' rules).
pub fn file_verdict(
    client: &mut Client,
    file_cid: i64,
    lang: Lang,
) -> Result<(Vec<String>, Vec<String>), CentralError> {
    let col = match lang {
        Lang::Ja => "reasons_ja",
        Lang::En => "reasons_en",
    };
    let row = client.query_opt(
        &format!(
            "SELECT coalesce(r.{col}, ''), coalesce(r.flags, '') FROM file_records r
             JOIN files x ON x.site_id = r.site_id AND x.id = r.file_id WHERE x.cid = $1"
        ),
        &[&file_cid],
    )?;
    Ok(row
        .map(|r| {
            let reasons: String = r.get(0);
            (
                reasons.lines().map(str::to_string).collect(),
                split_flags(&r.get::<_, String>(1)),
            )
        })
        .unwrap_or_default())
}

/// Files whose retention ended (disposal and transfer candidates, and
/// expired files kept by a hold), by retention end (as
/// `store::web::retention_queue`).
pub fn retention_queue(
    client: &mut Client,
    scope: &[String],
) -> Result<Vec<RetentionRow>, CentralError> {
    let mut p = Params::default();
    let w = scope_condition(&mut p, scope);
    let rows = client.query(
        &format!(
            "SELECT x.cid, s.name, x.path, coalesce(sr.label, x.root),
                    (SELECT count(*) FROM findings f WHERE f.site_id = x.site_id AND f.file_id = x.id AND {OPEN}),
                    (SELECT count(*) FROM findings f WHERE f.site_id = x.site_id AND f.file_id = x.id AND {OPEN}
                       AND f.kind = 'my_number'),
                    {RECORD_COLUMNS}
             FROM file_records r JOIN files x ON x.site_id = r.site_id AND x.id = r.file_id
             JOIN sites s ON s.id = x.site_id
             LEFT JOIN site_roots sr ON sr.site_id = x.site_id AND sr.path = x.root
             WHERE x.deleted_at IS NULL
               AND ((',' || r.flags || ',') LIKE '%,disposal_candidate,%'
                 OR (',' || r.flags || ',') LIKE '%,transfer_candidate,%'
                 OR ((',' || r.flags || ',') LIKE '%,retention_expired,%' AND r.hold_until IS NOT NULL))
               AND {w}
             ORDER BY r.retention_end NULLS FIRST, s.name COLLATE \"C\", x.path COLLATE \"C\""
        ),
        &p.refs(),
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let file_id: i64 = r.get(0);
            let site: &str = r.get(1);
            RetentionRow {
                file_id,
                path: site_path(site, r.get(2)),
                root: Some(site_root(site, r.get::<_, Option<&str>>(3))),
                open_findings: r.get(4),
                my_numbers: r.get(5),
                record: record_row(r, 6, file_id),
            }
        })
        .collect())
}

/// Outbound leak candidates, one row per message, by their smallest
/// finding id after `after` (as `store::web::outbound_messages`).
pub fn outbound_messages(
    client: &mut Client,
    scope: &[String],
    after: i64,
    limit: usize,
) -> Result<Vec<OutboundRow>, CentralError> {
    let mut p = Params::default();
    let flag = p.push(crate::outcome::OUTBOUND_FLAG.to_string());
    let a = p.push(after);
    let w = scope_condition(&mut p, scope);
    let l = p.push(limit as i64);
    let rows = client.query(
        &format!(
            "SELECT x.cid, s.name, x.path, coalesce(sr.label, x.root), coalesce(f.member, ''),
                    min(coalesce(f.recipient_domains, '')), count(*),
                    string_agg(DISTINCT f.kind, ','), min(f.first_seen_at), min(f.cid)
             {FINDING_FILE}
             WHERE f.flags = {flag} AND {OPEN} AND {w}
             GROUP BY x.cid, s.name, x.path, sr.label, x.root, coalesce(f.member, '')
             HAVING min(f.cid) > {a}
             ORDER BY min(f.cid) LIMIT {l}"
        ),
        &p.refs(),
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let site: &str = r.get(1);
            let member: String = r.get(4);
            OutboundRow {
                file_id: r.get(0),
                path: site_path(site, r.get(2)),
                root: Some(site_root(site, r.get::<_, Option<&str>>(3))),
                member: (!member.is_empty()).then_some(member),
                recipient_domains: r.get(5),
                findings: r.get(6),
                kinds: r.get::<_, Option<String>>(7).unwrap_or_default(),
                first_seen: r.get::<_, Option<String>>(8).unwrap_or_default(),
                key: r.get(9),
            }
        })
        .collect())
}

/// Live unreadable files (of one reason, or all) by the centre's id
/// after `after`.
pub fn unreadable_files(
    client: &mut Client,
    scope: &[String],
    reason: Option<&str>,
    after: i64,
    limit: usize,
) -> Result<Vec<UnreadableRow>, CentralError> {
    let mut p = Params::default();
    let a = p.push(after);
    let mut w = scope_condition(&mut p, scope);
    if let Some(reason) = reason {
        w.push_str(&format!(
            " AND x.unreadable_reason = {}",
            p.push(reason.to_string())
        ));
    }
    let l = p.push(limit as i64);
    let rows = client.query(
        &format!(
            "SELECT x.cid, s.name, x.path, coalesce(sr.label, x.root), x.unreadable_reason, x.format,
                    x.last_scanned_at
             FROM files x JOIN sites s ON s.id = x.site_id
             LEFT JOIN site_roots sr ON sr.site_id = x.site_id AND sr.path = x.root
             WHERE x.deleted_at IS NULL AND x.unreadable_reason IS NOT NULL AND x.cid > {a} AND {w}
             ORDER BY x.cid LIMIT {l}"
        ),
        &p.refs(),
    )?;
    Ok(rows
        .iter()
        .map(|r| {
            let site: &str = r.get(1);
            UnreadableRow {
                file_id: r.get(0),
                path: site_path(site, r.get(2)),
                root: Some(site_root(site, r.get::<_, Option<&str>>(3))),
                reason: r.get(4),
                format: r.get(5),
                last_scanned: r.get(6),
            }
        })
        .collect())
}

/// The roots the screen offers at the centre: each site (`SITE`), and
/// each site's configured roots (`SITE:LABEL`), by name.
pub fn root_names(client: &mut Client) -> Result<Vec<String>, CentralError> {
    let mut out: Vec<String> = client
        .query("SELECT name FROM sites ORDER BY name", &[])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    for r in client.query(
        "SELECT s.name, r.label FROM site_roots r JOIN sites s ON s.id = r.site_id ORDER BY 1, 2",
        &[],
    )? {
        out.push(site_root(r.get(0), Some(r.get(1))));
    }
    Ok(out)
}
