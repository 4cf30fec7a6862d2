//! Issue 8: a share user must not be able to stop, blind or mislead mamori
//! with a file name, a FIFO, an unmount or a setting. One test per case,
//! named after the item (`r8_<item>_…`). Hostile files are made by
//! the tests themselves.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::daemon::{config, query, start_and_walk, stop, wait_until};
use crate::util::{jsonl, root, run, Mamori};

/// A synthetic My Number with a valid check digit, and the same number's
/// last four digits (what a masked value may show).
const MY_NUMBER: &str = "500080636086";

fn cp932_name(dir: &Path, suffix: &str) -> PathBuf {
    // 山田 in Shift_JIS/CP932: not UTF-8.
    let mut name = b"\x8eR\x93c".to_vec();
    name.extend_from_slice(suffix.as_bytes());
    dir.join(std::ffi::OsStr::from_bytes(&name))
}

fn scan_db(db: &Path, args: &[&str]) -> (i32, String, String) {
    let key = db.with_extension("key");
    let mut all = vec![
        "scan",
        "--lang",
        "en",
        "--no-progress",
        "--db",
        db.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    run(&all)
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn no_full_identifier(what: &str, bytes: &[u8]) {
    assert!(
        !bytes
            .windows(MY_NUMBER.len())
            .any(|w| w == MY_NUMBER.as_bytes()),
        "the full identifier appears in {what}"
    );
}

#[test]
fn r8_1_a_file_name_that_is_not_utf8_does_not_stop_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(cp932_name(dir.path(), ".txt"), "個人番号 314159265352\n").unwrap();
    // Files after it (in walk order) are still scanned.
    std::fs::write(dir.path().join("zzz.txt"), "個人番号 258231856428\n").unwrap();
    for isolation in [&[][..], &["--no-isolation"]] {
        let mut args = vec!["scan", "--format", "jsonl"];
        args.extend_from_slice(isolation);
        args.push(dir.path().to_str().unwrap());
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("internal error"), "{err}");
        let lines = jsonl(&out);
        let mine: Vec<_> = lines.iter().filter(|l| l["kind"] == "my_number").collect();
        assert_eq!(mine.len(), 2, "{out}");
        let odd = mine
            .iter()
            .find(|l| l["path"].as_str().unwrap().contains("\\x8eR\\x93c"))
            .expect("the path shown escaped");
        // The exact bytes are given too, so that a script can find the file.
        assert_eq!(
            odd["path_hex"].as_str().unwrap(),
            hex::encode(cp932_name(dir.path(), ".txt").as_os_str().as_bytes())
        );
    }
}

#[test]
fn r8_3_every_walked_file_is_stored_whatever_the_mode() {
    // Two names that differ only in bytes that are not UTF-8: a lossy
    // conversion makes them equal, and one file used to overwrite the other.
    for isolation in [&[][..], &["--no-isolation"]] {
        let dir = tempfile::tempdir().unwrap();
        let share = dir.path().join("share");
        std::fs::create_dir(&share).unwrap();
        std::fs::write(cp932_name(&share, "1.txt"), "個人番号 314159265352\n").unwrap();
        let other = share.join(std::ffi::OsStr::from_bytes(b"\x8eR\x94c1.txt"));
        std::fs::write(other, "個人番号 258231856428\n").unwrap();
        let db = dir.path().join("m.db");
        let mut args = isolation.to_vec();
        args.push(share.to_str().unwrap());
        let (code, _, err) = scan_db(&db, &args);
        assert_eq!(code, 0, "{err}");
        assert_eq!(count(&db, "SELECT count(*) FROM files"), 2, "{isolation:?}");
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM findings WHERE kind = 'my_number'"
            ),
            2
        );
        assert_eq!(
            count(&db, "SELECT files_scanned FROM scan_runs"),
            2,
            "the run record agrees with the store"
        );
    }
}

#[test]
fn r8_1_the_service_stores_a_non_utf8_name_and_keeps_running() {
    let dir = tempfile::tempdir().unwrap();
    crate::daemon::share(dir.path(), 2);
    std::fs::write(
        cp932_name(&dir.path().join("share"), ".txt"),
        "個人番号 314159265352\n",
    )
    .unwrap();
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");
    let child = start_and_walk(&cfg, &db);
    assert_eq!(query(&db, "SELECT count(*) FROM files"), 3);
    // Still alive: a file dropped now is stored.
    std::fs::write(dir.path().join("share/後.txt"), "個人番号 258231856428\n").unwrap();
    wait_until("the dropped file", Duration::from_secs(30), || {
        query(&db, "SELECT count(*) FROM files WHERE path LIKE '%後.txt'") == 1
    });
    stop(child);
}

