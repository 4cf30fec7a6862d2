//! Plain text: one unit of lines, so that a label on one line is context
//! for a value on the next; locations are `line N`.

use super::{encoding, ExtractContext, ExtractError, Extractor, Format};
use crate::text::TextUnit;

/// Reads text files in any of the supported encodings.
pub struct PlainText;

impl Extractor for PlainText {
    fn formats(&self) -> &'static [Format] {
        &[Format::Text]
    }

    fn extract(
        &self,
        _name: &str,
        _format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        cx.budget.charge_bytes(data.len() as u64)?;
        let decoded = encoding::decode(data);
        tracing::debug!(encoding = decoded.encoding, "decoded text");
        cx.units.unit(&cx.member, TextUnit::lines(decoded.text))
    }
}
