//! The formats of issue 14 (tests/fixtures/make_modern.py: LibreOffice,
//! Python's email, reportlab + pypdf, jlha, p7zip, Info-ZIP, GNU tar and
//! gzip; plus the real-world corpus): OpenDocument, HTML and saved pages,
//! filled PDF forms, LHA/7z/tar/gzip with Japanese member names; encrypted
//! ones `encrypted`, damaged ones `corrupt` with what could be recovered,
//! unknown ones `unsupported` with their name, bombs and deep nesting
//! `too_large`.

use crate::util::{run, scan_jsonl};

/// (member, kind, confidence, location, reason, format, detail) of every
/// line for one file.
type Line = (String, String, String, String, String, String, String);

fn lines(path: &str) -> Vec<Line> {
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut v: Vec<Line> = scan_jsonl(&[path])
        .iter()
        .map(|l| {
            (
                s(l, "member"),
                s(l, "kind"),
                s(l, "confidence"),
                s(l, "location"),
                s(l, "reason"),
                s(l, "format"),
                s(l, "detail"),
            )
        })
        .collect();
    v.sort();
    v
}

fn modern(file: &str) -> String {
    format!("tests/fixtures/modern/{file}")
}

/// Whether a finding of `kind` at high confidence is at `member`/`location`.
fn found(v: &[Line], member: &str, kind: &str, location: &str) -> bool {
    v.iter()
        .any(|l| l.0 == member && l.1 == kind && l.2 == "high" && l.3 == location)
}

/// The unreadable lines: (member, reason, format, detail).
fn unreadable(v: &[Line]) -> Vec<(String, String, String, String)> {
    v.iter()
        .filter(|l| l.1 == "unreadable")
        .map(|l| (l.0.clone(), l.4.clone(), l.5.clone(), l.6.clone()))
        .collect()
}

#[test]
fn opendocument_text_flat_text_and_presentation() {
    for file in ["request_form.odt", "request_form.fodt"] {
        let v = lines(&modern(file));
        for (kind, loc) in [
            ("person_name", "paragraph 2"),
            ("postal_address", "paragraph 3"),
            ("phone_number", "paragraph 4"),
            ("person_name", "table 1 row 2 col 1"),
            ("my_number", "table 1 row 2 col 2"),
            ("birth_date", "table 1 row 2 col 3"),
            ("my_number", "table 1 row 3 col 2"),
            ("my_number", "comment 1"),
            ("phone_number", "footer"),
        ] {
            assert!(found(&v, "", kind, loc), "{file}: {kind} at {loc}: {v:#?}");
        }
        assert!(unreadable(&v).is_empty(), "{file}: {v:#?}");
    }
    // LibreOffice keeps Word's tracked deletion as a tracked change.
    let v = lines(&modern("request_form.odt"));
    assert!(found(&v, "", "my_number", "deleted text 1"), "{v:#?}");
    let v = lines(&modern("slides.odp"));
    assert!(found(&v, "", "person_name", "slide 2"), "{v:#?}");
    assert!(found(&v, "", "phone_number", "slide 2"), "{v:#?}");
    assert!(found(&v, "", "my_number", "notes 2"), "{v:#?}");
}

#[test]
fn html_pages_in_utf8_and_shift_jis_and_a_saved_page() {
    for file in [
        "request_form.html",
        "request_form_sjis.htm",
        "request_form.mht",
    ] {
        let v = lines(&modern(file));
        for (kind, loc) in [
            ("person_name", "paragraph 3"),
            ("postal_address", "paragraph 4"),
            ("phone_number", "paragraph 5"),
            ("person_name", "table 1 row 2 col 1"),
            ("my_number", "table 1 row 2 col 2"),
            ("my_number", "table 1 row 3 col 2"),
        ] {
            assert!(found(&v, "", kind, loc), "{file}: {kind} at {loc}: {v:#?}");
        }
        // The saved page's image is decoration: not read, not reported.
        assert!(unreadable(&v).is_empty(), "{file}: {v:#?}");
    }
}

#[test]
fn a_filled_in_pdf_form_keeps_the_applicant_in_its_fields() {
    let v = lines(&modern("shinsei_form.pdf"));
    for (kind, loc) in [
        ("person_name", "page 1 field 申請者氏名"),
        ("postal_address", "page 1 field 住所"),
        ("my_number", "page 1 field 個人番号"),
        ("phone_number", "page 1 field 電話番号"),
    ] {
        assert!(found(&v, "", kind, loc), "{kind} at {loc}: {v:#?}");
    }
}

#[test]
fn archives_read_their_members_with_japanese_names() {
    for file in ["meibo.lzh", "meibo.7z", "meibo.tar", "meibo.tar.gz"] {
        let v = lines(&modern(file));
        for (member, kind, loc) in [
            ("資料/名簿.csv", "person_name", "line 2 column 1"),
            ("資料/名簿.csv", "postal_address", "line 2 column 2"),
            ("資料/名簿.csv", "my_number", "line 2 column 3"),
            ("資料/名簿.csv", "my_number", "line 3 column 3"),
            ("表.txt", "my_number", "line 2"),
        ] {
            assert!(
                found(&v, member, kind, loc),
                "{file}: {member} {kind} at {loc}: {v:#?}"
            );
        }
    }
    let v = lines(&modern("meibo.csv.gz"));
    assert!(
        found(&v, "名簿.csv", "my_number", "line 2 column 3"),
        "{v:#?}"
    );
}