#[test]
fn r8_2_the_service_exits_non_zero_when_its_writer_fails() {
    let dir = tempfile::tempdir().unwrap();
    crate::daemon::share(dir.path(), 2);
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .env("MAMORI_OCR", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the first walk", Duration::from_secs(120), || {
        query(
            &db,
            "SELECT count(*) FROM scan_runs WHERE status = 'finished'",
        ) >= 1
    });
    // Another process holds the database: the writer's next transaction
    // times out ("database is locked").
    let blocker = Connection::open(&db).unwrap();
    blocker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    std::fs::write(dir.path().join("share/新規.txt"), "個人番号 258231856428\n").unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "the service went on with a writer that cannot write"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "exits non-zero so that systemd restarts it"
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(err.contains("store writer failed"), "{err}");
}

#[test]
fn r8_4_a_missing_or_emptied_root_is_not_a_deletion() {
    let dir = tempfile::tempdir().unwrap();
    let share = dir.path().join("share");
    std::fs::create_dir(&share).unwrap();
    for f in ["住民名簿.csv", "市政情報公開請求書.txt"] {
        std::fs::copy(root().join("examples").join(f), share.join(f)).unwrap();
    }
    let db = dir.path().join("m.db");
    assert_eq!(scan_db(&db, &[share.to_str().unwrap()]).0, 0);
    let open = count(
        &db,
        "SELECT count(*) FROM findings WHERE resolved_at IS NULL",
    );
    assert!(open > 10);
    // Unmounted: the mount point is there, but empty.
    let away = dir.path().join("away");
    std::fs::rename(&share, &away).unwrap();
    std::fs::create_dir(&share).unwrap();
    assert_eq!(scan_db(&db, &[share.to_str().unwrap()]).0, 0);
    // Gone altogether.
    std::fs::remove_dir(&share).unwrap();
    let (code, _, err) = scan_db(&db, &[share.to_str().unwrap()]);
    assert_eq!(code, 2, "a missing PATH is an error: {err}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM files WHERE deleted_at IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM findings WHERE resolved_at IS NULL"
        ),
        open,
        "nothing resolved as deleted"
    );
    assert!(
        count(
            &db,
            "SELECT count(*) FROM events WHERE kind = 'root_unavailable'"
        ) >= 1
    );
    let (code, out, _) = run(&["status", "--db", db.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("WARNING: root") && out.contains("empty"),
        "{out}"
    );
    // Mounted again: the same files, still open, and the warning gone.
    std::fs::remove_dir_all(&share).ok();
    std::fs::rename(&away, &share).unwrap();
    assert_eq!(scan_db(&db, &[share.to_str().unwrap()]).0, 0);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM files WHERE deleted_at IS NOT NULL"
        ),
        0
    );
    let (_, out, _) = run(&["status", "--db", db.to_str().unwrap()]);
    assert!(!out.contains("WARNING"), "{out}");
}

