//! A site's sync with the centre. One cycle:
//! 1. connect (again, after a failure) and register: the centre's schema
//!    is this binary's, the site's fingerprint key is the organisation's,
//!    and the site name belongs to this store;
//! 2. take the decisions made at the centre on this site's files (they are
//!    recorded locally, once, and come back as the site's own);
//! 3. the first time (and after `mamori central resync`): a full snapshot
//!    of every shipped table, page by page, resumable (the cursor is kept
//!    in `meta`), then the site's rows of older generations are deleted;
//! 4. the outbox, oldest first, in batches: each batch's rows are read as
//!    they are now, upserted in one central transaction, and only after
//!    PostgreSQL committed it are its entries deleted locally.
//!
//! At-least-once, exactly-once effect: a crash between the central commit
//! and the local deletion ships the batch again, and the upserts make the
//! second shipment a no-op. The service runs cycles every
//! `sync_interval_secs`, backing off (doubling, at most five minutes) while
//! the centre cannot be reached; the site goes on scanning meanwhile and
//! its outbox keeps the keys of what changed (bounded by the number of
//! changed rows, not by the number of changes).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::Client;
use rusqlite::Connection;

use super::connect::Target;
use super::{outbox as central, schema, CentralError};
use crate::keys::KeySet;
use crate::records::apply::RecordsContext;
use crate::store::outbox::{self as local, meta_keys, CentralDecision, ShippedRow, SHIPPED};

/// A configured root as the centre shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRoot {
    /// Its display path (as the site's `files.root` holds it).
    pub path: String,
    pub label: String,
    /// `share` or `mail_export`.
    pub kind: String,
}

/// The records rules in force (the service's may be reloaded).
pub type RecordsSource = Box<dyn Fn() -> Arc<RecordsContext> + Send>;

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    /// Rows shipped by a snapshot.
    pub snapshot_rows: u64,
    /// Rows shipped from the outbox.
    pub shipped: u64,
    /// Decisions made at the centre handed to the site.
    pub decisions: usize,
    /// Outbox entries left (changes made while the cycle ran).
    pub outbox_left: i64,
}

/// How a cycle runs.
pub struct CycleOptions<'a> {
    /// Checked between batches: false stops the cycle early (its work so
    /// far is kept; a snapshot resumes where it stopped).
    pub keep_going: &'a dyn Fn() -> bool,
    /// Hands decisions made at the centre to the site's writer; `None`:
    /// they are not taken this cycle.
    pub apply: Option<&'a mut dyn FnMut(Vec<CentralDecision>) -> bool>,
}

/// The site as the centre knows it.
#[derive(Debug, Clone)]
struct Registration {
    id: i32,
    generation: i64,
    snapshot_generation: i64,
    centre: String,
}

/// One site's sync: its connections and where it is.
pub struct SiteSync {
    target: Target,
    site: String,
    batch: usize,
    database: PathBuf,
    keys: KeySet,
    records: RecordsSource,
    roots: Vec<SiteRoot>,
    client: Option<Client>,
    local: Option<Connection>,
    /// Whether this process has queued again the verdicts the centre holds
    /// without their reason lines (shipped before central schema 2).
    reason_lines_checked: bool,
}

impl SiteSync {
    /// The sync of the store of `cfg` (which must have `[central]`).
    pub fn new(
        cfg: &crate::config::Config,
        keys: KeySet,
        records: RecordsSource,
    ) -> Result<SiteSync, CentralError> {
        let central = cfg
            .central
            .as_ref()
            .ok_or_else(|| CentralError::Invalid("the configuration has no [central]".into()))?;
        Ok(SiteSync {
            target: Target::from_config(central)?,
            site: central.site.clone(),
            batch: central.batch_size,
            database: cfg.store.database.clone(),
            keys,
            records,
            roots: cfg
                .roots
                .iter()
                .map(|r| SiteRoot {
                    path: crate::paths::display(&r.path).into_owned(),
                    label: r.label.clone(),
                    kind: match r.kind {
                        crate::config::RootKind::Share => "share".into(),
                        crate::config::RootKind::MailExport => "mail_export".into(),
                    },
                })
                .collect(),
            client: None,
            local: None,
            reason_lines_checked: false,
        })
    }

