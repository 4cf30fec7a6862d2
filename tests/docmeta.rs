//! Document dates that extractors report (`UnitSink::metadata`), on files
//! made by real software. The expected dates were read with independent
//! tools (`unzip -p FILE docProps/core.xml` / `meta.xml`, `pdfinfo
//! -rawdates`, pypdf for XMP, olefile for OLE SummaryInformation and
//! Outlook property streams, the raw `Date:` header) and converted to the
//! date in Japan by hand; the raw value is in each comment. Many were
//! chosen because the day in Japan differs from the day in UTC.

use std::path::Path;

use jiff::civil::{date, Date};
use mamori::extract::{
    mail::scan_mbox, Dispatcher, DocumentMeta, ExtractError, Format, Limits, MemberPath,
    ScanBudget, UnitSink,
};
use mamori::text::TextUnit;

use crate::util::root;

/// Records every `metadata` call: (member chain, created).
#[derive(Default)]
struct Dates(Vec<(String, Option<Date>)>);

impl UnitSink for Dates {
    fn unit(&mut self, _: &MemberPath, _: TextUnit<'_>) -> Result<(), ExtractError> {
        Ok(())
    }
    fn unreadable(&mut self, _: &MemberPath, _: Format, _: ExtractError) {}
    fn metadata(&mut self, member: &MemberPath, meta: DocumentMeta) {
        self.0
            .push((member.to_contract().unwrap_or_default(), meta.created));
    }
}

