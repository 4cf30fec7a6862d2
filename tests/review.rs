//! Issue 11 (review): decisions are append-only events that survive
//! rescans, renames and moves; a remediated value that comes back is
//! `regressed`; a false positive leaves counts and flags; `retained` needs
//! a note; a decision on a filtered set needs `--yes`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{jsonl, root, run};

fn setup(dir: &Path) -> PathBuf {
    let share = dir.join("share/市民課");
    std::fs::create_dir_all(&share).unwrap();
    std::fs::copy(root().join("examples/住民名簿.csv"), share.join("名簿.csv")).unwrap();
    std::fs::write(share.join("メモ.txt"), "個人番号 258231856428\n").unwrap();
    let cfg = dir.join("mamori.toml");
    std::fs::write(
        &cfg,
        format!(
            "[store]\ndatabase = \"{}\"\n[[root]]\npath = \"{}\"\nlabel = \"本庁舎\"\n",
            dir.join("state/mamori.db").display(),
            dir.join("share").display()
        ),
    )
    .unwrap();
    cfg
}

fn once(cfg: &Path) {
    let (code, _, err) = run(&["run", "--once", "--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

fn list(cfg: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![
        "review",
        "list",
        "--config",
        cfg.to_str().unwrap(),
        "--format",
        "jsonl",
        "--limit",
        "0",
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    jsonl(&out)
}

fn mark(cfg: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "review",
        "mark",
        "--config",
        cfg.to_str().unwrap(),
        "--reviewer",
        "文書管理担当 佐藤",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn decisions_survive_rescans_and_renames_and_a_regression_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path());
    once(&cfg);
    let memo = dir.path().join("share/市民課/メモ.txt");
    let mine = list(&cfg, &["--kind", "my_number"]);
    let in_memo: Vec<&Value> = mine
        .iter()
        .filter(|l| l["path"].as_str().unwrap().ends_with("メモ.txt"))
        .collect();
    assert_eq!(in_memo.len(), 1);
    let id = in_memo[0]["id"].as_i64().unwrap().to_string();
    let (code, out, err) = mark(
        &cfg,
        &[
            "--finding",
            &id,
            "--decision",
            "confirmed",
            "--note",
            "窓口で確認",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");

    // Moved within the share and rescanned: the decision stays with the value.
    let moved = dir.path().join("share/市民課/保存/メモ_写し.txt");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&memo, &moved).unwrap();
    once(&cfg);
    let confirmed = list(&cfg, &["--status", "confirmed"]);
    assert_eq!(confirmed.len(), 1, "{confirmed:?}");
    assert!(confirmed[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("メモ_写し.txt"));

    // Marked remediated, but an edit keeps the number: it came back.
    let (code, _, err) = mark(
        &cfg,
        &[
            "--finding",
            &id,
            "--decision",
            "remediated",
            "--note",
            "番号を削除",
        ],
    );
    assert_eq!(code, 0, "{err}");
    std::fs::write(&moved, "追記\n個人番号 258231856428\n").unwrap();
    once(&cfg);
    let regressed = list(&cfg, &["--status", "regressed"]);
    assert_eq!(regressed.len(), 1, "{regressed:?}");
    // (The value moved from line 1 to line 2: the line-1 finding is
    // resolved and stays remediated; the one found now is regressed.)
    for r in list(&cfg, &["--status", "remediated"]) {
        assert!(r["resolved"].is_string(), "{r}");
    }

    // Remediated for real: the finding is resolved and stays remediated.
    let (code, _, err) = mark(
        &cfg,
        &[
            "--finding",
            &id,
            "--decision",
            "remediated",
            "--note",
            "番号を削除",
        ],
    );
    assert_eq!(code, 0, "{err}");
    std::fs::write(&moved, "追記のみ\n").unwrap();
    once(&cfg);
    assert_eq!(list(&cfg, &["--status", "regressed"]).len(), 0);
    let remediated = list(&cfg, &["--status", "remediated"]);
    assert!(!remediated.is_empty());
    for r in &remediated {
        assert!(
            r["resolved"].is_string(),
            "resolved: not found on rescan: {r}"
        );
    }

    // The trail: who, when, what, the note, and the move.
    let (code, out, _) = run(&[
        "review",
        "history",
        moved.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("remediated") && out.contains("番号を削除") && out.contains("佐藤"),
        "{out}"
    );
    assert!(out.contains("file_moved"), "{out}");
}

#[test]
fn false_positives_leave_counts_and_flags_and_sets_need_yes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = setup(dir.path());
    once(&cfg);
    let all = list(&cfg, &[]);
    let phones: Vec<&Value> = all.iter().filter(|l| l["kind"] == "phone_number").collect();
    assert!(!phones.is_empty());
    // --limit: that many, in id order, and the summary says how many of all.
    let (code, out, err) = run(&[
        "review",
        "list",
        "--config",
        cfg.to_str().unwrap(),
        "--limit",
        "2",
        "--lang",
        "en",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(&format!("2 of {} finding(s) shown", all.len())),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.starts_with('#')).count(),
        2,
        "{out}"
    );
    let ids: Vec<i64> = all.iter().map(|l| l["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "JSONL in id order");
    for id in &ids[..2] {
        assert!(out.contains(&format!("#{id:<8}")), "{out}");
    }
    // A filtered set: says how many, changes nothing without --yes.
    let (code, out, _) = mark(
        &cfg,
        &["--kind", "phone_number", "--decision", "false_positive"],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("{} finding(s) would be marked", phones.len())),
        "{out}"
    );
    assert_eq!(list(&cfg, &["--status", "false_positive"]).len(), 0);
    let (code, _, err) = mark(
        &cfg,
        &[
            "--kind",
            "phone_number",
            "--decision",
            "false_positive",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        list(&cfg, &["--kind", "phone_number"]).len(),
        0,
        "gone from the default list"
    );
    assert_eq!(
        list(&cfg, &["--status", "false_positive"]).len(),
        phones.len(),
        "still visible"
    );
    let (_, status, _) = run(&["status", "--config", cfg.to_str().unwrap()]);
    assert!(
        !status.contains("phone_number"),
        "gone from the counts: {status}"
    );
    // My Numbers outside any area flag both files; a false positive on the
    // memo's takes the flag off that file.
    let flagged = |cfg: &Path| {
        let (_, out, _) = run(&[
            "records",
            "--config",
            cfg.to_str().unwrap(),
            "--format",
            "jsonl",
            "--flag",
            "my_number_outside_area",
        ]);
        jsonl(&out).len()
    };
    assert_eq!(flagged(&cfg), 2);
    let memo = dir.path().join("share/市民課/メモ.txt");
    let (code, _, err) = mark(
        &cfg,
        &[
            "--file",
            memo.to_str().unwrap(),
            "--kind",
            "my_number",
            "--decision",
            "false_positive",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(flagged(&cfg), 1);
    // retained needs its legal basis.
    let (code, _, err) = mark(
        &cfg,
        &["--file", memo.to_str().unwrap(), "--decision", "retained"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("needs --note"), "{err}");
    // The decisions table is append-only.
    let conn = rusqlite::Connection::open(dir.path().join("state/mamori.db")).unwrap();
    assert!(conn.execute("DELETE FROM decisions", []).is_err());
    assert!(conn
        .execute("UPDATE decisions SET reviewer = 'x'", [])
        .is_err());
}
