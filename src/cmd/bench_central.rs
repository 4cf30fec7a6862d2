//! `mamori bench --central [URL]`: the central sync's figures (README, One
//! view across file servers), against its own throwaway PostgreSQL cluster
//! (`temp_pg`) or an empty database at URL, which it migrates:
//! 1. the first sync (full snapshot) of a generated store of N findings
//!    (50,000 files with 20 findings each for a million), rows per second;
//! 2. the steady-state lag from a file written into a watched folder to its
//!    findings at the centre, with `sync_interval_secs` 1 and 10 (p50, p95);
//! 3. the outbox while the centre is down: the real service with an
//!    unreachable centre takes a burst of file changes (new files, edits,
//!    deletions) standing for an hour of a busy server's changes; entries
//!    and bytes on disk per change are measured (not estimated), and the
//!    hour is that burst: growth is linear in changes (one outbox entry per
//!    changed row, a row changed again is not queued twice), so another
//!    hourly rate scales it; then the centre comes back and the catch-up is
//!    timed.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rusqlite::params;

use mamori::central::sync::{CycleOptions, SiteSync};
use mamori::config::Config;
use mamori::keys::KeySet;

use super::bench::{tempfile_dir, terminate};
use mamori::sample_text::my_number_from;

const FINDINGS_PER_FILE: usize = 20;
const KINDS: [(&str, &str); 5] = [
    ("my_number", "********6428"),
    ("person_name", "山田 **"),
    ("phone_number", "090-****-5678"),
    ("postal_address", "東京都千代田区****"),
    ("email_address", "t****@example.jp"),
];

fn config_text(
    db: &Path,
    share: &Path,
    key: &Path,
    url: &str,
    site: &str,
    interval: u64,
) -> String {
    format!(
        "[store]\ndatabase = \"{}\"\nkey_file = \"{}\"\n[service]\ndebounce_ms = 100\nstable_ms = 100\n\
         [[root]]\npath = \"{}\"\nlabel = \"bench\"\n[central]\nurl = \"{url}\"\nsite = \"{site}\"\nsync_interval_secs = {interval}\n",
        db.display(),
        key.display(),
        share.display()
    )
}

/// A store of `findings` findings in files of twenty, as a site that was
/// scanning before it had a centre would hold them.
fn generate(db: &Path, keys: &KeySet, findings: usize) -> Result<(usize, usize)> {
    let store = mamori::store::Store::open(db, keys)?;
    let conn = store.connection();
    let files = findings.div_ceil(FINDINGS_PER_FILE);
    let t = mamori::time::now();
    let tx = conn.unchecked_transaction()?;
    {
        let mut file = tx.prepare(
            "INSERT INTO files(id, path, path_key, root, size, mtime_ns, content_hash, detector_set, format,
                 first_seen_at, last_scanned_at) VALUES (?1, ?2, ?3, '/srv/share', 40000, 1700000000000000000, ?4, 'bench', 'xlsx', ?5, ?5)",
        )?;
        let mut finding = tx.prepare(
            "INSERT INTO findings(file_id, member, kind, confidence, location, masked, fingerprint, detector_id,
                 detector_version, first_seen_at, last_seen_at) VALUES (?1, '', ?2, 'high', ?3, ?4, ?5, ?2, 1, ?6, ?6)",
        )?;
        let mut event = tx.prepare(
            "INSERT INTO events(at, kind, file_id, detail) VALUES (?1, 'file_added', ?2, ?3)",
        )?;
        let mut record = tx.prepare(
            "INSERT INTO file_records(file_id, as_of, retention, flags, evaluated_at) VALUES (?1, ?2, '5', ?3, ?4)",
        )?;
        let today = mamori::time::today_jst().to_string();
        let mut n = 0;
        for f in 0..files {
            let id = f as i64 + 1;
            let path = format!("/srv/share/課{:02}/{:04}/名簿{f:07}.xlsx", f % 40, f % 1000);
            let key = sha(&format!("path {f}"));
            file.execute(params![id, path, key, sha(&format!("content {f}")), t])?;
            event.execute(params![t, id, path])?;
            record.execute(params![
                id,
                today,
                if f % 3 == 0 {
                    "my_number_outside_area"
                } else {
                    ""
                },
                t
            ])?;
            for j in 0..FINDINGS_PER_FILE {
                if n == findings {
                    break;
                }
                let (kind, masked) = KINDS[j % KINDS.len()];
                finding.execute(params![
                    id,
                    kind,
                    format!("sheet 1 row {} column {}", j + 2, j % KINDS.len() + 1),
                    masked,
                    sha(&format!("value {} {j}", f % 5000)),
                    t
                ])?;
                n += 1;
            }
        }
    }
    tx.commit()?;
    Ok((files, findings))
}

