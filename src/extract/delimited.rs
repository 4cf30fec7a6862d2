//! CSV and TSV: each record is one unit (a row of cells joined by tabs) so
//! that a label in one field is context for the next; the header row (found
//! by the shared table builder, also below title rows, see `table.rs`) gives
//! every cell of its column a context hint (a column headed 個人番号 or
//! KOJIN_NO makes its cells context-matched). Locations are `line L column C`.

use super::table::{TableBuilder, TableCell, TableRow};
use super::{encoding, ExtractContext, ExtractError, Extractor, Format};
use crate::text::{Location, TextUnit};

/// Reads comma- and tab-separated files.
pub struct Delimited;

impl Extractor for Delimited {
    fn formats(&self) -> &'static [Format] {
        &[Format::Csv, Format::Tsv]
    }

    fn extract(
        &self,
        _name: &str,
        format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        let decoded = encoding::decode(data);
        let delimiter = if format == Format::Tsv { b'\t' } else { b',' };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(decoded.text.as_bytes());
        let mut table = TableBuilder::new(cx.vocabulary(), 0);
        let mut record = csv::StringRecord::new();
        // Lines are counted from byte offsets: csv-core's own line counter
        // lags by one on CRLF files (it leaves the \n for the next read).
        let text = decoded.text.as_str();
        let (mut counted_to, mut newlines) = (0usize, 0u32);
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    // A malformed record (e.g. an unclosed quote): read the
                    // rest as plain lines rather than losing it.
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    tracing::debug!(line, "CSV parse error, falling back to lines");
                    let mut unit = TextUnit::lines(decoded.text.clone());
                    unit.locator = crate::text::Locator::Lines { first_line: 1 };
                    return cx.units.unit(&cx.member, unit);
                }
            }
            let mut start = record
                .position()
                .map(|p| p.byte() as usize)
                .unwrap_or(0)
                .min(text.len());
            while text.as_bytes().get(start) == Some(&b'\n') {
                start += 1;
            }
            if start > counted_to {
                newlines += text.as_bytes()[counted_to..start]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u32;
                counted_to = start;
            }
            let line = newlines + 1;
            let cells = record
                .iter()
                .enumerate()
                .map(|(i, value)| TableCell {
                    column: i as u32,
                    text: value.to_string(),
                    location: Location::LineColumn {
                        line,
                        column: i as u32 + 1,
                    },
                    // Saved from a spreadsheet, a number may have lost its leading zero.
                    number: !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()),
                })
                .collect();
            let member = &cx.member;
            let units = &mut *cx.units;
            table.push(TableRow { index: line, cells }, &mut |u| {
                units.unit(member, u)
            })?;
        }
        let member = &cx.member;
        let units = &mut *cx.units;
        table.finish(&mut |u| units.unit(member, u))?;
        Ok(())
    }
}