/// Every date reported while extracting `path` (relative to the repository).
fn dates_of(path: &str) -> Vec<(String, Option<Date>)> {
    let data = std::fs::read(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let name = Path::new(path).file_name().unwrap().to_str().unwrap();
    let mut sink = Dates::default();
    // A PDF reports its date as soon as it is loaded: a spent time budget
    // then stops the page text, and the OCR of scanned pages (seconds each),
    // which this test does not need.
    let limits = if name.ends_with(".pdf") {
        Limits {
            timeout: std::time::Duration::ZERO,
            ..Limits::default()
        }
    } else {
        Limits::default()
    };
    let mut budget = ScanBudget::new(&limits);
    // Whether the text reads or not, the date is what is checked here.
    let _ = Dispatcher::default().extract(name, &data, MemberPath::root(), &mut budget, &mut sink);
    sink.0
}

/// The date reported for the file itself.
fn created(path: &str) -> Option<Date> {
    let all = dates_of(path);
    let own: Vec<_> = all.iter().filter(|(m, _)| m.is_empty()).collect();
    assert!(own.len() <= 1, "{path}: reported more than once: {all:?}");
    own.first().and_then(|(_, d)| *d)
}

#[test]
fn office_open_xml_created_in_japan_time() {
    for (path, expected) in [
        // made by tests/fixtures/make_dates.py
        (
            "tests/fixtures/dates/created_2021-04-01_jst.docx",
            date(2021, 4, 1),
        ), // 2021-03-31T15:30:00Z
        (
            "tests/fixtures/dates/created_2019-04-01_jst.xlsx",
            date(2019, 4, 1),
        ), // 2019-03-31T16:00:00Z
        (
            "tests/fixtures/dates/created_2023-01-01_jst.pptx",
            date(2023, 1, 1),
        ), // 2022-12-31T20:00:00Z
        ("tests/fixtures/docs/request_form.docx", date(2013, 12, 24)), // 2013-12-23T23:15:00Z
        ("tests/fixtures/docs/slides.pptx", date(2013, 1, 27)),        // 2013-01-27T09:14:16Z
        // the real-world corpus (Word, Excel, PowerPoint and others' writers)
        (
            "tests/realworld/docx/poi_HeaderFooterUnicode.docx",
            date(2008, 8, 10),
        ), // 2008-08-09T17:26:00Z
        ("tests/realworld/docx/docxrs_font.docx", date(2022, 3, 16)), // 2022-03-16T02:33:00Z
        (
            "tests/realworld/pptx/poi_with_japanese.pptx",
            date(2011, 9, 5),
        ), // 2011-09-05T13:54:41Z
        ("tests/realworld/xlsx/calamine_rph.xlsx", date(2020, 6, 5)), // 2020-06-04T22:31:16Z
        ("tests/realworld/xlsx/poi_51519.xlsx", date(2013, 10, 15)),  // 2013-10-14T16:57:09Z
        ("tests/realworld/xlsx/calamine_vba.xlsm", date(2016, 10, 24)), // 2016-10-24T01:16:43Z
    ] {
        assert_eq!(created(path), Some(expected), "{path}");
    }
    // No core properties part: no date (and no error for it).
    assert_eq!(
        created("tests/realworld/docx/tika_testWORD_truncated.docx"),
        None
    );
}

#[test]
fn opendocument_and_ole_created() {
    for (path, expected) in [
        // LibreOffice writes meta:creation-date without a zone: taken as written.
        ("tests/fixtures/dates/created_lo.ods", date(2019, 3, 31)), // 2019-03-31T16:00:00
        ("tests/fixtures/docs/meibo_lo.ods", date(2026, 11, 24)),   // 2026-11-24T07:43:00
        (
            "tests/realworld/ods/calamine_with-annotation.ods",
            date(2024, 9, 18),
        ), // 2024-09-18T18:26:16.538672868
        (
            "tests/realworld/ods/calamine_number_rows_repeated.ods",
            date(2023, 5, 12),
        ), // 2023-05-12T05:26:51Z
        // OLE SummaryInformation: a FILETIME, UTC.
        ("tests/fixtures/dates/created_lo.xls", date(2019, 4, 1)), // 2019-03-31 16:00:00
        ("tests/realworld/xls/poi_12561-2.xls", date(1997, 1, 9)), // 1997-01-08 22:48:59
        (
            "tests/realworld/xls/poi_unicodeNameRecord.xls",
            date(2007, 10, 18),
        ), // 2007-10-17 16:27:51
        // Password-protected: the property set is not encrypted.
        ("tests/realworld/xls/tika_password.xls", date(2009, 8, 6)), // 2009-08-06 08:40:04
    ] {
        assert_eq!(created(path), Some(expected), "{path}");
    }
    assert_eq!(
        created("tests/realworld/ods/calamine_merged_cells.ods"),
        None
    );
    assert_eq!(created("tests/realworld/xls/poi_45290.xls"), None);
}

#[test]
fn pdf_creation_date_then_xmp() {
    for (path, expected) in [
        (
            "tests/fixtures/dates/created_2024-04-01_jst_reportlab.pdf",
            date(2024, 4, 1),
        ), // D:20240331150000+00'00'
        ("tests/fixtures/dates/pdfa_lo.pdf", date(2026, 12, 1)), // D:20261130165723Z'
        // Info without /CreationDate: the XMP xmp:CreateDate 2026-11-30T16:57:23Z.
        ("tests/fixtures/dates/xmp_only.pdf", date(2026, 12, 1)),
        ("tests/fixtures/docs/cid_unijis.pdf", date(2026, 11, 24)), // D:20261124074300+00'00'
        (
            "tests/realworld/pdf/docling_normal_4pages.pdf",
            date(2020, 3, 31),
        ), // D:20200331180255+09'00'
        ("tests/realworld/pdf/pdfjs_scan-bad.pdf", date(2011, 12, 3)), // D:20111202172139-06'00'
        // Info says -07'00', its XMP +07:00: Info is read first.
        (
            "tests/realworld/pdf/pdfjs_mixedfonts.pdf",
            date(2012, 4, 18),
        ), // D:20120417103435-07'00'
        ("tests/realworld/pdf/pdfjs_issue12823.pdf", date(2021, 1, 7)), // D:20210107113443+03'34'
        ("tests/realworld/pdf/pdfjs_issue15340.pdf", date(2022, 9, 4)), // D:20220904103240Z00'00'
        ("tests/realworld/pdf/pdfjs_issue3521.pdf", date(2013, 7, 29)), // D:20130729015932 (no zone)
        (
            "tests/realworld/pdf/pdfjs_noembed-sjis.pdf",
            date(2013, 1, 16),
        ), // D:20130116
        ("tests/realworld/pdf/saka1029_kokuji.pdf", date(2022, 2, 25)), // D:20220225151331+09'00'
    ] {
        assert_eq!(created(path), Some(expected), "{path}");
    }
    // pdfinfo shows no CreationDate, and there is no XMP packet.
    assert_eq!(created("tests/realworld/pdf/pdfjs_issue11555.pdf"), None);
}

#[test]
fn mail_date_header() {
    for (path, expected) in [
        (
            "tests/realworld/mail/mikelmail_raw_email.eml",
            date(2005, 5, 3),
        ), // Mon, 2 May 2005 16:07:05 -0600
        (
            "tests/realworld/mail/mikelmail_japanese_shift_jis.eml",
            date(2014, 5, 28),
        ), // Wed, 28 May 2014 17:18:19 +0900 (JST)
        (
            "tests/realworld/mail/mikelmail_japanese_attachment_long_name.eml",
            date(2009, 10, 30),
        ), // Fri, 30 Oct 2009 19:11:02 +1100
        ("tests/fixtures/mail/leak_iso2022jp.eml", date(2023, 11, 15)), // Tue, 14 Nov 2023 23:13:20 -0000
    ] {
        assert_eq!(created(path), Some(expected), "{path}");
    }
    assert_eq!(created("tests/realworld/mail/mikelmail_japanese.eml"), None);
    // A forwarded message has a date of its own.
    let all = dates_of("tests/fixtures/mail/forwarded.eml");
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0], (String::new(), Some(date(2023, 11, 15)))); // 02:13:20 -0000
    assert!(all[1].0.starts_with("attachments/"), "{all:?}");
    assert_eq!(all[1].1, Some(date(2023, 11, 15))); // 01:13:20 -0000
}

