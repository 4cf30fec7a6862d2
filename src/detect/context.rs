//! Context: whether the words around a value (or its cell's column header,
//! or its form label) support or contradict it. The nearest word wins;
//! words after the value count double distance, because Japanese labels
//! precede their values; hints (headers, labels) are distance 0.

use std::sync::Arc;

use super::engine::{Engine, UnitScan};
use super::prefilter::{Hit, Role};
use super::registry::Detector;
use crate::normalize::Normalized;
use crate::text::{Locator, TextUnit};

/// What the context says about one value.
pub(super) enum Context {
    None,
    Positive(Arc<str>),
    Negative,
}

impl Engine {
    /// Decides the context of a value at `vs..ve` (the whole match at
    /// `ms..me`) for detector `d`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn context(
        &self,
        d: &Detector,
        scan: &UnitScan<'_>,
        vs: usize,
        ve: usize,
        (ms, me): (usize, usize),
        unit: &TextUnit<'_>,
        norm: &Normalized<'_>,
        (structural, hint_only_label): (bool, bool),
    ) -> Context {
        if structural {
            // A label in the match or a column header vouches for the value,
            // unless a negative word outweighs it: in the header (記入例 over
            // 氏名) or in the text nearby (a 記入例 block).
            if self.structural_negative(d, scan, vs, ve, (ms, me), unit, norm) {
                return Context::Negative;
            }
            // Never echo hint or label text: a mis-detected header row is data.
            return Context::Positive(Arc::from(if hint_only_label {
                "(column header)"
            } else {
                "(label)"
            }));
        }
        let mut best_pos: Option<(usize, usize)> = None; // (distance, keyword)
        let mut best_neg: Option<usize> = None;
        // Hints: the cell's column header, then the unit's label.
        let cell_hint = unit
            .cell_at(norm.to_original(vs))
            .and_then(|c| match &unit.locator {
                Locator::Cells(cells) => cells.iter().position(|x| std::ptr::eq(x, c)),
                _ => None,
            })
            .map(|i| &scan.cell_hint_keywords[i]);
        // In a hint, the longest context word decides (代表電話 over 電話).
        for kws in cell_hint
            .into_iter()
            .chain(std::iter::once(&scan.unit_hint_keywords))
        {
            if best_pos.is_some() || best_neg.is_some() {
                break;
            }
            let longest = |role| {
                kws.iter()
                    .filter(|&&k| self.has_role(k, d, role))
                    .map(|&k| self.prefilter.keywords[k].chars().count())
                    .max()
            };
            match (longest(Role::Positive), longest(Role::Negative)) {
                // A tie goes to the negative word: 電話番号（代表）.
                (Some(p), Some(n)) if n >= p => best_neg = Some(0),
                (Some(_), _) => best_pos = Some((0, usize::MAX)),
                (None, Some(_)) => best_neg = Some(0),
                (None, None) => {}
            }
        }
        let lo_pos = scan.back_chars(ms, d.window);
        let hi_pos = scan.fwd_chars(me, d.window);
        let lo_neg = scan.back_chars(ms, d.negative_window);
        let hi_neg = scan.fwd_chars(me, d.negative_window);
        let role_of = |h: &Hit| {
            let pos = self.has_role(h.keyword, d, Role::Positive);
            let neg = self.has_role(h.keyword, d, Role::Negative);
            (pos, neg)
        };
        // Hits are sorted by start: look only at those that can be in a window.
        let lo = lo_pos.min(lo_neg);
        let hi = hi_pos.max(hi_neg);
        let first = scan.hits.partition_point(|h| h.start < lo);
        let last = scan.hits.partition_point(|h| h.start < hi);
        let near = &scan.hits[first..last];
        for h in near {
            // Words overlapping the value itself are part of it, not context.
            if h.end > vs && h.start < ve {
                continue;
            }
            let (is_pos, is_neg) = role_of(h);
            if !is_pos && !is_neg {
                continue;
            }
            // A word inside a longer word of the other role yields to it
            // (電話 in 代表電話, 保険者番号 in 被保険者番号).
            let shadowed = near.iter().any(|o| {
                o.start <= h.start && o.end >= h.end && (o.end - o.start) > (h.end - h.start) && {
                    let (op, on) = role_of(o);
                    (is_pos && on && !op) || (is_neg && op && !on)
                }
            });
            if shadowed {
                continue;
            }
            let before = h.end <= vs;
            let dist = if before {
                scan.chars_between(h.end, vs)
            } else {
                2 * scan.chars_between(ve, h.start.max(ve)) + 1
            };
            if is_pos
                && (if before {
                    h.start >= lo_pos
                } else {
                    h.end <= hi_pos
                })
                && best_pos.is_none_or(|(bd, _)| dist < bd)
            {
                best_pos = Some((dist, h.keyword));
            }
            if is_neg
                && (if before {
                    h.start >= lo_neg
                } else {
                    h.end <= hi_neg
                })
                && best_neg.is_none_or(|bd| dist < bd)
            {
                best_neg = Some(dist);
            }
        }
        let from_header = matches!(best_pos, Some((_, usize::MAX)));
        if !from_header && self.line_negative(d, scan, vs, ve, unit, norm) {
            return Context::Negative;
        }
        match (best_pos, best_neg) {
            (Some((p, _)), Some(n)) if n < p => Context::Negative,
            (Some((_, usize::MAX)), _) => Context::Positive(Arc::from("(column header)")),
            (Some((_, k)), _) => Context::Positive(self.prefilter.keywords[k].clone()),
            (None, Some(_)) => Context::Negative,
            (None, None) => Context::None,
        }
    }
}

