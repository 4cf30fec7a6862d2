//! Non-negotiable 2: bad input never crashes or hangs the scan. Every file
//! of the real-world corpus (tests/realworld, copied from shared/realworld),
//! plus a truncated and a bit-flipped copy of each, is scanned in one run
//! with worker isolation; the run must finish, exit 0, and report every
//! file that the corpus marks encrypted as `encrypted`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{jsonl, root};

fn corpus_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in [
        "csv", "docx", "mail", "ods", "pdf", "pptx", "xls", "xlsx", "zip", "doc", "ppt", "rtf",
        "odf", "html", "forms", "archive",
    ] {
        for e in std::fs::read_dir(root().join("tests/realworld").join(dir)).unwrap() {
            out.push(e.unwrap().path());
        }
    }
    out.sort();
    out
}

/// Flips one bit every 251 bytes from a third of the way in (deterministic).
fn bit_flipped(data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    let mut i = d.len() / 3;
    while i < d.len() {
        d[i] ^= 1 << (i % 8);
        i += 251;
    }
    d
}

/// Runs `mamori scan --format jsonl dir` with a watchdog.
fn scan_with_watchdog(dir: &Path, limit: Duration, extra: &[&str]) -> (i32, String, String) {
    let state = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["scan", "--format", "jsonl", "--timeout-secs", "60"])
        .args(extra)
        .arg(dir)
        .env("MAMORI_STATE_DIR", state.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        use std::io::Read;
        child.stdout.take().unwrap().read_to_string(&mut s).unwrap();
        let mut e = String::new();
        child.stderr.take().unwrap().read_to_string(&mut e).unwrap();
        let status = child.wait().unwrap();
        (status.code().unwrap_or(-1), s, e)
    });
    while !out.is_finished() {
        assert!(
            started.elapsed() < limit,
            "scan did not finish within {limit:?}: a hang"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    out.join().unwrap()
}

#[test]
fn realworld_truncated_and_bitflipped_files_never_crash_or_hang() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus_files();
    assert!(files.len() > 100, "the corpus is in tests/realworld");
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(f).unwrap();
        std::fs::write(dir.path().join(&name), &data).unwrap();
        std::fs::write(
            dir.path().join(format!("trunc_{name}")),
            &data[..data.len() / 2],
        )
        .unwrap();
        std::fs::write(dir.path().join(format!("flip_{name}")), bit_flipped(&data)).unwrap();
    }
    let (code, out, err) = scan_with_watchdog(dir.path(), Duration::from_secs(600), &[]);
    assert_eq!(code, 0, "stderr: {err}");
    let lines = jsonl(&out);
    let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for l in &lines {
        let path = l["path"].as_str().unwrap();
        let name = Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if l["kind"] == "unreadable" {
            reasons
                .entry(name)
                .or_default()
                .push(l["reason"].as_str().unwrap().to_string());
        }
    }
    // The corpus's encrypted files are reported encrypted, not as clean.
    for name in [
        "pdfjs_issue6010_1.pdf",
        "pdfminer_aes-256-r6.pdf",
        "tika_testEXCEL_protected_passtika.xlsx",
        "excelize_encryptSHA1.xlsx",
        "tika_password.xls",
        "tika_testPPT_protected_passtika.pptx",
        "tika_testZipEncrypted.zip",
        "poi_password_tika_binaryrc4.doc",
        "poi_Password_Protected-hello.ppt",
        "tika_testODTEncrypted.odt",
        "tika_test7Z_protected_passTika.7z",
    ] {
        assert!(
            reasons
                .get(name)
                .is_some_and(|r| r.iter().any(|x| x == "encrypted")),
            "{name}: {:?}",
            reasons.get(name)
        );
    }
    // Broken originals are reported with a reason.
    for name in [
        "tika_testWORD_truncated.docx",
        "tika_testZIP_corrupted_oom.zip",
        "calamine_issue_594_dos.ods",
    ] {
        assert!(reasons.contains_key(name), "{name} has no recorded reason");
    }
    // Damaged copies of text-bearing documents mostly fail to open: each
    // such failure carries a reason (no line without one).
    assert!(lines
        .iter()
        .all(|l| l["kind"] != "unreadable" || l["reason"].is_string()));
    assert!(
        reasons.keys().filter(|n| n.starts_with("trunc_")).count() > 20,
        "{reasons:?}"
    );
}

