//! The findings store (`mamori scan --db`): history without duplicates,
//! resolved findings kept, deleted and moved files, incremental rescans,
//! owner-only files, the append-only event log, `mamori status`.

use std::path::Path;

use rusqlite::Connection;

use crate::util::{root, Mamori};

fn scan(db: &Path, dir: &Path, extra: &[&str]) -> String {
    // One key for the database's lifetime (each Mamori gets a fresh state dir).
    let key = db.with_extension("key");
    let mut args = vec![
        "scan",
        "--lang",
        "en",
        "--db",
        db.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    args.push(dir.to_str().unwrap());
    let out = Mamori::new(&args).output();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn share() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("share")).unwrap();
    for f in ["住民名簿.csv", "市政情報公開請求書.txt"] {
        std::fs::copy(
            root().join("examples").join(f),
            dir.path().join("share").join(f),
        )
        .unwrap();
    }
    dir
}

#[test]
fn rescans_update_without_duplicates_and_keep_history() {
    let dir = share();
    let (db, s) = (dir.path().join("m.db"), dir.path().join("share"));
    scan(&db, &s, &[]);
    let open = count(
        &db,
        "SELECT count(*) FROM findings WHERE resolved_at IS NULL",
    );
    assert!(open > 15, "{open}");
    scan(&db, &s, &[]);
    assert_eq!(
        count(&db, "SELECT count(*) FROM findings"),
        open,
        "a rescan adds nothing"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM scan_runs WHERE status = 'finished'"
        ),
        2
    );

    // Remove the personal data from one file: its findings are resolved, not deleted.
    std::fs::write(
        s.join("市政情報公開請求書.txt"),
        "市政情報公開請求書（記入例なし）\n",
    )
    .unwrap();
    scan(&db, &s, &[]);
    let resolved = count(
        &db,
        "SELECT count(*) FROM findings WHERE resolve_reason = 'not found on rescan'",
    );
    assert!(resolved >= 4, "{resolved}");
    assert_eq!(
        count(&db, "SELECT count(*) FROM findings"),
        open,
        "history kept"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM findings WHERE resolved_at IS NOT NULL AND resolved_at >= first_seen_at"),
        resolved
    );
}

#[test]
fn deleted_and_moved_files() {
    let dir = share();
    let (db, s) = (dir.path().join("m.db"), dir.path().join("share"));
    scan(&db, &s, &[]);
    let id: i64 = count(&db, "SELECT id FROM files WHERE path LIKE '%住民名簿.csv'");
    let first_seen: String = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT min(first_seen_at) FROM findings WHERE file_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();

    // Moved with identical content: same file row, same findings, new path.
    std::fs::create_dir(s.join("移動先")).unwrap();
    std::fs::rename(s.join("住民名簿.csv"), s.join("移動先").join("名簿.csv")).unwrap();
    scan(&db, &s, &[]);
    let moved: i64 = count(
        &db,
        "SELECT id FROM files WHERE path LIKE '%移動先/名簿.csv'",
    );
    assert_eq!(moved, id, "recognised by content hash");
    let still: String = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT min(first_seen_at) FROM findings WHERE file_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(still, first_seen, "history kept across the move");
    assert_eq!(
        count(&db, "SELECT count(*) FROM events WHERE kind = 'file_moved'"),
        1
    );

    // Deleted: marked, open findings resolved, history kept.
    std::fs::remove_file(s.join("市政情報公開請求書.txt")).unwrap();
    scan(&db, &s, &[]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM files WHERE deleted_at IS NOT NULL"
        ),
        1
    );
    assert!(
        count(
            &db,
            "SELECT count(*) FROM findings WHERE resolve_reason = 'file deleted'"
        ) >= 4
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM findings f JOIN files x ON x.id = f.file_id WHERE x.deleted_at IS NOT NULL AND f.resolved_at IS NULL"),
        0
    );
}

