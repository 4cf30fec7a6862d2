//! `mamori bench --report-store N --report-dir DIR`: builds a findings store
//! of N findings in N/10 files, the size of a large city's shares, for
//! timing `mamori report weekly` and `mamori review list` on it (the
//! figures are in README.md, "Reports").
//!
//! Scanning 100,000 real files would take long here and measure the
//! scanner, not the reports, so the files are generated: each file's scan
//! outcome (findings with masked values and keyed fingerprints, an outbound
//! message for mail, an unreadable reason for 1 %) is written through
//! `Store::record` exactly as a scan writes it, and decisions through
//! `Store::decide`. A scan records everything as "now"; to give the
//! 12-week trend something to show, first-seen times are then spread over
//! the last 16 weeks and 12 % of the findings resolved some hours after
//! they were seen, by plain SQL on those two columns. Files do not exist
//! on disk (reports never open them). Records verdicts are refreshed as
//! the service does. Deterministic (a fixed LCG), no document text.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};

use mamori::finding::{mask, Confidence, Explanation, Finding, Kind, Validation};
use mamori::keys::KeySet;
use mamori::outcome::{
    Content, FileEnd, FileRef, MemberPath, OutboundMessage, Outcome, UnreadableReason,
};
use mamori::review::Decision;
use mamori::store::{RunCounts, Store};
use mamori::text::Location;

/// The roots: one per 課, and a mail export.
const SECTIONS: &[&str] = &[
    "総務課",
    "財政課",
    "市民課",
    "税務課",
    "福祉課",
    "子育て支援課",
    "介護保険課",
    "健康推進課",
    "環境課",
    "都市計画課",
    "建設課",
    "教育総務課",
    "学校教育課",
    "生涯学習課",
    "職員課",
    "情報政策課",
    "危機管理課",
    "保険年金課",
    "会計課",
    "議会事務局",
];
const MAIL_ROOT: &str = "メールアーカイブ";

/// Kinds by weight (out of 100): names, phones and addresses dominate a
/// city's files; My Number is one in ten.
const KINDS: &[(Kind, u64)] = &[
    (Kind::PersonName, 28),
    (Kind::PhoneNumber, 15),
    (Kind::PostalAddress, 15),
    (Kind::BirthDate, 10),
    (Kind::MyNumber, 10),
    (Kind::EmailAddress, 8),
    (Kind::BankAccount, 4),
    (Kind::HealthInsuranceNumber, 3),
    (Kind::BasicPensionNumber, 3),
    (Kind::CorporateNumber, 2),
    (Kind::CreditCard, 2),
];

const SUBFOLDERS: &[&str] = &["申請書", "台帳", "通知", "名簿", "調査", "契約"];
const FORMATS: &[(&str, &str)] = &[
    ("xlsx", "xlsx"),
    ("docx", "docx"),
    ("pdf", "pdf"),
    ("csv", "csv"),
    ("txt", "txt"),
];

use mamori::sample_text::Lcg;

/// A fake value of `kind` (never a real person's), unique per `n`.
fn value(kind: Kind, n: u64) -> String {
    match kind {
        Kind::MyNumber => mamori::sample_text::my_number_from(n),
        Kind::PhoneNumber => format!("0{}-{:04}-{:04}", 3 + n % 7, (n / 7) % 10_000, n % 10_000),
        Kind::PostalAddress => format!(
            "東京都千代田区霞が関{}丁目{}番{}号",
            n % 5 + 1,
            n % 30 + 1,
            n % 20 + 1
        ),
        Kind::BirthDate => format!("昭和{}年{}月{}日", n % 60 + 1, n % 12 + 1, n % 28 + 1),
        Kind::EmailAddress => format!("user{n}@example.jp"),
        Kind::PersonName => format!("山田 {n}"),
        _ => format!("{:012}", n),
    }
}

fn pick_kind(rng: &mut Lcg) -> Kind {
    let mut r = rng.below(100);
    for (k, w) in KINDS {
        if r < *w {
            return *k;
        }
        r -= w;
    }
    Kind::PersonName
}

