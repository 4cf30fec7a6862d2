//! OCR of image-only PDF pages and of image files, when the `tesseract`
//! command with Japanese data (`tesseract-ocr-jpn`) is installed, and, for
//! PDFs, poppler's `pdftoppm`. Both run as child processes with a time
//! limit; data goes through pipes, so no copy of a document is written to
//! disk. Text found by OCR is located as `page 3 (OCR)` / `image (OCR)`:
//! OCR misreads digits, and a records officer should know where a finding
//! came from. `MAMORI_OCR=off` disables OCR.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{ExtractError, UnreadableReason};

/// Whether OCR can run here (checked once).
pub fn available() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        if std::env::var("MAMORI_OCR").is_ok_and(|v| v == "off" || v == "0") {
            return false;
        }
        Command::new("tesseract")
            .arg("--list-langs")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .any(|l| l.trim() == "jpn")
            })
            .unwrap_or(false)
    })
}

/// Whether PDF pages can be rendered for OCR (`pdftoppm`).
pub fn can_render_pdf() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        Command::new("pdftoppm")
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    })
}

/// Runs `cmd args` with `input` on stdin; its stdout, or `timeout` when the
/// deadline passes first (the child is killed).
fn run(cmd: &str, args: &[&str], input: &[u8], deadline: Instant) -> Result<Vec<u8>, ExtractError> {
    let failed = |what: String| ExtractError::new(UnreadableReason::ImageOnly, what);
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(format!("{cmd}: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let _ = writer.join();
                let out = reader.join().unwrap_or_default();
                return if status.success() {
                    Ok(out)
                } else {
                    Err(failed(format!("{cmd} failed ({status})")))
                };
            }
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ExtractError::new(
                    UnreadableReason::Timeout,
                    format!("{cmd} did not finish in time"),
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(failed(format!("{cmd}: {e}"))),
        }
    }
}

/// Text of an image (PNG, JPEG, TIFF, BMP, GIF) by tesseract.
pub fn image_text(image: &[u8], deadline: Instant) -> Result<String, ExtractError> {
    let out = run(
        "tesseract",
        &["stdin", "stdout", "-l", "jpn+eng"],
        image,
        deadline,
    )?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Text of page `page` (1-based) of a PDF: rendered at 200 dpi by
/// pdftoppm, read by tesseract.
pub fn pdf_page_text(pdf: &[u8], page: u32, deadline: Instant) -> Result<String, ExtractError> {
    let p = page.to_string();
    let png = run(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-gray",
            "-png",
            "-f",
            &p,
            "-l",
            &p,
            "-singlefile",
            "-",
        ],
        pdf,
        deadline,
    )?;
    image_text(&png, deadline)
}
