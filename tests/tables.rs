//! Detection where the data lives (issue 13): lists with title rows and
//! two-row headers, system extracts with romanised headers, every kind in
//! a column of its own, column evidence, names in forms and letters, and
//! mail parties. Fixtures are made with openpyxl, LibreOffice, python-docx
//! and Python's csv/email by tests/fixtures/make_tables.py.

use crate::util::{fixture, scan_jsonl};

type Line = serde_json::Value;

const INTERNAL: &str = "city.example.lg.jp";

fn scan(file: &str) -> Vec<Line> {
    scan_jsonl(&[
        "--internal-domain",
        INTERNAL,
        &fixture(&format!("tables/{file}")),
    ])
}

fn of<'a>(lines: &'a [Line], kind: &str) -> Vec<&'a Line> {
    lines.iter().filter(|l| l["kind"] == kind).collect()
}

fn at_least_medium(l: &Line) -> bool {
    l["confidence"] == "high" || l["confidence"] == "medium"
}

#[test]
fn a_list_below_title_rows_finds_its_my_numbers_high() {
    // openpyxl wrote it; LibreOffice converted it to xls, ods and PDF.
    for file in [
        "title_rows.xlsx",
        "title_rows.xls",
        "title_rows.ods",
        "title_rows.pdf",
    ] {
        let lines = scan(file);
        let mn = of(&lines, "my_number");
        assert_eq!(mn.len(), 6, "{file}: {lines:#?}");
        for l in &mn {
            assert_eq!(l["confidence"], "high", "{file}: {l}");
            assert_eq!(l["context_word"], "(column header)", "{file}: {l}");
        }
        // Names and their katakana readings, under 氏名 and フリガナ.
        let names = of(&lines, "person_name");
        assert_eq!(names.len(), 12, "{file}: {names:#?}");
        assert!(names.iter().all(|l| l["confidence"] == "high"), "{file}");
        assert!(
            names.iter().any(|l| l["masked"] == "佐々* ***"),
            "{file}: {names:#?}"
        );
        // The office's number in the note under the list is kept low.
        assert!(
            of(&lines, "phone_number")
                .iter()
                .filter(|l| l["confidence"] == "low")
                .count()
                <= 1,
            "{file}"
        );
    }
    let lines = scan("title_rows.xlsx");
    let cells: Vec<&str> = of(&lines, "my_number")
        .iter()
        .map(|l| l["location"].as_str().unwrap())
        .collect();
    assert_eq!(
        cells,
        [
            "受給者名簿!G5",
            "受給者名簿!G6",
            "受給者名簿!G7",
            "受給者名簿!G8",
            "受給者名簿!G9",
            "受給者名簿!G10"
        ]
    );
}

#[test]
fn a_two_row_header_labels_the_columns_under_its_group_cell() {
    // 申請者 is merged over 氏名 | 住所: the address column's header is
    // 「申請者 住所」, which holds the address label.
    let lines = scan("two_row_header.xlsx");
    let addresses = of(&lines, "postal_address");
    assert_eq!(addresses.len(), 6, "{lines:#?}");
    for l in &addresses {
        assert!(
            l["location"].as_str().unwrap().starts_with("申請者一覧!C"),
            "{l}"
        );
        assert_eq!(l["confidence"], "high");
        assert_eq!(l["context_word"], "(column header)");
    }
    assert_eq!(of(&lines, "person_name").len(), 6);
    assert_eq!(of(&lines, "phone_number").len(), 6);
}

#[test]
fn romanised_headers_of_a_system_extract_are_context() {
    // A CP932 extract: KOJIN_NO, JUMINHYO_CD, SHIMEI, SHIMEI_KANA,
    // SEINENGAPPI (YYYYMMDD), JUSHO, TEL (digits only), KISO_NENKIN_NO.
    let lines = scan("juki_extract.csv");
    for (kind, column, n) in [
        ("my_number", 1, 6),
        ("resident_code", 2, 6),
        ("birth_date", 5, 6),
        ("postal_address", 6, 6),
        ("phone_number", 7, 6),
        ("basic_pension_number", 8, 6),
    ] {
        let found: Vec<&Line> = of(&lines, kind)
            .into_iter()
            .filter(|l| {
                l["location"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("column {column}"))
            })
            .collect();
        assert_eq!(found.len(), n, "{kind}: {lines:#?}");
        assert!(found.iter().all(|l| l["confidence"] == "high"), "{kind}");
    }
    // SHIMEI and SHIMEI_KANA: the kanji names and their readings.
    assert_eq!(of(&lines, "person_name").len(), 12, "{lines:#?}");
}

