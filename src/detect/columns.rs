//! Column evidence: what one table's column says about its cells.
//!
//! A single 12-digit value passes the My Number check one time in ten, so
//! alone it is never more than `low`. A column of them is another matter:
//! when most values of one column pass a kind's validation, the column is
//! that kind, and when most fail, it is not. Per column of a table (cells
//! carry a [`ColumnId`](crate::text::ColumnId), set by the extractors' table
//! builder), this pass counts the non-empty cells and, per kind, the cells
//! where a pattern matched (`shaped`) and where the validator passed
//! (`valid`). When the file (or an mbox message) is done:
//!
//! - at least [`MIN_CELLS`] non-empty cells and `valid ≥ 80 %` of them: the
//!   kind's findings in that column rise to at least `medium`, and to `high`
//!   when the column header is one of the kind's context words (unless the
//!   header also holds a negative word, as 代表電話 does for phones);
//! - for check-digit kinds (My Number, 法人番号, card numbers), `shaped ≥ 80 %`
//!   of the non-empty cells but `valid < 50 %` of the shaped ones: the column
//!   is not that kind (受付番号, 管理番号) and the kind's findings in it, the
//!   one-in-ten chance passes, are dropped.
//!
//! Evidence never spreads beyond its column: only findings whose value
//! starts in a cell of the column are changed.

use std::collections::HashMap;
use std::sync::Arc;

use super::Engine;
use crate::extract::MemberPath;
use crate::finding::{Confidence, Finding, Kind};
use crate::text::{ColumnId, Locator, TextUnit};

/// Non-empty cells a column needs before it counts as evidence.
pub const MIN_CELLS: u32 = 5;
/// Share of a column's non-empty cells that must pass validation.
pub const VALID_SHARE: f64 = 0.8;
/// Share of shaped cells below which a check-digit column is not the kind.
pub const FAIL_SHARE: f64 = 0.5;

/// What the engine saw of one candidate in a table cell.
#[derive(Debug, Clone, Copy)]
pub(super) struct Observation {
    /// Index of the cell in the unit.
    pub cell: usize,
    pub kind: Kind,
    pub valid: bool,
    /// The detector's validator is a check digit (a fail means "not this kind").
    pub check_digit: bool,
    /// The cell's header holds a positive / negative context word of the detector.
    pub header_positive: bool,
    pub header_negative: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct KindCount {
    shaped: u32,
    valid: u32,
    check_digit: bool,
    header_positive: bool,
    header_negative: bool,
}

#[derive(Debug, Default)]
struct ColumnStats {
    non_empty: u32,
    kinds: HashMap<Kind, KindCount>,
}

type Key = (u32, ColumnId);

/// Column evidence for one file (see the module documentation). Feed every
/// unit through [`scan`](Self::scan); call [`finish`](Self::finish) on the
/// findings before they leave (end of file, end of an mbox message).
#[derive(Debug, Default)]
pub struct ColumnPass {
    members: HashMap<MemberPath, u32>,
    columns: HashMap<Key, ColumnStats>,
    /// Findings (by index in the caller's list) that lie in a table column.
    placed: Vec<(usize, Key)>,
    observations: Vec<Observation>,
    buf: Vec<Finding>,
}

impl ColumnPass {
    /// Scans `unit` with `engine`, appends its findings to `out` and notes
    /// the columns its cells belong to.
    pub fn scan(
        &mut self,
        engine: &Engine,
        member: &MemberPath,
        unit: &TextUnit<'_>,
        out: &mut Vec<(MemberPath, Finding)>,
    ) {
        self.buf.clear();
        let cells = match &unit.locator {
            Locator::Cells(cells) if cells.iter().any(|c| c.column.is_some()) => cells,
            _ => {
                engine.scan_unit(unit, &mut self.buf);
                out.extend(self.buf.drain(..).map(|f| (member.clone(), f)));
                return;
            }
        };
        self.observations.clear();
        engine.scan_unit_observed(unit, &mut self.buf, &mut self.observations);
        let next = self.members.len() as u32;
        let m = *self.members.entry(member.clone()).or_insert(next);
        for c in cells {
            if let Some(id) = c.column {
                if unit
                    .text
                    .get(c.start..c.end)
                    .is_some_and(|t| !t.trim().is_empty())
                {
                    self.columns.entry((m, id)).or_default().non_empty += 1;
                }
            }
        }
        // One count per cell and kind, however many candidates it held.
        self.observations.sort_by_key(|o| (o.cell, o.kind));
        let mut i = 0;
        while i < self.observations.len() {
            let first = self.observations[i];
            let mut valid = false;
            let mut j = i;
            while j < self.observations.len()
                && self.observations[j].cell == first.cell
                && self.observations[j].kind == first.kind
            {
                valid |= self.observations[j].valid;
                j += 1;
            }
            if let Some(id) = cells.get(first.cell).and_then(|c| c.column) {
                let k = self
                    .columns
                    .entry((m, id))
                    .or_default()
                    .kinds
                    .entry(first.kind)
                    .or_default();
                k.shaped += 1;
                k.valid += u32::from(valid);
                k.check_digit |= first.check_digit;
                k.header_positive |= first.header_positive;
                k.header_negative |= first.header_negative;
            }
            i = j;
        }
        for f in self.buf.drain(..) {
            if let Some(id) = unit.cell_at(f.span.start).and_then(|c| c.column) {
                self.placed.push((out.len(), (m, id)));
            }
            out.push((member.clone(), f));
        }
    }

    /// Applies the column evidence to the findings in `out` (the list given
    /// to [`scan`](Self::scan)) and starts afresh.
    pub fn finish(&mut self, out: &mut Vec<(MemberPath, Finding)>) {
        let mut drop = vec![false; out.len()];
        let mut any_drop = false;
        for &(i, key) in &self.placed {
            let (Some(stats), Some((_, f))) = (self.columns.get(&key), out.get_mut(i)) else {
                continue;
            };
            let Some(k) = stats.kinds.get(&f.kind) else {
                continue;
            };
            if stats.non_empty < MIN_CELLS {
                continue;
            }
            let n = f64::from(stats.non_empty);
            if f64::from(k.valid) >= VALID_SHARE * n {
                let floor = if k.header_positive && !k.header_negative {
                    Confidence::High
                } else {
                    Confidence::Medium
                };
                if f.confidence < floor && !k.header_negative {
                    f.confidence = floor;
                    if f.explanation.context_word.is_none() {
                        f.explanation.context_word = Some(Arc::from("(column evidence)"));
                    }
                }
            } else if k.check_digit
                && f64::from(k.shaped) >= VALID_SHARE * n
                && f64::from(k.valid) < FAIL_SHARE * f64::from(k.shaped)
            {
                drop[i] = true;
                any_drop = true;
            }
        }
        if any_drop {
            let mut i = 0;
            out.retain(|_| {
                let keep = !drop.get(i).copied().unwrap_or(false);
                i += 1;
                keep
            });
        }
        self.members.clear();
        self.columns.clear();
        self.placed.clear();
    }
}
