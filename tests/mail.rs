//! Mail exports made by Python's email/mailbox packages
//! (tests/fixtures/make_mail.py) and real Outlook files from the real-world
//! corpus: member chains, charsets, the signature rule, the outbound check.

use crate::util::{fixture, run, scan_jsonl};

const INTERNAL: &str = "city.example.lg.jp";

fn scan(file: &str, internal: bool) -> Vec<serde_json::Value> {
    let path = fixture(&format!("mail/{file}"));
    if internal {
        scan_jsonl(&["--internal-domain", INTERNAL, &path])
    } else {
        scan_jsonl(&[&path])
    }
}

fn find<'a>(
    lines: &'a [serde_json::Value],
    member: Option<&str>,
    kind: &str,
    location: &str,
) -> Option<&'a serde_json::Value> {
    lines
        .iter()
        .find(|l| l["member"].as_str() == member && l["kind"] == kind && l["location"] == location)
}

#[test]
fn the_incident_an_outside_bound_request_form_is_flagged() {
    let lines = scan("leak_iso2022jp.eml", true);
    for (kind, loc) in [
        ("person_name", "page 1"),
        ("my_number", "page 2"),
        ("postal_address", "page 2"),
    ] {
        let l = find(&lines, Some("attachments/請求書.pdf"), kind, loc)
            .unwrap_or_else(|| panic!("{kind}: {lines:#?}"));
        assert_eq!(l["flags"], serde_json::json!(["outbound_leak_candidate"]));
        assert_eq!(l["recipient_domains"], serde_json::json!(["example.co.jp"]));
    }
    // The internal sender's signature (a mobile number) is not a finding.
    assert!(
        !lines.iter().any(|l| l["kind"] == "phone_number"),
        "{lines:#?}"
    );
    // Without the office's domains, nothing can be called outbound, and the
    // signature is read like any text (a unit of its own).
    let plain = scan("leak_iso2022jp.eml", false);
    assert!(plain.iter().all(|l| l.get("flags").is_none()));
    assert!(plain
        .iter()
        .any(|l| l["kind"] == "phone_number" && l["location"] == "signature"));
}

#[test]
fn mbox_messages_and_attachments_have_member_chains() {
    let lines = scan("export.mbox", true);
    let flagged: Vec<&str> = lines
        .iter()
        .filter(|l| l.get("flags").is_some())
        .map(|l| l["member"].as_str().unwrap())
        .collect();
    assert!(!flagged.is_empty());
    assert!(
        flagged.iter().all(|m| *m == "2/請求書.pdf"),
        "only the second message leaks: {flagged:?}"
    );
    assert!(find(&lines, Some("2/請求書.pdf"), "my_number", "page 2").is_some());
    // The password-in-a-separate-mail zip: encrypted, with its chain.
    assert!(
        lines
            .iter()
            .any(|l| l["member"] == "3/名簿.zip/secret.csv" && l["reason"] == "encrypted"),
        "{lines:#?}"
    );
    // Messages 1 and 4 hold nothing personal.
    assert!(!lines.iter().any(|l| l["member"]
        .as_str()
        .is_some_and(|m| m.starts_with('1') || m.starts_with('4'))));
}

#[test]
fn cp932_internal_mail_is_read_but_not_outbound() {
    let lines = scan("internal_sjis.eml", true);
    let l = find(&lines, None, "my_number", "body").unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        l.get("flags").is_none(),
        "internal to internal is not outbound"
    );
    assert!(find(&lines, None, "person_name", "body").is_some());
}

#[test]
fn forwarded_messages_are_read_as_messages() {
    let lines = scan("forwarded.eml", true);
    let l = find(
        &lines,
        Some("attachments/message-1.eml"),
        "phone_number",
        "body",
    )
    .unwrap_or_else(|| panic!("{lines:#?}"));
    // The outer message went from the office to an outside domain.
    assert_eq!(l["recipient_domains"], serde_json::json!(["example.co.jp"]));
}

#[test]
fn no_full_mail_address_is_printed() {
    let (code, out, err) = run(&[
        "scan",
        "--format",
        "jsonl",
        "--internal-domain",
        INTERNAL,
        "tests/fixtures/mail",
    ]);
    assert_eq!(code, 0);
    for addr in [
        "uketsuke@example.co.jp",
        "soumu@city.example.lg.jp",
        "kanri@example.co.jp",
    ] {
        assert!(!out.contains(addr) && !err.contains(addr), "{addr} printed");
    }
    let (_, summary, _) = run(&["scan", "--internal-domain", INTERNAL, "tests/fixtures/mail"]);
    assert!(
        summary.contains("外部送信の疑い [2]: 宛先 example.co.jp"),
        "{summary}"
    );
}

#[test]
fn outlook_msg_files_from_outlook() {
    // Real Outlook files (Apache POI's test suite): a Unicode message, a
    // message with a PDF and an embedded message, a Big5 message.
    let out =
        crate::util::Mamori::new(&["extract", "tests/realworld/mail/poi_attachment_msg_pdf.msg"])
            .output();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("── subject\ntest email"), "{text}");
    assert!(
        text.contains("attachments/Test Attachment | subject"),
        "{text}"
    );
    assert!(text.contains(".pdf"), "the PDF attachment is read: {text}");
    let out = crate::util::Mamori::new(&[
        "extract",
        "tests/realworld/mail/poi_chinese-traditional.msg",
    ])
    .output();
    assert!(String::from_utf8(out.stdout).unwrap().contains("格式測試"));
}

#[test]
fn japanese_charsets_in_real_mail() {
    for (file, expect) in [
        ("mikelmail_japanese_iso_2022.eml", "まみむめも"),
        (
            "mikelmail_japanese_shift_jis.eml",
            "このメールはテスト用のメールです",
        ),
        (
            "mikelmail_japanese_attachment_long_name.eml",
            "かきくけこかきくけこ",
        ),
    ] {
        let out = crate::util::Mamori::new(&["extract", &format!("tests/realworld/mail/{file}")])
            .output();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(expect), "{file}: {text}");
    }
}
