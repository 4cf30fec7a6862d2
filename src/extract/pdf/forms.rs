//! PDF interactive forms: what an applicant typed into a filled-in 申請書
//! lives in the form's fields, not in the page content.
//!
//! AcroForm fields are walked from the catalog's `/AcroForm /Fields`
//! through `/Kids` (with an explicit stack, a depth limit and a visited
//! set: field trees are hostile input too). The full name is the `/T` of
//! each level joined by dots (`申請者.氏名`); `/FT`, `/V` and `/Opt` are
//! inherited from parents as the specification says. Text fields give
//! their `/V`; choice fields give each selected value, with the display
//! text of an `/Opt` `[export display]` pair first (`SQL Server
//! (sqlServer)`); check boxes, radio buttons, push buttons and signatures
//! are skipped (their states are not personal data). What a form shows
//! besides its values (a push button's caption, the options of a choice
//! field that were not chosen) is read apart from the values
//! (`page N form`), without the field's name as context. A text or choice
//! field without a value is read from its widgets' normal appearance
//! streams (`/AP /N`) through the page text layer (some producers only
//! draw the value). The XFA `datasets` packet (the data of an XFA form)
//! is read too: each data element with text is a value named by its path.
//!
//! Markup annotations (sticky notes, free text) give their `/Contents`
//! (`page N comment K`).
//!
//! Each value is a cell of one row unit: located `page N field NAME`
//! (the page of the widget's `/P`, or of the annotation list that holds
//! it; `field NAME` when no page is known) with the field's name and its
//! `/TU` tooltip as context hint, so that a field named 申請者氏名 makes
//! its value a name. Values are PDF text strings: UTF-16 with a BOM,
//! UTF-8, or PDFDocEncoding; Japanese producers that write raw Shift_JIS
//! are recognised by chardetng.

use std::collections::{BTreeMap, HashMap, HashSet};

use encoding_rs::{EUC_JP, SHIFT_JIS, WINDOWS_1252};
use lopdf::{Dictionary, Document, Object, ObjectId};

use super::{dict_get, run_content, FontCache, TextState};
use crate::extract::xml::{self, Ev};

/// Field tree depth that is followed.
const MAX_DEPTH: usize = 32;
/// Fields read from one document.
const MAX_FIELDS: usize = 10_000;
/// Decompressed size of one appearance stream or XFA packet that is read.
const MAX_STREAM: usize = 16 * 1024 * 1024;

/// One filled-in value.
pub(super) struct Field {
    /// Full field name (`a.b.c`) or XFA data path.
    pub name: String,
    /// Context for the value: the field's own name and its tooltip.
    pub label: String,
    pub value: String,
    pub page: Option<u32>,
    /// What the form shows besides the value: the options of a choice
    /// field that were not chosen, a push button's caption.
    pub shown: String,
}

impl Field {
    pub fn location(&self) -> String {
        match self.page {
            Some(p) => format!("page {p} field {}", self.name),
            None => format!("field {}", self.name),
        }
    }
}

/// A PDF text string as text.
pub(super) fn text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return encoding_rs::UTF_16BE
            .decode_without_bom_handling(rest)
            .0
            .into_owned();
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return encoding_rs::UTF_16LE
            .decode_without_bom_handling(rest)
            .0
            .into_owned();
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    // Raw Shift_JIS or EUC-JP (not conformant, but Japanese tools write it).
    if bytes.iter().filter(|&&b| b >= 0x80).count() >= 2 {
        let mut det = chardetng::EncodingDetector::new();
        det.feed(bytes, true);
        let guess = det.guess(Some(b"jp"), true);
        if guess == SHIFT_JIS || guess == EUC_JP {
            if let Some(s) = guess.decode_without_bom_handling_and_without_replacement(bytes) {
                return s.into_owned();
            }
        }
    }
    // PDFDocEncoding agrees with windows-1252 on letters and digits.
    WINDOWS_1252
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

fn string_of(doc: &Document, o: &Object) -> Option<String> {
    match super::deref(doc, o) {
        Object::String(s, _) => Some(text_string(s)),
        Object::Name(n) => Some(String::from_utf8_lossy(n).into_owned()),
        Object::Stream(s) => s
            .decompressed_content_with_limit(MAX_STREAM)
            .ok()
            .map(|b| text_string(&b)),
        _ => None,
    }
}

/// What a field inherits from its ancestors.
#[derive(Clone, Default)]
struct Inherited<'a> {
    kind: Option<&'a [u8]>,
    value: Option<&'a Object>,
    options: Option<&'a Object>,
}