#[test]
fn r8_4_the_service_keeps_the_state_of_an_unmounted_root() {
    let dir = tempfile::tempdir().unwrap();
    crate::daemon::share(dir.path(), 4);
    let cfg = config(dir.path(), 1);
    let db = dir.path().join("state/mamori.db");
    let child = start_and_walk(&cfg, &db);
    let share = dir.path().join("share");
    std::fs::rename(&share, dir.path().join("away")).unwrap();
    wait_until(
        "the root reported unavailable",
        Duration::from_secs(60),
        || {
            query(
                &db,
                "SELECT count(*) FROM events WHERE kind = 'root_unavailable'",
            ) >= 2
        },
    );
    stop(child);
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM files WHERE deleted_at IS NOT NULL"
        ),
        0
    );
    // validate says what is wrong with the root.
    let (code, out, _) = run(&["validate", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAILED") && out.contains("share"), "{out}");
}

#[test]
fn r8_5_identifiers_in_names_are_findings_and_are_masked_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let share = dir.path().join("share");
    std::fs::create_dir(&share).unwrap();
    std::fs::write(share.join(format!("{MY_NUMBER}.csv")), "会議録\n").unwrap();
    // A zip whose member is named with the number (made with Python's zipfile).
    let zip = share.join("添付.zip");
    let status = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('attachments/' + sys.argv[2] + '.txt', 'お知らせ')\nz.close()",
            zip.to_str().unwrap(),
            MY_NUMBER,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let db = dir.path().join("m.db");
    let key = dir.path().join("m.key");
    let out = Mamori::new(&[
        "scan",
        "--format",
        "jsonl",
        "--db",
        db.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        share.to_str().unwrap(),
    ])
    .env("MAMORI_LOG", "trace")
    .output();
    assert_eq!(out.status.code(), Some(0));
    let lines = jsonl(&String::from_utf8(out.stdout.clone()).unwrap());
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "my_number" && l["location"] == "file name"),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "my_number" && l["location"] == "member name"),
        "{lines:?}"
    );
    no_full_identifier("stdout", &out.stdout);
    no_full_identifier("stderr", &out.stderr);
    let (_, summary, _) = run(&["scan", "--lang", "en", share.to_str().unwrap()]);
    no_full_identifier("the summary", summary.as_bytes());
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let p = f.unwrap().path();
        if p.to_string_lossy().contains("m.db") {
            no_full_identifier("the database", &std::fs::read(&p).unwrap());
        }
    }
    // The store still finds the file again: a rescan adds no row.
    let before = count(&db, "SELECT count(*) FROM files");
    let (code, _, _) = scan_db(&db, &[share.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM files"), before);
    let (_, extract, _) = run(&["extract", zip.to_str().unwrap()]);
    no_full_identifier("extract", extract.as_bytes());
}

#[test]
fn r8_6_content_hashes_are_keyed() {
    let dir = tempfile::tempdir().unwrap();
    let share = dir.path().join("share");
    std::fs::create_dir(&share).unwrap();
    let content = format!("個人番号 {MY_NUMBER}\n");
    std::fs::write(share.join("a.txt"), &content).unwrap();
    let db = dir.path().join("m.db");
    assert_eq!(scan_db(&db, &[share.to_str().unwrap()]).0, 0);
    let stored: Vec<u8> = Connection::open(&db)
        .unwrap()
        .query_row("SELECT content_hash FROM files", [], |r| r.get(0))
        .unwrap();
    let plain: [u8; 32] = sha2::Digest::finalize(<sha2::Sha256 as sha2::Digest>::new_with_prefix(
        content.as_bytes(),
    ))
    .into();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, plain.to_vec(), "not a plain SHA-256 of the content");
}

#[test]
fn r8_7_settings_out_of_bounds_and_bad_key_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let share = dir.path().join("share");
    std::fs::create_dir(&share).unwrap();
    // A key path at a device: refused at once, not read for ever.
    let t = Instant::now();
    let (code, _, err) = run(&["scan", "--key-file", "/dev/zero", share.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(t.elapsed() < Duration::from_secs(20));
    assert!(err.contains("not a regular file"), "{err}");
    // A key others can read is refused.
    let key = dir.path().join("k");
    std::fs::write(&key, "00".repeat(32)).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let (code, _, err) = run(&[
        "scan",
        "--key-file",
        key.to_str().unwrap(),
        share.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("chmod 600"), "{err}");
    // A configuration whose root holds the database, or whose queue is 0.
    let cfg = dir.path().join("m.toml");
    for text in [
        format!("[store]\ndatabase = \"{0}/m.db\"\n[[root]]\npath = \"{0}\"\nlabel = \"x\"\n", share.display()),
        format!("[store]\ndatabase = \"{0}/s/m.db\"\n[service]\nqueue_capacity = 0\n[[root]]\npath = \"{1}\"\nlabel = \"x\"\n", dir.path().display(), share.display()),
    ] {
        std::fs::write(&cfg, text).unwrap();
        let (code, _, err) = run(&["validate", "--config", cfg.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
        let (code, _, _) = run(&["run", "--once", "--config", cfg.to_str().unwrap()]);
        assert_ne!(code, 0);
    }
    // An empty database file where one was expected.
    let db = dir.path().join("empty.db");
    std::fs::write(&db, b"").unwrap();
    let (code, _, err) = scan_db(&db, &[share.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("empty (0 bytes)"), "{err}");
    // A database directory that cannot be written.
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o500)).unwrap();
    std::fs::write(
        &cfg,
        format!(
            "[store]\ndatabase = \"{}/m.db\"\n[[root]]\npath = \"{}\"\nlabel = \"x\"\n",
            ro.display(),
            share.display()
        ),
    )
    .unwrap();
    let (code, out, _) = run(&["validate", "--config", cfg.to_str().unwrap()]);
    let root_user = unsafe { libc::geteuid() } == 0;
    if !root_user {
        // (root may write anywhere: nothing to check then)
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("not writable"), "{out}");
    }
}

#[test]
fn r8_8_one_service_per_database() {
    let dir = tempfile::tempdir().unwrap();
    crate::daemon::share(dir.path(), 2);
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");
    let first = start_and_walk(&cfg, &db);
    let second = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["run", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ne!(second.status.code(), Some(0));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("in use by another mamori process"), "{err}");
    // scan --db is refused too while the service writes.
    let (code, _, err) = run(&["scan", "--db", db.to_str().unwrap(), "examples"]);
    assert_eq!(code, 2, "{err}");
    stop(first);
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM scan_runs WHERE status = 'interrupted'"
        ),
        1,
        "the first service's event run, closed at SIGTERM; the second marked nothing"
    );
}

