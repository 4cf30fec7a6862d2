//! Issue 11 (reports): a store made by real scans of a seeded share (four
//! roots, records rules, a legal hold, an outbound mail, unreadable files,
//! a file named `<script>alert(1)</script>.txt`), with decisions and a
//! resolved finding; then `mamori report weekly` and `report retention`.
//! Every figure in report.html and report.xlsx is checked against counts
//! the test takes from the database with its own SQL (or from `mamori
//! records` for rule flags); findings.csv is checked for its BOM, UTF-8 and
//! row count; no report file holds a full identifier.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, DataType, Reader, Xlsx};
use rusqlite::Connection;
use scraper::{Html, Selector};
use serde_json::Value;

use crate::util::{jsonl, root, run};

/// The day records flags are evaluated for, in the report and in the
/// `records` listing it is compared with (the hold is in force then).
const AS_OF: &str = "2026-06-01";

/// Identifiers the test writes into the share (beside the fixtures').
const WRITTEN: &[&str] = &["258231856428", "614748492532", "090-1234-5678"];

const SCRIPT_NAME: &str = "<script>alert(1)</script>.txt";

struct Share {
    _dir: tempfile::TempDir,
    base: PathBuf,
    cfg: PathBuf,
    db: PathBuf,
}

fn seed() -> Share {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_path_buf();
    let shimin = base.join("share/市民課");
    let kyuyo = base.join("share/職員課/給与/令和2年度");
    let kokai = base.join("share/総務課/情報公開/令和4年度");
    let bunsho = base.join("share/総務課/文書");
    let mail = base.join("mail");
    for d in [&shimin, &kyuyo, &kokai, &bunsho, &mail] {
        std::fs::create_dir_all(d).unwrap();
    }
    let copy = |from: &str, to: &Path| {
        std::fs::copy(root().join(from), to).unwrap();
    };
    copy("examples/住民名簿.csv", &shimin.join("住民名簿.csv"));
    copy("examples/住民名簿.xlsx", &shimin.join("住民名簿.xlsx"));
    std::fs::write(
        shimin.join("メモ.txt"),
        format!("個人番号 {}\n電話 {}\n", WRITTEN[0], WRITTEN[2]),
    )
    .unwrap();
    // A file name that is markup: `/` cannot be in a name, so the folder
    // `<script>alert(1)<` holds `script>.txt`.
    std::fs::create_dir_all(shimin.join("<script>alert(1)<")).unwrap();
    std::fs::write(
        shimin.join(SCRIPT_NAME),
        format!("申請者 山田 太郎\n個人番号 {}\n", WRITTEN[1]),
    )
    .unwrap();
    // Unreadable: a truncated workbook (corrupt) and an image without OCR.
    let xlsx = std::fs::read(root().join("examples/住民名簿.xlsx")).unwrap();
    std::fs::write(bunsho.join("壊れた.xlsx"), &xlsx[..2500]).unwrap();
    copy(
        "tests/fixtures/docs/scan.png",
        &shimin.join("申請書スキャン.png"),
    );
    copy(
        "examples/給与支払報告書.tsv",
        &kyuyo.join("給与支払報告書.tsv"),
    );
    copy("examples/市政情報公開請求書.txt", &kokai.join("請求書.txt"));
    copy(
        "tests/fixtures/dates/created_2021-04-01_jst.docx",
        &bunsho.join("議事録.docx"),
    );
    copy(
        "tests/fixtures/mail/leak_iso2022jp.eml",
        &mail.join("leak_iso2022jp.eml"),
    );
    let db = base.join("state/mamori.db");
    let cfg = base.join("mamori.toml");
    let r = |p: &Path| p.display().to_string();
    std::fs::write(
        &cfg,
        format!(
            r#"[store]
database = "{db}"
[scan]
internal_domains = ["city.example.lg.jp"]
[report]
directory = "{reports}"
keep_weeks = 2
[[root]]
path = "{shimin}"
label = "市民課"
[[root]]
path = "{shokuin}"
label = "職員課"
[[root]]
path = "{soumu}"
label = "総務課"
[[root]]
path = "{mail}"
label = "メールアーカイブ"
kind = "mail_export"
[records]
fiscal_year_start = "04-01"
[[retention]]
path = "**/給与/**"
class = "給与・源泉徴収"
years = 5
action = "廃棄"
[[retention]]
path = "**/情報公開/**"
class = "情報公開請求・決定"
years = 1
action = "移管"
[[retention]]
path = "**/文書/**"
class = "総務一般"
years = 3
action = "廃棄"
[[my_number_area]]
path = "**/給与/**"
purpose = "給与所得の源泉徴収事務"
[[legal_hold]]
path = "**/情報公開/令和4年度/**"
reason = "開示請求 第22-114号"
decided = 2026-03-15
"#,
            db = r(&db),
            reports = r(&base.join("reports")),
            shimin = r(&shimin),
            shokuin = r(&base.join("share/職員課")),
            soumu = r(&base.join("share/総務課")),
            mail = r(&mail),
        ),
    )
    .unwrap();
    Share {
        _dir: dir,
        base,
        cfg,
        db,
    }
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

/// The store after two scans, a resolved finding and some decisions.
fn prepared() -> Share {
    let s = seed();
    let cfg = s.cfg.to_str().unwrap();
    ok(&["run", "--once", "--config", cfg]);
    let mark = |extra: &[&str]| {
        let mut a = vec![
            "review",
            "mark",
            "--config",
            cfg,
            "--reviewer",
            "文書管理担当 佐藤",
        ];
        a.extend_from_slice(extra);
        ok(&a);
    };
    // Phone numbers are not what the office is after: false positives.
    mark(&[
        "--kind",
        "phone_number",
        "--decision",
        "false_positive",
        "--yes",
    ]);
    // The payroll file's My Numbers are kept lawfully.
    let kyuyo = s
        .base
        .join("share/職員課/給与/令和2年度/給与支払報告書.tsv");
    mark(&[
        "--file",
        kyuyo.to_str().unwrap(),
        "--kind",
        "my_number",
        "--decision",
        "retained",
        "--note",
        "所得税法第226条",
    ]);
    let names = jsonl(&ok(&[
        "review",
        "list",
        "--config",
        cfg,
        "--kind",
        "person_name",
        "--format",
        "jsonl",
        "--limit",
        "1",
    ]));
    let id = names[0]["id"].as_i64().unwrap().to_string();
    mark(&["--finding", &id, "--decision", "confirmed"]);
    // The memo's My Number is removed: resolved on the rescan.
    std::fs::write(
        s.base.join("share/市民課/メモ.txt"),
        format!("電話 {}\n", WRITTEN[2]),
    )
    .unwrap();
    ok(&["run", "--once", "--config", cfg]);
    s
}

fn week() -> mamori::report::Week {
    mamori::report::Week::of(mamori::time::today_jst())
}

/// The test's own counts, straight from the database.
struct Expected {
    open_findings: i64,
    open_files: i64,
    my_number_files: i64,
    new_findings: i64,
    resolved_findings: i64,
    decisions: i64,
    batches: i64,
    unreadable_files: i64,
    files_tracked: i64,
    new_high: i64,
    open_by_kind: BTreeMap<String, i64>,
    /// Files per flag, from `mamori records --as-of` (the rules' verdicts).
    flagged: BTreeMap<String, i64>,
    /// (root label, files with My Number)
    my_number_by_root: BTreeMap<String, i64>,
}

fn expected(s: &Share) -> Expected {
    let c = Connection::open(&s.db).unwrap();
    let one = |sql: &str| -> i64 {
        c.query_row(sql, [week().start_bound()], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    // Every scan of this test ran this week, after its start (?1).
    let open = "resolved_at IS NULL AND review_state != 'false_positive' AND ?1 = ?1";
    let mut open_by_kind = BTreeMap::new();
    let mut st = c
        .prepare(&format!(
            "SELECT kind, count(*) FROM findings WHERE {open} GROUP BY kind"
        ))
        .unwrap();
    for row in st
        .query_map([week().start_bound()], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
    {
        let (k, n): (String, i64) = row.unwrap();
        open_by_kind.insert(k, n);
    }
    let mut flagged = BTreeMap::new();
    for l in jsonl(&ok(&[
        "records",
        "--config",
        s.cfg.to_str().unwrap(),
        "--format",
        "jsonl",
        "--as-of",
        AS_OF,
    ])) {
        for f in l["flags"].as_array().unwrap() {
            *flagged.entry(f.as_str().unwrap().to_string()).or_insert(0) += 1;
        }
    }
    let mut my_number_by_root = BTreeMap::new();
    let labels: BTreeMap<String, &str> = [
        ("share/市民課", "市民課"),
        ("share/職員課", "職員課"),
        ("share/総務課", "総務課"),
        ("mail", "メールアーカイブ"),
    ]
    .into_iter()
    .map(|(p, l)| (s.base.join(p).display().to_string(), l))
    .collect();
    let mut st = c
        .prepare(
            "SELECT x.root, count(DISTINCT f.file_id) FROM findings f JOIN files x ON x.id = f.file_id
             WHERE f.resolved_at IS NULL AND f.review_state != 'false_positive' AND f.kind = 'my_number'
               AND f.confidence != 'low' AND ?1 = ?1 GROUP BY x.root",
        )
        .unwrap();
    for row in st
        .query_map([week().start_bound()], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
    {
        let (root, n): (String, i64) = row.unwrap();
        my_number_by_root.insert(labels[&root].to_string(), n);
    }
    Expected {
        open_findings: one(&format!("SELECT count(*) FROM findings WHERE {open}")),
        open_files: one(&format!("SELECT count(DISTINCT file_id) FROM findings WHERE {open}")),
        my_number_files: one(&format!(
            "SELECT count(DISTINCT file_id) FROM findings WHERE {open} AND kind = 'my_number' AND confidence != 'low'"
        )),
        new_findings: one(
            "SELECT count(*) FROM findings WHERE review_state != 'false_positive' AND first_seen_at >= ?1",
        ),
        resolved_findings: one(
            "SELECT count(*) FROM findings WHERE review_state != 'false_positive' AND resolved_at >= ?1",
        ),
        decisions: one("SELECT count(*) FROM decisions WHERE at >= ?1"),
        batches: one("SELECT count(DISTINCT batch) FROM decisions WHERE at >= ?1"),
        unreadable_files: one(
            "SELECT count(*) FROM files WHERE unreadable_reason IS NOT NULL AND deleted_at IS NULL AND ?1 = ?1",
        ),
        files_tracked: one("SELECT count(*) FROM files WHERE deleted_at IS NULL AND ?1 = ?1"),
        new_high: one(&format!(
            "SELECT count(*) FROM findings WHERE {open} AND confidence = 'high' AND first_seen_at >= ?1"
        )),
        open_by_kind,
        flagged,
        my_number_by_root,
    }
}

fn weekly(s: &Share, lang: &str) -> PathBuf {
    let out = s.base.join(format!("out-{lang}"));
    ok(&[
        "report",
        "weekly",
        "--config",
        s.cfg.to_str().unwrap(),
        "--week",
        &week().label(),
        "--as-of",
        AS_OF,
        "--lang",
        lang,
        "--out",
        out.to_str().unwrap(),
    ]);
    out
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// The number a list's table says it has.
fn list_total(doc: &Html, list: &str) -> i64 {
    let t = doc
        .select(&sel(&format!(r#"table[data-list="{list}"]"#)))
        .next()
        .unwrap_or_else(|| panic!("no table {list}"));
    let total: i64 = t.value().attr("data-total").unwrap().parse().unwrap();
    let rows = t.select(&sel("tbody tr")).count() as i64;
    assert_eq!(rows, total.min(1000), "{list}: rows shown");
    total
}

fn text(e: scraper::ElementRef<'_>) -> String {
    e.text().collect::<String>().trim().to_string()
}

fn check_html(dir: &Path, e: &Expected) {
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let doc = Html::parse_document(&html);
    // Self-contained and inert: no script, no external resource.
    for tag in ["script", "link", "img", "iframe", "object", "embed"] {
        assert_eq!(doc.select(&sel(tag)).count(), 0, "<{tag}> in the report");
    }
    assert_eq!(doc.select(&sel("[src]")).count(), 0, "src=");
    // Links only within the page (the contents), each to a section there.
    let links: Vec<&str> = doc
        .select(&sel("[href]"))
        .filter_map(|a| a.value().attr("href"))
        .collect();
    assert!(
        links.len() >= 10,
        "the contents link every section: {links:?}"
    );
    for href in links {
        let id = href
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("href={href}: not within the page"));
        assert_eq!(
            doc.select(&sel(&format!("section[id=\"{id}\"]"))).count(),
            1,
            "href={href}: no such section"
        );
    }
    for (i, _) in html.match_indices("http") {
        assert!(
            html[i..].starts_with("http://www.w3.org/"),
            "only SVG namespaces: {}",
            &html[i..i + 40]
        );
    }
    // The file named like markup is text.
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.txt"));
    assert!(doc
        .select(&sel("td.path"))
        .any(|td| text(td).ends_with(SCRIPT_NAME)));

    let figure = |key: &str| -> i64 {
        let card = doc
            .select(&sel(&format!(r#"[data-figure="{key}"]"#)))
            .next()
            .unwrap_or_else(|| panic!("no figure {key}"));
        let v: i64 = card.value().attr("data-value").unwrap().parse().unwrap();
        // What is shown is that number.
        let shown = text(card.select(&sel(".value")).next().unwrap()).replace(',', "");
        assert_eq!(shown, v.to_string(), "{key} shown");
        v
    };
    assert_eq!(figure("open_findings"), e.open_findings);
    assert_eq!(figure("open_files"), e.open_files);
    assert_eq!(figure("my_number_files"), e.my_number_files);
    assert_eq!(figure("new_findings"), e.new_findings);
    assert_eq!(figure("resolved_findings"), e.resolved_findings);
    assert_eq!(figure("decisions"), e.decisions);
    assert_eq!(figure("unreadable_files"), e.unreadable_files);
    assert_eq!(figure("files_tracked"), e.files_tracked);

    assert_eq!(list_total(&doc, "new_high"), e.new_high);
    let flagged = |f: &str| e.flagged.get(f).copied().unwrap_or(0);
    assert_eq!(
        list_total(&doc, "outside_area"),
        flagged("my_number_outside_area")
    );
    assert_eq!(
        list_total(&doc, "retention_expired"),
        flagged("retention_expired")
    );
    assert_eq!(
        list_total(&doc, "outbound"),
        flagged("outbound_leak_candidate")
    );
    assert_eq!(
        list_total(&doc, "breach_hints"),
        flagged("breach_report_hint")
    );
    assert_eq!(list_total(&doc, "unreadable"), e.unreadable_files);
    assert_eq!(list_total(&doc, "review"), e.batches);
    assert_eq!(
        list_total(&doc, "open_by_kind"),
        e.open_by_kind.len() as i64
    );
    // Review activity: the findings per action add up to the decisions.
    let review_sum: i64 = doc
        .select(&sel(r#"table[data-list="review"] tbody tr td.num"#))
        .map(|td| text(td).replace(',', "").parse::<i64>().unwrap())
        .sum();
    assert_eq!(review_sum, e.decisions);
    // Open findings by kind: this week's column.
    let kinds: i64 = doc
        .select(&sel(r#"table[data-list="open_by_kind"] tbody tr"#))
        .map(|tr| {
            let td = tr.select(&sel("td.num")).next().unwrap();
            text(td).replace(',', "").parse::<i64>().unwrap()
        })
        .sum();
    assert_eq!(kinds, e.open_findings);
    // My Number files by root, as in the store.
    let by_root: BTreeMap<String, i64> = doc
        .select(&sel(
            r#"table[data-list="my_number_files_by_root"] tbody tr"#,
        ))
        .map(|tr| {
            let tds: Vec<String> = tr.select(&sel("td")).map(text).collect();
            (tds[0].clone(), tds[1].replace(',', "").parse().unwrap())
        })
        .collect();
    assert_eq!(by_root, e.my_number_by_root);
    // The retention list says what is to happen, with dates and the hold.
    let retention = doc
        .select(&sel(r#"table[data-list="retention_expired"]"#))
        .next()
        .map(text)
        .unwrap();
    assert!(retention.contains("廃棄候補"), "{retention}");
    assert!(
        retention.contains("保存延長中（2027-03-15 まで）"),
        "{retention}"
    );
    assert!(retention.contains("2026-03-31"), "{retention}");
    // Breach hints carry their reason line.
    let breach = doc
        .select(&sel(r#"table[data-list="breach_hints"] ul.reasons li"#))
        .map(text)
        .collect::<Vec<_>>();
    assert!(
        !breach.is_empty() && breach.iter().all(|l| l.contains("漏えい等報告")),
        "{breach:?}"
    );

    // Three charts drawn as inline SVG, with text in Japanese fonts.
    let charts: Vec<_> = doc.select(&sel("figure[data-chart] svg")).collect();
    assert_eq!(charts.len(), 3);
    let roots_svg = doc
        .select(&sel(r#"figure[data-chart="my_number_roots"]"#))
        .next()
        .unwrap()
        .html();
    assert!(roots_svg.contains("市民課") && roots_svg.contains("IPAexGothic"));
    // A bar per kind and week with findings: the trend chart is not empty.
    let trend = doc
        .select(&sel(r#"figure[data-chart="trend"] rect"#))
        .count();
    assert!(trend > e.open_by_kind.len(), "{trend} rects");
}

fn cell_i64(d: &Data) -> i64 {
    d.as_f64().unwrap_or_else(|| panic!("not a number: {d:?}")) as i64
}

fn check_xlsx(dir: &Path, e: &Expected) {
    let path = dir.join("report.xlsx");
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(wb.sheet_names(), mamori::report::xlsx::SHEETS_JA.to_vec());
    let sheet = |wb: &mut Xlsx<_>, name: &str| wb.worksheet_range(name).unwrap();
    let rows = |wb: &mut Xlsx<_>, name: &str| sheet(wb, name).height() as i64 - 1;
    let flagged = |f: &str| e.flagged.get(f).copied().unwrap_or(0);

    let summary = sheet(&mut wb, "概要");
    let figure = |item: &str| -> i64 {
        let row = summary
            .rows()
            .find(|r| r[0] == Data::String("全体".into()) && r[1] == Data::String(item.into()))
            .unwrap_or_else(|| panic!("no row {item}"));
        cell_i64(&row[2])
    };
    assert_eq!(figure("未対応の検出"), e.open_findings);
    assert_eq!(figure("検出のあるファイル"), e.open_files);
    assert_eq!(figure("マイナンバーを含むファイル"), e.my_number_files);
    assert_eq!(figure("新規の検出"), e.new_findings);
    assert_eq!(figure("解決した検出"), e.resolved_findings);
    assert_eq!(figure("レビューの判断"), e.decisions);
    assert_eq!(figure("読めなかったファイル"), e.unreadable_files);
    assert_eq!(figure("監視中のファイル"), e.files_tracked);
    let flag_row = |label: &str| -> i64 {
        cell_i64(
            &summary
                .rows()
                .find(|r| r[1] == Data::String(label.into()))
                .unwrap()[2],
        )
    };
    assert_eq!(
        flag_row("個人番号の保管場所外"),
        flagged("my_number_outside_area")
    );
    assert_eq!(flag_row("廃棄候補"), flagged("disposal_candidate"));

    assert_eq!(rows(&mut wb, "新規"), e.new_high);
    let new = sheet(&mut wb, "新規");
    assert!(
        matches!(new.get((1, 0)), Some(Data::DateTime(_))),
        "first seen is an Excel date: {:?}",
        new.get((1, 0))
    );
    let open = sheet(&mut wb, "未対応");
    assert_eq!(open.height() as i64 - 1, e.open_files);
    let total_col = open
        .rows()
        .next()
        .unwrap()
        .iter()
        .position(|c| c == &Data::String("未対応の検出".into()))
        .unwrap();
    let total: i64 = open.rows().skip(1).map(|r| cell_i64(&r[total_col])).sum();
    assert_eq!(total, e.open_findings);
    // Per-kind columns add up to the store's counts.
    for (kind, n) in &e.open_by_kind {
        let label = mamori::report::labels::kind(kind, mamori::records::Lang::Ja);
        let col = open
            .rows()
            .next()
            .unwrap()
            .iter()
            .position(|c| c == &Data::String(label.clone()))
            .unwrap();
        let sum: i64 = open
            .rows()
            .skip(1)
            .map(|r| r[col].as_f64().unwrap_or(0.0) as i64)
            .sum();
        assert_eq!(sum, *n, "{kind}");
    }

    let retention = sheet(&mut wb, "保存期間満了");
    assert_eq!(retention.height() as i64 - 1, flagged("retention_expired"));
    let header: Vec<String> = retention
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        &header[..6],
        ["分類", "名称", "保存期間", "起算日", "満了日", "措置"]
    );
    let kyuyo = retention
        .rows()
        .find(|r| r[1] == Data::String("給与支払報告書.tsv".into()))
        .unwrap();
    assert_eq!(kyuyo[0], Data::String("給与・源泉徴収".into()));
    assert_eq!(
        kyuyo[4].as_date().unwrap().to_string(),
        "2026-03-31",
        "満了日 is a date"
    );
    assert_eq!(kyuyo[3].as_date().unwrap().to_string(), "2021-04-01");

    assert_eq!(rows(&mut wb, "マイナンバー所在"), e.my_number_files);
    assert_eq!(
        rows(&mut wb, "外部送信"),
        flagged("outbound_leak_candidate")
    );
    assert_eq!(rows(&mut wb, "読めなかったファイル"), e.unreadable_files);
    assert_eq!(
        rows(&mut wb, "漏えい等報告の確認"),
        flagged("breach_report_hint")
    );
    let review = sheet(&mut wb, "レビュー履歴");
    assert_eq!(review.height() as i64 - 1, e.batches);
    assert_eq!(
        review.rows().skip(1).map(|r| cell_i64(&r[3])).sum::<i64>(),
        e.decisions
    );

    // Header rows frozen with an autofilter; the path column fits its
    // longest path (wide characters counted as two).
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    for i in 1..=9 {
        let mut xml = String::new();
        zip.by_name(&format!("xl/worksheets/sheet{i}.xml"))
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(xml.contains(r#"state="frozen""#), "sheet{i} frozen");
        assert!(xml.contains("<autoFilter "), "sheet{i} autofilter");
        if i == 3 {
            // 未対応: column B is the path.
            let longest = open
                .rows()
                .skip(1)
                .map(|r| mamori::report::xlsx::display_width(&r[1].to_string()))
                .max()
                .unwrap();
            let width: f64 = xml
                .split("<col ")
                .find(|c| c.contains(r#"min="2""#))
                .and_then(|c| c.split(r#"width=""#).nth(1))
                .and_then(|w| w.split('"').next())
                .unwrap()
                .parse()
                .unwrap();
            assert!(width >= longest as f64, "width {width} < {longest}");
        }
    }
}

fn check_csv(dir: &Path, e: &Expected) {
    let bytes = std::fs::read(dir.join("findings.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        headers,
        [
            "ID",
            "ファイル",
            "課（ルート）",
            "内部の場所",
            "種類",
            "確度",
            "位置",
            "マスク値",
            "状態",
            "初回検出",
            "最終検出",
            "フラグ"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len() as i64, e.open_findings);
    assert!(rows.iter().any(|r| r[1].ends_with(SCRIPT_NAME)));
    assert!(rows.iter().all(|r| &r[8] != "誤検出"));
    assert!(rows
        .iter()
        .any(|r| &r[2] == "メールアーカイブ" && r[3].starts_with("attachments/")));
    assert!(rows.iter().any(|r| r[11].contains("個人番号の保管場所外")));
}

/// Every text a report file holds (an XLSX's XML parts unzipped).
fn texts(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in ["report.html", "findings.csv", "report.json"] {
        out.push((
            name.to_string(),
            std::fs::read_to_string(dir.join(name)).unwrap(),
        ));
    }
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(dir.join("report.xlsx")).unwrap()).unwrap();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        out.push((format!("report.xlsx:{}", f.name().unwrap()), s));
    }
    out
}

fn identifiers() -> Vec<String> {
    let mut ids: Vec<String> = WRITTEN.iter().map(|s| s.to_string()).collect();
    for f in [
        "identifiers.json",
        "docs/identifiers.json",
        "mail/identifiers.json",
    ] {
        let v: Vec<String> = serde_json::from_str(
            &std::fs::read_to_string(root().join("tests/fixtures").join(f)).unwrap(),
        )
        .unwrap();
        ids.extend(v);
    }
    // Also the digits alone (a number written without its hyphens).
    let digits: Vec<String> = ids
        .iter()
        .map(|s| s.chars().filter(|c| c.is_ascii_digit()).collect::<String>())
        .filter(|d| d.len() >= 10)
        .collect();
    ids.extend(digits);
    ids.sort();
    ids.dedup();
    ids
}

#[test]
fn weekly_report_figures_equal_the_store_in_every_format() {
    let s = prepared();
    let e = expected(&s);
    // The store is what the test meant it to be.
    assert!(
        e.resolved_findings >= 1,
        "the memo's My Number was resolved"
    );
    assert!(e.decisions >= 3 && e.batches == 3);
    assert!(e.unreadable_files >= 2, "corrupt workbook and image");
    assert_eq!(e.my_number_by_root.len(), 3, "{:?}", e.my_number_by_root);
    assert!(
        !e.open_by_kind.contains_key("phone_number"),
        "false positives"
    );
    for f in [
        "my_number_outside_area",
        "retention_expired",
        "outbound_leak_candidate",
        "breach_report_hint",
        "legal_hold",
        "disposal_candidate",
    ] {
        assert!(e.flagged.contains_key(f), "{f}: {:?}", e.flagged);
    }

    let out = weekly(&s, "ja");
    check_html(&out, &e);
    check_xlsx(&out, &e);
    check_csv(&out, &e);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["week"], week().label());
    assert_eq!(json["totals"]["open_findings"], e.open_findings);
    assert_eq!(json["totals"]["my_number_files"], e.my_number_files);
    assert_eq!(json["trend"].as_array().unwrap().len(), 12);
    assert_eq!(json["trend"][11]["new_findings"], e.new_findings);

    // No full identifier anywhere, in either language.
    let en = weekly(&s, "en");
    let ids = identifiers();
    for dir in [&out, &en] {
        for (name, text) in texts(dir) {
            for id in &ids {
                assert!(!text.contains(id.as_str()), "{id} in {name}");
            }
        }
    }
    let html = std::fs::read_to_string(en.join("report.html")).unwrap();
    assert!(html.contains(r#"<html lang="en">"#) && html.contains("Open findings"));
    let mut wb: Xlsx<_> = open_workbook(en.join("report.xlsx")).unwrap();
    assert_eq!(wb.sheet_names(), mamori::report::xlsx::SHEETS_EN.to_vec());
    assert_eq!(
        wb.worksheet_range("Open").unwrap().height() as i64 - 1,
        e.open_files
    );
}

#[test]
fn retention_list_and_scheduled_reports() {
    let s = seed();
    let cfg = s.cfg.to_str().unwrap();
    ok(&["run", "--once", "--config", cfg]);
    let lines = jsonl(&ok(&[
        "records", "--config", cfg, "--format", "jsonl", "--as-of", AS_OF,
    ]));
    let has = |l: &Value, f: &str| l["flags"].as_array().unwrap().iter().any(|x| x == f);
    let candidates = lines
        .iter()
        .filter(|l| {
            has(l, "disposal_candidate")
                || has(l, "transfer_candidate")
                || (has(l, "retention_expired") && has(l, "legal_hold"))
        })
        .count();
    assert_eq!(candidates, 3, "{lines:?}");

    let xlsx = s.base.join("廃棄移管.xlsx");
    ok(&[
        "report",
        "retention",
        "--config",
        cfg,
        "--as-of",
        AS_OF,
        "--out",
        xlsx.to_str().unwrap(),
    ]);
    let mut wb: Xlsx<_> = open_workbook(&xlsx).unwrap();
    let name = wb.sheet_names()[0].clone();
    let range = wb.worksheet_range(&name).unwrap();
    assert_eq!(range.height() - 1, candidates);
    let held = range
        .rows()
        .find(|r| r[1] == Data::String("請求書.txt".into()))
        .unwrap();
    assert_eq!(held[5], Data::String("移管".into()));
    assert_eq!(
        held[6],
        Data::String("保存延長中（2027-03-15 まで）".into())
    );
    assert_eq!(held[7].as_date().unwrap().to_string(), "2027-03-15");
    assert_eq!(held[8], Data::String("開示請求 第22-114号".into()));

    let csv_path = s.base.join("廃棄移管.csv");
    ok(&[
        "report",
        "retention",
        "--config",
        cfg,
        "--as-of",
        AS_OF,
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&csv_path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    assert_eq!(r.records().count(), candidates);
    let (code, _, err) = run(&["report", "retention", "--config", cfg, "--out", "x.pdf"]);
    assert_eq!(code, 2);
    assert!(err.contains(".xlsx or .csv"), "{err}");

    // Scheduled: no --out writes <directory>/<week>/ and keeps keep_weeks (2)
    // week folders; other things in the directory stay.
    let reports = s.base.join("reports");
    for old in ["2020-W01", "2020-W02"] {
        std::fs::create_dir_all(reports.join(old)).unwrap();
    }
    std::fs::create_dir_all(reports.join("手順書")).unwrap();
    let out = ok(&["report", "weekly", "--config", cfg]);
    let last = week().previous().label();
    assert!(reports.join(&last).join("report.html").is_file(), "{out}");
    assert!(reports.join(&last).join("findings.csv").is_file());
    assert!(!reports.join("2020-W01").exists(), "{out}");
    assert!(reports.join("2020-W02").is_dir());
    assert!(reports.join("手順書").is_dir());
}
