//! One view across file servers (issue 15), against a real PostgreSQL that
//! each test starts for itself (`tests/pg.rs`): sites ship their stores to
//! one centre; the centre is the union of the sites; nothing is lost or
//! doubled when PostgreSQL stops mid-sync or the service is killed with -9
//! mid-batch; decisions made at the centre reach the owning site; the
//! centre never holds a full identifier; TLS checks the server's name.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use rusqlite::types::Value;

use crate::daemon::{query, share, stop, wait_until};
use crate::pg::{Pg, ADMIN, PASSWORD_ROLE};
use crate::util::root;

use mamori::store::outbox::{ColumnType, ShippedTable, SHIPPED};

/// Columns every walk moves without a change a reader sees: shipped with
/// a row's real changes, not on their own (see `store::outbox`).
const VOLATILE: &[(&str, &str)] = &[
    ("files", "last_scanned_at"),
    ("findings", "last_seen_at"),
    ("file_records", "as_of"),
    ("file_records", "evaluated_at"),
    ("roots", "files_seen"),
    ("roots", "checked_at"),
];

/// The organisation's fingerprint key, installed on every site (mode 0600).
const ORG_KEY: &str = "8d3c1f0a5b7e9d2c4a6f8e1b3d5c7a9e0f2b4d6c8a1e3f5b7d9c2a4e6f8b0d1c\n";

/// A file server: its directory, configuration and database.
struct Site {
    name: String,
    dir: PathBuf,
    cfg: PathBuf,
    db: PathBuf,
}

impl Site {
    /// A site with `files` files (half resident lists with My Numbers),
    /// the organisation's key, and `[central]` pointing at `url`.
    fn new(base: &Path, name: &str, url: &str, files: usize, extra: &str) -> Site {
        let dir = base.join(name);
        std::fs::create_dir_all(dir.join("state")).unwrap();
        share(&dir, files);
        install_key(&dir.join("state/fingerprint.key"));
        let site = Site {
            name: name.into(),
            cfg: dir.join("mamori.toml"),
            db: dir.join("state/mamori.db"),
            dir,
        };
        site.configure(url, extra);
        site
    }

    fn configure(&self, url: &str, extra: &str) {
        std::fs::write(
            &self.cfg,
            format!(
                "[store]\ndatabase = \"{db}\"\n[scan]\nworkers = 2\n[service]\nreconcile_interval_secs = 3600\ndebounce_ms = 100\nstable_ms = 100\n\
                 [[root]]\npath = \"{share}\"\nlabel = \"総務課\"\n[central]\nurl = \"{url}\"\nsite = \"{name}\"\nsync_interval_secs = 1\n{extra}",
                db = self.db.display(),
                share = self.dir.join("share").display(),
                name = self.name,
            ),
        )
        .unwrap();
    }

    fn share(&self) -> PathBuf {
        self.dir.join("share")
    }
}

fn install_key(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, ORG_KEY).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn mamori(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .current_dir(root())
        .args(args)
        .env("MAMORI_OCR", "off")
        .env_remove("MAMORI_CENTRAL_PASSWORD")
        .env_remove("MAMORI_LANG")
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = mamori(args);
    assert!(
        out.status.success(),
        "mamori {args:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn migrate(url: &str) {
    let out = ok(&["central", "migrate", "--url", url]);
    let current = mamori::central::schema::CURRENT;
    assert!(
        out.contains(&format!("migrated from version 0 to {current}")),
        "{out}"
    );
}

/// A service process (stderr kept in a file, for the password test).
fn start_service(site: &Site) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["run", "--config", site.cfg.to_str().unwrap()])
        .env("MAMORI_OCR", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

fn text_of(v: &Value, ty: ColumnType) -> String {
    match (v, ty) {
        (Value::Null, _) => "NULL".into(),
        (Value::Integer(i), _) => i.to_string(),
        (Value::Text(s), ColumnType::Blob) => hex::encode(s.as_bytes()),
        (Value::Text(s), _) => s.clone(),
        (Value::Blob(b), _) => hex::encode(b),
        (Value::Real(f), _) => (*f as i64).to_string(),
    }
}

fn compared(t: &ShippedTable) -> Vec<(&'static str, ColumnType)> {
    t.columns
        .iter()
        .filter(|(c, _)| !VOLATILE.contains(&(t.name, *c)))
        .copied()
        .collect()
}

/// A table's rows in a site's store, as text.
fn local_rows(db: &Path, t: &ShippedTable) -> BTreeSet<Vec<String>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let cols = compared(t);
    let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
    let mut st = conn
        .prepare(&format!(
            "SELECT {}, {} FROM {}",
            t.key,
            names.join(", "),
            t.name
        ))
        .unwrap();
    let rows = st
        .query_map([], |r| {
            let mut v = vec![r.get::<_, i64>(0)?.to_string()];
            for (i, (_, ty)) in cols.iter().enumerate() {
                v.push(text_of(&r.get::<_, Value>(i + 1)?, *ty));
            }
            Ok(v)
        })
        .unwrap();
    rows.map(|r| r.unwrap()).collect()
}

/// The same table's rows of `site` at the centre, as text.
fn central_rows(c: &mut postgres::Client, site: &str, t: &ShippedTable) -> BTreeSet<Vec<String>> {
    let cols = compared(t);
    let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
    let key = if t.key == "rowid" { "id" } else { t.key };
    let rows = c
        .query(
            &format!(
                "SELECT {key}, {} FROM {} WHERE site_id = (SELECT id FROM sites WHERE name = $1)",
                names.join(", "),
                t.name
            ),
            &[&site],
        )
        .unwrap();
    rows.iter()
        .map(|r| {
            let mut v = vec![r.get::<_, i64>(0).to_string()];
            for (i, (_, ty)) in cols.iter().enumerate() {
                let value = match ty {
                    ColumnType::Int => r.get::<_, Option<i64>>(i + 1).map(Value::Integer),
                    ColumnType::Text => r.get::<_, Option<String>>(i + 1).map(Value::Text),
                    ColumnType::Blob => r.get::<_, Option<Vec<u8>>>(i + 1).map(Value::Blob),
                }
                .unwrap_or(Value::Null);
                v.push(text_of(&value, *ty));
            }
            v
        })
        .collect()
}

/// The centre holds exactly the site's rows, table by table.
fn assert_centre_equals(url: &str, site: &Site) {
    let mut c = client(url);
    for t in SHIPPED {
        let local = local_rows(&site.db, t);
        let central = central_rows(&mut c, &site.name, t);
        if local != central {
            let missing: Vec<_> = local.difference(&central).take(3).collect();
            let extra: Vec<_> = central.difference(&local).take(3).collect();
            panic!(
                "{}: table {} differs ({} local, {} central); missing at the centre {missing:?}; extra {extra:?}",
                site.name,
                t.name,
                local.len(),
                central.len()
            );
        }
    }
}

fn outbox_len(db: &Path) -> i64 {
    query(db, "SELECT count(*) FROM outbox")
}

/// Waits until the site's outbox is empty and the centre equals it.
fn wait_synced(url: &str, site: &Site, limit: Duration) {
    wait_until("the outbox to drain", limit, || {
        outbox_len(&site.db) == 0
            && query(
                &site.db,
                "SELECT count(*) FROM meta WHERE key = 'central_snapshot_cursor' AND value = 'done'",
            ) == 1
    });
    // The last batch may be committed centrally a moment before the
    // outbox entry is deleted: equal from then on.
    assert_centre_equals(url, site);
}

