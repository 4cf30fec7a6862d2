//! Mail: `.eml` (RFC 5322 / MIME, forwarded messages nested), `.mbox`
//! (mboxo/mboxrd, streamed message by message), via mail-parser with its
//! full set of Japanese charsets (ISO-2022-JP, Shift_JIS/CP932, EUC-JP),
//! RFC 2047 encoded words and RFC 2231 names.
//!
//! Units: `subject`, `body` (text bodies; an HTML-only body as text).
//! Every attachment goes back through the dispatcher under the file's
//! budget: member `attachments/請求書.pdf` in a single message,
//! `3/請求書.pdf` for the third message of an mbox (the message itself is
//! member `3`).
//!
//! What is not a finding: addresses in From/To/Cc headers (every mail has
//! them), and, for a sender of the office's own domains, the signature
//! block (after a `-- ` line, or the last separator line of the message's
//! final lines). Personal data in the body and in attachments is. Each
//! message's sender and recipient domains are passed on ([`MailMeta`]) for
//! the outbound check; full addresses are not kept.

use std::io::BufRead;

use mail_parser::{Message, MessageParser, MimeHeaders};

use super::{
    ExtractContext, ExtractError, Extractor, Format, MemberPath, ScanBudget, UnitSink,
    UnreadableReason,
};
use crate::text::{Location, TextUnit};

pub use crate::outcome::MailMeta;

/// Reads `.eml` files (and mbox data met inside containers).
pub struct Mail;

impl Extractor for Mail {
    fn formats(&self) -> &'static [Format] {
        &[Format::Eml, Format::Mbox]
    }

    fn extract(
        &self,
        _name: &str,
        format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        if format == Format::Mbox {
            // An mbox inside a container: already in memory.
            let base = cx.member.clone();
            for (i, m) in
                mail_parser::mailbox::mbox::MessageIterator::new(std::io::Cursor::new(data))
                    .enumerate()
            {
                cx.budget.check_time()?;
                let m = m.map_err(|e| {
                    ExtractError::new(UnreadableReason::Corrupt, format!("mbox: {e}"))
                })?;
                let member = base.child((i + 1).to_string());
                read_message(
                    m.contents(),
                    &member,
                    false,
                    cx.budget,
                    cx.units,
                    cx.dispatcher,
                )?;
            }
            return Ok(());
        }
        let member = cx.member.clone();
        read_message(data, &member, true, cx.budget, cx.units, cx.dispatcher)
    }
}

fn domain_of(address: &str) -> Option<String> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('>').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
}

fn meta(msg: &Message<'_>) -> MailMeta {
    let sender_domain = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .and_then(domain_of);
    let mut recipient_domains: Vec<String> = [msg.to(), msg.cc(), msg.bcc()]
        .into_iter()
        .flatten()
        .flat_map(|a| a.iter())
        .filter_map(|a| a.address())
        .filter_map(domain_of)
        .collect();
    recipient_domains.sort();
    recipient_domains.dedup();
    MailMeta {
        sender_domain,
        recipient_domains,
    }
}

/// Whether `domain` is one of `internal` or a subdomain of one.
pub fn is_internal(domain: &str, internal: &[String]) -> bool {
    internal.iter().any(|i| {
        let i = i.trim().trim_start_matches('@').to_ascii_lowercase();
        !i.is_empty() && (domain == i || domain.ends_with(&format!(".{i}")))
    })
}

/// Cuts the signature block off a body: from a `-- ` delimiter line, or
/// from the first separator line (a row of ─ ━ - = ＝ _ * ~) among the
/// final 15 lines (Japanese signatures are usually framed by two such
/// lines). Returns the body without it.
pub fn strip_signature(body: &str) -> &str {
    let lines: Vec<(usize, &str)> = body
        .split_inclusive('\n')
        .scan(0usize, |pos, l| {
            let start = *pos;
            *pos += l.len();
            Some((start, l))
        })
        .collect();
    if let Some((start, _)) = lines.iter().rev().find(|(_, l)| {
        l.trim_end_matches(['\r', '\n']) == "-- " || l.trim_end_matches(['\r', '\n']) == "--"
    }) {
        return &body[..*start];
    }
    let tail = lines.len().saturating_sub(15);
    let is_separator = |l: &str| {
        let t = l.trim();
        t.chars().count() >= 5 && t.chars().all(|c| "─━-=＝_*~―‐ー・".contains(c))
    };
    if let Some((start, _)) = lines[tail..].iter().find(|(_, l)| is_separator(l)) {
        return &body[..*start];
    }
    body
}