    /// The centre, as shown (no password).
    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn site(&self) -> &str {
        &self.site
    }

    fn local(&mut self) -> Result<&Connection, CentralError> {
        if self.local.is_none() {
            let mut conn = Connection::open_with_flags(
                &self.database,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE,
            )?;
            conn.busy_timeout(Duration::from_secs(30))?;
            crate::store::paths_are_case_sensitive(&conn)?;
            // Beside the service's writer: take the write lock up front.
            conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
            self.local = Some(conn);
        }
        self.local
            .as_ref()
            .ok_or_else(|| CentralError::Invalid("no local connection".into()))
    }

    fn client(&mut self) -> Result<&mut Client, CentralError> {
        if self.client.as_ref().is_none_or(|c| c.is_closed()) {
            self.client = None;
            let mut c = self.target.connect()?;
            schema::check(&mut c)?;
            self.client = Some(c);
        }
        self.client
            .as_mut()
            .ok_or_else(|| CentralError::Invalid("no central connection".into()))
    }

    /// Both connections, borrowed together.
    fn both(&mut self) -> Result<(&Connection, &mut Client), CentralError> {
        self.local()?;
        self.client()?;
        match (&self.local, &mut self.client) {
            (Some(l), Some(c)) => Ok((l, c)),
            _ => Err(CentralError::Invalid("not connected".into())),
        }
    }

    /// One cycle (see the module header). On failure the central connection
    /// is dropped (the next cycle connects again) and the error is recorded
    /// for `mamori status`.
    pub fn cycle(&mut self, opts: CycleOptions<'_>) -> Result<CycleReport, CentralError> {
        let result = self.cycle_inner(opts);
        if let Ok(local) = self.local() {
            let (k, v) = match &result {
                Ok(_) => (meta_keys::LAST_SYNC, crate::time::now()),
                Err(e) => (meta_keys::LAST_ERROR, e.to_string()),
            };
            let _ = local::set_meta(local, k, Some(&v));
            if result.is_ok() {
                let _ = local::set_meta(local, meta_keys::LAST_ERROR, None);
            }
        }
        if result.is_err() {
            self.client = None;
        }
        result
    }

    fn cycle_inner(&mut self, mut opts: CycleOptions<'_>) -> Result<CycleReport, CentralError> {
        let site = self.register(false)?;
        let mut report = CycleReport::default();
        if let Some(apply) = opts.apply.as_mut() {
            report.decisions = self.pull_decisions(&site, &mut **apply)?;
        }
        report.snapshot_rows = self.snapshot(&site, opts.keep_going)?;
        if !self.reason_lines_checked {
            self.queue_verdicts_without_reason_lines(&site)?;
            self.reason_lines_checked = true;
        }
        report.shipped = self.drain(&site, opts.keep_going)?;
        let local = self.local()?;
        report.outbox_left = local.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(report)
    }