#[test]
fn two_sites_sync_into_one_centre_that_equals_their_union() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    // Migrating again is a no-op.
    assert!(ok(&["central", "migrate", "--url", &url]).contains("up to date"));
    let base = tempfile::tempdir().unwrap();
    let honcho = Site::new(base.path(), "本庁舎", &url, 24, "");
    let shisho = Site::new(base.path(), "支所", &url, 12, "batch_size = 7\n");
    for s in [&honcho, &shisho] {
        ok(&["run", "--once", "--config", s.cfg.to_str().unwrap()]);
        assert_eq!(
            outbox_len(&s.db),
            0,
            "run --once ships everything before it exits"
        );
        assert_centre_equals(&url, s);
    }
    let mut c = client(&url);
    assert_eq!(pg.count("central", "SELECT count(*) FROM sites"), 2);

    // The centre's review list is the union of the sites' lists.
    let lines = |out: &str| -> BTreeSet<String> {
        out.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                format!(
                    "{}|{}|{}|{}",
                    v["path"].as_str().unwrap(),
                    v["kind"],
                    v["location"],
                    v["masked"]
                )
            })
            .collect()
    };
    let mut union = BTreeSet::new();
    for s in [&honcho, &shisho] {
        let out = ok(&[
            "review",
            "list",
            "--config",
            s.cfg.to_str().unwrap(),
            "--format",
            "jsonl",
            "--limit",
            "0",
        ]);
        union.extend(lines(&out).into_iter().map(|l| format!("{}:{l}", s.name)));
    }
    let central = ok(&[
        "review",
        "list",
        "--central",
        &url,
        "--format",
        "jsonl",
        "--limit",
        "0",
    ]);
    assert!(union.len() > 50, "{} findings", union.len());
    assert_eq!(
        lines(&central),
        union,
        "the centre's list is the union of the sites'"
    );
    let summary = ok(&[
        "review",
        "list",
        "--central",
        &url,
        "--root",
        "支所",
        "--lang",
        "en",
        "--limit",
        "0",
    ]);
    assert!(
        summary.contains(&format!(
            "of {} finding(s) shown",
            union.iter().filter(|l| l.starts_with("支所:")).count()
        )),
        "{summary}"
    );

    // The same My Number on both servers is one value in several places.
    let shared = ok(&["central", "shared", "--central", &url, "--format", "jsonl"]);
    let values: Vec<serde_json::Value> = shared
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let v = values
        .iter()
        .find(|v| v["masked"].as_str().unwrap().ends_with("6428"))
        .unwrap_or_else(|| panic!("258231856428 is on both sites: {shared}"));
    assert_eq!(v["sites"], 2);
    let sites: BTreeSet<&str> = v["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["site"].as_str().unwrap())
        .collect();
    assert_eq!(sites, BTreeSet::from(["本庁舎", "支所"]));
    assert!(!shared.contains("258231856428"));

    // Changes on a site reach the centre: a file deleted, one added, one changed.
    std::fs::remove_file(honcho.share().join("名簿_0001.csv")).unwrap();
    std::fs::write(honcho.share().join("新規.txt"), "個人番号 6147 4849 2532\n").unwrap();
    std::fs::write(honcho.share().join("請求書_0000.txt"), "内容を消しました\n").unwrap();
    ok(&["run", "--once", "--config", honcho.cfg.to_str().unwrap()]);
    assert_centre_equals(&url, &honcho);
    let deleted: i64 = c
        .query_one(
            "SELECT count(*) FROM files x JOIN sites s ON s.id = x.site_id WHERE s.name = '本庁舎' AND x.deleted_at IS NOT NULL",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(deleted, 1);
    // Weekly report and records at the centre: every site's files.
    let report = mamori::central::query::weekly_report(
        &mut c,
        mamori::report::Week::of(mamori::time::today_jst()),
        None,
        mamori::records::Lang::Ja,
    )
    .unwrap();
    assert_eq!(
        report.totals.files_tracked,
        query(
            &honcho.db,
            "SELECT count(*) FROM files WHERE deleted_at IS NULL"
        ) + query(
            &shisho.db,
            "SELECT count(*) FROM files WHERE deleted_at IS NULL"
        )
    );
    assert!(report
        .open_files
        .iter()
        .any(|f| f.path.starts_with("支所:")));
    assert!(report
        .open_files
        .iter()
        .any(|f| f.path.starts_with("本庁舎:") && f.root == "本庁舎:総務課"));
    let records = ok(&["records", "--central", &url, "--format", "jsonl"]);
    assert_eq!(
        records.lines().count() as i64,
        report.totals.files_tracked,
        "one line per live file"
    );
    let status = ok(&["status", "--central", &url]);
    assert!(
        status.contains("本庁舎:") && status.contains("支所:"),
        "{status}"
    );
    let local_status = ok(&["status", "--config", honcho.cfg.to_str().unwrap()]);
    assert!(
        local_status.contains("0 change(s) waiting in the outbox"),
        "{local_status}"
    );
}

/// A My Number with its check digit (the 11 digits given).
fn my_number(body: u64) -> String {
    let digits: Vec<u32> = format!("{body:011}")
        .chars()
        .map(|c| c.to_digit(10).unwrap())
        .collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let n = i as u32 + 1;
            d * if n <= 6 { n + 1 } else { n - 5 }
        })
        .sum();
    let r = sum % 11;
    let check = if r <= 1 { 0 } else { 11 - r };
    format!("{body:011}{check}")
}

#[test]
fn a_decision_made_at_the_centre_reaches_the_site_once() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let site = Site::new(base.path(), "教育委員会", &url, 6, "");
    let cfg = site.cfg.to_str().unwrap();
    ok(&["run", "--once", "--config", cfg]);
    let list = ok(&[
        "review",
        "list",
        "--central",
        &url,
        "--kind",
        "my_number",
        "--format",
        "jsonl",
        "--limit",
        "0",
    ]);
    let first: serde_json::Value = serde_json::from_str(list.lines().next().unwrap()).unwrap();
    let (id, path) = (
        first["id"].as_i64().unwrap(),
        first["path"].as_str().unwrap().to_string(),
    );
    let open_before = query(
        &site.db,
        "SELECT count(*) FROM findings WHERE review_state = 'false_positive'",
    );
    assert_eq!(open_before, 0);

    let out = ok(&[
        "review",
        "mark",
        "--central",
        &url,
        "--finding",
        &id.to_string(),
        "--decision",
        "false_positive",
        "--reviewer",
        "記録係 山田",
    ]);
    assert!(out.contains("1 finding(s) marked false_positive"), "{out}");
    // The centre shows it at once; the trail says the site has not recorded it yet.
    let fp = ok(&[
        "review",
        "list",
        "--central",
        &url,
        "--status",
        "false_positive",
        "--format",
        "jsonl",
    ]);
    assert!(fp.contains(&format!("\"id\":{id}")), "{fp}");
    let history = ok(&["review", "history", "--central", &url, &path]);
    assert!(
        history.contains("made at the centre") && history.contains("記録係 山田"),
        "{history}"
    );

    // The next sync: the site records it once, as a decision from the centre.
    ok(&["central", "sync", "--config", cfg]);
    assert_eq!(
        query(
            &site.db,
            "SELECT count(*) FROM decisions WHERE central_id IS NOT NULL"
        ),
        1
    );
    assert!(
        query(
            &site.db,
            "SELECT count(*) FROM findings WHERE review_state = 'false_positive'"
        ) >= 1
    );
    let shown = ok(&[
        "review",
        "show",
        "--config",
        cfg,
        path.split_once(':').unwrap().1,
    ]);
    assert!(
        shown.contains("記録係 山田"),
        "the site's trail has it: {shown}"
    );
    assert_eq!(
        pg.count("central", "SELECT count(*) FROM central_decisions WHERE applied_at IS NOT NULL AND site_decision_id IS NOT NULL"),
        1
    );
    assert_eq!(
        pg.count(
            "central",
            "SELECT count(*) FROM decisions WHERE central_id IS NOT NULL"
        ),
        1
    );
    assert_centre_equals(&url, &site);
    let history = ok(&["review", "history", "--central", &url, &path]);
    assert!(
        !history.contains("made at the centre"),
        "recorded by the site now: {history}"
    );
    // Syncing again records nothing twice.
    ok(&["central", "sync", "--config", cfg]);
    assert_eq!(
        query(
            &site.db,
            "SELECT count(*) FROM decisions WHERE central_id IS NOT NULL"
        ),
        1
    );

    // Through the running service: a hold (with its legal basis) on a file.
    let mut service = start_service(&site);
    let second = list
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["path"].as_str() != Some(path.as_str()))
        .unwrap();
    ok(&[
        "review",
        "mark",
        "--central",
        &url,
        "--file",
        second["path"].as_str().unwrap(),
        "--decision",
        "hold",
        "--note",
        "開示請求 令和8年第12号",
        "--reviewer",
        "記録係 山田",
    ]);
    wait_until(
        "the service to record the hold",
        Duration::from_secs(60),
        || {
            query(
                &site.db,
                "SELECT count(*) FROM decisions WHERE central_id IS NOT NULL",
            ) >= 2
        },
    );
    assert!(
        query(
            &site.db,
            "SELECT count(*) FROM findings WHERE review_state = 'hold'"
        ) >= 1
    );
    wait_synced(&url, &site, Duration::from_secs(60));
    stop(
        service
            .try_wait()
            .unwrap()
            .map_or(service, |s| panic!("service exited: {s}")),
    );
    assert_centre_equals(&url, &site);
    assert_eq!(
        pg.count(
            "central",
            "SELECT count(*) FROM central_decisions WHERE applied_at IS NULL"
        ),
        0
    );
}