/// Reads one message: its units, its attachments (recursively) and its
/// addressing. `single`: attachments are `attachments/NAME` (an .eml);
/// otherwise `NAME` under the message's own member (an mbox message).
pub fn read_message(
    raw: &[u8],
    member: &MemberPath,
    single: bool,
    budget: &mut ScanBudget,
    units: &mut dyn UnitSink,
    dispatcher: &super::Dispatcher,
) -> Result<(), ExtractError> {
    budget.check_depth(member)?;
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| ExtractError::new(UnreadableReason::Corrupt, "not a mail message"))?;
    let m = meta(&msg);
    let internal_sender = m
        .sender_domain
        .as_deref()
        .is_some_and(|d| units.internal_domain(d));
    units.mail(member, m);
    super::docmeta::report_to(
        units,
        member,
        msg.date().and_then(super::docmeta::mail_date),
    );
    if let Some(subject) = msg.subject() {
        units.unit(
            member,
            TextUnit::fixed(subject, Location::Named("subject".into())),
        )?;
    }
    let mut body = String::new();
    for i in 0..msg.text_body_count() {
        if let Some(t) = msg.body_text(i) {
            body.push_str(&t);
            body.push('\n');
        }
    }
    if body.trim().is_empty() {
        for part in msg.html_bodies() {
            if let Some(html) = part.text_contents() {
                body.push_str(&mail_parser::decoders::html::html_to_text(html));
                body.push('\n');
            }
        }
    }
    let body = if internal_sender {
        strip_signature(&body)
    } else {
        &body
    };
    if !body.trim().is_empty() {
        units.unit(
            member,
            TextUnit::fixed(body, Location::Named("body".into())),
        )?;
    }
    for (i, part) in msg.attachments().enumerate() {
        budget.check_time()?;
        budget.charge_member()?;
        let name = part
            .attachment_name()
            .map(|n| n.replace('/', "_"))
            .unwrap_or_else(|| {
                if part.is_message() {
                    format!("message-{}.eml", i + 1)
                } else {
                    format!("attachment-{}", i + 1)
                }
            });
        let path = if single {
            member.child("attachments").child(name.clone())
        } else {
            member.child(name.clone())
        };
        if let Some(inner) = part.message() {
            // A forwarded message: read it as a message of its own.
            let raw_inner = inner.raw_message();
            if let Err(e) = read_message(raw_inner, &path, true, budget, units, dispatcher) {
                if matches!(e.reason, UnreadableReason::Timeout) {
                    return Err(e);
                }
                units.unreadable(&path, Format::Eml, e);
            }
            continue;
        }
        let data = part.contents();
        budget.charge_bytes(data.len() as u64)?;
        match dispatcher.extract(&name, data, path.clone(), budget, units) {
            Ok(_) => {}
            Err((_, e)) if e.reason == UnreadableReason::Timeout => return Err(e),
            Err((format, e)) => units.unreadable(&path, format, e),
        }
    }
    Ok(())
}

/// Streams an mbox file message by message: each message gets a budget of
/// its own (a mail export of several GB is many files, not one), and at
/// most `max_message` bytes; memory stays bounded by the largest message.
pub fn scan_mbox(
    reader: impl BufRead,
    limits: &super::Limits,
    units: &mut dyn UnitSink,
    dispatcher: &super::Dispatcher,
) -> Result<usize, ExtractError> {
    let mut n = 0;
    for (i, m) in mail_parser::mailbox::mbox::MessageIterator::new(reader).enumerate() {
        let m =
            m.map_err(|e| ExtractError::new(UnreadableReason::Corrupt, format!("mbox: {e}")))?;
        n = i + 1;
        let member = MemberPath::root().child(n.to_string());
        if m.contents().len() as u64 > limits.max_file_size {
            units.unreadable(
                &member,
                Format::Eml,
                ExtractError::new(
                    UnreadableReason::TooLarge,
                    "message larger than the size limit",
                ),
            );
            continue;
        }
        let mut budget = ScanBudget::new(limits);
        if let Err(e) = read_message(m.contents(), &member, false, &mut budget, units, dispatcher) {
            units.unreadable(&member, Format::Eml, e);
        }
        units.part_done();
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_cut() {
        let b = "本文です。\n個人番号 1234\n-- \n総務課 山田\n電話 03-1234-5678\n";
        assert_eq!(strip_signature(b), "本文です。\n個人番号 1234\n");
        let b = "本文です。\n\n━━━━━━━━━━\n○○市 総務課 山田\n内線 1234\n━━━━━━━━━━\n";
        assert_eq!(strip_signature(b), "本文です。\n\n");
        assert_eq!(strip_signature("本文だけ\n"), "本文だけ\n");
    }

    #[test]
    fn internal_domains_include_subdomains() {
        let internal = vec!["city.example.lg.jp".to_string()];
        assert!(is_internal("city.example.lg.jp", &internal));
        assert!(is_internal("soumu.city.example.lg.jp", &internal));
        assert!(!is_internal("example.lg.jp", &internal));
        assert!(!is_internal("evilcity.example.lg.jp", &internal));
    }
}