fn sha(s: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes()).to_vec()
}

fn count_central(
    c: &mut postgres::Client,
    sql: &str,
    p: &[&(dyn postgres::types::ToSql + Sync)],
) -> i64 {
    c.query_one(sql, p).map(|r| r.get(0)).unwrap_or(-1)
}

fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

/// The centre: a database at the URL given, or one in a cluster of our own.
struct Centre {
    url: String,
    #[cfg(unix)]
    _cluster: Option<super::temp_pg::TempCluster>,
}

fn centre(url: Option<&str>, dir: &Path) -> Result<(Centre, String)> {
    if let Some(url) = url {
        return Ok((
            Centre {
                url: url.to_string(),
                #[cfg(unix)]
                _cluster: None,
            },
            "the database given".into(),
        ));
    }
    #[cfg(unix)]
    {
        let cluster = super::temp_pg::TempCluster::start(&dir.join("pg"))?;
        let url = cluster.create_db("central")?;
        let what = format!(
            "a throwaway PostgreSQL {} cluster on 127.0.0.1, fsync on",
            cluster.version()
        );
        Ok((
            Centre {
                url,
                _cluster: Some(cluster),
            },
            what,
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        anyhow::bail!("give --central URL (an empty PostgreSQL database)")
    }
}

pub fn run(url: Option<&str>, findings: usize, changes: usize) -> Result<ExitCode> {
    let exe = std::env::current_exe()?;
    let dir = tempfile_dir()?;
    let result = run_in(&exe, &dir, url, findings, changes);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(
    exe: &Path,
    dir: &Path,
    url: Option<&str>,
    findings: usize,
    changes: usize,
) -> Result<ExitCode> {
    // Site names unique to this run (a database given may have seen others).
    let tag = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.rsplit('-').next())
        .unwrap_or("0")
        .chars()
        .take(6)
        .collect::<String>();
    let (centre, what) = centre(url, dir)?;
    let url = centre.url.as_str();
    let key_file = dir.join("fingerprint.key");
    let key = mamori::keys::load_or_create(&key_file)?;
    let keys = KeySet::new(key);
    let target = mamori::central::connect::Target::new(url, None, None)?;
    let mut central = target.connect().context("connecting to the centre")?;
    mamori::central::schema::migrate(&mut central)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "mamori bench --central ({}: {what})", target.shown())?;
    let snapshot_site = format!("bench-snapshot-{tag}");

    // 1. The first sync of a large store.
    let share = dir.join("share");
    std::fs::create_dir_all(&share)?;
    let db = dir.join("snapshot/mamori.db");
    let t = Instant::now();
    let (files, findings) = generate(&db, &keys, findings)?;
    writeln!(
        out,
        "generated store: {files} files, {findings} findings, {files} events and verdicts ({:.1} s)",
        t.elapsed().as_secs_f64()
    )?;
    let cfg_path = dir.join("snapshot.toml");
    std::fs::write(
        &cfg_path,
        config_text(&db, &share, &key_file, url, &snapshot_site, 10),
    )?;
    let cfg = Config::load(&cfg_path)?;
    let ctx = std::sync::Arc::new(cfg.records_context()?);
    {
        let store = mamori::store::Store::open(&db, &keys)?;
        mamori::store::outbox::set_enabled(store.connection(), true)?;
    }
    let mut sync = SiteSync::new(&cfg, keys.clone(), Box::new(move || ctx.clone()))?;
    let t = Instant::now();
    let report = sync.cycle(CycleOptions {
        keep_going: &|| true,
        apply: None,
    })?;
    let secs = t.elapsed().as_secs_f64();
    let shipped_findings = count_central(
        &mut central,
        "SELECT count(*) FROM findings f JOIN sites s ON s.id = f.site_id WHERE s.name = $1",
        &[&snapshot_site],
    );
    writeln!(
        out,
        "first sync (full snapshot): {} rows in {secs:.1} s = {:.0} rows/s ({:.0} findings/s); {shipped_findings} findings at the centre",
        report.snapshot_rows,
        report.snapshot_rows as f64 / secs,
        findings as f64 / secs
    )?;
    let t = Instant::now();
    let again = sync.request_resync().and_then(|_| {
        sync.cycle(CycleOptions {
            keep_going: &|| true,
            apply: None,
        })
    })?;
    writeln!(
        out,
        "resync of the same store: {} rows in {:.1} s (no duplicates: {} findings at the centre)",
        again.snapshot_rows,
        t.elapsed().as_secs_f64(),
        count_central(
            &mut central,
            "SELECT count(*) FROM findings f JOIN sites s ON s.id = f.site_id WHERE s.name = $1",
            &[&snapshot_site],
        )
    )?;
    drop(sync);

    // 2. Steady-state lag, with the service.
    for interval in [1u64, 10] {
        let live = dir.join(format!("live{interval}"));
        std::fs::create_dir_all(&live)?;
        let site = format!("bench-live-{interval}s-{tag}");
        let live_db = dir.join(format!("live{interval}-state/mamori.db"));
        let cfg = dir.join(format!("live{interval}.toml"));
        std::fs::write(
            &cfg,
            config_text(&live_db, &live, &key_file, url, &site, interval),
        )?;
        let mut child = std::process::Command::new(exe)
            .args(["run", "--config"])
            .arg(&cfg)
            .env("MAMORI_OCR", "off")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        if !wait_for(Duration::from_secs(120), || {
            count_central(
                &mut central,
                "SELECT count(*) FROM sites WHERE name = $1 AND snapshot_generation >= generation",
                &[&site],
            ) == 1
        }) {
            terminate(&mut child);
            let _ = child.wait();
            anyhow::bail!("the service's first sync did not complete in two minutes");
        }
        // Files are written at random moments (not after the previous one
        // arrived, which would line every write up with the sync cycle),
        // and the centre is polled for all of them.
        let n = 40;
        let mut written: Vec<(String, Instant)> = Vec::new();
        let mut lags: Vec<Option<f64>> = Vec::new();
        let mut rng = 12345u64;
        let mut next_write = Instant::now();
        let begun = Instant::now();
        while lags.iter().filter(|l| l.is_some()).count() < n {
            if begun.elapsed() > Duration::from_secs(300) {
                anyhow::bail!("changes did not reach the centre in five minutes");
            }
            if written.len() < n && Instant::now() >= next_write {
                let name = format!("変更{:03}.txt", written.len());
                std::fs::write(
                    live.join(&name),
                    format!("個人番号 {}\n", my_number_from(9000 + written.len() as u64)),
                )?;
                written.push((name, Instant::now()));
                lags.push(None);
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                next_write = Instant::now() + Duration::from_millis(250 + (rng >> 33) % 750);
            }
            let seen: Vec<String> = central
                .query(
                    "SELECT DISTINCT x.path FROM findings f JOIN files x ON x.site_id = f.site_id AND x.id = f.file_id
                     JOIN sites s ON s.id = f.site_id WHERE s.name = $1",
                    &[&site],
                )
                .map(|rows| rows.iter().map(|r| r.get(0)).collect())
                .unwrap_or_default();
            for (i, (name, at)) in written.iter().enumerate() {
                if lags[i].is_none() && seen.iter().any(|p| p.ends_with(name.as_str())) {
                    lags[i] = Some(at.elapsed().as_secs_f64());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut lags: Vec<f64> = lags.into_iter().flatten().collect();
        terminate(&mut child);
        let _ = child.wait();
        lags.sort_by(f64::total_cmp);
        writeln!(
            out,
            "lag from a file written to its findings at the centre (sync_interval_secs = {interval}, 40 files): p50 {:.2} s, p95 {:.2} s, max {:.2} s",
            pct(&lags, 0.5),
            pct(&lags, 0.95),
            lags.last().copied().unwrap_or(0.0)
        )?;
    }

    // 3. The centre down: the outbox grows with what changed.
    let down = dir.join("down");
    std::fs::create_dir_all(&down)?;
    let down_db = dir.join("down-state/mamori.db");
    let cfg = dir.join("down.toml");
    let down_site = format!("bench-down-{tag}");
    let dead = "postgres://mamori@127.0.0.1:1/central";
    let service = |cfg: &Path| {
        std::process::Command::new(exe)
            .args(["run", "--config"])
            .arg(cfg)
            .env("MAMORI_OCR", "off")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
    };
    // The site syncs first (its snapshot done), then the centre goes away.
    std::fs::write(
        &cfg,
        config_text(&down_db, &down, &key_file, url, &down_site, 10),
    )?;
    let mut child = service(&cfg)?;
    let registered = wait_for(Duration::from_secs(120), || {
        count_central(
            &mut central,
            "SELECT count(*) FROM sites WHERE name = $1 AND snapshot_generation >= generation",
            &[&down_site],
        ) == 1
    });
    terminate(&mut child);
    let _ = child.wait();
    if !registered {
        anyhow::bail!("the site's first sync did not complete in two minutes");
    }
    std::fs::write(
        &cfg,
        config_text(&down_db, &down, &key_file, dead, &down_site, 10),
    )?;
    let mut child = service(&cfg)?;
    std::thread::sleep(Duration::from_secs(3));
    // A list of ten people each: name, My Number, phone, address.
    let list = |seed: u64| -> String {
        let mut s = String::from("氏名,個人番号,電話番号,住所\n");
        for p in 0..10 {
            s.push_str(&format!(
                "山田 太郎,{},090-1234-{:04},東京都千代田区霞が関1丁目{}番{}号\n",
                my_number_from(seed * 10 + p),
                (seed * 10 + p) % 10000,
                p % 9 + 1,
                seed % 20 + 1
            ));
        }
        s
    };
    let edits = changes / 4;
    let deletions = changes / 12;
    let new_files = changes - edits - deletions;
    let t = Instant::now();
    for i in 0..new_files as u64 {
        std::fs::write(down.join(format!("名簿{i:05}.csv")), list(100_000 + i))?;
        std::thread::sleep(Duration::from_millis(25));
    }
    for i in 0..edits as u64 {
        std::fs::write(down.join(format!("名簿{i:05}.csv")), list(300_000 + i))?;
        std::thread::sleep(Duration::from_millis(25));
    }
    // Deleted: files neither edited nor among the last written.
    let first_deleted = edits.min(new_files.saturating_sub(deletions)) as u64;
    for i in first_deleted..first_deleted + deletions as u64 {
        std::fs::remove_file(down.join(format!("名簿{i:05}.csv")))?;
        std::thread::sleep(Duration::from_millis(25));
    }
    let burst = t.elapsed().as_secs_f64();
    // The service has taken every change in when the store holds the live
    // files and the deletions, and the outbox has stopped growing.
    let reader = || mamori::store::Store::open_read_only(&down_db);
    let state = || -> Option<(i64, i64, i64)> {
        let c = reader().ok()?;
        c.query_row(
            "SELECT (SELECT count(*) FROM files WHERE deleted_at IS NULL),
                    (SELECT count(*) FROM files WHERE deleted_at IS NOT NULL),
                    (SELECT count(*) FROM outbox)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok()
    };
    let mut last = (-1, -1, -1);
    let mut stable_since = Instant::now();
    let settled = wait_for(Duration::from_secs(600), || {
        let Some(now) = state() else { return false };
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
        now.0 == (new_files - deletions) as i64
            && now.1 >= deletions as i64
            && stable_since.elapsed() > Duration::from_secs(5)
    });
    terminate(&mut child);
    let _ = child.wait();
    if !settled {
        anyhow::bail!("the service did not take the changes in within ten minutes: {last:?}");
    }
    let conn = reader()?;
    let entries: i64 = conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
    let by_table: Vec<(String, i64)> = {
        let mut st = conn.prepare("SELECT tbl, count(*) FROM outbox GROUP BY tbl ORDER BY tbl")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    drop(conn);
    // Bytes the outbox takes: the database vacuumed with it, and without it.
    let copy = dir.join("down-copy.db");
    {
        let c = mamori::store::Store::open_read_only(&down_db)?;
        c.execute("VACUUM INTO ?1", params![copy.to_string_lossy()])?;
    }
    let with = std::fs::metadata(&copy)?.len();
    {
        let c = rusqlite::Connection::open(&copy)?;
        c.execute_batch("DELETE FROM outbox; VACUUM;")?;
    }
    let without = std::fs::metadata(&copy)?.len();
    let bytes = with.saturating_sub(without);
    writeln!(
        out,
        "centre down, {changes} file changes ({new_files} new lists of 10 people, {edits} edited, {deletions} deleted) in {burst:.0} s: \
         {entries} outbox entries ({}), {bytes} bytes on disk ({:.0} bytes/entry, {:.1} entries and {:.0} bytes per change)",
        by_table
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        bytes as f64 / entries.max(1) as f64,
        entries as f64 / changes.max(1) as f64,
        bytes as f64 / changes.max(1) as f64,
    )?;
    writeln!(
        out,
        "an hour of the centre down at {changes} changes an hour: the outbox grows by {entries} entries, {:.2} MB \
         (linear in the hourly changes; a day: {:.1} MB)",
        bytes as f64 / 1e6,
        bytes as f64 * 24.0 / 1e6
    )?;
    // The centre is back: how long the catch-up takes.
    std::fs::write(
        &cfg,
        config_text(&down_db, &down, &key_file, url, &down_site, 10),
    )?;
    let mut child = service(&cfg)?;
    let t = Instant::now();
    let caught_up = wait_for(Duration::from_secs(600), || {
        reader()
            .ok()
            .and_then(|c| {
                c.query_row("SELECT count(*) = 0 FROM outbox", [], |r| {
                    r.get::<_, bool>(0)
                })
                .ok()
            })
            .unwrap_or(false)
    });
    let catch_up = t.elapsed().as_secs_f64();
    terminate(&mut child);
    let _ = child.wait();
    let at_centre = count_central(
        &mut central,
        "SELECT count(*) FROM files x JOIN sites s ON s.id = x.site_id WHERE s.name = $1 AND x.deleted_at IS NULL",
        &[&down_site],
    );
    writeln!(
        out,
        "centre back: {} in {catch_up:.1} s ({entries} entries shipped; {at_centre} live files at the centre, {} on the site)",
        if caught_up { "caught up" } else { "NOT caught up" },
        new_files - deletions
    )?;
    drop(central);
    drop(centre);
    Ok(ExitCode::SUCCESS)
}