#[test]
fn no_full_identifier_reaches_the_centre() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let site = Site::new(base.path(), "上下水道局", &url, 4, "");
    let fixtures: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/identifiers.json")).unwrap(),
    )
    .unwrap();
    let mine: Vec<String> = [31415926535u64, 27182818284, 14142135623]
        .iter()
        .map(|b| my_number(*b))
        .collect();
    let mut text = String::from("氏名,個人番号,電話番号,メール\n");
    for (i, m) in mine.iter().enumerate() {
        text.push_str(&format!(
            "山田 太郎{i},{m},03-3581-4111,taro{i}@example.jp\n"
        ));
    }
    text.push_str("\n参考:\n");
    for f in &fixtures {
        text.push_str(&format!("番号 {f}\n"));
    }
    std::fs::write(site.share().join("名簿_追加.csv"), &text).unwrap();
    // A name holding a My Number: shown masked, its real path only sealed locally.
    std::fs::write(
        site.share().join(format!("{}_届出.txt", mine[0])),
        format!("個人番号 {}\n", mine[1]),
    )
    .unwrap();
    ok(&["run", "--once", "--config", site.cfg.to_str().unwrap()]);
    assert_centre_equals(&url, &site);
    let dump = pg.dump("central");
    assert!(
        dump.contains(&format!("********{}", &mine[2][8..])),
        "the masked values are there"
    );
    let mut checked = 0;
    for id in fixtures.iter().chain(&mine) {
        assert!(!dump.contains(id.as_str()), "{id} in the dump");
        let digits: String = id.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 9 {
            assert!(!dump.contains(&digits), "{digits} in the dump");
        }
        checked += 1;
    }
    assert!(checked >= 30);
}

#[test]
fn postgresql_stopped_mid_sync_and_restarted_loses_and_doubles_nothing() {
    let Some(mut pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let site = Site::new(base.path(), "支所", &url, 300, "batch_size = 5\n");
    let mut service = start_service(&site);
    wait_until("some rows at the centre", Duration::from_secs(120), || {
        pg.count("central", "SELECT count(*) FROM findings") > 50
    });
    pg.stop(); // mid-sync: the walk and the shipping are both under way
    let stored = query(&site.db, "SELECT count(*) FROM files");
    for i in 0..20 {
        std::fs::write(
            site.share().join(format!("停止中_{i}.txt")),
            format!("個人番号 {}\n", my_number(50_000_000 + i)),
        )
        .unwrap();
    }
    wait_until(
        "the site to go on while the centre is down",
        Duration::from_secs(180),
        || {
            query(
                &site.db,
                "SELECT count(*) FROM files WHERE path LIKE '%停止中_%'",
            ) == 20
                && query(
                    &site.db,
                    "SELECT count(*) FROM meta WHERE key = 'central_last_error'",
                ) == 1
        },
    );
    assert!(query(&site.db, "SELECT count(*) FROM files") > stored);
    assert!(outbox_len(&site.db) > 0, "the changes wait in the outbox");
    let status = ok(&["status", "--config", site.cfg.to_str().unwrap()]);
    assert!(
        status.contains("WARNING: the last central sync failed"),
        "{status}"
    );
    assert!(
        service.try_wait().unwrap().is_none(),
        "the service keeps running"
    );
    pg.start_again();
    wait_until("the walk to finish", Duration::from_secs(300), || {
        query(
            &site.db,
            "SELECT count(*) FROM scan_runs WHERE status = 'finished'",
        ) >= 1
    });
    wait_synced(&url, &site, Duration::from_secs(300));
    stop(service);
    assert_centre_equals(&url, &site);
    assert_eq!(
        query(
            &site.db,
            "SELECT count(*) FROM meta WHERE key = 'central_last_error'"
        ),
        0
    );
}

#[test]
fn the_service_killed_with_9_mid_batch_loses_and_doubles_nothing() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let site = Site::new(base.path(), "本庁舎", &url, 300, "batch_size = 3\n");
    // A store filled before the centre existed: its first sync is a full
    // snapshot of thousands of small batches.
    let plain = std::fs::read_to_string(&site.cfg).unwrap();
    std::fs::write(&site.cfg, &plain[..plain.find("[central]").unwrap()]).unwrap();
    ok(&["run", "--once", "--config", site.cfg.to_str().unwrap()]);
    assert_eq!(outbox_len(&site.db), 0, "no centre, no outbox");
    std::fs::write(&site.cfg, &plain).unwrap();
    let findings = query(&site.db, "SELECT count(*) FROM findings");
    assert!(findings > 1000, "{findings} findings");

    let mut service = start_service(&site);
    wait_until(
        "the snapshot to be under way",
        Duration::from_secs(60),
        || pg.count("central", "SELECT count(*) FROM findings") > 100,
    );
    service.kill().unwrap(); // SIGKILL, mid-snapshot
    service.wait().unwrap();
    let shipped = pg.count("central", "SELECT count(*) FROM findings");
    assert!(
        shipped < findings,
        "killed before the snapshot finished ({shipped} of {findings})"
    );

    // Restarted: the snapshot resumes; then changes go through the outbox.
    let mut service = start_service(&site);
    wait_synced(&url, &site, Duration::from_secs(300));
    for i in 0..40 {
        std::fs::write(
            site.share().join(format!("追加_{i:02}.csv")),
            format!("氏名,個人番号\n山田,{}\n", my_number(60_000_000 + i)),
        )
        .unwrap();
    }
    wait_until(
        "the outbox to fill and drain partly",
        Duration::from_secs(120),
        || {
            query(
                &site.db,
                "SELECT count(*) FROM files WHERE path LIKE '%追加_%'",
            ) >= 10
                && pg.count(
                    "central",
                    "SELECT count(*) FROM files WHERE path LIKE '%追加_%'",
                ) >= 1
        },
    );
    service.kill().unwrap(); // SIGKILL, mid-batch
    service.wait().unwrap();
    let service = start_service(&site);
    wait_until("every new file stored", Duration::from_secs(180), || {
        query(
            &site.db,
            "SELECT count(*) FROM files WHERE path LIKE '%追加_%'",
        ) == 40
    });
    wait_synced(&url, &site, Duration::from_secs(300));
    stop(service);
    assert_centre_equals(&url, &site);
    assert_eq!(
        pg.count("central", "SELECT count(*) FROM (SELECT site_id, path FROM files GROUP BY 1, 2 HAVING count(*) > 1) d"),
        0,
        "no file twice"
    );
}