#[test]
fn r8_9_a_folder_moved_out_of_a_watched_root_is_deleted_at_once() {
    let dir = tempfile::tempdir().unwrap();
    crate::daemon::share(dir.path(), 2);
    let sub = dir.path().join("share/課内");
    std::fs::create_dir(&sub).unwrap();
    for i in 0..3 {
        std::fs::write(sub.join(format!("{i}.txt")), "個人番号 258231856428\n").unwrap();
    }
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");
    let child = start_and_walk(&cfg, &db);
    std::fs::rename(&sub, dir.path().join("outside")).unwrap();
    wait_until(
        "the moved folder's files deleted",
        Duration::from_secs(30),
        || {
            query(
                &db,
                "SELECT count(*) FROM files WHERE deleted_at IS NOT NULL AND path LIKE '%課内%'",
            ) == 3
        },
    );
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM findings WHERE resolve_reason = 'file deleted'"
        ),
        3
    );
    stop(child);
}

#[test]
fn r8_12_the_service_resolves_what_an_edit_removed() {
    let dir = tempfile::tempdir().unwrap();
    crate::daemon::share(dir.path(), 1);
    let f = dir.path().join("share/名簿.txt");
    std::fs::write(&f, "個人番号 258231856428\n個人番号 314159265352\n").unwrap();
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");
    let child = start_and_walk(&cfg, &db);
    let open = |db: &Path| {
        query(db, "SELECT count(*) FROM findings f JOIN files x ON x.id = f.file_id WHERE x.path LIKE '%名簿.txt' AND f.kind = 'my_number' AND f.resolved_at IS NULL")
    };
    assert_eq!(open(&db), 2);
    // Two edits, both by event (one run): the second removes a line.
    std::fs::write(&f, "個人番号 258231856428\n個人番号 314159265352\n追記\n").unwrap();
    wait_until("the first edit", Duration::from_secs(30), || {
        query(
            &db,
            "SELECT count(*) FROM files WHERE path LIKE '%名簿.txt' AND scan_seq >= 2",
        ) == 1
    });
    std::fs::write(&f, "個人番号 258231856428\n").unwrap();
    wait_until("the removed row resolved", Duration::from_secs(30), || {
        open(&db) == 1
    });
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM findings WHERE resolve_reason = 'not found on rescan'"
        ),
        1
    );
    stop(child);
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM scan_runs WHERE status = 'running'"
        ),
        0
    );
}