#[test]
fn incremental_rescans_skip_unchanged_files() {
    let dir = share();
    let (db, s) = (dir.path().join("m.db"), dir.path().join("share"));
    scan(&db, &s, &[]);
    let open = count(
        &db,
        "SELECT count(*) FROM findings WHERE resolved_at IS NULL",
    );
    let out = scan(&db, &s, &["--incremental"]);
    assert!(out.contains("2 unchanged (not reopened)"), "{out}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM findings WHERE resolved_at IS NULL"
        ),
        open,
        "unchanged files keep their findings"
    );
    // A changed file is read again.
    std::fs::write(s.join("市政情報公開請求書.txt"), "請求者氏名 猪狩 大和\n").unwrap();
    let out = scan(&db, &s, &["--incremental"]);
    assert!(out.contains("1 unchanged"), "{out}");
}

#[test]
fn database_is_private_and_events_are_append_only() {
    let dir = share();
    let (db, s) = (dir.path().join("m.db"), dir.path().join("share"));
    scan(&db, &s, &[]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["m.db", "m.db-wal", "m.db-shm"] {
            let p = dir.path().join(f);
            if p.exists() {
                assert_eq!(
                    std::fs::metadata(&p).unwrap().permissions().mode() & 0o077,
                    0,
                    "{f} is private"
                );
            }
        }
    }
    let conn = Connection::open(&db).unwrap();
    assert!(
        conn.execute("DELETE FROM events", []).is_err(),
        "append-only"
    );
    assert!(
        conn.execute("UPDATE events SET kind = 'x'", []).is_err(),
        "append-only"
    );
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, mamori::store::SCHEMA_VERSION);
    drop(conn);
    // Another fingerprint key is refused: its fingerprints would not match.
    let out = Mamori::new(&["scan", "--db", db.to_str().unwrap(), s.to_str().unwrap()]).output();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another fingerprint key"));
    // No full value is stored: masked values and fingerprints only.
    let ids = std::fs::read_to_string(root().join("tests/fixtures/identifiers.json")).unwrap();
    let ids: Vec<String> = serde_json::from_str(&ids).unwrap();
    let raw = std::fs::read(&db).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    for id in ids
        .iter()
        .filter(|i| i.chars().filter(char::is_ascii_digit).count() >= 10)
    {
        assert!(
            !raw.contains(id.as_str()),
            "{id} stored in the database file"
        );
    }
}

#[test]
fn status_reports_what_the_store_knows() {
    let dir = share();
    let (db, s) = (dir.path().join("m.db"), dir.path().join("share"));
    scan(&db, &s, &[]);
    let out = Mamori::new(&["status", "--db", db.to_str().unwrap()]).output();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("files tracked: 2"), "{text}");
    assert!(text.contains("my_number"), "{text}");
    assert!(text.contains("run_finished"), "{text}");
    let out = Mamori::new(&[
        "status",
        "--db",
        dir.path().join("none.db").to_str().unwrap(),
    ])
    .output();
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)] // two folders whose names differ only in case (one on Windows)
#[test]
fn roots_that_differ_only_in_case_are_two_roots() {
    let dir = tempfile::tempdir().unwrap();
    for (folder, file) in [
        ("Soumu", "住民名簿.csv"),
        ("soumu", "市政情報公開請求書.txt"),
    ] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
        std::fs::copy(
            root().join("examples").join(file),
            dir.path().join(folder).join(file),
        )
        .unwrap();
    }
    let cfg = dir.path().join("mamori.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\ndatabase = \"{d}/state/mamori.db\"\n[[root]]\npath = \"{d}/Soumu\"\nlabel = \"総務A\"\n[[root]]\npath = \"{d}/soumu\"\nlabel = \"総務B\"\n",
            d = dir.path().display()
        ),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    let cfg = cfg.to_str().unwrap();
    let out = Mamori::new(&["run", "--once", "--config", cfg]).output();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A root's findings are its folder's only: SQLite's LIKE folds ASCII
    // case unless told not to, and /…/Soumu/% matched /…/soumu/ too.
    for (label, folder, other) in [
        ("総務A", "/Soumu/", "/soumu/"),
        ("総務B", "/soumu/", "/Soumu/"),
    ] {
        let out = Mamori::new(&[
            "review", "list", "--config", cfg, "--root", label, "--format", "jsonl", "--limit", "0",
        ])
        .output();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(folder), "{label}: {text}");
        assert!(
            !text.contains(other),
            "{label} lists the other folder's files: {text}"
        );
    }
}