#[test]
fn mbox_messages_each_have_their_date() {
    // In memory (an mbox met inside a container) …
    let all = dates_of("tests/realworld/mail/mimekit_issue1189.mbox");
    // Fri, 26 Sep 2025 10:18:40 -0700 and the next three: 02:18 on the 27th in Japan.
    assert_eq!(
        all,
        [
            ("1".to_string(), Some(date(2025, 9, 27))),
            ("2".to_string(), Some(date(2025, 9, 27))),
            ("3".to_string(), Some(date(2025, 9, 27))),
            ("4".to_string(), Some(date(2025, 9, 27))),
        ]
    );
    // … and streamed, as the scanner reads an mbox file.
    let file = std::fs::File::open(root().join("tests/fixtures/mail/export.mbox")).unwrap();
    let mut sink = Dates::default();
    let n = scan_mbox(
        std::io::BufReader::new(file),
        &Limits::default(),
        &mut sink,
        &Dispatcher::default(),
    )
    .unwrap();
    assert_eq!(n, 4);
    // 03:13:20, 23:13:20 (the 14th), 04:13:20, 05:13:20 -0000: all the 15th
    // in Japan; the PDF attached to the second message has its own date
    // (D:20261124074300+00'00').
    let d = Some(date(2023, 11, 15));
    assert_eq!(
        sink.0,
        [
            ("1".to_string(), d),
            ("2".to_string(), d),
            ("2/請求書.pdf".to_string(), Some(date(2026, 11, 24))),
            ("3".to_string(), d),
            ("4".to_string(), d),
        ]
    );
}

#[test]
fn outlook_submit_time() {
    for (path, expected) in [
        // PR_CLIENT_SUBMIT_TIME 2010-06-17T23:54:19Z (delivery 23:54:25, created 23:54:28).
        (
            "tests/realworld/mail/poi_attachment_msg_pdf.msg",
            date(2010, 6, 18),
        ),
        (
            "tests/realworld/mail/poi_example_received_unicode.msg",
            date(2010, 1, 12),
        ), // 2010-01-11T16:25:07Z
        ("tests/realworld/mail/poi_quick.msg", date(2007, 6, 14)), // 2007-06-14T09:42:53.5Z
        (
            "tests/realworld/mail/poi_chinese-traditional.msg",
            date(2011, 3, 29),
        ), // 2011-03-29T08:52:48Z
    ] {
        assert_eq!(created(path), Some(expected), "{path}");
    }
    assert_eq!(
        created("tests/realworld/mail/poi_HTMLBodyBinary_UTF-8.msg"),
        None
    );
}