impl Engine {
    /// Whether a negative word speaks against a labelled value: a header
    /// whose longest context word is negative, or a negative word within
    /// the negative window of the match.
    #[allow(clippy::too_many_arguments)]
    fn structural_negative(
        &self,
        d: &Detector,
        scan: &UnitScan<'_>,
        vs: usize,
        ve: usize,
        (ms, me): (usize, usize),
        unit: &TextUnit<'_>,
        norm: &Normalized<'_>,
    ) -> bool {
        let cell = match &unit.locator {
            Locator::Cells(cells) => {
                let pos = norm.to_original(vs);
                let i = cells.partition_point(|c| c.end < pos);
                cells
                    .get(i)
                    .filter(|c| c.start <= pos)
                    .and_then(|_| scan.cell_hint_keywords.get(i))
            }
            _ => None,
        };
        for kws in cell
            .into_iter()
            .chain(std::iter::once(&scan.unit_hint_keywords))
        {
            let longest = |role| {
                kws.iter()
                    .filter(|&&k| self.has_role(k, d, role))
                    .map(|&k| self.prefilter.keywords[k].chars().count())
                    .max()
            };
            if let Some(n) = longest(Role::Negative) {
                return longest(Role::Positive).is_none_or(|p| n >= p);
            }
        }
        let lo = scan.back_chars(ms, d.negative_window);
        let hi = scan.fwd_chars(me, d.negative_window);
        let first = scan.hits.partition_point(|h| h.start < lo);
        scan.hits[first..]
            .iter()
            .take_while(|h| h.start < hi)
            .any(|h| {
                h.end <= hi
                    && !(h.end > vs && h.start < ve)
                    && !(h.start >= ms && h.end <= me)
                    && self.has_role(h.keyword, d, Role::Negative)
                    && !self.has_role(h.keyword, d, Role::Positive)
            })
    }
}