#[test]
fn every_identifier_kind_in_its_own_column_is_medium_or_above() {
    let lines = scan("own_columns.xlsx");
    for kind in [
        "person_name",
        "resident_code",
        "basic_pension_number",
        "passport_number",
        "drivers_license_number",
        "health_insurance_number",
        "bank_account",
        "corporate_number",
        "email_address",
    ] {
        let found = of(&lines, kind);
        assert_eq!(found.len(), 6, "{kind}: {lines:#?}");
        assert!(
            found.iter().all(|l| at_least_medium(l)),
            "{kind}: {found:#?}"
        );
    }
}

#[test]
fn column_evidence_raises_a_column_of_my_numbers_and_drops_a_column_that_fails() {
    let lines = scan("uketsuke.xlsx");
    let mn = of(&lines, "my_number");
    // Column A holds 12-digit 受付番号 whose check digits fail: nothing.
    assert!(
        mn.iter()
            .all(|l| l["location"].as_str().unwrap().starts_with("受付簿!C")),
        "{mn:#?}"
    );
    // Column C, headed only 番号: every value passes, so the column is
    // My Numbers (medium; a lone 12-digit value would be low).
    assert_eq!(mn.len(), 6, "{lines:#?}");
    for l in &mn {
        assert_eq!(l["confidence"], "medium", "{l}");
        assert_eq!(l["context_word"], "(column evidence)", "{l}");
    }
}

#[test]
fn names_in_a_form_cell_and_in_a_letter() {
    // 佐々木 あすか in the cell right of 氏名 in a Word form.
    let lines = scan("form.docx");
    assert!(
        lines.iter().any(|l| l["kind"] == "person_name"
            && l["location"] == "table 1 row 2 col 2"
            && l["masked"] == "佐々* ***"
            && l["confidence"] == "high"),
        "{lines:#?}"
    );
    // 「山口 七夏と申します」 in a citizen's mail, and her signature.
    let lines = scan("citizen.eml");
    for location in ["body", "signature", "header From"] {
        assert!(
            lines.iter().any(|l| l["kind"] == "person_name"
                && l["location"] == location
                && l["masked"] == "山口 **"),
            "{location}: {lines:#?}"
        );
    }
}

#[test]
fn no_names_in_documents_that_hold_none() {
    // A budget policy (様々, 皆さん, 市長, 財政と申しますのは, 山田工業様)
    // and a notice (みなさん, お子さん, 利用者様): no name alarms.
    for file in ["budget_policy.docx", "notice.txt"] {
        let lines = scan(file);
        assert!(of(&lines, "person_name").is_empty(), "{file}: {lines:#?}");
    }
    // The office's number in the notice is there, kept low.
    let lines = scan("notice.txt");
    assert!(of(&lines, "phone_number")
        .iter()
        .all(|l| l["confidence"] == "low"));
    // A 記入例 form: 山田 太郎 and his sample data are no person.
    let lines = scan("sample_form.docx");
    assert!(lines.is_empty(), "{lines:#?}");
}

#[test]
fn mail_parties_outside_the_office_are_reported_in_their_headers() {
    let lines = scan("citizen.eml");
    let headers: Vec<&Line> = of(&lines, "email_address")
        .into_iter()
        .filter(|l| l["location"].as_str().unwrap().starts_with("header "))
        .collect();
    // The citizen in From; not the staff address in To, not info@ in Cc.
    assert_eq!(headers.len(), 1, "{lines:#?}");
    assert_eq!(headers[0]["location"], "header From");
    assert_eq!(headers[0]["confidence"], "high");
    // Without the office's domains nobody can be told from staff: header
    // addresses come out low, display names are not reported.
    let plain = scan_jsonl(&[&fixture("tables/citizen.eml")]);
    let from: Vec<&Line> = of(&plain, "email_address")
        .into_iter()
        .filter(|l| l["location"] == "header From")
        .collect();
    assert_eq!(from.len(), 1, "{plain:#?}");
    assert_eq!(from[0]["confidence"], "low");
    assert!(of(&plain, "email_address")
        .iter()
        .filter(|l| l["location"].as_str().unwrap().starts_with("header"))
        .all(|l| l["confidence"] == "low"));
    assert!(!plain
        .iter()
        .any(|l| l["kind"] == "person_name" && l["location"] == "header From"));
}
