//! `mamori extract FILE`: the text units of a file with their locations
//! (the "why was this flagged" view), or plain text in reading order.
//! Unless the caller asks to reveal the text, what the detectors find is
//! masked in place, and so is every run of 8 or more digits and every
//! e-mail address's local part (see `redact`), and member names are masked
//! like file names: this view must not become a leak of its own.

use std::io::{self, Write};
use std::path::Path;

use crate::detect::Engine;
use crate::extract::{Dispatcher, ExtractError, Format, Limits, MemberPath, ScanBudget, UnitSink};
use crate::names::MemberNames;
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
    names: MemberNames,
}

impl Collect<'_> {
    fn member(&mut self, member: &MemberPath) -> MemberPath {
        if self.reveal {
            return member.clone();
        }
        self.names.mask(self.engine, member, &mut Vec::new())
    }
}

impl UnitSink for Collect<'_> {
    fn unit(&mut self, member: &MemberPath, unit: TextUnit<'_>) -> Result<(), ExtractError> {
        let text = if self.reveal {
            unit.text.to_string()
        } else {
            crate::redact::redact(self.engine, &unit, crate::redact::TEXT).0
        };
        let member = self.member(member);
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
            member,
            location,
            text,
        });
        Ok(())
    }

    fn vocabulary(&self) -> Option<std::sync::Arc<crate::vocabulary::Vocabulary>> {
        Some(self.engine.vocabulary())
    }

    fn unreadable(&mut self, member: &MemberPath, _format: Format, error: ExtractError) {
        let member = self.member(member);
        self.out
            .unreadable
            .push((member, error.reason.as_str().to_string(), error.detail));
    }
}

/// Extracts `path` into units (masked unless `reveal`).
pub fn extract_file(
    path: &Path,
    engine: &Engine,
    limits: &Limits,
    reveal: bool,
) -> io::Result<Extracted> {
    let mut data = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(
            crate::pipeline::open_read_only(path)?,
            limits.max_file_size + 1,
        ),
        &mut data,
    )?;
    if data.len() as u64 > limits.max_file_size {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than the {} byte limit", limits.max_file_size),
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut sink = Collect {
        engine,
        reveal,
        out: Extracted::default(),
        names: MemberNames::default(),
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
