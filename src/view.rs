//! `mamori extract FILE`: the text units of a file with their locations
//! (the "why was this flagged" view), or plain text in reading order.
//! Identifiers that the detectors find are masked in place unless the
//! caller asks to reveal the text, so that this view does not become a
//! leak of its own.

use std::io::{self, Write};
use std::path::Path;

use crate::detect::Engine;
use crate::extract::{Dispatcher, ExtractError, Format, Limits, MemberPath, ScanBudget, UnitSink};
use crate::finding::Finding;
use crate::text::{Locator, TextUnit};

/// A unit as it will be shown.
pub struct ShownUnit {
    pub member: MemberPath,
    pub location: String,
    pub text: String,
}

/// What `extract` found in a file.
#[derive(Default)]
pub struct Extracted {
    pub units: Vec<ShownUnit>,
    /// (member, reason, detail) of what could not be read.
    pub unreadable: Vec<(MemberPath, String, String)>,
    pub format: Option<&'static str>,
}

struct Collect<'a> {
    engine: &'a Engine,
    reveal: bool,
    out: Extracted,
}

impl UnitSink for Collect<'_> {
    fn unit(&mut self, member: &MemberPath, unit: TextUnit<'_>) -> Result<(), ExtractError> {
        let mut text = unit.text.to_string();
        if !self.reveal {
            let mut found: Vec<Finding> = Vec::new();
            self.engine.scan_unit(&unit, &mut found);
            found.sort_by_key(|f| std::cmp::Reverse(f.span.start));
            let mut last_start = usize::MAX;
            for f in found {
                // Replace from the end, skipping overlaps.
                if f.span.end <= last_start
                    && text.is_char_boundary(f.span.start)
                    && text.is_char_boundary(f.span.end)
                {
                    text.replace_range(f.span.clone(), &f.masked);
                    last_start = f.span.start;
                }
            }
        }
        let location = match &unit.locator {
            Locator::Fixed(l) => l.to_string(),
            Locator::Lines { first_line } => format!("from line {first_line}"),
            Locator::Cells(cells) => match (cells.first(), cells.last()) {
                (Some(a), Some(b)) if cells.len() > 1 => format!("{} … {}", a.location, b.location),
                (Some(a), _) => a.location.to_string(),
                _ => "row".into(),
            },
            Locator::Segments(segs) => match (segs.first(), segs.last()) {
                (Some(a), Some(b)) if segs.len() > 1 => format!("{} … {}", a.1, b.1),
                (Some(a), _) => a.1.to_string(),
                _ => "document".into(),
            },
        };
        self.out.units.push(ShownUnit {
            member: member.clone(),
            location,
            text,
        });
        Ok(())
    }

    fn vocabulary(&self) -> Option<std::sync::Arc<crate::vocabulary::Vocabulary>> {
        Some(self.engine.vocabulary())
    }

    fn unreadable(&mut self, member: &MemberPath, _format: Format, error: ExtractError) {
        self.out.unreadable.push((
            member.clone(),
            error.reason.as_str().to_string(),
            error.detail,
        ));
    }
}

/// Extracts `path` into units (masked unless `reveal`).
pub fn extract_file(
    path: &Path,
    engine: &Engine,
    limits: &Limits,
    reveal: bool,
) -> io::Result<Extracted> {
    let data = std::fs::read(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut sink = Collect {
        engine,
        reveal,
        out: Extracted::default(),
    };
    let mut budget = ScanBudget::new(limits);
    let dispatcher = Dispatcher::default();
    match dispatcher.extract(&name, &data, MemberPath::root(), &mut budget, &mut sink) {
        Ok(crate::extract::Dispatched::Extracted(f)) => sink.out.format = Some(f.name()),
        Ok(crate::extract::Dispatched::Skipped) => sink.out.format = Some("binary"),
        Err((f, e)) => {
            sink.out.format = Some(f.name());
            sink.out
                .unreadable
                .push((MemberPath::root(), e.reason.as_str().to_string(), e.detail));
        }
    }
    Ok(sink.out)
}

/// Prints units with their member and location.
pub fn print_units(x: &Extracted, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "format: {}", x.format.unwrap_or("unknown"))?;
    for u in &x.units {
        let member = u
            .member
            .to_contract()
            .map(|m| format!("{m} | "))
            .unwrap_or_default();
        writeln!(out, "── {member}{}", u.location)?;
        writeln!(out, "{}", u.text.trim_end())?;
    }
    for (m, reason, detail) in &x.unreadable {
        let member = m
            .to_contract()
            .map(|m| format!("{m}: "))
            .unwrap_or_default();
        writeln!(out, "── unreadable {member}{reason} ({detail})")?;
    }
    Ok(())
}

/// Prints plain text in reading order; the text of each container member
/// follows a `== member` line.
pub fn print_text(x: &Extracted, out: &mut impl Write) -> io::Result<()> {
    let mut member = MemberPath::root();
    for u in &x.units {
        if u.member != member {
            member = u.member.clone();
            if let Some(m) = member.to_contract() {
                writeln!(out, "== {m}")?;
            }
        }
        writeln!(out, "{}", u.text.trim_end())?;
    }
    Ok(())
}
