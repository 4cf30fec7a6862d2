//! Legacy formats made by real software (tests/fixtures/make_legacy.py:
//! python-docx/python-pptx sources converted by LibreOffice to Word
//! 97-2003 .doc, PowerPoint 97-2003 .ppt and RTF; a real Outlook
//! winmail.dat inside a mail) and the real-world corpus's encrypted files:
//! findings with their locations, `encrypted` and `corrupt` reasons, member
//! chains through TNEF, creation dates, and no panic on damaged copies.

use mamori::extract::{
    Dispatcher, DocumentMeta, ExtractError, Format, Limits, MemberPath, ScanBudget, UnitSink,
};
use mamori::text::TextUnit;

use crate::util::{fixture, root, run, scan_jsonl};

/// (member or "", kind, confidence, location) of every line for `path`.
fn lines(path: &str) -> Vec<(String, String, String, String)> {
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    let mut v: Vec<_> = scan_jsonl(&[path])
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

fn has(v: &[(String, String, String, String)], kind: &str, location: &str) -> bool {
    v.iter()
        .any(|(m, k, c, l)| m.is_empty() && k == kind && l == location && c == "high")
}

/// The Word application form, as .doc and as RTF: body paragraphs, table
/// cells with their column's context, footer and comment.
#[test]
fn word_97_and_rtf_paragraphs_tables_footer_and_comment() {
    for file in ["shinseisho.doc", "shinseisho.rtf"] {
        let v = lines(&fixture(&format!("legacy/{file}")));
        for (kind, loc) in [
            ("person_name", "paragraph 2"),
            ("postal_address", "paragraph 3"),
            ("my_number", "paragraph 4"),
            ("person_name", "table 1 row 2 col 1"),
            ("my_number", "table 1 row 2 col 2"),
            ("postal_address", "table 1 row 2 col 3"),
            ("my_number", "table 1 row 3 col 2"),
            ("phone_number", "footer"),
            ("my_number", "comment 1"),
        ] {
            assert!(
                has(&v, kind, loc),
                "{file}: {kind} at {loc} missing: {v:#?}"
            );
        }
        assert!(
            !v.iter().any(|(_, k, _, _)| k == "unreadable"),
            "{file}: {v:#?}"
        );
        // The header row (氏名, 個人番号, 住所) is no finding.
        assert!(
            !v.iter().any(|(_, _, _, l)| l.starts_with("table 1 row 1")),
            "{file}: {v:#?}"
        );
    }
}

#[test]
fn powerpoint_97_slides_and_notes() {
    let v = lines(&fixture("legacy/setsumeikai.ppt"));
    assert!(has(&v, "person_name", "slide 2"), "{v:#?}");
    assert!(has(&v, "postal_address", "slide 2"), "{v:#?}");
    assert!(has(&v, "my_number", "notes 2"), "{v:#?}");
    assert_eq!(
        v.iter().filter(|(_, k, _, _)| k == "person_name").count(),
        1,
        "申請者一覧 is a title, not a name: {v:#?}"
    );
}

#[test]
fn password_protected_doc_and_ppt_are_encrypted() {
    for file in [
        "doc/poi_password_tika_binaryrc4.doc",
        "ppt/poi_Password_Protected-hello.ppt",
    ] {
        let lines = scan_jsonl(&[&format!("tests/realworld/{file}")]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["kind"], "unreadable");
        assert_eq!(lines[0]["reason"], "encrypted", "{file}");
    }
}

#[test]
fn truncated_copies_are_corrupt_and_what_was_read_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    for file in [
        "legacy/shinseisho.doc",
        "legacy/setsumeikai.ppt",
        "legacy/shinseisho.rtf",
    ] {
        let data = std::fs::read(root().join(fixture(file))).unwrap();
        let name = file.rsplit('/').next().unwrap();
        std::fs::write(dir.path().join(name), &data[..data.len() / 2]).unwrap();
    }
    let winmail =
        std::fs::read(root().join("tests/realworld/archive/tika_testWINMAIL.dat")).unwrap();
    // Cut inside an attachment.
    std::fs::write(
        dir.path().join("winmail.dat"),
        &winmail[..winmail.len() * 3 / 4],
    )
    .unwrap();
    let lines = scan_jsonl(&[dir.path().to_str().unwrap()]);
    for name in [
        "shinseisho.doc",
        "setsumeikai.ppt",
        "shinseisho.rtf",
        "winmail.dat",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l["path"].as_str().unwrap().ends_with(name)
                    && l["member"].is_null()
                    && l["reason"] == "corrupt"),
            "{name}: {lines:#?}"
        );
    }
}

