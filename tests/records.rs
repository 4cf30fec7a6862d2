//! Issue 10: records rules on a seeded share — fiscal years in folder
//! names, document metadata and modification times that disagree, a legal
//! hold, My Number inside and outside its area, a rules change by SIGHUP
//! (flags change, nothing is rescanned), and `--as-of` on both sides of an
//! expiry date. Also: a database written by the previous release upgrades
//! in place.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;

use crate::util::{jsonl, root, run};

const RULES: &str = r#"
[records]
fiscal_year_start = "04-01"

[[retention]]
path = "**/職員課/給与/**"
class = "給与・源泉徴収"
years = 5
action = "廃棄"

[[retention]]
path = "**/情報公開/**"
class = "情報公開請求・決定"
years = 1
action = "移管"

[[retention]]
path = "**/総務課/**"
class = "総務一般"
years = 3
action = "廃棄"

[[my_number_area]]
path = "**/職員課/給与/**"
purpose = "給与所得の源泉徴収事務"

[[legal_hold]]
path = "**/情報公開/令和4年度/**"
reason = "開示請求 第22-114号"
decided = 2026-03-15
"#;

fn set_mtime(p: &Path, days_since_epoch: u64) {
    let t = UNIX_EPOCH + Duration::from_secs(days_since_epoch * 86_400 + 3 * 3600);
    std::fs::File::options()
        .write(true)
        .open(p)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// The seeded share and a configuration with the rules above.
fn seed(dir: &Path, extra_rules: &str) -> PathBuf {
    let share = dir.join("share");
    let kyuyo = share.join("職員課/給与/令和3年度");
    let kokai = share.join("総務課/情報公開/令和4年度");
    let soumu = share.join("総務課/文書");
    let shimin = share.join("市民課");
    for d in [&kyuyo, &kokai, &soumu, &shimin] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::copy(
        root().join("examples/給与支払報告書.tsv"),
        kyuyo.join("給与.tsv"),
    )
    .unwrap();
    std::fs::copy(
        root().join("examples/市政情報公開請求書.txt"),
        kokai.join("請求書.txt"),
    )
    .unwrap();
    std::fs::write(
        shimin.join("名簿.csv"),
        "氏名,個人番号\n山田 太郎,258231856428\n",
    )
    .unwrap();
    // A document whose own creation date (2021-04-01 in Japan) disagrees
    // with its modification time (2024-01-01): the metadata wins.
    let docx = soumu.join("議事録.docx");
    std::fs::copy(
        root().join("tests/fixtures/dates/created_2021-04-01_jst.docx"),
        &docx,
    )
    .unwrap();
    set_mtime(&docx, 19_723); // 2024-01-01
                              // No date in its path or metadata: the modification time (2020-05-01).
    set_mtime(&shimin.join("名簿.csv"), 18_383);
    let cfg = dir.join("mamori.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\ndatabase = \"{}\"\n[service]\nreconcile_interval_secs = 3600\ndebounce_ms = 100\nstable_ms = 100\n[[root]]\npath = \"{}\"\nlabel = \"本庁舎\"\n{RULES}{extra_rules}",
            dir.join("state/mamori.db").display(),
            share.display()
        ),
    )
    .unwrap();
    cfg
}

fn records(cfg: &Path, as_of: &str) -> Vec<Value> {
    let (code, out, err) = run(&[
        "records",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "jsonl",
        "--as-of",
        as_of,
    ]);
    assert_eq!(code, 0, "{err}");
    jsonl(&out)
}

fn of<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in {lines:?}"))
}

