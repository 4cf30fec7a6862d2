//! PowerPoint (pptx, pptm): slides, their notes and the slide masters, as
//! one unit with `slide N`, `notes N` and `master N` locations (a label on
//! one slide can be context for a value on the next). Table cells are
//! separated by tabs, rows by newlines. Embedded documents
//! (`ppt/embeddings/`) go back through the dispatcher.

use super::xml::{self, Ev};
use super::zip::{extract_embedded, member_names, open, read_member};
use super::{ExtractContext, ExtractError, Extractor, Format};
use crate::text::{Location, SegmentsBuilder};

/// Reads PowerPoint presentations.
pub struct Pptx;

/// The number in `ppt/slides/slide12.xml`.
fn part_number(name: &str, prefix: &str) -> Option<u32> {
    name.strip_prefix(prefix)?
        .strip_suffix(".xml")?
        .parse()
        .ok()
}

impl Extractor for Pptx {
    fn formats(&self) -> &'static [Format] {
        &[Format::Pptx]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        let mut archive = open(data)?;
        super::docmeta::report_package_created(&mut archive, cx);
        let names = member_names(&mut archive);
        let mut parts: Vec<(u8, u32, usize)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if let Some(k) = part_number(n, "ppt/slides/slide") {
                parts.push((0, k, i));
            } else if let Some(k) = part_number(n, "ppt/notesSlides/notesSlide") {
                parts.push((1, k, i));
            } else if let Some(k) = part_number(n, "ppt/slideMasters/slideMaster") {
                parts.push((2, k, i));
            }
        }
        parts.sort();
        let mut text = SegmentsBuilder::default();
        for (kind, k, i) in parts {
            let bytes = read_member(&mut archive, i, cx)?;
            let t = slide_text(&xml::part_text(&bytes))?;
            let label = ["slide", "notes", "master"][kind as usize];
            text.push(&t, Location::Named(format!("{label} {k}")));
        }
        if !text.is_empty() {
            cx.unit(text.build())?;
        }
        extract_embedded(&mut archive, &names, "ppt/embeddings/", cx)?;
        Ok(())
    }
}

/// The text of a slide part: `a:t` runs, paragraphs on their own lines,
/// table cells separated by tabs.
fn slide_text(xml_text: &str) -> Result<String, ExtractError> {
    let mut out = String::new();
    let mut in_text = false;
    let mut skip = 0u32;
    xml::walk(xml_text, |ev| {
        match ev {
            Ev::Open(e) => match xml::qname(&e).as_str() {
                "mc:Fallback" => skip += 1,
                _ if skip > 0 => {}
                "a:t" => in_text = true,
                "a:br" => out.push('\n'),
                _ => {}
            },
            Ev::Close(n) => match n.as_str() {
                "mc:Fallback" => skip = skip.saturating_sub(1),
                _ if skip > 0 => {}
                "a:t" => in_text = false,
                "a:p" if !out.ends_with(['\n', '\t']) && !out.is_empty() => out.push('\n'),
                "a:tc" => {
                    if out.ends_with('\n') {
                        out.pop();
                    }
                    out.push('\t');
                }
                "a:tr" => {
                    if out.ends_with('\t') {
                        out.pop();
                    }
                    out.push('\n');
                }
                _ => {}
            },
            Ev::Text(t) => {
                if in_text && skip == 0 {
                    out.push_str(&t);
                }
            }
        }
        Ok(())
    })?;
    Ok(out)
}