    /// Registers the site (first sync), or checks that it is this store's;
    /// `claim`: takes the name over for this store and starts a new
    /// generation (`mamori central resync`).
    fn register(&mut self, claim: bool) -> Result<Registration, CentralError> {
        let site_name = self.site.clone();
        let roots = self.roots.clone();
        let (local, client) = self.both()?;
        let key_check = local::meta(local, "fingerprint_key_check")?
            .ok_or_else(|| CentralError::Invalid("the local store has no key check".into()))?;
        let instance = match local::meta(local, meta_keys::INSTANCE)? {
            Some(i) => i,
            None => {
                let mut b = [0u8; 16];
                getrandom::getrandom(&mut b)
                    .map_err(|e| CentralError::Invalid(format!("random: {e}")))?;
                let i = hex::encode(b);
                local::set_meta(local, meta_keys::INSTANCE, Some(&i))?;
                i
            }
        };
        let mut tx = client.transaction()?;
        tx.execute(
            "INSERT INTO central_meta(key, value) VALUES ('fingerprint_key_check', $1) ON CONFLICT (key) DO NOTHING",
            &[&key_check],
        )?;
        let org: String = tx
            .query_one(
                "SELECT value FROM central_meta WHERE key = 'fingerprint_key_check'",
                &[],
            )?
            .get(0);
        if org != key_check {
            return Err(CentralError::OtherKey);
        }
        let centre: String = tx
            .query_one(
                "SELECT value FROM central_meta WHERE key = 'centre_id'",
                &[],
            )?
            .get(0);
        tx.execute(
            "INSERT INTO sites(name, instance) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&site_name, &instance],
        )?;
        let row = tx.query_one(
            "SELECT id, instance, generation, snapshot_generation FROM sites WHERE name = $1 FOR UPDATE",
            &[&site_name],
        )?;
        let (id, owner, mut generation, snapshot_generation): (i32, String, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if claim {
            generation += 1;
            tx.execute(
                "UPDATE sites SET instance = $2, generation = $3 WHERE id = $1",
                &[&id, &instance, &generation],
            )?;
        } else if owner != instance {
            return Err(CentralError::SiteTaken(site_name));
        }
        tx.execute("DELETE FROM site_roots WHERE site_id = $1", &[&id])?;
        for r in &roots {
            tx.execute(
                "INSERT INTO site_roots(site_id, path, label, kind) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (site_id, path) DO UPDATE SET label = excluded.label, kind = excluded.kind",
                &[&id, &r.path, &r.label, &r.kind],
            )?;
        }
        tx.commit()?;
        Ok(Registration {
            id,
            generation,
            snapshot_generation,
            centre,
        })
    }

    /// `mamori central resync`: the site's rows will be shipped again from
    /// scratch under a new generation (by the next cycle, here or in the
    /// running service), and what the centre holds beyond them removed.
    pub fn request_resync(&mut self) -> Result<i64, CentralError> {
        let r = self.register(true)?;
        Ok(r.generation)
    }

    /// Decisions made at the centre on this site's files, not yet recorded
    /// here: those already recorded are marked applied at the centre; the
    /// others are handed to `apply`. Returns how many were handed over.
    fn pull_decisions(
        &mut self,
        site: &Registration,
        apply: &mut dyn FnMut(Vec<CentralDecision>) -> bool,
    ) -> Result<usize, CentralError> {
        let (local, client) = self.both()?;
        let rows = client.query(
            "SELECT id, at, reviewer, decision, note, file_id, path_key, kind, fingerprint
             FROM central_decisions WHERE site_id = $1 AND applied_at IS NULL ORDER BY id LIMIT 10000",
            &[&site.id],
        )?;
        if rows.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let recorded: HashMap<i64, i64> = local::recorded_central_decisions(local, &ids)?
            .into_iter()
            .collect();
        for (central_id, local_id) in &recorded {
            client.execute(
                "UPDATE central_decisions SET applied_at = coalesce(applied_at, now()), site_decision_id = $2 WHERE id = $1",
                &[central_id, local_id],
            )?;
        }
        let mut todo = Vec::new();
        for r in &rows {
            let id: i64 = r.get(0);
            if recorded.contains_key(&id) {
                continue;
            }
            let decision: String = r.get(3);
            let Ok(decision) = decision.parse::<crate::review::Decision>() else {
                tracing::warn!(
                    central_id = id,
                    "a central decision of an unknown kind; skipped"
                );
                continue;
            };
            todo.push(CentralDecision {
                central_id: id,
                at: r.get(1),
                reviewer: r.get(2),
                decision,
                note: r.get(4),
                file_id: r.get(5),
                path_key: r.get(6),
                kind: r.get(7),
                fingerprint: r.get(8),
            });
        }
        let n = todo.len();
        if n > 0 && !apply(todo) {
            return Ok(0);
        }
        Ok(n)
    }

    /// Ships every row when the centre has no complete snapshot of this
    /// store's current generation. Returns the rows shipped.
    fn snapshot(
        &mut self,
        site: &Registration,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<u64, CentralError> {
        let of = format!("{}/{}", site.centre, site.generation);
        let local = self.local()?;
        let same = local::meta(local, meta_keys::SNAPSHOT_OF)?.as_deref() == Some(of.as_str());
        let cursor = local::meta(local, meta_keys::SNAPSHOT_CURSOR)?;
        let done = cursor.as_deref() == Some("done");
        if same && done && site.snapshot_generation >= site.generation {
            return Ok(0);
        }
        let (mut table, mut after) = match cursor.as_deref().and_then(parse_cursor) {
            Some(c) if same && !done => c,
            _ => {
                // A new snapshot: what the outbox holds now is covered by it.
                let seq = local::last_seq(local)?;
                let tx = local.unchecked_transaction()?;
                local::set_meta(&tx, meta_keys::SNAPSHOT_OF, Some(&of))?;
                local::set_meta(&tx, meta_keys::SNAPSHOT_SEQ, Some(&seq.to_string()))?;
                local::set_meta(&tx, meta_keys::SNAPSHOT_CURSOR, Some("0:"))?;
                tx.commit()?;
                tracing::info!(site = %self.site, generation = site.generation, "central snapshot started");
                (0, i64::MIN)
            }
        };
        let mut shipped = 0;
        while table < SHIPPED.len() {
            if !keep_going() {
                return Ok(shipped);
            }
            let t = &SHIPPED[table];
            let batch = self.batch;
            let rows = local::rows_after(self.local()?, t, after, batch)?;
            let Some(last) = rows.last().map(|r| r.key) else {
                table += 1;
                after = i64::MIN;
                continue;
            };
            let extra = self.extra(t.name, &rows)?;
            let (local, client) = self.both()?;
            let mut tx = client.transaction()?;
            shipped += central::upsert(&mut tx, site.id, site.generation, t, &rows, &extra)?;
            tx.execute(
                "UPDATE sites SET last_sync_at = now() WHERE id = $1",
                &[&site.id],
            )?;
            tx.commit()?;
            after = last;
            local::set_meta(
                local,
                meta_keys::SNAPSHOT_CURSOR,
                Some(&format!("{table}:{after}")),
            )?;
        }
        let (local, client) = self.both()?;
        let mut tx = client.transaction()?;
        let swept = central::sweep(&mut tx, site.id, site.generation)?;
        tx.execute(
            "UPDATE sites SET snapshot_generation = $2, last_sync_at = now() WHERE id = $1",
            &[&site.id, &site.generation],
        )?;
        tx.commit()?;
        let seq: i64 = local::meta(local, meta_keys::SNAPSHOT_SEQ)?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        local::acknowledge_up_to(local, seq)?;
        local::set_meta(local, meta_keys::SNAPSHOT_CURSOR, Some("done"))?;
        tracing::info!(
            site = %self.site,
            rows = shipped,
            removed = swept,
            "central snapshot finished"
        );
        Ok(shipped)
    }

    /// Ships the outbox entries queued before the drain started, oldest
    /// first, one central transaction per batch. Returns the rows shipped.
    fn drain(
        &mut self,
        site: &Registration,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<u64, CentralError> {
        let upto = local::last_seq(self.local()?)?;
        let mut shipped = 0;
        loop {
            if !keep_going() {
                return Ok(shipped);
            }
            let batch = self.batch;
            let entries: Vec<local::OutboxEntry> = local::pending(self.local()?, batch)?
                .into_iter()
                .filter(|e| e.seq <= upto)
                .collect();
            if entries.is_empty() {
                return Ok(shipped);
            }
            let mut by_table: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
            for e in &entries {
                by_table.entry(e.table.as_str()).or_default().push(e.row_id);
            }
            let mut batches = Vec::new();
            for t in SHIPPED {
                let Some(keys) = by_table.get(t.name) else {
                    continue;
                };
                let rows = local::read_rows(self.local()?, t, keys)?;
                let present: std::collections::HashSet<i64> = rows.iter().map(|r| r.key).collect();
                let gone: Vec<i64> = keys
                    .iter()
                    .copied()
                    .filter(|k| !present.contains(k))
                    .collect();
                let extra = self.extra(t.name, &rows)?;
                batches.push((t, rows, gone, extra));
            }
            let left: i64 = local::last_seq(self.local()?)?;
            let (local, client) = self.both()?;
            let mut tx = client.transaction()?;
            for (t, rows, gone, extra) in &batches {
                shipped += central::upsert(&mut tx, site.id, site.generation, t, rows, extra)?;
                central::delete(&mut tx, site.id, t, gone)?;
            }
            let pending_after = left - entries.last().map_or(0, |e| e.seq);
            tx.execute(
                "UPDATE sites SET last_sync_at = now(), outbox_length = $2 WHERE id = $1",
                &[&site.id, &pending_after.max(0)],
            )?;
            tx.commit()?;
            let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
            local::acknowledge(local, &seqs)?;
        }
    }

    /// Queues again (once per process, after the snapshot) the records
    /// verdicts the centre holds without their reason lines: rows shipped
    /// before the centre's schema 2, which only this site can word. A
    /// verdict that does not change is otherwise never shipped again.
    fn queue_verdicts_without_reason_lines(
        &mut self,
        site: &Registration,
    ) -> Result<(), CentralError> {
        let (local, client) = self.both()?;
        let ids: Vec<i64> = client
            .query(
                "SELECT file_id FROM file_records WHERE site_id = $1 AND reason_lines IS NULL",
                &[&site.id],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let tx = local.unchecked_transaction()?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO outbox(tbl, row_id) VALUES ('file_records', ?1) ON CONFLICT(tbl, row_id) DO NOTHING",
            )?;
            for id in &ids {
                st.execute([id])?;
            }
        }
        tx.commit()?;
        tracing::info!(
            site = %self.site,
            verdicts = ids.len(),
            "records verdicts queued again for their reason lines"
        );
        Ok(())
    }

    /// The columns the centre keeps beside a table's own: a records
    /// verdict's reasons as the site words them, in both languages, and
    /// its reason lines with the flags each explains (`reason_lines`, JSON).
    fn extra(&mut self, table: &str, rows: &[ShippedRow]) -> Result<central::Extra, CentralError> {
        if table != "file_records" || rows.is_empty() {
            return Ok(Vec::new());
        }
        let ctx = (self.records)();
        let keys = self.keys.clone();
        let local = self.local()?;
        let ids: Vec<i64> = rows.iter().map(|r| r.key).collect();
        let mut reasons: HashMap<i64, (String, String, String)> = HashMap::new();
        for chunk in ids.chunks(1000) {
            let verdicts = crate::records::apply::evaluate_files(
                local,
                &keys,
                &ctx,
                crate::time::today_jst(),
                Some(chunk),
            )?;
            for v in verdicts {
                let lines: Vec<ReasonLineOut> = v
                    .evaluation
                    .reasons
                    .iter()
                    .map(|r| ReasonLineOut {
                        ja: r.render(crate::records::Lang::Ja),
                        en: r.render(crate::records::Lang::En),
                        flags: r.flags().iter().map(|f| f.as_str()).collect(),
                    })
                    .collect();
                let json = serde_json::to_string(&lines)
                    .map_err(|e| CentralError::Invalid(format!("reason lines: {e}")))?;
                reasons.insert(
                    v.file_id,
                    (
                        v.evaluation.explain(crate::records::Lang::Ja).join("\n"),
                        v.evaluation.explain(crate::records::Lang::En).join("\n"),
                        json,
                    ),
                );
            }
        }
        let (mut ja, mut en, mut lines) = (Vec::new(), Vec::new(), Vec::new());
        for id in &ids {
            let (j, e, l) = match reasons.remove(id) {
                Some((j, e, l)) => (Some(j), Some(e), Some(l)),
                None => (None, None, None),
            };
            ja.push(j);
            en.push(e);
            lines.push(l);
        }
        Ok(vec![
            ("reasons_ja", ja),
            ("reasons_en", en),
            ("reason_lines", lines),
        ])
    }

    /// The service's sync loop: a cycle every `interval`, backing off while
    /// the centre fails; returns when `stopping` says so.
    pub fn run_until(
        &mut self,
        interval: Duration,
        stopping: &dyn Fn() -> bool,
        apply: &mut dyn FnMut(Vec<CentralDecision>) -> bool,
    ) {
        let mut failures: u32 = 0;
        let mut next = Instant::now();
        let keep_going = || !stopping();
        while !stopping() {
            if Instant::now() >= next {
                let opts = CycleOptions {
                    keep_going: &keep_going,
                    apply: Some(&mut *apply),
                };
                match self.cycle(opts) {
                    Ok(r) => {
                        if failures > 0 {
                            tracing::info!(centre = %self.target.shown(), "the centre is reachable again");
                        }
                        if r.shipped + r.snapshot_rows > 0 || r.decisions > 0 {
                            tracing::debug!(
                                shipped = r.shipped,
                                snapshot = r.snapshot_rows,
                                decisions = r.decisions,
                                left = r.outbox_left,
                                "central sync"
                            );
                        }
                        failures = 0;
                        next = Instant::now() + interval;
                    }
                    Err(e) => {
                        failures = failures.saturating_add(1);
                        let delay = backoff(interval, failures);
                        tracing::warn!(
                            centre = %self.target.shown(),
                            "central sync failed ({e}); the site keeps its changes and retries in {}s",
                            delay.as_secs()
                        );
                        next = Instant::now() + delay;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// On shutdown: once the writer is done, ships what is left (decisions
    /// are not taken: nothing would record them), until `deadline`.
    pub fn flush(&mut self, writer_done: &dyn Fn() -> bool, deadline: Option<Instant>) {
        let wait_until = Instant::now() + Duration::from_secs(30);
        while !writer_done() && Instant::now() < wait_until {
            std::thread::sleep(Duration::from_millis(50));
        }
        let keep_going = || deadline.is_none_or(|d| Instant::now() < d);
        match self.cycle(CycleOptions {
            keep_going: &keep_going,
            apply: None,
        }) {
            Ok(r) => tracing::info!(
                shipped = r.shipped + r.snapshot_rows,
                left = r.outbox_left,
                "central sync on shutdown"
            ),
            Err(e) => tracing::warn!(
                "central sync on shutdown failed ({e}); the changes are shipped on the next start"
            ),
        }
    }
}

/// One reason line as the centre keeps it (`file_records.reason_lines`):
/// its text in both languages and the flags it explains.
#[derive(serde::Serialize)]
struct ReasonLineOut {
    ja: String,
    en: String,
    flags: Vec<&'static str>,
}

/// The wait after `failures` failures in a row: the interval doubled each
/// time, at most five minutes (and never less than the interval).
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    let cap = Duration::from_secs(300).max(interval);
    interval
        .checked_mul(1u32 << failures.min(16))
        .unwrap_or(cap)
        .min(cap)
}

fn parse_cursor(s: &str) -> Option<(usize, i64)> {
    let (t, k) = s.split_once(':')?;
    let t: usize = t.parse().ok()?;
    let k = if k.is_empty() {
        i64::MIN
    } else {
        k.parse().ok()?
    };
    Some((t, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        let i = Duration::from_secs(10);
        assert_eq!(backoff(i, 1), Duration::from_secs(20));
        assert_eq!(backoff(i, 3), Duration::from_secs(80));
        assert_eq!(backoff(i, 10), Duration::from_secs(300));
        assert_eq!(backoff(i, 1000), Duration::from_secs(300));
        assert_eq!(
            backoff(Duration::from_secs(900), 2),
            Duration::from_secs(900)
        );
    }

    #[test]
    fn snapshot_cursors_round_trip() {
        assert_eq!(parse_cursor("0:"), Some((0, i64::MIN)));
        assert_eq!(parse_cursor("3:1200"), Some((3, 1200)));
        assert_eq!(parse_cursor("done"), None);
    }
}