#[test]
fn r8_10_damaged_pdfs_are_corrupt_not_image_only() {
    let dir = tempfile::tempdir().unwrap();
    let page = |content: &[u8], length: &[u8]| -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let objs: Vec<Vec<u8>> = vec![
            b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n".to_vec(),
            b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n".to_vec(),
            b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >> endobj\n".to_vec(),
            [b"4 0 obj << /Length ".as_slice(), length, b" >> stream\n", content, b"\nendstream endobj\n"].concat(),
            b"5 0 obj 6 0 R endobj\n6 0 obj 5 0 R endobj\n".to_vec(),
        ];
        let mut offsets = Vec::new();
        for o in objs {
            offsets.push(pdf.len());
            pdf.extend(o);
        }
        let xref = pdf.len();
        pdf.extend(b"xref\n0 7\n0000000000 65535 f \n");
        for o in offsets {
            pdf.extend(format!("{o:010} 00000 n \n").as_bytes());
        }
        pdf.extend(b"0000000000 00000 n \n");
        pdf.extend(
            format!("trailer << /Size 7 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes(),
        );
        pdf
    };
    std::fs::write(
        dir.path().join("length_cycle.pdf"),
        page(b"BT (x) Tj ET", b"5 0 R"),
    )
    .unwrap();
    let deep = [
        b"BT ".as_slice(),
        &b"[".repeat(200_000),
        &b"]".repeat(200_000),
        b" TJ ET",
    ]
    .concat();
    std::fs::write(
        dir.path().join("nested.pdf"),
        page(&deep, deep.len().to_string().as_bytes()),
    )
    .unwrap();
    let (code, out, err) = run(&["scan", "--format", "jsonl", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let lines = jsonl(&out);
    assert_eq!(lines.len(), 2, "{out}");
    for l in &lines {
        assert_eq!(l["reason"], "corrupt", "{l}");
    }
}

#[test]
fn r8_10_a_scan_stopped_by_sigterm_is_recorded_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    crate::daemon::share(dir.path(), 1500);
    let db = dir.path().join("m.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["scan", "--no-progress", "--threads", "1", "--db"])
        .arg(&db)
        .arg("--key-file")
        .arg(dir.path().join("k"))
        .arg(dir.path().join("share"))
        .env("MAMORI_OCR", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("some files stored", Duration::from_secs(120), || {
        query(&db, "SELECT count(*) FROM files") >= 20
    });
    // SAFETY: SIGTERM to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM scan_runs WHERE status = 'interrupted'"
        ),
        1
    );
    assert_eq!(
        query(
            &db,
            "SELECT count(*) FROM files WHERE deleted_at IS NOT NULL"
        ),
        0
    );
    assert!(
        query(&db, "SELECT files_scanned FROM scan_runs") > 0,
        "counts recorded"
    );
}

#[test]
fn r8_10_a_fifo_given_as_path_gets_a_message_and_is_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let t = Instant::now();
    let (code, out, err) = run(&["scan", "--format", "jsonl", fifo.to_str().unwrap()]);
    assert!(t.elapsed() < Duration::from_secs(30), "no hang");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("named pipe"), "{err}");
    assert!(out.contains("\"reason\":\"unsupported\""), "{out}");
    // A FIFO inside a folder is listed as not read, never opened.
    std::fs::write(dir.path().join("a.txt"), "個人番号 258231856428\n").unwrap();
    let (code, out, _) = run(&["scan", "--format", "jsonl", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("my_number") && out.contains("named pipe"),
        "{out}"
    );
}

#[test]
fn r8_10_service_runs_record_their_finding_counts() {
    let dir = tempfile::tempdir().unwrap();
    crate::daemon::share(dir.path(), 6);
    let cfg = config(dir.path(), 3600);
    let db = dir.path().join("state/mamori.db");
    let (code, _, err) = run(&["run", "--once", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let stored = query(&db, "SELECT count(*) FROM findings");
    assert!(stored > 0);
    assert_eq!(
        query(
            &db,
            "SELECT findings FROM scan_runs WHERE status = 'finished'"
        ),
        stored
    );
    assert_eq!(
        query(
            &db,
            "SELECT files_scanned FROM scan_runs WHERE status = 'finished'"
        ),
        6
    );
}

#[test]
fn r8_11_control_characters_in_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\n0 files scanned.txt";
    std::fs::write(dir.path().join(evil), "個人番号 258231856428\n").unwrap();
    let db = dir.path().join("m.db");
    let (code, out, _) = scan_db(&db, &[dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\u{1b}]0;pwned"), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("0 files scanned")),
        "no faked line: {out}"
    );
    let (_, status, _) = run(&["status", "--db", db.to_str().unwrap()]);
    assert!(!status.contains('\u{1b}'), "{status:?}");
}

#[test]
fn r8_13_extract_masks_long_digit_runs_and_mail_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("memo.txt");
    std::fs::write(
        &f,
        "番号 1234_5678_9012 を確認\n口座 7654.3210.98\n連絡 taro.yamada@example.jp\n",
    )
    .unwrap();
    let (code, out, _) = run(&["extract", f.to_str().unwrap()]);
    assert_eq!(code, 0);
    for secret in ["5678", "3210", "taro.yamada"] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    let (_, revealed, _) = run(&["extract", "--reveal", f.to_str().unwrap()]);
    assert!(revealed.contains("1234_5678_9012"));
}