#[test]
fn legacy_member_names_are_decoded_by_detection() {
    // Info-ZIP, no UTF-8 flag: CP932 (表 ends in 0x5C) and GBK names.
    let v = lines(&modern("cp932_names.zip"));
    assert!(found(&v, "表.txt", "my_number", "line 2"), "{v:#?}");
    assert!(found(&v, "資料/名簿.csv", "my_number", "line 2 column 3"));
    let v = lines(&modern("gbk_names.zip"));
    assert!(found(&v, "会议记录.txt", "my_number", "line 2"), "{v:#?}");
    assert!(found(
        &v,
        "报告/学生名单.csv",
        "person_name",
        "line 2 column 1"
    ));
    // libarchive's test LHA with CP932 names (no findings: check the members).
    let (code, out, _) = run(&[
        "extract",
        "tests/realworld/archive/libarchive_lha_filename_cp932.lzh",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("── 漢字.txt |"), "{out}");
    assert!(out.contains("── 表.txt |"), "{out}");
    assert!(!out.contains('\u{FFFD}'), "{out}");
}

#[test]
fn encrypted_archives_and_documents_are_encrypted() {
    let v = lines(&modern("meibo_protected.7z"));
    let u = unreadable(&v);
    for member in ["資料/名簿.csv", "表.txt"] {
        assert!(
            u.iter().any(|(m, r, _, _)| m == member && r == "encrypted"),
            "{member}: {u:?}"
        );
    }
    let u = unreadable(&lines(&modern("meibo_header_protected.7z")));
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!((u[0].1.as_str(), u[0].2.as_str()), ("encrypted", "7z"));
    let u = unreadable(&lines(
        "tests/realworld/archive/tika_test7Z_protected_passTika.7z",
    ));
    assert!(
        u.iter()
            .any(|(m, r, _, _)| m == "text.txt" && r == "encrypted"),
        "{u:?}"
    );
    let u = unreadable(&lines("tests/realworld/odf/tika_testODTEncrypted.odt"));
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!((u[0].1.as_str(), u[0].2.as_str()), ("encrypted", "odt"));
}

#[test]
fn damaged_documents_are_corrupt_and_what_was_recovered_is_scanned() {
    for (file, format, kind, location) in [
        // First bytes zeroed: not recognised by content, named a document.
        ("damaged_header.pdf", "pdf", "my_number", "page 1"),
        (
            "damaged_header.docx",
            "docx",
            "my_number",
            "table 1 row 2 col 2",
        ),
        // Cut off: the zip lost its central directory, the PDF its catalog and xref.
        ("truncated.docx", "docx", "person_name", "paragraph 2"),
        ("truncated.pdf", "pdf", "my_number", "page 1"),
    ] {
        let v = lines(&modern(file));
        assert!(found(&v, "", kind, location), "{file}: {v:#?}");
        let u = unreadable(&v);
        assert_eq!(u.len(), 1, "{file}: {u:?}");
        assert_eq!((u[0].1.as_str(), u[0].2.as_str()), ("corrupt", format));
        assert!(u[0].3.contains("partial recovery"), "{file}: {u:?}");
    }
    let u = unreadable(&lines(&modern("zeroed.xlsx")));
    assert_eq!(u.len(), 1, "{u:?}");
    assert_eq!((u[0].1.as_str(), u[0].2.as_str()), ("corrupt", "xlsx"));
    assert!(u[0].3.contains("no part could be recovered"), "{u:?}");
}

#[test]
fn formats_not_read_are_unsupported_with_their_name() {
    for (file, format) in [
        ("kiroku.jaw", "jaw (一太郎 old)"),
        ("zumen.dwg", "dwg (AutoCAD)"),
        ("heimen.jww", "jww (Jw_cad)"),
        ("shiryo.rar", "rar"),
        ("bunsho.xdw", "xdw (DocuWorks)"),
    ] {
        let u = unreadable(&lines(&modern(file)));
        assert_eq!(u.len(), 1, "{file}: {u:?}");
        assert_eq!((u[0].1.as_str(), u[0].2.as_str()), ("unsupported", format));
    }
}

#[test]
fn archive_bombs_and_deep_nesting_are_too_large() {
    // 1 GiB of zeros in 150 KB of 7z: refused before it is decoded.
    let u = unreadable(&lines(&modern("bomb.7z")));
    assert!(
        u.iter()
            .any(|(m, r, _, d)| m == "ZEROS.csv" && r == "too_large" && d.contains("bomb")),
        "{u:?}"
    );
    let u = unreadable(&lines(&modern("bomb.csv.gz")));
    assert!(u.iter().any(|(_, r, _, _)| r == "too_large"), "{u:?}");
    // Ten levels of tgz, 7z and LHA in each other: the limit is 8.
    for file in ["deep.tgz", "deep.7z", "deep.lzh"] {
        let v = lines(&modern(file));
        let u = unreadable(&v);
        assert!(
            u.iter()
                .any(|(_, r, _, d)| r == "too_large" && d.contains("nested too deeply")),
            "{file}: {u:?}"
        );
        assert!(!v.iter().any(|l| l.1 == "my_number"), "{file}: {v:#?}");
    }
}