/// The fields of `doc` with values, in the order of the field tree.
pub(super) fn read_fields(
    doc: &Document,
    pages: &BTreeMap<u32, ObjectId>,
    fonts: &mut FontCache,
) -> Vec<Field> {
    let Ok(catalog) = doc.catalog() else {
        return Vec::new();
    };
    let Some(Object::Dictionary(form)) = dict_get(doc, catalog, b"AcroForm") else {
        return Vec::new();
    };
    let default_resources: Vec<Dictionary> = match dict_get(doc, form, b"DR") {
        Some(Object::Dictionary(d)) => vec![d.clone()],
        _ => Vec::new(),
    };
    let page_of: HashMap<ObjectId, u32> = pages.iter().map(|(n, id)| (*id, *n)).collect();
    let mut annotation_page: HashMap<ObjectId, u32> = HashMap::new();
    for (&n, &id) in pages {
        let Ok(page) = doc.get_dictionary(id) else {
            continue;
        };
        if let Some(Object::Array(annots)) = dict_get(doc, page, b"Annots") {
            for a in annots {
                if let Object::Reference(r) = a {
                    annotation_page.entry(*r).or_insert(n);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut visited: HashSet<ObjectId> = HashSet::new();
    // (object id, dictionary, parent's full name, inherited, depth)
    let mut stack: Vec<(Option<ObjectId>, &Dictionary, String, Inherited<'_>, usize)> = Vec::new();
    if let Some(Object::Array(fields)) = dict_get(doc, form, b"Fields") {
        for f in fields.iter().rev() {
            push_field(doc, f, String::new(), Inherited::default(), 0, &mut stack);
        }
    }
    let mut seen = 0usize;
    while let Some((id, d, parent, inherited, depth)) = stack.pop() {
        seen += 1;
        if seen > MAX_FIELDS {
            break;
        }
        if let Some(id) = id {
            if !visited.insert(id) {
                continue;
            }
        }
        let partial = d.get(b"T").ok().and_then(|t| string_of(doc, t));
        let name = match (&partial, parent.is_empty()) {
            (Some(t), true) => t.clone(),
            (Some(t), false) => format!("{parent}.{t}"),
            (None, _) => parent.clone(),
        };
        let inherited = Inherited {
            kind: dict_get(doc, d, b"FT")
                .and_then(super::name_of)
                .or(inherited.kind),
            value: d.get(b"V").ok().or(inherited.value),
            options: d.get(b"Opt").ok().or(inherited.options),
        };
        // Kids with a /T are fields of their own; kids without are widgets.
        let mut child_fields = Vec::new();
        let mut widgets: Vec<(Option<ObjectId>, &Dictionary)> = Vec::new();
        if let Some(Object::Array(kids)) = dict_get(doc, d, b"Kids") {
            for k in kids {
                let kid_id = match k {
                    Object::Reference(r) => Some(*r),
                    _ => None,
                };
                if let Object::Dictionary(kd) = super::deref(doc, k) {
                    if kd.has(b"T") {
                        child_fields.push(k);
                    } else {
                        widgets.push((kid_id, kd));
                    }
                }
            }
        }
        if !child_fields.is_empty() {
            if depth < MAX_DEPTH {
                for k in child_fields.into_iter().rev() {
                    push_field(
                        doc,
                        k,
                        name.clone(),
                        inherited.clone(),
                        depth + 1,
                        &mut stack,
                    );
                }
            }
            continue;
        }
        if widgets.is_empty() {
            widgets.push((id, d));
        }
        let kind = inherited.kind.unwrap_or(b"");
        let page = widgets.iter().find_map(|(wid, w)| {
            let by_p = match w.get(b"P") {
                Ok(Object::Reference(p)) => page_of.get(p).copied(),
                _ => None,
            };
            by_p.or_else(|| wid.and_then(|wid| annotation_page.get(&wid).copied()))
        });
        if kind == b"Btn" {
            // A push button's caption is form text; check box states are not.
            let captions: Vec<String> = widgets
                .iter()
                .filter_map(|(_, w)| match dict_get(doc, w, b"MK") {
                    Some(Object::Dictionary(mk)) => {
                        mk.get(b"CA").ok().and_then(|c| string_of(doc, c))
                    }
                    _ => None,
                })
                .filter(|c| !c.trim().is_empty())
                .collect();
            if !captions.is_empty() {
                out.push(Field {
                    name,
                    label: String::new(),
                    value: String::new(),
                    page,
                    shown: captions.join("\n"),
                });
            }
            continue;
        }
        if kind == b"Sig" {
            continue;
        }
        let mut value = inherited
            .value
            .map(|v| field_value(doc, v, inherited.options))
            .unwrap_or_default();
        if value.trim().is_empty() {
            value = widgets
                .iter()
                .map(|(_, w)| appearance_text(doc, w, &default_resources, fonts))
                .filter(|t| !t.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n");
        }
        let shown = if kind == b"Ch" {
            unchosen_options(doc, inherited.options, &value)
        } else {
            String::new()
        };
        if value.trim().is_empty() && shown.is_empty() {
            continue;
        }
        let tooltip = d.get(b"TU").ok().and_then(|t| string_of(doc, t));
        let label = [partial.unwrap_or_default(), tooltip.unwrap_or_default()]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Field {
            name,
            label,
            value: value.replace("\r\n", "\n").replace('\r', "\n"),
            page,
            shown,
        });
    }
    // XFA data usually repeats the AcroForm values (line ends may differ).
    let squeeze = |v: &str| v.split_whitespace().collect::<String>();
    let known: HashSet<String> = out
        .iter()
        .filter(|f| !f.value.is_empty())
        .map(|f| squeeze(&f.value))
        .collect();
    for f in xfa_fields(doc, form) {
        if !known.contains(&squeeze(&f.value)) {
            out.push(f);
        }
    }
    out
}

fn push_field<'a>(
    doc: &'a Document,
    o: &'a Object,
    parent: String,
    inherited: Inherited<'a>,
    depth: usize,
    stack: &mut Vec<(
        Option<ObjectId>,
        &'a Dictionary,
        String,
        Inherited<'a>,
        usize,
    )>,
) {
    let id = match o {
        Object::Reference(r) => Some(*r),
        _ => None,
    };
    if let Object::Dictionary(d) = super::deref(doc, o) {
        stack.push((id, d, parent, inherited, depth));
    }
}

/// The text of markup annotations (sticky notes, free text, highlights
/// with a comment: a reviewer's 本人確認済 山田 is as much in the file as
/// the page): `/Contents` of each, by page, in annotation order.
pub(super) fn read_annotation_notes(
    doc: &Document,
    pages: &BTreeMap<u32, ObjectId>,
) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for (&n, &id) in pages {
        let Ok(page) = doc.get_dictionary(id) else {
            continue;
        };
        let Some(Object::Array(annots)) = dict_get(doc, page, b"Annots") else {
            continue;
        };
        for a in annots.iter().take(MAX_FIELDS) {
            let Object::Dictionary(a) = super::deref(doc, a) else {
                continue;
            };
            let subtype = dict_get(doc, a, b"Subtype")
                .and_then(super::name_of)
                .unwrap_or(b"");
            // Widgets are form fields; popups repeat their parent's text; links have none.
            if matches!(subtype, b"Widget" | b"Popup" | b"Link") {
                continue;
            }
            if let Some(text) = a.get(b"Contents").ok().and_then(|c| string_of(doc, c)) {
                if !text.trim().is_empty() && out.len() < MAX_FIELDS {
                    out.push((n, text));
                }
            }
        }
    }
    out
}

/// A field's `/V` as text: strings, names, arrays of them; a choice value
/// with its `/Opt` display text.
fn field_value(doc: &Document, v: &Object, options: Option<&Object>) -> String {
    let values: Vec<String> = match super::deref(doc, v) {
        Object::Array(items) => items.iter().filter_map(|i| string_of(doc, i)).collect(),
        other => string_of(doc, other).into_iter().collect(),
    };
    let pairs: Vec<(String, String)> = match options.map(|o| super::deref(doc, o)) {
        Some(Object::Array(opts)) => opts
            .iter()
            .filter_map(|o| match super::deref(doc, o) {
                Object::Array(pair) if pair.len() >= 2 => {
                    Some((string_of(doc, &pair[0])?, string_of(doc, &pair[1])?))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    values
        .into_iter()
        .map(|v| match pairs.iter().find(|(export, _)| *export == v) {
            Some((_, display)) if *display != v => format!("{display} ({v})"),
            _ => v,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The display texts of a choice field's options that `value` does not hold.
fn unchosen_options(doc: &Document, options: Option<&Object>, value: &str) -> String {
    let Some(Object::Array(opts)) = options.map(|o| super::deref(doc, o)) else {
        return String::new();
    };
    let chosen: HashSet<&str> = value.lines().collect();
    opts.iter()
        .take(MAX_FIELDS)
        .filter_map(|o| match super::deref(doc, o) {
            Object::Array(pair) => pair.get(1).and_then(|d| string_of(doc, d)),
            other => string_of(doc, other),
        })
        .filter(|d| !chosen.iter().any(|c| c.starts_with(d.as_str())))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text drawn by a widget's normal appearance stream.
fn appearance_text(
    doc: &Document,
    widget: &Dictionary,
    default_resources: &[Dictionary],
    fonts: &mut FontCache,
) -> String {
    let Some(Object::Dictionary(ap)) = dict_get(doc, widget, b"AP") else {
        return String::new();
    };
    let Some(Object::Stream(stream)) = dict_get(doc, ap, b"N") else {
        return String::new();
    };
    let Ok(content) = stream.decompressed_content_with_limit(MAX_STREAM) else {
        return String::new();
    };
    let mut resources: Vec<Dictionary> = Vec::new();
    if let Some(Object::Dictionary(r)) = dict_get(doc, &stream.dict, b"Resources") {
        resources.push(r.clone());
    }
    resources.extend(default_resources.iter().cloned());
    let mut st = TextState::default();
    let mut images = 0;
    run_content(doc, &content, &resources, fonts, &mut st, &mut images, 1);
    st.out.trim().to_string()
}

/// The values in an XFA form's `datasets` packet: (path, text) of each
/// data element that holds text.
fn xfa_fields(doc: &Document, form: &Dictionary) -> Vec<Field> {
    let packet = match dict_get(doc, form, b"XFA") {
        Some(Object::Stream(s)) => s.decompressed_content_with_limit(MAX_STREAM).ok(),
        Some(Object::Array(parts)) => {
            let mut found = None;
            for pair in parts.chunks(2) {
                let is_datasets =
                    matches!(pair.first(), Some(Object::String(n, _)) if n == b"datasets");
                if let (true, Some(o)) = (is_datasets, pair.get(1)) {
                    if let Object::Stream(s) = super::deref(doc, o) {
                        found = s.decompressed_content_with_limit(MAX_STREAM).ok();
                    }
                }
            }
            found
        }
        _ => None,
    };
    let Some(packet) = packet else {
        return Vec::new();
    };
    let text = xml::part_text(&packet);
    let mut out = Vec::new();
    // Open elements below xfa:data: (local name, text so far, has child elements).
    let mut path: Vec<(String, String, bool)> = Vec::new();
    let mut in_data = 0u32;
    let _ = xml::walk(&text, |ev| {
        match ev {
            Ev::Open(e) => {
                let q = xml::qname(&e);
                if in_data > 0 {
                    in_data += 1;
                    if let Some(parent) = path.last_mut() {
                        parent.2 = true;
                    }
                    let local = q.rsplit(':').next().unwrap_or(&q).to_string();
                    path.push((local, String::new(), false));
                } else if q == "xfa:data" || q.ends_with(":data") && q.starts_with("xfa") {
                    in_data = 1;
                }
            }
            Ev::Close(_) => {
                if in_data > 1 {
                    if let Some((_, value, has_children)) = path.last() {
                        if !has_children && !value.trim().is_empty() && out.len() < MAX_FIELDS {
                            let name = path
                                .iter()
                                .map(|(n, _, _)| n.as_str())
                                .collect::<Vec<_>>()
                                .join(".");
                            let label = path.last().map(|(n, _, _)| n.clone()).unwrap_or_default();
                            out.push(Field {
                                name,
                                label,
                                value: value.trim().to_string(),
                                page: None,
                                shown: String::new(),
                            });
                        }
                    }
                    path.pop();
                }
                in_data = in_data.saturating_sub(1);
            }
            Ev::Text(t) => {
                if let Some(last) = path.last_mut() {
                    last.1.push_str(&t);
                }
            }
        }
        Ok(())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_strings() {
        let mut utf16 = vec![0xFE, 0xFF];
        for u in "申請者氏名".encode_utf16() {
            utf16.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(text_string(&utf16), "申請者氏名");
        assert_eq!(text_string("山田".as_bytes()), "山田");
        assert_eq!(text_string(b"Luc\xEDa"), "Lucía");
        let sjis = SHIFT_JIS.encode("東京都千代田区霞が関").0;
        assert_eq!(text_string(&sjis), "東京都千代田区霞が関");
    }
}
