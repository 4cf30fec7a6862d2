//! Documents made by real tools (tests/fixtures/make_documents.py:
//! python-docx, openpyxl, python-pptx, reportlab, LibreOffice, Info-ZIP):
//! each format is read with correct locations and member chains.

use crate::util::{fixture, scan_jsonl};

/// (member or "", kind, confidence, location) of every line for `file`.
fn lines(file: &str) -> Vec<(String, String, String, String)> {
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut v: Vec<_> = scan_jsonl(&[&fixture(&format!("docs/{file}"))])
        .iter()
        .map(|l| {
            (
                s(l, "member"),
                s(l, "kind"),
                s(l, "confidence"),
                s(l, "location"),
            )
        })
        .collect();
    v.sort();
    v
}

fn has(v: &[(String, String, String, String)], member: &str, kind: &str, location: &str) -> bool {
    v.iter()
        .any(|(m, k, c, l)| m == member && k == kind && l == location && c == "high")
}

#[test]
fn word_body_tables_deletions_comments_and_footer() {
    let v = lines("request_form.docx");
    for (kind, loc) in [
        ("person_name", "paragraph 2"),
        ("postal_address", "paragraph 3"),
        ("phone_number", "paragraph 4"),
        ("my_number", "paragraph 5"), // tracked deletion: w:delText
        ("person_name", "table 1 row 2 col 1"),
        ("my_number", "table 1 row 2 col 2"),
        ("birth_date", "table 1 row 2 col 3"),
        ("my_number", "table 1 row 3 col 2"),
        ("my_number", "comment 1"),
        ("phone_number", "footer"),
    ] {
        assert!(has(&v, "", kind, loc), "{kind} at {loc} missing: {v:#?}");
    }
}

#[test]
fn spreadsheet_cells_hidden_sheets_numbers_and_dates() {
    for file in ["meibo.xlsx", "meibo_lo.ods"] {
        let v = lines(file);
        for (kind, loc) in [
            ("person_name", "名簿!A2"),
            ("my_number", "名簿!B2"), // stored as a number
            ("my_number", "名簿!B3"), // 11 digits: the leading zero Excel dropped
            ("birth_date", "名簿!C2"),
            ("phone_number", "名簿!D3"),
            ("my_number", "非表示!B1"), // hidden sheet
        ] {
            assert!(
                has(&v, "", kind, loc),
                "{file}: {kind} at {loc} missing: {v:#?}"
            );
        }
        assert!(
            !v.iter()
                .any(|(_, _, _, l)| l.ends_with("!A1") && l.starts_with("名簿")),
            "{file}: header row is no finding"
        );
    }
}

#[test]
fn a_huge_declared_sheet_dimension_does_not_allocate() {
    // Declares XFD1048576; a dense reader would need hundreds of GB.
    let v = lines("sparse_far_cell.xlsx");
    assert!(has(&v, "", "my_number", "Sheet!B1"), "{v:#?}");
}

#[test]
fn powerpoint_slides_and_notes() {
    let v = lines("slides.pptx");
    assert!(has(&v, "", "person_name", "slide 2"), "{v:#?}");
    assert!(has(&v, "", "phone_number", "slide 2"), "{v:#?}");
    assert!(has(&v, "", "my_number", "notes 1"), "{v:#?}");
    assert_eq!(
        v.iter().filter(|(_, k, _, _)| k == "person_name").count(),
        1,
        "申請者一覧 is a title, not a name: {v:#?}"
    );
}

#[test]
fn pdf_with_non_embedded_cid_font_and_no_tounicode() {
    // reportlab UnicodeCIDFont: Type0 HeiseiMin-W3, UniJIS-UCS2-H, no ToUnicode.
    let v = lines("cid_unijis.pdf");
    assert!(has(&v, "", "person_name", "page 1"), "{v:#?}");
    assert!(has(&v, "", "my_number", "page 2"), "{v:#?}");
    assert!(has(&v, "", "postal_address", "page 2"), "{v:#?}");
}

#[test]
fn pdf_from_libreoffice() {
    let v = lines("request_form_lo.pdf");
    for kind in ["person_name", "postal_address", "phone_number", "my_number"] {
        assert!(has(&v, "", kind, "page 1"), "{kind}: {v:#?}");
    }
    // All three My Numbers of the document, the deleted one excepted, are on page 1.
    assert!(
        v.iter().filter(|(_, k, _, _)| k == "my_number").count() >= 2,
        "{v:#?}"
    );
}

#[test]
fn zip_members_with_cp932_names_and_nested_documents() {
    let v = lines("archive_cp932.zip");
    assert!(
        has(&v, "申請書/請求書.docx", "my_number", "table 1 row 2 col 2"),
        "{v:#?}"
    );
    assert!(
        has(&v, "申請書/請求書.docx", "phone_number", "footer"),
        "{v:#?}"
    );
    assert!(
        has(&v, "名簿.csv", "my_number", "line 2 column 2"),
        "{v:#?}"
    );
    let v = lines("nested.zip");
    assert!(
        has(&v, "docs/inner.zip/memo.txt", "my_number", "line 1"),
        "{v:#?}"
    );
}

#[test]
fn password_protected_zip_member_is_encrypted_with_its_chain() {
    let v = lines("encrypted.zip");
    assert!(
        v.iter()
            .any(|(m, k, _, _)| m == "secret.csv" && k == "unreadable"),
        "{v:#?}"
    );
    let raw = scan_jsonl(&[&fixture("docs/encrypted.zip")]);
    assert!(raw
        .iter()
        .any(|l| l["member"] == "secret.csv" && l["reason"] == "encrypted"));
}

#[test]
fn scans_are_image_only_without_ocr_and_read_with_it() {
    // Without OCR: not checked, and said so.
    let v = lines("scan.pdf");
    assert!(v.iter().any(|(_, k, _, _)| k == "unreadable"), "{v:#?}");
    let raw = scan_jsonl(&[&fixture("docs/scan.pdf"), &fixture("docs/scan.png")]);
    assert!(raw
        .iter()
        .any(|l| l["reason"] == "image_only" && l["path"].as_str().unwrap().ends_with("scan.pdf")));
    assert!(
        raw.iter()
            .any(|l| l["reason"] == "unsupported"
                && l["path"].as_str().unwrap().ends_with("scan.png"))
    );

    // With OCR (tesseract + jpn, pdftoppm): findings located "(OCR)".
    if !mamori::extract::ocr::available() || !mamori::extract::ocr::can_render_pdf() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs tesseract-ocr-jpn and poppler-utils (.ci/run)"
        );
        eprintln!("skipping the OCR half: tesseract with jpn or pdftoppm is not installed");
        return;
    }
    let out = crate::util::Mamori::new(&[
        "scan",
        "--format",
        "jsonl",
        &fixture("docs/scan.pdf"),
        &fixture("docs/scan.png"),
    ])
    .env("MAMORI_OCR", "on")
    .output();
    let raw = crate::util::jsonl(&String::from_utf8(out.stdout).unwrap());
    for (file, loc) in [("scan.pdf", "page 1 (OCR)"), ("scan.png", "image (OCR)")] {
        assert!(
            raw.iter()
                .any(|l| l["path"].as_str().unwrap().ends_with(file)
                    && l["kind"] == "my_number"
                    && l["location"] == loc),
            "{file}: {raw:#?}"
        );
    }
}