#[test]
fn resync_replaces_a_sites_rows_without_duplicates() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let site = Site::new(base.path(), "本庁舎", &url, 8, "");
    let cfg = site.cfg.to_str().unwrap();
    ok(&["run", "--once", "--config", cfg]);
    let files = pg.count("central", "SELECT count(*) FROM files");
    // A row the site does not have (as a lost store would leave behind).
    pg.sql(
        "central",
        "INSERT INTO files(site_id, gen, id, path) VALUES (1, 1, 999999, '/stale')",
    );
    let out = ok(&["central", "resync", "--config", cfg]);
    assert!(
        out.contains("shipped again from scratch") && out.contains("(full snapshot)"),
        "{out}"
    );
    assert_centre_equals(&url, &site);
    assert_eq!(pg.count("central", "SELECT count(*) FROM files"), files);
    assert_eq!(pg.count("central", "SELECT generation FROM sites"), 2);

    // The store rebuilt from nothing (new row ids): refused as another store
    // until it is resynced, which leaves exactly its rows.
    for f in ["mamori.db", "mamori.db-wal", "mamori.db-shm"] {
        let _ = std::fs::remove_file(site.dir.join("state").join(f));
    }
    std::fs::remove_file(site.share().join("名簿_0001.csv")).unwrap();
    ok(&["run", "--once", "--config", cfg]);
    let out = mamori(&["central", "sync", "--config", cfg]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already shipped by another store"));
    ok(&["central", "resync", "--config", cfg]);
    assert_centre_equals(&url, &site);
    assert_eq!(pg.count("central", "SELECT count(*) FROM files"), files - 1);
}

#[test]
fn a_site_with_another_key_is_refused() {
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let a = Site::new(base.path(), "本庁舎", &url, 2, "");
    let b = Site::new(base.path(), "支所", &url, 2, "");
    std::fs::write(
        b.dir.join("state/fingerprint.key"),
        ORG_KEY.replace('8', "9"),
    )
    .unwrap();
    ok(&["run", "--once", "--config", a.cfg.to_str().unwrap()]);
    ok(&["run", "--once", "--config", b.cfg.to_str().unwrap()]);
    let out = mamori(&["central", "sync", "--config", b.cfg.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("fingerprint key differs"),
        "{out:?}"
    );
    assert_eq!(pg.count("central", "SELECT count(*) FROM sites"), 1);
    assert!(outbox_len(&b.db) > 0 || query(&b.db, "SELECT count(*) FROM meta WHERE key = 'central_snapshot_cursor' AND value = 'done'") == 0);
}

#[test]
fn the_password_comes_from_a_private_file_and_is_never_shown() {
    let Some(pg) = Pg::start() else { return };
    let admin = pg.create_db("central");
    migrate(&admin);
    pg.sql(
        "central",
        &format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {PASSWORD_ROLE};
             GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {PASSWORD_ROLE};"
        ),
    );
    let url = pg.url(PASSWORD_ROLE, "central");
    let base = tempfile::tempdir().unwrap();
    let pw = base.path().join("central.password");
    let site = Site::new(
        base.path(),
        "本庁舎",
        &url,
        2,
        &format!("password_file = \"{}\"\n", pw.display()),
    );
    let cfg = site.cfg.to_str().unwrap();
    let secret = "Sekret-pw-4711";
    std::fs::write(&pw, format!("{secret}\n")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o640)).unwrap();
        let out = mamori(&["central", "sync", "--config", cfg]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("chmod 600") && !err.contains(secret),
            "{err}"
        );
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["run", "--once", "--config", cfg])
        .env("MAMORI_OCR", "off")
        .env("MAMORI_LOG", "trace")
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("changes are shipped to the central database"),
        "{log}"
    );
    assert!(!log.contains(secret), "the password in the service's log");
    assert_centre_equals(&admin, &site);
    let status = ok(&["status", "--config", cfg]);
    assert!(
        status.contains(&format!("postgres://{PASSWORD_ROLE}@127.0.0.1"))
            && !status.contains(secret),
        "{status}"
    );

    // A wrong password: an error that does not repeat it, in the output and in status.
    std::fs::write(&pw, "wrong-pw-0815\n").unwrap();
    std::fs::write(site.share().join("後から.txt"), "個人番号 2582 3185 6428\n").unwrap();
    ok(&["run", "--once", "--config", cfg]);
    let out = mamori(&["central", "sync", "--config", cfg]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("password authentication failed"),
        "{err}"
    );
    assert!(!err.contains("wrong-pw-0815"));
    let status = ok(&["status", "--config", cfg]);
    assert!(
        status.contains("WARNING: the last central sync failed")
            && !status.contains("wrong-pw-0815"),
        "{status}"
    );
    // The read side takes the password from the environment.
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args([
            "review",
            "list",
            "--central",
            &url,
            "--limit",
            "0",
            "--lang",
            "en",
        ])
        .env("MAMORI_CENTRAL_PASSWORD", secret)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("finding(s) shown"));
    // A password in the URL is refused without being repeated.
    let with_pw = url.replace(PASSWORD_ROLE, &format!("{PASSWORD_ROLE}:{secret}"));
    let out = mamori(&["review", "list", "--central", &with_pw]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("holds a password") && !err.contains(secret),
        "{err}"
    );
    assert!(!pg.log().contains(secret));
}

#[test]
fn tls_checks_the_servers_certificate_and_name() {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "city test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let ca = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let tls = crate::pg::ServerTls {
        cert_pem: server.pem(),
        key_pem: server_key.serialize_pem(),
    };
    let Some(pg) = Pg::start_with(Some(&tls)) else {
        return;
    };
    pg.sql("postgres", "CREATE DATABASE central");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_cert.pem()).unwrap();
    let other_key = KeyPair::generate().unwrap();
    let mut other_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    other_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let other_ca = dir.path().join("other.pem");
    std::fs::write(
        &other_ca,
        other_params.self_signed(&other_key).unwrap().pem(),
    )
    .unwrap();

    let by_name = format!("postgres://{ADMIN}@localhost:{}/central", pg.port);
    let t = mamori::central::connect::Target::new(&by_name, None, Some(&ca_file)).unwrap();
    let mut c = t.connect().expect("TLS with the right CA and name");
    let ssl: bool = c
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(ssl, "the connection is encrypted");
    // The certificate names localhost, not 127.0.0.1: verify-full refuses.
    let by_address = format!("postgres://{ADMIN}@127.0.0.1:{}/central", pg.port);
    let Err(e) = mamori::central::connect::Target::new(&by_address, None, Some(&ca_file))
        .unwrap()
        .connect()
    else {
        panic!("connected to a server whose certificate names another host");
    };
    assert!(
        format!("{e:#}").to_lowercase().contains("certificate"),
        "{e:#}"
    );
    // Another CA: refused.
    assert!(
        mamori::central::connect::Target::new(&by_name, None, Some(&other_ca))
            .unwrap()
            .connect()
            .is_err()
    );
    // A whole site over TLS.
    ok(&[
        "central",
        "migrate",
        "--url",
        &by_name,
        "--ca-file",
        ca_file.to_str().unwrap(),
    ]);
    let base = tempfile::tempdir().unwrap();
    let site = Site::new(
        base.path(),
        "支所",
        &by_name,
        2,
        &format!("ca_file = \"{}\"\n", ca_file.display()),
    );
    ok(&["run", "--once", "--config", site.cfg.to_str().unwrap()]);
    assert_eq!(outbox_len(&site.db), 0);
    assert!(pg.count("central", "SELECT count(*) FROM findings") > 0);
}