#[test]
fn winmail_dat_attachments_go_through_the_readers_also_inside_a_mail() {
    let (code, out, _) = run(&["extract", "tests/realworld/archive/tika_testWINMAIL.dat"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("format: tnef"), "{out}");
    assert!(out.contains("Five files from Hell"), "RTF body: {out}");
    for member in [
        "attachments/quick.doc | paragraph 1",
        "attachments/quick.pdf | page 1",
        "attachments/quick.txt",
    ] {
        assert!(out.contains(member), "{member}: {out}");
    }
    // Exchange sends it as an application/ms-tnef part.
    let (code, out, _) = run(&["extract", &fixture("legacy/rich_text_mail.eml")]);
    assert_eq!(code, 0);
    assert!(
        out.contains("attachments/winmail.dat/attachments/quick.doc | paragraph 1"),
        "{out}"
    );
    assert!(out.contains("attachments/winmail.dat | body"), "{out}");
}

/// Records the metadata and units a dispatch produces.
#[derive(Default)]
struct Recorder {
    meta: Vec<DocumentMeta>,
    units: usize,
    unreadable: usize,
}

impl UnitSink for Recorder {
    fn unit(&mut self, _: &MemberPath, _: TextUnit<'_>) -> Result<(), ExtractError> {
        self.units += 1;
        Ok(())
    }
    fn unreadable(&mut self, _: &MemberPath, _: Format, _: ExtractError) {
        self.unreadable += 1;
    }
    fn metadata(&mut self, _: &MemberPath, meta: DocumentMeta) {
        self.meta.push(meta);
    }
}

fn dispatch(name: &str, data: &[u8]) -> Recorder {
    let mut sink = Recorder::default();
    let mut budget = ScanBudget::new(&Limits::default());
    let _ = Dispatcher::default().extract(name, data, MemberPath::root(), &mut budget, &mut sink);
    sink
}

#[test]
fn creation_dates_from_summary_information_and_rtf_info() {
    // Word's own files: SummaryInformation PIDSI_CREATE_DTM (UTC) as a
    // date in Japan; RTF \creatim as written.
    for file in [
        "tests/realworld/doc/poi_Bug41898.doc",
        "tests/realworld/ppt/poi_54880_chinese.ppt",
        "tests/realworld/rtf/tika_testRTF-ms932.rtf",
        "tests/fixtures/legacy/shinseisho.doc",
    ] {
        let data = std::fs::read(root().join(file)).unwrap();
        let r = dispatch(file, &data);
        let created = r.meta.iter().find_map(|m| m.created);
        let Some(d) = created else {
            panic!("{file}: no creation date: {:?}", r.meta)
        };
        assert!(d.year() >= 1995 && d.year() <= 2030, "{file}: {d}");
        assert!(r.units > 0 && r.unreadable == 0, "{file}");
    }
}

/// Flips one bit every `step` bytes from a third of the way in.
fn bit_flipped(data: &[u8], step: usize) -> Vec<u8> {
    let mut d = data.to_vec();
    let mut i = d.len() / 3;
    while i < d.len() {
        d[i] ^= 1 << (i % 8);
        i += step;
    }
    d
}

#[test]
fn damaged_copies_never_panic_in_process() {
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for dir in [
        "tests/fixtures/legacy",
        "tests/fixtures/legacy/poi",
        "tests/realworld/doc",
        "tests/realworld/ppt",
        "tests/realworld/rtf",
    ] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = e.unwrap().path();
            // (calamine panics on some damaged .xls: the scanner contains
            // that, see tests/robustness.rs; this test is about the readers
            // of this file's formats.)
            if path.is_file() && path.extension().is_none_or(|e| e != "xls") {
                files.push(path);
            }
        }
    }
    files.push(root().join("tests/realworld/archive/tika_testWINMAIL.dat"));
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&f).unwrap();
        for cut in [7, 100, 513, data.len() / 3, data.len() - 1] {
            dispatch(&name, &data[..cut.min(data.len())]);
        }
        for step in [97, 251, 1021] {
            dispatch(&name, &bit_flipped(&data, step));
        }
    }
}