#[test]
fn a_file_that_needs_too_much_memory_is_too_large_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let line = "本市の予算編成について説明します。\n";
    std::fs::write(dir.path().join("huge.txt"), line.repeat(1_800_000)).unwrap(); // ~94 MB
    std::fs::write(dir.path().join("small.txt"), "個人番号 258231856428\n").unwrap();
    let (code, out, _) = scan_with_watchdog(
        dir.path(),
        Duration::from_secs(120),
        &["--worker-memory", "64M"],
    );
    assert_eq!(code, 0);
    let lines = jsonl(&out);
    assert!(
        lines.iter().any(
            |l| l["path"].as_str().unwrap().ends_with("huge.txt") && l["reason"] == "too_large"
        ),
        "{lines:?}"
    );
    assert!(lines
        .iter()
        .any(|l| l["path"].as_str().unwrap().ends_with("small.txt") && l["kind"] == "my_number"));
}

#[test]
fn zip_bomb_is_too_large_not_out_of_memory() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.zip");
    let mut zw = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zw.start_file("zeros.txt", opts).unwrap();
    let chunk = vec![b'0'; 1 << 20];
    for _ in 0..256 {
        zw.write_all(&chunk).unwrap(); // 256 MiB of zeros, ~250 KB compressed
    }
    zw.start_file("memo.txt", opts).unwrap();
    zw.write_all("個人番号 258231856428\n".as_bytes()).unwrap();
    zw.finish().unwrap();
    let (code, out, _) = scan_with_watchdog(dir.path(), Duration::from_secs(120), &[]);
    assert_eq!(code, 0);
    let lines = jsonl(&out);
    assert!(
        lines
            .iter()
            .any(|l| l["member"] == "zeros.txt" && l["reason"] == "too_large"),
        "{lines:?}"
    );
    // The member after the bomb is still scanned, with its member chain.
    assert!(
        lines
            .iter()
            .any(|l| l["member"] == "memo.txt" && l["kind"] == "my_number"),
        "{lines:?}"
    );
}

#[test]
fn fuzz_found_xls_that_allocates_24_gb_is_too_large_in_a_worker() {
    // See tests/fixtures/hostile/README.md.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/fixtures/hostile/fuzz_xls_huge_range.xls"),
        dir.path().join("huge_range.xls"),
    )
    .unwrap();
    std::fs::write(dir.path().join("memo.txt"), "個人番号 258231856428\n").unwrap();
    let (code, out, _) = scan_with_watchdog(
        dir.path(),
        Duration::from_secs(60),
        &["--worker-memory", "512M"],
    );
    assert_eq!(code, 0);
    let lines = jsonl(&out);
    assert!(
        lines
            .iter()
            .any(|l| l["path"].as_str().unwrap().ends_with("huge_range.xls")
                && l["reason"] == "too_large"),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l["kind"] == "my_number"));
}

#[test]
fn a_large_mbox_streams_within_a_small_worker() {
    // ~100 MB of real messages (the fixture export repeated) scanned by a
    // worker limited to 64 MB: only message-by-message streaming fits.
    let dir = tempfile::tempdir().unwrap();
    let one = std::fs::read(root().join("tests/fixtures/mail/export.mbox")).unwrap();
    let copies = 100_000_000 / one.len() + 1;
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(dir.path().join("export.mbox")).unwrap());
    for _ in 0..copies {
        std::io::Write::write_all(&mut f, &one).unwrap();
    }
    drop(f);
    let (code, out, err) = scan_with_watchdog(
        dir.path(),
        Duration::from_secs(300),
        &[
            "--worker-memory",
            "64M",
            "--internal-domain",
            "city.example.lg.jp",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let lines = jsonl(&out);
    assert!(
        !lines
            .iter()
            .any(|l| l["kind"] == "unreadable" && l["member"].is_null()),
        "the file itself was read"
    );
    let flagged = lines.iter().filter(|l| l.get("flags").is_some()).count();
    assert!(
        flagged >= copies,
        "every copy's leak is flagged: {flagged} < {copies}"
    );
    let last = format!("{}/請求書.pdf", 4 * copies - 2);
    assert!(
        lines.iter().any(|l| l["member"] == last.as_str()),
        "messages are numbered through the file ({last})"
    );
}

#[test]
fn fuzz_found_xls_that_panics_the_parser_is_corrupt() {
    // See tests/fixtures/hostile/README.md.
    for isolation in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            root().join("tests/fixtures/hostile/fuzz_xls_panic.xls"),
            dir.path().join("panic.xls"),
        )
        .unwrap();
        let extra: &[&str] = if isolation { &[] } else { &["--no-isolation"] };
        let (code, out, err) = scan_with_watchdog(dir.path(), Duration::from_secs(60), extra);
        assert_eq!(code, 0);
        let lines = jsonl(&out);
        assert!(lines.iter().any(|l| l["reason"] == "corrupt"), "{lines:?}");
        assert!(err.contains("message withheld"), "{err}");
    }
}