impl Engine {
    /// Whether a line-negative word stands on the value's line (in a row
    /// of cells: in its cell) and no strong word is within the window.
    fn line_negative(
        &self,
        d: &Detector,
        scan: &UnitScan<'_>,
        vs: usize,
        ve: usize,
        unit: &TextUnit<'_>,
        norm: &Normalized<'_>,
    ) -> bool {
        if !d.has_line_negative {
            return false;
        }
        let text = scan.text;
        let (lo, hi) = match &unit.locator {
            Locator::Cells(cells) => {
                let pos = norm.to_original(vs);
                let i = cells.partition_point(|c| c.end < pos);
                match cells.get(i) {
                    Some(c) => (norm.to_normalized(c.start), norm.to_normalized(c.end)),
                    None => return false,
                }
            }
            _ => (
                text[..vs].rfind('\n').map(|i| i + 1).unwrap_or(0),
                text[ve..].find('\n').map(|i| ve + i).unwrap_or(text.len()),
            ),
        };
        let first = scan.hits.partition_point(|h| h.start < lo);
        let on_line = scan.hits[first..]
            .iter()
            .take_while(|h| h.start < hi)
            .any(|h| {
                h.end <= hi
                    && !(h.end > vs && h.start < ve)
                    && self.has_role(h.keyword, d, Role::LineNegative)
            });
        if !on_line {
            return false;
        }
        let wlo = scan.back_chars(vs, d.window);
        let whi = scan.fwd_chars(ve, d.window);
        let first = scan.hits.partition_point(|h| h.start < wlo);
        !scan.hits[first..]
            .iter()
            .take_while(|h| h.start < whi)
            .any(|h| self.has_role(h.keyword, d, Role::Strong))
    }
}

/// Character positions of a unit's text, built once per unit when a value
/// needs its context: windows and distances are counted in characters, and
/// a resident list asks for them at every value.
#[derive(Debug, Default)]
pub(super) struct CharIndex {
    /// For each byte: the index of the character it belongs to (len + 1 entries).
    char_of_byte: Vec<u32>,
    /// For each character: its first byte (chars + 1 entries).
    byte_of_char: Vec<u32>,
}

/// Texts longer than this are walked instead (the index costs 8 bytes per byte).
const INDEX_LIMIT: usize = 1 << 20;

impl CharIndex {
    pub(super) fn new(text: &str) -> Option<CharIndex> {
        if text.len() > INDEX_LIMIT {
            return None;
        }
        let mut char_of_byte = Vec::with_capacity(text.len() + 1);
        let mut byte_of_char = Vec::with_capacity(text.len() + 1);
        for (i, (b, c)) in text.char_indices().enumerate() {
            byte_of_char.push(b as u32);
            char_of_byte.extend(std::iter::repeat_n(i as u32, c.len_utf8()));
        }
        let n = byte_of_char.len() as u32;
        byte_of_char.push(text.len() as u32);
        char_of_byte.push(n);
        Some(CharIndex {
            char_of_byte,
            byte_of_char,
        })
    }
}

impl UnitScan<'_> {
    fn index(&self) -> Option<&CharIndex> {
        self.chars
            .get_or_init(|| CharIndex::new(self.text))
            .as_ref()
    }

    /// The start of the `n`-th character before byte `pos` (or 0).
    pub(super) fn back_chars(&self, pos: usize, n: usize) -> usize {
        match self.index() {
            Some(ix) => {
                let c = ix.char_of_byte[pos] as usize;
                ix.byte_of_char[c.saturating_sub(n)] as usize
            }
            None => back_chars(self.text, pos, n),
        }
    }

    /// The byte `n` characters after byte `pos` (or the end).
    pub(super) fn fwd_chars(&self, pos: usize, n: usize) -> usize {
        match self.index() {
            Some(ix) => {
                let c = ix.char_of_byte[pos] as usize;
                ix.byte_of_char[(c + n).min(ix.byte_of_char.len() - 1)] as usize
            }
            None => fwd_chars(self.text, pos, n),
        }
    }

    /// Characters between bytes `a` and `b` (`a <= b`).
    pub(super) fn chars_between(&self, a: usize, b: usize) -> usize {
        match self.index() {
            Some(ix) => (ix.char_of_byte[b] - ix.char_of_byte[a]) as usize,
            None => self.text[a..b].chars().count(),
        }
    }
}

fn back_chars(text: &str, pos: usize, n: usize) -> usize {
    text[..pos]
        .char_indices()
        .rev()
        .nth(n.saturating_sub(1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

fn fwd_chars(text: &str, pos: usize, n: usize) -> usize {
    text[pos..]
        .char_indices()
        .nth(n)
        .map(|(i, _)| pos + i)
        .unwrap_or(text.len())
}
