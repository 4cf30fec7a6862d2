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
    assert!(out.contains("migrated from version 0 to 1"), "{out}");
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