fn config_text(dir: &Path) -> String {
    let mut s = format!(
        "[store]\ndatabase = \"{}\"\n[scan]\ninternal_domains = [\"city.example.lg.jp\"]\n[report]\ndirectory = \"{}\"\n",
        dir.join("state/mamori.db").display(),
        dir.join("reports").display()
    );
    for sec in SECTIONS {
        s.push_str(&format!(
            "[[root]]\npath = \"{}\"\nlabel = \"{sec}\"\nwatch = \"poll\"\n",
            dir.join("share").join(sec).display()
        ));
    }
    s.push_str(&format!(
        "[[root]]\npath = \"{}\"\nlabel = \"{MAIL_ROOT}\"\nkind = \"mail_export\"\nwatch = \"poll\"\n",
        dir.join("mail").display()
    ));
    s.push_str(
        r#"[records]
fiscal_year_start = "04-01"
[[retention]]
path = "**/台帳/**"
class = "台帳"
years = 5
action = "移管"
[[retention]]
path = "**/申請書/**"
class = "申請・届出"
years = 5
action = "廃棄"
[[retention]]
path = "**/通知/**"
class = "通知"
years = 3
action = "廃棄"
[[retention]]
path = "**/契約/**"
class = "契約"
years = 5
action = "廃棄"
[[my_number_area]]
path = "**/税務課/**"
purpose = "個人住民税の賦課徴収に関する事務"
[[my_number_area]]
path = "**/保険年金課/**"
purpose = "国民健康保険に関する事務"
[[my_number_area]]
path = "**/職員課/**"
purpose = "給与所得の源泉徴収事務"
[[legal_hold]]
path = "**/総務課/令和3年度/**"
reason = "開示請求 第3-21号"
until = 2027-03-31
"#,
    );
    s
}