#[test]
fn compressed_rtf_from_an_independent_implementation() {
    // shinseisho.rtf compressed by the compressed-rtf package (LZFu, CRC).
    let packed = std::fs::read(root().join(fixture("legacy/shinseisho.rtf.lzfu"))).unwrap();
    let rtf = mamori::extract::rtf::decompress(&packed).unwrap();
    let original = std::fs::read(root().join(fixture("legacy/shinseisho.rtf"))).unwrap();
    assert_eq!(rtf, original);
    let text = mamori::extract::rtf::body_text(&rtf).unwrap();
    assert!(text.contains("申請者氏名　山田 太郎"), "{text}");
    assert!(text.contains("鈴木 花子\t"), "table cells: {text}");
    // A flipped byte fails the CRC: corrupt, not garbage.
    let mut bad = packed.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x40;
    let e = mamori::extract::rtf::decompress(&bad).unwrap_err();
    assert_eq!(e.reason, mamori::extract::UnreadableReason::Corrupt);
}

#[test]
fn excel_95_is_read_and_excel_3_and_4_are_unsupported_by_name() {
    let lines = scan_jsonl(&[&fixture("legacy/poi")]);
    for old in ["testEXCEL_3.xls", "testEXCEL_4.xls"] {
        let l: Vec<_> = lines
            .iter()
            .filter(|l| l["path"].as_str().unwrap().ends_with(old))
            .collect();
        assert_eq!(l.len(), 1, "{old}: {lines:#?}");
        assert_eq!(l[0]["reason"], "unsupported");
        assert_eq!(l[0]["format"], "xls (Excel 2.x-4.0)");
    }
    // The TNEF files themselves are read (an image attachment without
    // OCR is reported on its own member).
    assert!(
        !lines.iter().any(|l| l["kind"] == "unreadable"
            && l["member"].is_null()
            && !l["path"].as_str().unwrap().contains("EXCEL_")),
        "{lines:#?}"
    );
    let (code, out, _) = run(&["extract", &fixture("legacy/poi/testEXCEL_95.xls")]);
    assert_eq!(code, 0);
    assert!(
        out.contains("── Feuil1!A1\nSample Excel Worksheet"),
        "{out}"
    );
}

#[test]
fn real_outlook_tnef_files_and_a_hostile_one() {
    let (code, out, _) = run(&[
        "extract",
        &fixture("legacy/poi/bug52400-winmail-simple.dat"),
    ]);
    assert_eq!(code, 0);
    assert!(
        out.contains("── subject\nTesting TNEF Message")
            && out.contains("This is the message body."),
        "{out}"
    );
    assert!(
        !out.contains("unreadable"),
        "a trailing line end is no damage: {out}"
    );
    let (code, out, _) = run(&["extract", &fixture("legacy/poi/winmail-sample1.dat")]);
    assert_eq!(code, 0);
    assert!(out.contains("attachments/bookmark.htm"), "{out}");
    // POI's out-of-memory case: read as TNEF, nothing to scan, no crash.
    let data = std::fs::read(root().join("tests/fixtures/hostile/poi_oom.tnef")).unwrap();
    let r = dispatch("oom.tnef", &data);
    assert_eq!((r.units, r.unreadable), (0, 0));
}

