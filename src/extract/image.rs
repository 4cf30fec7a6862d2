//! Image files (scanned forms saved as PNG, JPEG, TIFF, …): read by OCR
//! when tesseract with Japanese data is installed (`image (OCR)`);
//! otherwise reported `unsupported`, so that a records officer sees they
//! were not checked.

use super::{ocr, ExtractContext, ExtractError, Extractor, Format, UnreadableReason};
use crate::text::{Location, TextUnit};

/// Reads images by OCR.
pub struct Image;

impl Extractor for Image {
    fn formats(&self) -> &'static [Format] {
        &[
            Format::Image("png"),
            Format::Image("jpeg"),
            Format::Image("tiff"),
            Format::Image("gif"),
            Format::Image("bmp"),
        ]
    }

    fn extract(
        &self,
        _name: &str,
        format: Format,
        data: &[u8],
        cx: &mut ExtractContext<'_>,
    ) -> Result<(), ExtractError> {
        if !ocr::available() {
            return Err(ExtractError::new(
                UnreadableReason::Unsupported,
                format!(
                    "{} image: not read without OCR (install tesseract-ocr-jpn)",
                    format.name()
                ),
            ));
        }
        let text = ocr::image_text(data, cx.budget.deadline())?;
        if text.trim().is_empty() {
            return Err(ExtractError::new(
                UnreadableReason::ImageOnly,
                "OCR found no text in the image",
            ));
        }
        cx.budget.charge_bytes(text.len() as u64)?;
        cx.unit(TextUnit::fixed(text, Location::Named("image (OCR)".into())))
    }
}
