//! Saved web pages (`.mht`, `.mhtml`): a MIME `multipart/related` message
//! (Internet Explorer, Chrome, Firefox add-ons) parsed with mail-parser.
//!
//! The first HTML part is the page: it goes through the HTML reader
//! (`html.rs`) as the file itself, with the part's own `charset` label
//! first. Further HTML parts (frames) are read the same way as members
//! named by their `Content-Location`; other parts that may hold text (a
//! PDF, a plain-text part) go through the dispatcher as members. Images,
//! style sheets, scripts and fonts are the page's decoration and are not
//! read. The part's bytes are taken before mail-parser's charset decoding
//! (which falls back to lossy UTF-8 when a part has no label), so that the
//! page's own `<meta charset>` and detection still apply. The `Date`
//! header is reported as the document's creation date.

use mail_parser::{Encoding as TransferEncoding, MessageParser, MimeHeaders, PartType};

use super::{
    html, DocumentMeta, ExtractContext, ExtractError, Extractor, Format, UnreadableReason,
};

/// Reads saved web pages.
pub struct Mht;

impl Extractor for Mht {
    fn formats(&self) -> &'static [Format] {
        &[Format::Mht]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        let msg = MessageParser::default().parse(data).ok_or_else(|| {
            ExtractError::new(UnreadableReason::Corrupt, "MHT: not a MIME message")
        })?;
        if let Some(created) = msg.date().and_then(super::docmeta::mail_date) {
            cx.metadata(DocumentMeta {
                created: Some(created),
            });
        }
        let raw = msg.raw_message();
        let mut page_read = false;
        for (i, part) in msg.parts.iter().enumerate() {
            cx.budget.check_time()?;
            if matches!(part.body, PartType::Multipart(_) | PartType::Message(_)) {
                continue;
            }
            let (kind, subtype) = part
                .content_type()
                .map(|ct| {
                    (
                        ct.ctype().to_ascii_lowercase(),
                        ct.subtype().unwrap_or("").to_ascii_lowercase(),
                    )
                })
                .unwrap_or_else(|| ("text".into(), "plain".into()));
            let decoration = kind == "image"
                || kind == "font"
                || subtype == "css"
                || subtype.contains("javascript")
                || subtype.contains("ecmascript");
            if decoration {
                continue;
            }
            let start = part.offset_body as usize;
            let end = (part.offset_end as usize).min(raw.len());
            let Some(body) = raw.get(start..end.max(start)) else {
                continue;
            };
            let bytes = match part.encoding {
                TransferEncoding::Base64 => mail_parser::decoders::base64::base64_decode(body),
                TransferEncoding::QuotedPrintable => {
                    mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
                }
                TransferEncoding::None => Some(body.to_vec()),
            };
            let Some(bytes) = bytes else {
                cx.unreadable_member(
                    &part_name(part, i),
                    Format::Mht,
                    ExtractError::new(UnreadableReason::Corrupt, "MHT part: bad transfer encoding"),
                );
                continue;
            };
            let charset = part
                .content_type()
                .and_then(|ct| ct.attribute("charset"))
                .map(str::to_string);
            let is_html = kind == "text" && subtype == "html" || subtype == "xhtml+xml";
            if is_html && !page_read {
                page_read = true;
                html::read_html(&bytes, charset.as_deref(), false, cx)?;
                continue;
            }
            cx.budget.charge_member()?;
            let name = part_name(part, i);
            if is_html {
                let mut child = ExtractContext {
                    member: cx.member.child(name.clone()),
                    budget: cx.budget,
                    units: cx.units,
                    dispatcher: cx.dispatcher,
                };
                if let Err(e) = html::read_html(&bytes, charset.as_deref(), false, &mut child) {
                    if e.reason == UnreadableReason::Timeout {
                        return Err(e);
                    }
                    cx.unreadable_member(&name, Format::Html, e);
                }
            } else {
                cx.member(&name, &bytes)?;
            }
        }
        if !page_read {
            return Err(ExtractError::new(
                UnreadableReason::Corrupt,
                "MHT without an HTML part",
            ));
        }
        Ok(())
    }
}

/// A part's member name: the last segment of its `Content-Location` or
/// its file name, else `part-N`.
fn part_name(part: &mail_parser::MessagePart<'_>, index: usize) -> String {
    let from_location = part.content_location().and_then(|l| {
        l.split(['?', '#'])
            .next()
            .and_then(|p| p.rsplit('/').next())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    });
    part.attachment_name()
        .map(|n| n.replace('/', "_"))
        .or(from_location)
        .unwrap_or_else(|| format!("part-{index}"))
}