/// A copy of a compound file without the streams whose names start with
/// one of `drop` (to make a message that has only some of its bodies).
fn without_streams(data: &[u8], drop: &[&str]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut src = cfb::CompoundFile::open(std::io::Cursor::new(data)).unwrap();
    let entries: Vec<(std::path::PathBuf, bool)> = src
        .walk()
        .map(|e| (e.path().to_path_buf(), e.is_stream()))
        .collect();
    let mut dst = cfb::CompoundFile::create(std::io::Cursor::new(Vec::new())).unwrap();
    for (path, is_stream) in entries {
        if path == std::path::Path::new("/") {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if drop.iter().any(|d| name.starts_with(d)) {
            continue;
        }
        if is_stream {
            let mut buf = Vec::new();
            src.open_stream(&path)
                .unwrap()
                .read_to_end(&mut buf)
                .unwrap();
            dst.create_stream(&path).unwrap().write_all(&buf).unwrap();
        } else {
            dst.create_storage(&path).unwrap();
        }
    }
    dst.flush().unwrap();
    dst.into_inner().into_inner()
}

#[test]
fn outlook_compressed_rtf_bodies() {
    // quick.msg (Outlook) keeps its body as text and as compressed RTF;
    // the RTF alone gives the same words.
    let data = std::fs::read(root().join("tests/realworld/mail/poi_quick.msg")).unwrap();
    let mut cf = cfb::CompoundFile::open(std::io::Cursor::new(&data[..])).unwrap();
    let mut packed = Vec::new();
    std::io::Read::read_to_end(
        &mut cf.open_stream("/__substg1.0_10090102").unwrap(),
        &mut packed,
    )
    .unwrap();
    let rtf = mamori::extract::rtf::decompress(&packed).unwrap();
    let text = mamori::extract::rtf::body_text(&rtf).unwrap();
    assert!(
        text.contains("The quick brown fox jumps over the lazy dog"),
        "{text}"
    );
    // The same message without its text body: the body comes from the RTF.
    let dir = tempfile::tempdir().unwrap();
    let rtf_only = without_streams(&data, &["__substg1.0_1000", "__substg1.0_1013"]);
    std::fs::write(dir.path().join("rtf_only.msg"), rtf_only).unwrap();
    let (code, out, _) = run(&["extract", dir.path().join("rtf_only.msg").to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("── body\n") && out.contains("The quick brown fox jumps over the lazy dog"),
        "{out}"
    );
}

#[test]
fn word_95_text_and_documents_embedded_in_word_97() {
    let (code, out, _) = run(&["extract", &fixture("legacy/poi/Word95.doc")]);
    assert_eq!(code, 0);
    assert!(
        out.contains("The quick brown fox jumps over the lazy dog\nParagraph 2"),
        "{out}"
    );
    let (code, out, _) = run(&["extract", &fixture("legacy/poi/word_with_embeded.doc")]);
    assert_eq!(code, 0);
    // The object ids are 10-digit runs: `extract` masks them in member
    // names as it masks any long digit run (see README, names and paths).
    for member in [
        "── ObjectPool/_**********.doc | paragraph 1",
        "── ObjectPool/_**********.ppt | slide 1",
        "── ObjectPool/_**********.xls | Sheet1!A1",
    ] {
        assert!(out.contains(member), "{member}: {out}");
    }
    assert_eq!(
        out.matches("── ObjectPool/_**********.xls | Sheet1!A1")
            .count(),
        2,
        "{out}"
    );
}

#[test]
fn fuzz_found_doc_with_broken_sector_tables_is_corrupt_in_process() {
    // See tests/fixtures/hostile/README.md: calamine allocated without
    // bound on it; in-process there is no memory limit to save the scan.
    let lines = scan_jsonl(&[
        "--no-isolation",
        "tests/fixtures/hostile/fuzz_doc_broken_fat.doc",
    ]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["reason"], "corrupt");
    assert_eq!(lines[0]["format"], "doc (Word 97-2003)");
}
