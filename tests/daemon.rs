//! `mamori run`: the service keeps the store current, survives kill -9,
//! and picks up new files by event. Timeouts here are generous watchdogs,
//! not speed targets (those are in the benchmarks).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::util::root;

pub(crate) fn config(dir: &Path, reconcile_secs: u64) -> PathBuf {
    let cfg = dir.join("mamori.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\ndatabase = \"{db}\"\n[scan]\nworkers = 2\n[service]\nreconcile_interval_secs = {reconcile_secs}\ndebounce_ms = 100\nstable_ms = 100\n[[root]]\npath = \"{share}\"\nlabel = \"総務課\"\n",
            db = dir.join("state/mamori.db").display(),
            share = dir.join("share").display(),
        ),
    )
    .unwrap();
    cfg
}

pub(crate) fn start(cfg: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env("MAMORI_OCR", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Starts the service and waits for its first reconcile walk to finish.
pub(crate) fn start_and_walk(cfg: &Path, db: &Path) -> Child {
    let child = start(cfg);
    wait_until("the first walk", Duration::from_secs(120), || {
        query(
            db,
            "SELECT count(*) FROM scan_runs WHERE status = 'finished'",
        ) >= 1
    });
    child
}

pub(crate) fn query(db: &Path, sql: &str) -> i64 {
    let Ok(conn) = Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return -1;
    };
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(-1)
}

pub(crate) fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn stop(mut child: Child) {
    let pid = child.id() as i32;
    // SAFETY: sending SIGTERM to our own child process.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let t = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the service did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A share of `n` files, each with personal data.
pub(crate) fn share(dir: &Path, n: usize) {
    let s = dir.join("share");
    std::fs::create_dir_all(&s).unwrap();
    let form = std::fs::read_to_string(root().join("examples/市政情報公開請求書.txt")).unwrap();
    let list = std::fs::read(root().join("examples/住民名簿.csv")).unwrap();
    for i in 0..n {
        if i % 2 == 0 {
            std::fs::write(
                s.join(format!("請求書_{i:04}.txt")),
                format!("{form}\n受付番号 {i}\n"),
            )
            .unwrap();
        } else {
            let mut l = list.clone();
            l.extend_from_slice(format!("\r\n{i}\r\n").as_bytes());
            std::fs::write(s.join(format!("名簿_{i:04}.csv")), l).unwrap();
        }
    }
}

#[test]
fn kill_9_mid_scan_then_restart_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let n = 1200;
    share(dir.path(), n);
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");

    let mut child = start(&cfg);
    wait_until("some files stored", Duration::from_secs(120), || {
        query(&db, "SELECT count(*) FROM files") >= 40
    });
    child.kill().unwrap(); // SIGKILL, mid-scan
    child.wait().unwrap();
    let stored = query(&db, "SELECT count(*) FROM files");
    assert!(stored < n as i64, "killed before the end ({stored} of {n})");

    let child = start(&cfg);
    wait_until("the walk to finish", Duration::from_secs(300), || {
        query(
            &db,
            "SELECT count(*) FROM scan_runs WHERE status = 'finished'",
        ) >= 1
    });
    stop(child);

    assert_eq!(
        query(&db, "SELECT count(*) FROM files"),
        n as i64,
        "every file stored once"
    );
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM scan_runs WHERE status = 'interrupted'"
        ),
        3,
        "the killed runs (event and reconcile) are marked, and SIGTERM closed the second service's event run"
    );
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM scan_runs WHERE status = 'running'"
        ),
        0,
        "no run is left running"
    );
    // The same share scanned once, with the same key, into another database.
    let other = dir.path().join("other.db");
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["scan", "--format", "jsonl", "--no-progress", "--db"])
        .arg(&other)
        .arg("--key-file")
        .arg(dir.path().join("state/fingerprint.key"))
        .arg(dir.path().join("share"))
        .env("MAMORI_OCR", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let q = "SELECT count(*) FROM findings WHERE resolved_at IS NULL";
    assert_eq!(
        query(&db, q),
        query(&other, q),
        "same open findings as one clean scan: none lost, none duplicated"
    );
    assert_eq!(
        query(&db, "SELECT count(*) FROM findings"),
        query(&other, "SELECT count(*) FROM findings")
    );
}

#[test]
fn files_dropped_into_a_watched_folder_are_stored_and_deletions_recorded() {
    let dir = tempfile::tempdir().unwrap();
    share(dir.path(), 2);
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");
    let child = start_and_walk(&cfg, &db);
    // A new file: found by its event, not by a walk (the next is an hour away).
    std::fs::copy(
        root().join("examples/住民名簿.csv"),
        dir.path().join("share/新規.csv"),
    )
    .unwrap();
    wait_until("the new file's findings", Duration::from_secs(60), || {
        query(&db, "SELECT count(*) FROM findings f JOIN files x ON x.id = f.file_id WHERE x.path LIKE '%新規.csv' AND f.kind = 'my_number'") >= 3
    });
    std::fs::remove_file(dir.path().join("share/新規.csv")).unwrap();
    wait_until("the deletion", Duration::from_secs(60), || {
        query(
            &db,
            "SELECT count(*) FROM files WHERE path LIKE '%新規.csv' AND deleted_at IS NOT NULL",
        ) == 1
    });
    stop(child);
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM events WHERE kind = 'service_stopped'"
        ),
        1,
        "SIGTERM is a clean stop"
    );
}