#[test]
fn a_site_without_a_centre_grows_no_outbox() {
    let dir = tempfile::tempdir().unwrap();
    share(dir.path(), 6);
    let cfg = crate::daemon::config(dir.path(), 3600);
    ok(&["run", "--once", "--config", cfg.to_str().unwrap()]);
    let db = dir.path().join("state/mamori.db");
    assert!(query(&db, "SELECT count(*) FROM findings") > 0);
    assert_eq!(outbox_len(&db), 0);
    let status = ok(&["status", "--config", cfg.to_str().unwrap()]);
    assert!(!status.contains("central"), "{status}");
}

/// The centre's weekly report (`central::query::weekly_report`, what
/// `report weekly --central` renders) is the sites' own reports added up:
/// every total, every breakdown, the trend, and every list item for item
/// (records flags with the reason lines of each flag, holds, roots), each
/// file as `SITE:PATH`; the values on several sites
/// (`central::query::shared_values`, the report's `shared_values`) are the
/// My Numbers both sites' own stores hold.
#[test]
fn the_centres_weekly_report_adds_up_the_sites_reports() {
    use std::collections::BTreeMap;
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let honcho = Site::new(base.path(), "本庁舎", &url, 10, "");
    let kyoiku = Site::new(base.path(), "教育委員会", &url, 7, "");
    // An unreadable file on one site, a file that goes away on the other
    // (its findings resolved this week), a decision on each.
    std::fs::write(honcho.share().join("壊れた.xlsx"), b"PK\x03\x04 not a zip").unwrap();
    for s in [&honcho, &kyoiku] {
        ok(&["run", "--once", "--config", s.cfg.to_str().unwrap()]);
    }
    std::fs::remove_file(kyoiku.share().join("名簿_0001.csv")).unwrap();
    ok(&["run", "--once", "--config", kyoiku.cfg.to_str().unwrap()]);
    for s in [&honcho, &kyoiku] {
        let id = query(
            &s.db,
            "SELECT min(id) FROM findings WHERE kind = 'my_number' AND resolved_at IS NULL",
        );
        ok(&[
            "review",
            "mark",
            "--config",
            s.cfg.to_str().unwrap(),
            "--finding",
            &id.to_string(),
            "--decision",
            "remediated",
            "--reviewer",
            "文書法制課",
        ]);
        ok(&["central", "sync", "--config", s.cfg.to_str().unwrap()]);
        assert_centre_equals(&url, s);
    }

    let today = mamori::time::today_jst();
    let week = mamori::report::Week::of(today);
    let lang = mamori::records::Lang::En;
    let local: Vec<(&str, mamori::report::WeeklyReport)> = [&honcho, &kyoiku]
        .iter()
        .map(|s| {
            let cfg = mamori::config::Config::load(&s.cfg).unwrap();
            let key = mamori::keys::load_or_create(&s.dir.join("state/fingerprint.key")).unwrap();
            let conn = mamori::store::Store::open_read_only(&s.db).unwrap();
            let report = mamori::report::WeeklyReport::gather(
                &conn,
                &mamori::keys::KeySet::new(key),
                &cfg.records_context().unwrap(),
                week,
                Some(today),
                lang,
            )
            .unwrap();
            (s.name.as_str(), report)
        })
        .collect();
    let central =
        mamori::central::query::weekly_report(&mut client(&url), week, Some(today), lang).unwrap();

    // What the sites' reports add up to, in the centre's names: files as
    // SITE:PATH, roots as SITE:LABEL, ids the centre's, reviewers as
    // SITE: NAME; every list in the centre's order.
    use mamori::central::query::{site_path, site_root, sort_review};
    use mamori::report::{Totals, WeeklyReport};
    let mut c = client(&url);
    let mut cid: BTreeMap<(&'static str, String, i64), i64> = BTreeMap::new();
    for (table, sql) in [
        (
            "files",
            "SELECT s.name, x.id, x.cid FROM files x JOIN sites s ON s.id = x.site_id",
        ),
        (
            "findings",
            "SELECT s.name, f.id, f.cid FROM findings f JOIN sites s ON s.id = f.site_id",
        ),
    ] {
        for r in c.query(sql, &[]).unwrap() {
            cid.insert((table, r.get(0), r.get(1)), r.get(2));
        }
    }
    let add_totals = |f: &dyn Fn(&WeeklyReport) -> &Totals| {
        local.iter().fold(Totals::default(), |mut a, (_, r)| {
            let t = f(r);
            a.open_findings += t.open_findings;
            a.open_files += t.open_files;
            a.my_number_files += t.my_number_files;
            a.new_findings += t.new_findings;
            a.resolved_findings += t.resolved_findings;
            a.decisions += t.decisions;
            a.unreadable_files += t.unreadable_files;
            a.files_tracked += t.files_tracked;
            a
        })
    };
    let sum_maps = |f: &dyn Fn(&WeeklyReport) -> BTreeMap<String, i64>| {
        let mut m = BTreeMap::new();
        for (_, r) in &local {
            for (k, v) in f(r) {
                *m.entry(k).or_insert(0) += v;
            }
        }
        m
    };
    let file_items = |f: &dyn Fn(&WeeklyReport) -> &Vec<mamori::report::FileItem>| {
        let mut v: Vec<mamori::report::FileItem> = local
            .iter()
            .flat_map(|(site, r)| {
                f(r).iter().map(move |i| mamori::report::FileItem {
                    path: site_path(site, &i.path),
                    root: site_root(site, Some(&i.root)),
                    ..i.clone()
                })
            })
            .collect();
        v.sort_by(|a, b| a.path.cmp(&b.path));
        v
    };
    let first = &local[0].1;
    let mut expected = WeeklyReport {
        schema_version: mamori::report::REPORT_SCHEMA_VERSION,
        week: first.week.clone(),
        week_start: first.week_start,
        week_end: first.week_end,
        as_of: today,
        generated_at: central.generated_at.clone(),
        totals: add_totals(&|r| &r.totals),
        previous: add_totals(&|r| &r.previous),
        open_by_kind: sum_maps(&|r| r.open_by_kind.clone()),
        previous_open_by_kind: sum_maps(&|r| r.previous_open_by_kind.clone()),
        files_by_flag: sum_maps(&|r| r.files_by_flag.clone()),
        trend: first
            .trend
            .iter()
            .enumerate()
            .map(|(i, p)| mamori::report::TrendPoint {
                week: p.week.clone(),
                end: p.end,
                open_by_kind: sum_maps(&|r| r.trend[i].open_by_kind.clone()),
                new_findings: local.iter().map(|(_, r)| r.trend[i].new_findings).sum(),
                resolved_findings: local
                    .iter()
                    .map(|(_, r)| r.trend[i].resolved_findings)
                    .sum(),
            })
            .collect(),
        my_number_files_by_root: local
            .iter()
            .flat_map(|(site, r)| {
                r.my_number_files_by_root
                    .iter()
                    .map(move |(k, n)| (site_root(site, Some(k)), *n))
            })
            .collect(),
        unreadable_by_reason: sum_maps(&|r| r.unreadable_by_reason.clone()),
        new_high: local
            .iter()
            .flat_map(|(site, r)| {
                let cid = &cid;
                r.new_high.iter().map(move |f| mamori::report::FindingItem {
                    id: cid[&("findings", site.to_string(), f.id)],
                    path: site_path(site, &f.path),
                    root: site_root(site, Some(&f.root)),
                    ..f.clone()
                })
            })
            .collect(),
        open_files: local
            .iter()
            .flat_map(|(site, r)| {
                let cid = &cid;
                r.open_files.iter().map(move |f| mamori::report::OpenFile {
                    file_id: cid[&("files", site.to_string(), f.file_id)],
                    path: site_path(site, &f.path),
                    root: site_root(site, Some(&f.root)),
                    ..f.clone()
                })
            })
            .collect(),
        outside_area: file_items(&|r| &r.outside_area),
        retention_expired: file_items(&|r| &r.retention_expired),
        outbound: file_items(&|r| &r.outbound),
        breach_hints: file_items(&|r| &r.breach_hints),
        unreadable: local
            .iter()
            .flat_map(|(site, r)| {
                r.unreadable
                    .iter()
                    .map(move |u| mamori::report::UnreadableItem {
                        path: site_path(site, &u.path),
                        root: site_root(site, Some(&u.root)),
                        ..u.clone()
                    })
            })
            .collect(),
        review: local
            .iter()
            .flat_map(|(site, r)| {
                r.review.iter().map(move |v| mamori::report::ReviewItem {
                    reviewer: format!("{site}: {}", v.reviewer),
                    ..v.clone()
                })
            })
            .collect(),
        // Only the centre sees several sites: checked on their own below.
        shared_values: central.shared_values.clone(),
    };
    expected.new_high.sort_by_key(|f| f.id);
    expected
        .open_files
        .sort_by(|a, b| (&a.root, &a.path, a.file_id).cmp(&(&b.root, &b.path, b.file_id)));
    expected.unreadable.sort_by(|a, b| a.path.cmp(&b.path));
    sort_review(&mut expected.review);
    let t = &central.totals;
    assert!(
        t.unreadable_files == 1
            && t.decisions == 2
            && t.resolved_findings > 0
            && t.my_number_files > 4,
        "{t:?}"
    );
    assert!(
        !central.open_files.is_empty()
            && !central.new_high.is_empty()
            && !central.review.is_empty()
            && !central.outside_area.is_empty()
            && central.open_files.iter().any(|f| !f.flags.is_empty())
            && central.outside_area.iter().all(|f| f
                .reasons_for(mamori::records::Flag::MyNumberOutsideArea)
                .count()
                > 0),
        "lists to compare, flagged files with the reason lines of their flags"
    );
    assert_eq!(central, expected);

    // The resident list is on both servers: its My Numbers are values on
    // two sites, each with its places on both, masked: those the sites'
    // own stores hold open on both (by keyed fingerprint).
    let mut on_sites: BTreeMap<String, BTreeSet<(String, String, String)>> = BTreeMap::new();
    for s in [&honcho, &kyoiku] {
        let conn = rusqlite::Connection::open(&s.db).unwrap();
        let mut st = conn
            .prepare(
                "SELECT hex(f.fingerprint), x.path, f.location, f.masked FROM findings f JOIN files x ON x.id = f.file_id
                 WHERE f.kind = 'my_number' AND f.resolved_at IS NULL AND f.review_state != 'false_positive'
                   AND x.deleted_at IS NULL",
            )
            .unwrap();
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?.to_lowercase(),
                    site_path(&s.name, &r.get::<_, String>(1)?),
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .unwrap();
        for row in rows {
            let (fp, path, location, masked) = row.unwrap();
            on_sites
                .entry(fp)
                .or_default()
                .insert((path, location, masked));
        }
    }
    let both: BTreeMap<String, BTreeSet<(String, String, String)>> = on_sites
        .into_iter()
        .filter(|(_, places)| {
            places.iter().any(|p| p.0.starts_with("本庁舎:"))
                && places.iter().any(|p| p.0.starts_with("教育委員会:"))
        })
        .collect();
    assert!(!both.is_empty());
    for shared in [
        mamori::central::query::shared_values(&mut c, &[mamori::finding::Kind::MyNumber], 2)
            .unwrap(),
        central.shared_values.clone().unwrap(),
    ] {
        let got: BTreeMap<String, BTreeSet<(String, String, String)>> = shared
            .iter()
            .map(|v| {
                assert_eq!(v.kind, "my_number");
                assert_eq!(v.sites, 2);
                assert!(v.masked.starts_with("********"), "{}", v.masked);
                assert!(v
                    .locations
                    .iter()
                    .all(|l| l.path.starts_with(&format!("{}:", l.site))));
                (
                    v.fingerprint.clone(),
                    v.locations
                        .iter()
                        .map(|l| (l.path.clone(), l.location.clone(), v.masked.clone()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(got, both);
    }

    // Verdicts the centre holds without their reason lines (shipped before
    // central schema 2) are shipped again by their site's next sync.
    let without = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT count(*) FROM file_records r JOIN sites s ON s.id = r.site_id
             WHERE s.name = '本庁舎' AND r.reason_lines IS NULL",
            &[],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(without(&mut c), 0);
    let n = c
        .execute(
            "UPDATE file_records SET reason_lines = NULL WHERE site_id = (SELECT id FROM sites WHERE name = '本庁舎')",
            &[],
        )
        .unwrap();
    assert!(n > 0);
    ok(&["central", "sync", "--config", honcho.cfg.to_str().unwrap()]);
    assert_eq!(without(&mut c), 0);
    assert_eq!(outbox_len(&honcho.db), 0);
}

/// `report weekly --central` writes the centre's report (every site's
/// files as `SITE:PATH`) with the section only the centre can give: the
/// same My Number on several sites, masked, with its places on both; a
/// site's own report has no such section. No output file holds a full
/// identifier. `report retention --central` writes the sites' list.
#[test]
fn report_weekly_central_lists_the_my_numbers_on_several_sites() {
    use serde_json::Value as Json;
    let Some(pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let (honcho, kyoiku, both, one) = two_sites_sharing_a_my_number(base.path(), &url);

    let week = mamori::report::Week::of(mamori::time::today_jst()).label();
    let out = base.path().join("centre-report");
    let printed = ok(&[
        "report",
        "weekly",
        "--central",
        &url,
        "--week",
        &week,
        "--lang",
        "en",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        printed.contains("My Numbers held on several sites:"),
        "{printed}"
    );

    let json: Json =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let shared = json["shared_values"].as_array().unwrap();
    let masked_both = format!("********{}", &both[8..]);
    let masked_one = format!("********{}", &one[8..]);
    let value = shared
        .iter()
        .find(|v| v["masked"] == masked_both.as_str())
        .unwrap_or_else(|| panic!("{masked_both} in {shared:?}"));
    assert_eq!(value["sites"], 2);
    assert_eq!(value["kind"], "my_number");
    let places: BTreeSet<String> = value["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].as_str().unwrap().to_string())
        .collect();
    let place = |s: &Site| format!("{}:{}", s.name, s.share().join("転入届.csv").display());
    assert_eq!(places, BTreeSet::from([place(&honcho), place(&kyoiku)]));
    assert!(
        shared.iter().all(|v| v["masked"] != masked_one.as_str()),
        "a number on one site only is not shared"
    );
    // Every file of the report is SITE:PATH.
    assert!(json["open_files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| ["本庁舎:", "教育委員会:"]
            .iter()
            .any(|p| f["path"].as_str().unwrap().starts_with(p))));

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let section = html
        .split(r#"<section id="shared_values">"#)
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("a section of the values on several sites");
    assert!(section.contains(&masked_both), "{section}");
    assert!(section.contains(&place(&honcho)) && section.contains(&place(&kyoiku)));
    assert!(!section.contains(&masked_one));
    assert!(html.contains(r##"<a href="#shared_values">"##));

    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("report.xlsx")).unwrap();
    use calamine::Reader;
    let mut sheets = mamori::report::xlsx::SHEETS_EN.to_vec();
    sheets.push(mamori::report::xlsx::SHEET_SHARED_EN);
    assert_eq!(wb.sheet_names(), sheets);
    let rows = wb
        .worksheet_range(mamori::report::xlsx::SHEET_SHARED_EN)
        .unwrap();
    let with_value: Vec<String> = rows
        .rows()
        .filter(|r| r[0].to_string() == masked_both)
        .map(|r| r[3].to_string())
        .collect();
    assert_eq!(
        with_value.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([place(&honcho), place(&kyoiku)])
    );

    let csv = std::fs::read_to_string(out.join("findings.csv")).unwrap();
    assert!(csv.contains("本庁舎:") && csv.contains("教育委員会:") && csv.contains(&masked_both));

    let retention = base.path().join("retention.csv");
    ok(&[
        "report",
        "retention",
        "--central",
        &url,
        "--out",
        retention.to_str().unwrap(),
    ]);

    // No full identifier in any output file: the planted numbers and the
    // resident list's.
    let list = std::fs::read(root().join("examples/住民名簿.csv")).unwrap();
    let mut ids: Vec<String> = list
        .split(|b| !b.is_ascii_digit())
        .filter(|run| run.len() == 12)
        .map(|run| String::from_utf8(run.to_vec()).unwrap())
        .collect();
    assert!(ids.len() >= 3, "{ids:?}");
    ids.extend([both.clone(), one.clone()]);
    let mut files = crate::report::texts(&out);
    files.push((
        "retention.csv".into(),
        std::fs::read_to_string(&retention).unwrap(),
    ));
    for (name, text) in &files {
        for id in &ids {
            assert!(!text.contains(id.as_str()), "{id} in {name}");
        }
    }

    // A site's own report has no such section: it sees one site.
    let local = base.path().join("site-report");
    ok(&[
        "report",
        "weekly",
        "--config",
        honcho.cfg.to_str().unwrap(),
        "--week",
        &week,
        "--out",
        local.to_str().unwrap(),
    ]);
    let json: Json =
        serde_json::from_str(&std::fs::read_to_string(local.join("report.json")).unwrap()).unwrap();
    assert!(json["shared_values"].is_null());
    assert!(!std::fs::read_to_string(local.join("report.html"))
        .unwrap()
        .contains("shared_values"));

    // Without a store or a centre there is nothing to report.
    let out = mamori(&["report", "weekly", "--week", &week]);
    assert!(!out.status.success());
}

/// `mamori serve --central` (started for the records office, its store
/// holding only the screen's accounts), stopped when dropped.
struct CentreScreen {
    child: std::process::Child,
    base: String,
}

impl Drop for CentreScreen {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_central(cfg: &Path, url: &str) -> CentreScreen {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args([
            "serve",
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--central",
            url,
        ])
        .env("MAMORI_OCR", "off")
        .env("MAMORI_LOG", "warn")
        .env("MAMORI_WEB_ROOTS_REFRESH_SECS", "1")
        .env_remove("MAMORI_CENTRAL_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("mamori serve: listening on ")
        .unwrap_or_else(|| panic!("no address from mamori serve: {line:?}"))
        .trim_end_matches('/')
        .to_string();
    CentreScreen { child, base }
}

fn add_user(cfg: &Path, args: &[&str]) {
    use std::io::Write;
    let mut all = vec!["user", "add"];
    all.extend_from_slice(args);
    all.extend(["--config", cfg.to_str().unwrap()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(&all)
        .env("MAMORI_OCR", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\n", crate::web::PASSWORD).as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "user add {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The centre's id of a site's file.
fn central_file(url: &str, site: &Site, name: &str) -> i64 {
    let path = site.share().join(name).display().to_string();
    client(url)
        .query_one(
            "SELECT x.cid FROM files x JOIN sites s ON s.id = x.site_id WHERE s.name = $1 AND x.path = $2",
            &[&site.name, &path],
        )
        .unwrap()
        .get(0)
}

#[test]
fn the_review_screen_on_the_centre_shows_every_site_and_decides_there() {
    use crate::web::Client as Browser;
    let Some(mut pg) = Pg::start() else { return };
    let url = pg.create_db("central");
    migrate(&url);
    let base = tempfile::tempdir().unwrap();
    let (honcho, kyoiku, both, one) = two_sites_sharing_a_my_number(base.path(), &url);

    // The records office: a configuration without roots, its own store
    // for the screen's accounts; one officer for all, one for 本庁舎 only.
    let office = base.path().join("office");
    std::fs::create_dir_all(office.join("state")).unwrap();
    let cfg = office.join("mamori.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\ndatabase = \"{}\"\n",
            office.join("state/mamori.db").display()
        ),
    )
    .unwrap();
    add_user(&cfg, &["officer", "--role", "reviewer"]);
    add_user(
        &cfg,
        &[
            "honcho",
            "--role",
            "viewer",
            "--root",
            "本庁舎",
            "--central",
            &url,
        ],
    );
    let refused = mamori(&[
        "user",
        "add",
        "nobody",
        "--role",
        "viewer",
        "--root",
        "支所",
        "--config",
        cfg.to_str().unwrap(),
        "--central",
        &url,
    ]);
    assert!(
        !refused.status.success(),
        "a site the centre does not know is refused"
    );

    let rootless = mamori(&["run", "--once", "--config", cfg.to_str().unwrap()]);
    assert!(!rootless.status.success(), "the service needs roots");
    assert!(String::from_utf8_lossy(&rootless.stderr).contains("no [[root]]"));

    let screen = serve_central(&cfg, &url);
    let mut officer = Browser::logged_in(&screen.base, "officer");
    let mut seen = String::new();
    let mut page = |c: &mut Browser, path: &str| -> String {
        let r = c.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        let t = r.text();
        seen.push_str(&t);
        t
    };

    // The overview counts every site's open findings.
    let open = pg.count(
        "central",
        "SELECT count(*) FROM findings WHERE resolved_at IS NULL AND review_state <> 'false_positive'",
    );
    let dashboard = page(&mut officer, "/");
    let total = regex::Regex::new(r#"id="total-open"[^>]*>.*?<[^>]*class="big"[^>]*>([\d,]+)<"#)
        .unwrap()
        .captures(&dashboard)
        .unwrap_or_else(|| panic!("no total in {dashboard}"))[1]
        .replace(',', "");
    assert_eq!(total.parse::<i64>().unwrap(), open);
    for root in ["本庁舎:総務課", "教育委員会:総務課"] {
        assert!(dashboard.contains(root), "{root} on the overview");
    }
    assert!(
        dashboard.contains("複数拠点の個人番号"),
        "the centre's page is in the menu"
    );

    // The list names each file SITE:PATH, and a root filter narrows it.
    let place = |s: &Site, name: &str| format!("{}:{}", s.name, s.share().join(name).display());
    let list = page(&mut officer, "/findings?kind=my_number");
    for p in [
        place(&honcho, "転入届.csv"),
        place(&kyoiku, "転入届.csv"),
        place(&honcho, "申請書.txt"),
    ] {
        assert!(list.contains(&p), "{p} in the list");
    }
    let narrowed = page(&mut officer, "/findings?kind=my_number&root=教育委員会");
    assert!(narrowed.contains(&place(&kyoiku, "転入届.csv")));
    assert!(!narrowed.contains(&place(&honcho, "転入届.csv")));

    // The same number on both sites: one value, two places, masked.
    let masked = |n: &str| format!("********{}", &n[8..]);
    let shared = page(&mut officer, "/shared");
    assert!(shared.contains(&masked(&both)), "{shared}");
    assert!(shared.contains(&place(&honcho, "転入届.csv")));
    assert!(shared.contains(&place(&kyoiku, "転入届.csv")));
    assert!(
        !shared.contains(&masked(&one)),
        "a number on one site is not shared"
    );

    // A file's page, and a decision on its finding, made at the centre.
    let file = central_file(&url, &honcho, "申請書.txt");
    let file_page = page(&mut officer, &format!("/file/{file}"));
    assert!(file_page.contains(&place(&honcho, "申請書.txt")));
    assert!(file_page.contains(&masked(&one)));
    let finding: i64 = client(&url)
        .query_one(
            "SELECT f.cid FROM findings f JOIN files x ON x.site_id = f.site_id AND x.id = f.file_id
             WHERE x.cid = $1 AND f.kind = 'my_number'",
            &[&file],
        )
        .unwrap()
        .get(0);
    let csrf = officer.csrf(&format!("/file/{file}"));
    let r = officer.post(
        &format!("/finding/{finding}/decide"),
        &[
            ("csrf", &csrf),
            ("decision", "false_positive"),
            ("note", "見本の番号"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        pg.count(
            "central",
            "SELECT count(*) FROM central_decisions WHERE reviewer = 'officer' AND decision = 'false_positive' AND applied_at IS NULL"
        ),
        1
    );
    let after = page(
        &mut officer,
        &format!("/file/{file}?done=1&decision=false_positive"),
    );
    assert!(
        after.contains("made at the centre"),
        "the trail says the site has yet to record it"
    );
    // The owning site records it at its next sync, as the officer's.
    ok(&["central", "sync", "--config", honcho.cfg.to_str().unwrap()]);
    assert_eq!(
        query(
            &honcho.db,
            "SELECT count(*) FROM decisions WHERE central_id IS NOT NULL AND reviewer = 'officer' AND decision = 'false_positive'"
        ),
        1
    );
    assert_eq!(
        pg.count(
            "central",
            "SELECT count(*) FROM central_decisions WHERE applied_at IS NULL"
        ),
        0
    );
    // The screen's own audit events stay in the office's store, naming
    // the centre's file in their text (its ids are not the store's).
    let office_db = office.join("state/mamori.db");
    assert_eq!(
        query(
            &office_db,
            "SELECT count(*) FROM events WHERE kind = 'web_decision' AND actor = 'officer'"
        ),
        1
    );
    assert_eq!(
        query(
            &office_db,
            "SELECT count(*) FROM events WHERE kind LIKE 'web%' AND file_id IS NOT NULL"
        ),
        0
    );
    assert!(
        query(
            &office_db,
            &format!("SELECT count(*) FROM events WHERE kind = 'web_view_file' AND detail LIKE '%the centre''s file #{file})%'")
        ) >= 1
    );

    // A viewer for 本庁舎 sees 本庁舎 only, and may not decide.
    let mut viewer = Browser::logged_in(&screen.base, "honcho");
    let own = page(&mut viewer, "/findings");
    assert!(own.contains(&place(&honcho, "転入届.csv")));
    assert!(
        !own.contains("教育委員会:"),
        "another site's files are not shown"
    );
    let other = central_file(&url, &kyoiku, "転入届.csv");
    assert_eq!(viewer.get(&format!("/file/{other}")).status, 404);
    let shared_for_viewer = page(&mut viewer, "/shared");
    assert!(shared_for_viewer.contains(&place(&honcho, "転入届.csv")));
    assert!(!shared_for_viewer.contains(&place(&kyoiku, "転入届.csv")));
    let csrf = viewer.csrf("/findings");
    let r = viewer.post(
        &format!("/finding/{finding}/decide"),
        &[("csrf", &csrf), ("decision", "confirmed"), ("note", "")],
    );
    assert_eq!(r.status, 403);
    assert!(
        !shared_for_viewer.contains("拠点数"),
        "how many sites hold it is an organisation-wide figure"
    );
    assert!(shared_for_viewer.contains("表示範囲内の場所だけ"));

    // An account whose root the centre no longer has sees nothing (and
    // every page still answers).
    add_user(&cfg, &["gone", "--role", "viewer"]);
    rusqlite::Connection::open(office.join("state/mamori.db"))
        .unwrap()
        .execute(
            "INSERT INTO user_roots(user_id, root_label) SELECT id, '支所:廃止課' FROM users WHERE name = 'gone'",
            [],
        )
        .unwrap();
    let mut gone = Browser::logged_in(&screen.base, "gone");
    for p in [
        "/",
        "/findings",
        "/shared",
        "/retention",
        "/mail",
        "/unreadable",
    ] {
        let t = page(&mut gone, p);
        assert!(
            !t.contains("本庁舎:/") && !t.contains("教育委員会:/"),
            "{p} shows a file to an account without a root"
        );
    }

    // A root named by its path (as `review list --central --root` takes it)
    // covers the files below it, whatever the trailing separator.
    for root in [
        format!("本庁舎:{}", honcho.share().display()),
        format!("本庁舎:{}/", honcho.share().display()),
    ] {
        let listed = ok(&[
            "review",
            "list",
            "--central",
            &url,
            "--root",
            &root,
            "--format",
            "jsonl",
            "--limit",
            "0",
        ]);
        assert!(
            !listed.is_empty() && listed.lines().all(|l| l.contains("\"path\":\"本庁舎:")),
            "{root}: {listed}"
        );
        assert_eq!(
            listed.lines().count() as i64,
            pg.count(
                "central",
                "SELECT count(*) FROM findings f JOIN sites s ON s.id = f.site_id WHERE s.name = '本庁舎'
                   AND f.resolved_at IS NULL AND f.review_state <> 'false_positive'"
            ),
            "{root}"
        );
    }

    // A site that joins after the screen started is offered without a
    // restart (the screen reads the centre's roots again).
    let shisho = Site::new(base.path(), "支所", &url, 1, "");
    assert_eq!(
        officer.get("/findings?root=支所").status,
        403,
        "not known yet"
    );
    ok(&["run", "--once", "--config", shisho.cfg.to_str().unwrap()]);
    wait_until(
        "the screen to offer the new site",
        Duration::from_secs(30),
        || officer.get("/findings?root=支所").status == 200,
    );
    assert!(page(&mut officer, "/findings?root=支所:総務課").contains("支所:"));

    // Every other page answers at the centre too.
    for p in [
        "/retention",
        "/mail",
        "/unreadable",
        "/reports",
        "/account",
        "/findings?status=false_positive",
    ] {
        page(&mut officer, p);
    }
    for n in [&both, &one] {
        assert!(!seen.contains(n.as_str()), "no full My Number on any page");
    }

    // The centre stopped: pages say so (500); back, the screen reconnects.
    pg.stop();
    let down = officer.get("/findings");
    assert_eq!(down.status, 500);
    assert!(
        down.text().contains("データベースのエラー"),
        "{}",
        down.text()
    );
    pg.start_again();
    assert_eq!(officer.get("/findings").status, 200);

    // SIGTERM: a clean stop (the pooled connections closed), exit 0.
    let mut screen = screen;
    // SAFETY: sending SIGTERM to our own child process.
    unsafe { libc::kill(screen.child.id() as i32, libc::SIGTERM) };
    let status = screen.child.wait().unwrap();
    assert!(status.success(), "serve --central stopped with {status}");
}

/// Two sites shipped to the centre at `url`: one person's My Number
/// (`both`) copied to both servers' 転入届.csv, another (`one`) in
/// 本庁舎's 申請書.txt only. Returns (本庁舎, 教育委員会, both, one).
fn two_sites_sharing_a_my_number(base: &Path, url: &str) -> (Site, Site, String, String) {
    let honcho = Site::new(base, "本庁舎", url, 2, "");
    let kyoiku = Site::new(base, "教育委員会", url, 2, "");
    let (both, one) = (my_number(31415926535), my_number(27182818284));
    for s in [&honcho, &kyoiku] {
        std::fs::write(
            s.share().join("転入届.csv"),
            format!("氏名,個人番号\n山田 花子,{both}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        honcho.share().join("申請書.txt"),
        format!("個人番号 {one}\n"),
    )
    .unwrap();
    for s in [&honcho, &kyoiku] {
        ok(&["run", "--once", "--config", s.cfg.to_str().unwrap()]);
        assert_centre_equals(url, s);
    }
    (honcho, kyoiku, both, one)
}