fn flags(v: &Value) -> Vec<String> {
    v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn retention_dates_holds_and_areas_on_a_seeded_share() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = seed(dir.path(), "");
    let (code, _, err) = run(&["run", "--once", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");

    // The fiscal year in the folder: 令和3年度 → 2022-03-31, 5年 → 2027-03-31.
    let before = records(&cfg, "2027-03-31");
    let kyuyo = of(&before, "給与.tsv");
    assert_eq!(kyuyo["date_source"], "path");
    assert_eq!(kyuyo["document_date"], "2022-03-31");
    assert_eq!(kyuyo["retention_start"], "2022-04-01");
    assert_eq!(kyuyo["retention_end"], "2027-03-31");
    assert_eq!(kyuyo["retention_class"], "給与・源泉徴収");
    assert_eq!(kyuyo["action"], "dispose");
    assert!(
        flags(kyuyo).is_empty(),
        "in its area, within its period: {kyuyo}"
    );
    let after = records(&cfg, "2027-04-01");
    let kyuyo = of(&after, "給与.tsv");
    for f in [
        "retention_expired",
        "disposal_candidate",
        "my_number_retention_exceeded",
    ] {
        assert!(flags(kyuyo).contains(&f.to_string()), "{f}: {kyuyo}");
    }

    // Metadata over mtime; mtime when nothing else.
    let doc = of(&before, "議事録.docx");
    assert_eq!(doc["date_source"], "metadata");
    assert_eq!(doc["document_date"], "2021-04-01");
    assert_eq!(doc["retention_end"], "2025-03-31");
    let meibo = of(&before, "名簿.csv");
    assert_eq!(meibo["date_source"], "mtime");
    assert_eq!(meibo["document_date"], "2020-05-01");
    let f = flags(meibo);
    assert!(f.contains(&"my_number_outside_area".to_string()), "{meibo}");
    assert!(f.contains(&"retention_unknown".to_string()), "{meibo}");

    // The hold keeps an expired request form from transfer until it ends.
    let held = of(&records(&cfg, "2027-03-15"), "請求書.txt").clone();
    assert!(flags(&held).contains(&"legal_hold".to_string()), "{held}");
    assert!(
        flags(&held).contains(&"retention_expired".to_string()),
        "{held}"
    );
    assert!(
        !flags(&held).contains(&"transfer_candidate".to_string()),
        "{held}"
    );
    assert_eq!(held["hold_until"], "2027-03-15");
    let released = of(&records(&cfg, "2027-03-16"), "請求書.txt").clone();
    assert!(
        !flags(&released).contains(&"legal_hold".to_string()),
        "{released}"
    );
    assert!(
        flags(&released).contains(&"transfer_candidate".to_string()),
        "{released}"
    );

    // `scan --config` puts the files' records flags on their JSONL lines.
    let (code, out, err) = run(&[
        "scan",
        "--format",
        "jsonl",
        "--config",
        cfg.to_str().unwrap(),
        dir.path().join("share").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let lines = jsonl(&out);
    let meibo_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["path"].as_str().unwrap().ends_with("名簿.csv"))
        .collect();
    assert!(!meibo_lines.is_empty());
    for l in meibo_lines {
        assert!(
            flags(l).contains(&"my_number_outside_area".to_string()),
            "{l}"
        );
    }

    // --flag selects; explain says why, in both languages.
    let (_, out, _) = run(&[
        "records",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "jsonl",
        "--flag",
        "my_number_outside_area",
    ]);
    assert_eq!(jsonl(&out).len(), 1, "{out}");
    let path = dir
        .path()
        .join("share/総務課/情報公開/令和4年度/請求書.txt");
    let (code, out, _) = run(&[
        "explain",
        path.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--as-of",
        "2026-06-01",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("開示請求 第22-114号") && out.contains("2027-03-15"),
        "{out}"
    );
    assert!(
        out.contains("令和4年度"),
        "the date and where it came from: {out}"
    );
    let (_, out, _) = run(&[
        "explain",
        path.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
        "--lang",
        "en",
        "--as-of",
        "2026-06-01",
    ]);
    assert!(out.contains("legal_hold") || out.contains("hold"), "{out}");
}

#[cfg(unix)]
#[test]
fn a_rules_change_by_sighup_changes_flags_without_rescanning() {
    use crate::daemon::{query, stop, wait_until};
    let dir = tempfile::tempdir().unwrap();
    let cfg = seed(dir.path(), "");
    let db = dir.path().join("state/mamori.db");
    let child = crate::daemon::start_and_walk(&cfg, &db);
    let flagged = |db: &Path| {
        query(
            db,
            "SELECT count(*) FROM file_records r JOIN files f ON f.id = r.file_id
             WHERE f.path LIKE '%名簿.csv' AND r.flags LIKE '%my_number_outside_area%'",
        )
    };
    wait_until("the verdicts", Duration::from_secs(30), || {
        flagged(&db) == 1
    });
    let scans = query(&db, "SELECT sum(scan_seq) FROM files");
    // 市民課 is registered as a My Number area in the 評価書.
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        format!(
            "{text}\n[[my_number_area]]\npath = \"**/市民課/**\"\npurpose = \"住民基本台帳事務\"\n"
        ),
    )
    .unwrap();
    // SAFETY: SIGHUP to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGHUP) };
    wait_until(
        "the flag cleared by the new rule",
        Duration::from_secs(30),
        || flagged(&db) == 0,
    );
    assert_eq!(
        query(&db, "SELECT sum(scan_seq) FROM files"),
        scans,
        "nothing rescanned"
    );
    stop(child);
}

#[cfg(unix)]
#[test]
fn a_database_of_the_previous_release_upgrades_in_place() {
    // Written by mamori at commit 47e9e4c (schema 1) with `scan --db` over
    // examples/; its key is beside it (tests/fixtures/store/README.md).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.db");
    std::fs::copy(root().join("tests/fixtures/store/v1.db"), &db).unwrap();
    let key = dir.path().join("v1.key");
    std::fs::copy(root().join("tests/fixtures/store/v1.key"), &key).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let count = |sql: &str| -> i64 {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    let (files, findings) = (
        count("SELECT count(*) FROM files"),
        count("SELECT count(*) FROM findings"),
    );
    assert_eq!(count("PRAGMA user_version"), 1);
    // A rescan of the same files with the same key: upgraded, nothing
    // duplicated, history kept.
    let (code, _, err) = run(&[
        "scan",
        "--db",
        db.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "examples",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count("PRAGMA user_version"), mamori::store::SCHEMA_VERSION);
    assert_eq!(
        count("SELECT count(*) FROM files"),
        files,
        "one row per file still"
    );
    // The same findings: their rows (and first-seen dates) are the old
    // ones, found again, not new ones beside them. Today's detectors find
    // more than those of 47e9e4c (names and table columns, issue 13): the
    // extra rows are new values or places, each seen once.
    let now = count("SELECT count(*) FROM findings");
    assert!(now >= findings, "{now} < {findings}");
    assert_eq!(
        count(
            "SELECT count(*) FROM findings n WHERE n.first_seen_at >= (SELECT started_at FROM scan_runs WHERE id = 2) \
             AND EXISTS (SELECT 1 FROM findings o WHERE o.id <> n.id AND o.file_id = n.file_id AND o.member = n.member \
             AND o.kind = n.kind AND o.location = n.location AND o.masked = n.masked)"
        ),
        0,
        "nothing duplicated"
    );
    assert_eq!(
        count("SELECT count(*) FROM findings WHERE resolved_at IS NULL AND last_run_id = 2 AND first_seen_at < (SELECT started_at FROM scan_runs WHERE id = 2)"),
        findings,
        "the old findings, seen again by the new run"
    );
    assert_eq!(
        count("SELECT count(*) FROM files WHERE path_key IS NULL"),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM scan_runs"),
        2,
        "the old run is kept"
    );
}
