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
//! Parties: the addresses and display names in From, To, Cc and Reply-To of
//! parties outside the office's own domains are citizens' and partners'
//! personal data: each is a unit located `header From`, `header To` … (see
//! [`report_parties`]). Staff of the office's domains and role addresses
//! (info@, noreply@ …) are not reported. For a sender of the office's own
//! domains the signature block (after a `-- ` line, or the last separator
//! line of the message's final lines) is not a finding either; any other
//! sender's signature is a unit of its own (`signature`), where a line that
//! is a name counts. Each message's sender and recipient domains are passed
//! on ([`MailMeta`]) for the outbound check.

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

/// One party of a message, as its header names it.
#[derive(Debug, Clone, Copy)]
pub struct Party<'a> {
    /// `From`, `To`, `Cc` or `Reply-To`.
    pub header: &'static str,
    pub name: Option<&'a str>,
    pub address: &'a str,
}

/// Local parts of role addresses: a mailbox of a function, not a person.
const ROLE_MAILBOXES: &[&str] = &[
    "info",
    "information",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "postmaster",
    "webmaster",
    "hostmaster",
    "mailer-daemon",
    "abuse",
    "admin",
    "administrator",
    "root",
    "support",
    "help",
    "contact",
    "inquiry",
    "inquiries",
    "sales",
    "office",
    "service",
    "news",
    "newsletter",
    "notification",
    "notifications",
    "system",
    "toiawase",
    "otoiawase",
    "uketsuke",
];

/// Whether an address is a role address (info@, noreply@, postmaster@ …).
pub fn is_role_address(address: &str) -> bool {
    let local = address
        .rsplit_once('@')
        .map(|(l, _)| l)
        .unwrap_or(address)
        .trim()
        .trim_start_matches('<')
        .to_ascii_lowercase();
    ROLE_MAILBOXES.iter().any(|r| {
        local == *r
            || local.strip_prefix(r).is_some_and(|rest| {
                rest.starts_with(['-', '_', '.', '+']) || rest.chars().all(|c| c.is_ascii_digit())
            })
    })
}

/// The hint of a party's address: with the office's domains known the
/// party is outside them (an e-mail context word); without, nobody knows
/// (`所属不明`, a negative word that keeps the finding `low`).
pub const PARTY_HINT_OUTSIDE: &str = "メールヘッダー（外部の相手）";
pub const PARTY_HINT_UNKNOWN: &str = "メールヘッダー（所属不明）";

/// Reports the parties of a message that are personal data: addresses of
/// parties outside the office's domains (`header From` …) and, when those
/// domains are known, the display names (as a 氏名). Staff addresses of the
/// office's domains and role addresses are left out; each address once.
pub fn report_parties<'a>(
    parties: impl IntoIterator<Item = Party<'a>>,
    member: &MemberPath,
    units: &mut dyn UnitSink,
) -> Result<(), ExtractError> {
    let known = units.internal_domains_known();
    let mut seen: Vec<String> = Vec::new();
    for p in parties {
        let address = p.address.trim().trim_matches(['<', '>']);
        let Some(domain) = domain_of(address) else {
            continue;
        };
        let key = address.to_ascii_lowercase();
        if seen.contains(&key)
            || (known && units.internal_domain(&domain))
            || is_role_address(address)
        {
            continue;
        }
        seen.push(key);
        let location = Location::Named(format!("header {}", p.header));
        let mut unit = TextUnit::fixed(address.to_string(), location.clone());
        unit.context_hint = Some(
            if known {
                PARTY_HINT_OUTSIDE
            } else {
                PARTY_HINT_UNKNOWN
            }
            .to_string(),
        );
        units.unit(member, unit)?;
        if let Some(name) = p
            .name
            .map(str::trim)
            .filter(|n| known && !n.is_empty() && !n.contains('@') && n.chars().count() <= 40)
        {
            let mut unit = TextUnit::fixed(name.to_string(), location);
            unit.context_hint = Some("氏名".to_string());
            units.unit(member, unit)?;
        }
    }
    Ok(())
}

/// The signature block a body ends with (see [`strip_signature`]), if any.
pub fn signature_of(body: &str) -> Option<&str> {
    let rest = &body[strip_signature(body).len()..];
    (!rest.trim().is_empty()).then_some(rest)
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

/// A signature block as a unit of its own (`signature`), labelled 署名 so
/// that a line holding a name counts.
pub fn report_signature(
    signature: Option<&str>,
    member: &MemberPath,
    units: &mut dyn UnitSink,
) -> Result<(), ExtractError> {
    if let Some(sig) = signature {
        let mut unit = TextUnit::fixed(sig, Location::Named("signature".into()));
        unit.context_hint = Some("署名".to_string());
        units.unit(member, unit)?;
    }
    Ok(())
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
    // Issue 13: the parties outside the office are personal data.
    let headers = [
        ("From", msg.from()),
        ("Reply-To", msg.reply_to()),
        ("To", msg.to()),
        ("Cc", msg.cc()),
    ];
    let parties = headers.iter().flat_map(|(header, a)| {
        a.iter().flat_map(|a| a.iter()).filter_map(move |x| {
            Some(Party {
                header,
                name: x.name(),
                address: x.address()?,
            })
        })
    });
    report_parties(parties, member, units)?;
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
    let (body, signature) = (strip_signature(&body), signature_of(&body));
    if !body.trim().is_empty() {
        units.unit(
            member,
            TextUnit::fixed(body, Location::Named("body".into())),
        )?;
    }
    // Staff signatures are organisational; anyone else's is theirs.
    report_signature(signature.filter(|_| !internal_sender), member, units)?;
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
    fn role_addresses_are_no_persons() {
        assert!(is_role_address("info@example.co.jp"));
        assert!(is_role_address("<NoReply@example.jp>"));
        assert!(is_role_address("postmaster@example.jp"));
        assert!(is_role_address("info-kensetsu@example.jp"));
        assert!(is_role_address("support2@example.jp"));
        assert!(!is_role_address("nanaka.yamaguchi@example.ne.jp"));
        assert!(!is_role_address("informatics.taro@example.jp"));
        assert_eq!(
            signature_of("本文\n-- \n山口 七夏\n"),
            Some("-- \n山口 七夏\n")
        );
        assert_eq!(signature_of("本文だけ\n"), None);
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