/// Builds the store; prints what it made and how long it took.
pub fn make(findings: usize, dir: &Path) -> Result<ExitCode> {
    let t0 = Instant::now();
    std::fs::create_dir_all(dir.join("state"))?;
    let db = dir.join("state/mamori.db");
    if db.exists() {
        anyhow::bail!("{} exists: give an empty directory", db.display());
    }
    let cfg_path = dir.join("mamori.toml");
    std::fs::write(&cfg_path, config_text(dir))?;
    let cfg = mamori::config::Config::load(&cfg_path)?;
    let key = mamori::keys::load_or_create(&cfg.key_file()).context("fingerprint key")?;
    let keys = KeySet::new(key);
    let fp = keys.fingerprinter().clone();
    let mut store = Store::open(&db, &keys)?;
    let roots: Vec<PathBuf> = cfg.roots.iter().map(|r| r.path.clone()).collect();
    let run = store.begin_run(&roots, "bench")?;
    let files = (findings / 10).max(1);
    let mut rng = Lcg(20261130);
    let (mut written, mut unreadable, mut n_value) = (0usize, 0u64, 0u64);
    let detector: std::sync::Arc<str> = "bench".into();
    let pattern: std::sync::Arc<str> = "bench".into();
    for i in 0..files {
        let root_i = i % roots.len();
        let mail = root_i == roots.len() - 1;
        let year = 1 + (i / roots.len()) % 7; // 令和1年度 … 令和7年度
        let path = if mail {
            roots[root_i].join(format!(
                "{}年{}月/message_{i:06}.eml",
                2019 + year,
                1 + i % 12
            ))
        } else {
            let (ext, _) = FORMATS[i % FORMATS.len()];
            roots[root_i].join(format!(
                "令和{year}年度/{}/文書_{i:06}.{ext}",
                SUBFOLDERS[(i / 7) % SUBFOLDERS.len()]
            ))
        };
        // Modified in the fiscal year of its folder.
        let mtime_s =
            1_554_076_800i64 + (year as i64 - 1) * 31_536_000 + rng.below(31_000_000) as i64;
        let file = FileRef::new(path, 1000 + rng.below(1_000_000), mtime_s * 1_000_000_000);
        let format = if mail {
            "eml"
        } else {
            FORMATS[i % FORMATS.len()].1
        };
        let outcome = if i % 100 == 37 {
            unreadable += 1;
            let reason = [
                UnreadableReason::Encrypted,
                UnreadableReason::Corrupt,
                UnreadableReason::ImageOnly,
                UnreadableReason::TooLarge,
            ][(i / 100) % 4];
            Outcome::unreadable(file, reason, Some(format), "bench")
        } else {
            // 1 to 19 findings, ten on average, until the total is reached.
            let left = findings.saturating_sub(written);
            let want = if i + 1 == files {
                left
            } else {
                (1 + rng.below(19) as usize).min(left)
            };
            let mut content = Content::default();
            for j in 0..want {
                let kind = pick_kind(&mut rng);
                n_value += 1;
                // Some values repeat across files (the same resident in several).
                let v = value(
                    kind,
                    if rng.below(5) == 0 {
                        rng.below(1000)
                    } else {
                        n_value
                    },
                );
                let confidence = match rng.below(10) {
                    0 | 1 => Confidence::Low,
                    2..=5 => Confidence::Medium,
                    _ => Confidence::High,
                };
                content.findings.push((
                    MemberPath::root(),
                    Finding {
                        kind,
                        confidence,
                        detector_id: detector.clone(),
                        detector_version: 1,
                        location: Location::LineColumn {
                            line: j as u32 + 2,
                            column: 1 + (j % 7) as u32,
                        },
                        masked: mask(&v, 0, 4),
                        fingerprint: fp.fingerprint(kind, &v),
                        explanation: Explanation {
                            pattern: pattern.clone(),
                            validation: Validation::NotApplicable,
                            context_word: None,
                        },
                        span: 0..0,
                    },
                ));
            }
            written += want;
            if mail && (i / roots.len()).is_multiple_of(3) {
                let mut kinds = std::collections::BTreeMap::new();
                for (_, f) in &content.findings {
                    *kinds.entry(f.kind).or_insert(0) += 1;
                }
                content.outbound.push(OutboundMessage {
                    member: MemberPath::root(),
                    recipient_domains: vec!["example.co.jp".into()],
                    kinds,
                });
            }
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&(i as u64).to_le_bytes());
            Outcome::Done {
                file,
                content,
                end: FileEnd {
                    format: Some(format.to_string()),
                    content_hash: Some(hash),
                    ..FileEnd::default()
                },
            }
        };
        let root = roots[root_i].clone();
        store.record(run, Some(&root), &outcome, "bench")?;
        if (i + 1) % 10_000 == 0 {
            eprintln!(
                "{} files, {written} findings ({:.0} s)",
                i + 1,
                t0.elapsed().as_secs_f64()
            );
        }
    }
    store.end_run(
        run,
        "finished",
        RunCounts {
            files: files as u64,
            findings: written as u64,
            unreadable,
        },
    )?;
    let scanned = t0.elapsed().as_secs_f64();

    // Spread first-seen times over the last 16 weeks (files first), and
    // resolve 12 % of the findings some hours after they were seen.
    let conn = store.connection();
    conn.execute_batch(
        "BEGIN;
         UPDATE files SET first_seen_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ((id * 7919) % 2688) || ' hours');
         UPDATE findings SET first_seen_at = max(
             (SELECT first_seen_at FROM files WHERE files.id = findings.file_id),
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ((id * 104729) % 2688) || ' hours'));
         UPDATE findings SET resolved_at = strftime('%Y-%m-%dT%H:%M:%fZ', first_seen_at, '+' || (id % 700) || ' hours'),
                             resolve_reason = 'not found on rescan'
             WHERE id % 25 IN (3, 7, 11);
         UPDATE findings SET resolved_at = NULL, resolve_reason = NULL
             WHERE resolved_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
         COMMIT;",
    )?;

    // Decisions: false positives (2 %), confirmed (3 %), retained (1 %), in
    // batches of 500 by three reviewers.
    let mut ids: Vec<(i64, Decision)> = Vec::new();
    {
        let mut st =
            conn.prepare("SELECT id FROM findings WHERE resolved_at IS NULL AND id % 100 < 6")?;
        for id in st.query_map([], |r| r.get::<_, i64>(0))? {
            let id = id?;
            let d = match id % 100 {
                0 | 1 => Decision::FalsePositive,
                2..=4 => Decision::Confirmed,
                _ => Decision::Retained,
            };
            ids.push((id, d));
        }
    }
    let mut decided = 0;
    for d in [
        Decision::FalsePositive,
        Decision::Confirmed,
        Decision::Retained,
    ] {
        let of: Vec<i64> = ids.iter().filter(|x| x.1 == d).map(|x| x.0).collect();
        for (b, chunk) in of.chunks(500).enumerate() {
            let reviewer = ["文書管理担当 佐藤", "文書管理担当 鈴木", "情報政策課 高橋"][b % 3];
            decided += store.decide(chunk, d, "法定の保存義務（bench）", reviewer)?;
        }
    }
    let ctx = cfg.records_context()?;
    mamori::records::apply::refresh(&mut store, &ctx, mamori::time::today_jst(), None)?;
    println!(
        "store of {written} findings in {files} files ({unreadable} unreadable), {decided} findings decided: {} \
         (config {}); scan outcomes recorded in {scanned:.1} s, all in {:.1} s",
        db.display(),
        cfg_path.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
