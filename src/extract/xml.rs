//! A small layer over quick-xml for the office formats: elements as
//! open/close events with their qualified names (an empty element is an open
//! followed by a close), text with entities resolved. Malformed XML ends the
//! part with `corrupt`, after what was read before it was pushed.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{ExtractError, UnreadableReason};

/// One event of an XML part.
pub enum Ev<'a> {
    Open(BytesStart<'a>),
    Close(String),
    Text(Cow<'a, str>),
}

/// The qualified name of an element (`w:p`).
pub fn qname(e: &BytesStart<'_>) -> String {
    e.name().as_ref().to_string()
}

/// An attribute's value by qualified name.
pub fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.try_get_attribute(name)
        .ok()
        .flatten()
        .map(|a| a.value.into_owned())
}

/// Walks `xml`, calling `f` for each event.
pub fn walk<'a>(
    xml: &'a str,
    mut f: impl FnMut(Ev<'a>) -> Result<(), ExtractError>,
) -> Result<(), ExtractError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = false;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| ExtractError::new(UnreadableReason::Corrupt, format!("XML: {e}")))?;
        match ev {
            Event::Start(e) => f(Ev::Open(e))?,
            Event::Empty(e) => {
                let name = qname(&e);
                f(Ev::Open(e))?;
                f(Ev::Close(name))?;
            }
            Event::End(e) => f(Ev::Close(e.name().as_ref().to_string()))?,
            Event::Text(t) => f(Ev::Text(t.xml10_content()))?,
            Event::CData(t) => f(Ev::Text(t.into_inner()))?,
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r.xml10_content() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    f(Ev::Text(Cow::Owned(c.to_string())))?;
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

/// Decodes a part's bytes as UTF-8 (office XML is UTF-8; a BOM is dropped).
pub fn part_text(bytes: &[u8]) -> Cow<'_, str> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8_lossy(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_and_empty_elements() {
        let mut out = Vec::new();
        walk("<a><b/>x&amp;y&#x5C71;</a>", |e| {
            out.push(match e {
                Ev::Open(s) => format!("<{}>", qname(&s)),
                Ev::Close(n) => format!("</{n}>"),
                Ev::Text(t) => t.into_owned(),
            });
            Ok(())
        })
        .unwrap();
        assert_eq!(out.concat(), "<a><b></b>x&y山</a>");
    }
}