#[test]
fn sighup_reloads_valid_detectors_and_keeps_running_on_invalid_ones() {
    let dir = tempfile::tempdir().unwrap();
    share(dir.path(), 1);
    let detectors = dir.path().join("detectors");
    std::fs::create_dir(&detectors).unwrap();
    let cfg = config(dir.path(), 3600);
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace(
            "[service]",
            &format!("detectors_dir = \"{}\"\n[service]", detectors.display()),
        ),
    )
    .unwrap();
    let db = dir.path().join("state/mamori.db");
    let child = start_and_walk(&cfg, &db);
    let pid = child.id() as i32;
    // An invalid detector file: the reload is refused, the service goes on.
    std::fs::write(
        detectors.join("broken.toml"),
        "id = 'x'\nkind = 'shoe_size'\n",
    )
    .unwrap();
    // SAFETY: signalling our own child.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    wait_until("the reload refused", Duration::from_secs(60), || {
        query(
            &db,
            "SELECT count(*) FROM events WHERE kind = 'reload_refused'",
        ) == 1
    });
    std::fs::write(dir.path().join("share/a.txt"), "個人番号 258231856428\n").unwrap();
    wait_until(
        "a scan with the running detectors",
        Duration::from_secs(60),
        || {
            query(&db, "SELECT count(*) FROM findings f JOIN files x ON x.id = f.file_id WHERE x.path LIKE '%/a.txt'") >= 1
        },
    );
    // A valid one (the city's 宛名番号): reloaded, used for new files.
    std::fs::remove_file(detectors.join("broken.toml")).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/detectors/atena_number.toml"),
        detectors.join("atena_number.toml"),
    )
    .unwrap();
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGHUP) };
    wait_until("the reload", Duration::from_secs(60), || {
        query(
            &db,
            "SELECT count(*) FROM events WHERE kind = 'service_reloaded'",
        ) == 1
    });
    std::fs::write(dir.path().join("share/b.txt"), "宛名番号 0099887766\n").unwrap();
    wait_until(
        "a finding of the reloaded detector",
        Duration::from_secs(60),
        || {
            query(
                &db,
                "SELECT count(*) FROM findings WHERE detector_id = 'atena_number'",
            ) >= 1
        },
    );
    stop(child);
}

#[test]
fn a_touched_file_with_the_same_content_is_not_extracted_again() {
    let dir = tempfile::tempdir().unwrap();
    share(dir.path(), 2);
    let cfg = config(dir.path(), 1);
    // Poll-only root: only the reconcile walk (every second) sees the touch.
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("{text}watch = \"poll\"\n")).unwrap();
    let db = dir.path().join("state/mamori.db");
    let child = start_and_walk(&cfg, &db);
    let file = dir.path().join("share/請求書_0000.txt");
    let later = std::time::SystemTime::now() + Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    wait_until(
        "the content_unchanged event",
        Duration::from_secs(60),
        || {
            query(&db, "SELECT count(*) FROM events WHERE kind = 'content_unchanged' AND detail LIKE '%請求書_0000.txt'") >= 1
        },
    );
    stop(child);
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM findings WHERE resolved_at IS NOT NULL"
        ),
        0,
        "its findings stay open"
    );
}

#[test]
fn a_file_renamed_in_a_watched_folder_keeps_its_history() {
    let dir = tempfile::tempdir().unwrap();
    share(dir.path(), 2);
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");
    let child = start_and_walk(&cfg, &db);
    let id = query(
        &db,
        "SELECT id FROM files WHERE path LIKE '%請求書_0000.txt'",
    );
    let open = query(
        &db,
        &format!("SELECT count(*) FROM findings WHERE file_id = {id} AND resolved_at IS NULL"),
    );
    assert!(open > 0);
    std::fs::create_dir(dir.path().join("share/保存")).unwrap();
    std::fs::rename(
        dir.path().join("share/請求書_0000.txt"),
        dir.path().join("share/保存/請求書.txt"),
    )
    .unwrap();
    wait_until("the move", Duration::from_secs(60), || {
        query(&db, &format!("SELECT count(*) FROM files WHERE id = {id} AND path LIKE '%保存/請求書.txt' AND deleted_at IS NULL")) == 1
    });
    wait_until("its findings open again", Duration::from_secs(60), || {
        query(
            &db,
            &format!("SELECT count(*) FROM findings WHERE file_id = {id} AND resolved_at IS NULL"),
        ) == open
    });
    stop(child);
    assert_eq!(query(&db, "SELECT count(*) FROM files WHERE path LIKE '%請求書.txt' OR path LIKE '%請求書_0000.txt'"), 1, "one row, moved");
}
