//! Where outcomes go in `mamori scan`: the JSON Lines contract on stdout, or
//! a readable summary per file (Japanese by default, English on request).
//! One writer thread owns the sink, so lines never tear.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use crate::finding::{Confidence, Kind};
use crate::pipeline::FileOutcome;

/// Language of human-readable output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Ja,
    En,
}

/// Totals of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    pub files: u64,
    pub bytes: u64,
    pub files_with_findings: u64,
    pub findings: u64,
    pub unreadable: u64,
    pub skipped_binary: u64,
    /// Not opened: unchanged since the store last saw them.
    pub unchanged: u64,
    pub elapsed: Duration,
}

impl ScanStats {
    /// Adds one outcome (counting only findings at or above `min`).
    pub fn add(&mut self, o: &FileOutcome, min: Confidence) {
        let n = o
            .findings
            .iter()
            .filter(|(_, f)| f.confidence >= min)
            .count() as u64;
        self.findings += n;
        self.unreadable += o.unreadable.len() as u64;
        if o.partial {
            return; // the file itself is counted with its last outcome
        }
        self.files += 1;
        self.bytes += o.size;
        if n > 0 || o.earlier_findings {
            self.files_with_findings += 1;
        }
        if o.skipped {
            self.skipped_binary += 1;
        }
        if o.unchanged {
            self.unchanged += 1;
        }
    }
}

/// Consumes outcomes (the single writer).
pub trait OutcomeSink {
    fn accept(&mut self, outcome: &FileOutcome) -> io::Result<()>;
    fn finish(&mut self, stats: &ScanStats) -> io::Result<()>;
}

/// One JSON line: the contract's fields first, then additions.
#[derive(Serialize)]
struct Line<'a> {
    path: &'a str,
    member: Option<String>,
    kind: &'a str,
    confidence: &'a str,
    location: String,
    masked: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detector: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detector_version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_word: Option<&'a str>,
    /// `["outbound_leak_candidate"]` for findings of a flagged message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    flags: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_domains: Option<&'a [String]>,
}

/// Writes the findings contract: one JSON object per line, nothing else.
pub struct JsonlSink<W: Write> {
    out: W,
    min: Confidence,
    internal: Vec<String>,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W, min: Confidence) -> Self {
        JsonlSink {
            out,
            min,
            internal: Vec::new(),
        }
    }

    /// The office's own mail domains, for the outbound check.
    pub fn with_internal_domains(mut self, internal: Vec<String>) -> Self {
        self.internal = internal;
        self
    }
}

impl<W: Write> OutcomeSink for JsonlSink<W> {
    fn accept(&mut self, o: &FileOutcome) -> io::Result<()> {
        let path = o.path.to_string_lossy();
        let flagged = crate::outbound::outbound_messages(o, &self.internal);
        for (member, f) in &o.findings {
            if f.confidence < self.min {
                continue;
            }
            let outbound = crate::outbound::message_of(&flagged, member)
                .filter(|_| f.kind != crate::finding::Kind::CorporateNumber);
            let line = Line {
                path: &path,
                member: member.to_contract(),
                kind: f.kind.as_str(),
                confidence: f.confidence.as_str(),
                location: f.location.to_string(),
                masked: &f.masked,
                reason: None,
                format: None,
                detail: None,
                detector: Some(&f.detector_id),
                detector_version: Some(f.detector_version),
                fingerprint: Some(hex::encode(f.fingerprint)),
                pattern: Some(&f.explanation.pattern),
                validation: Some(f.explanation.validation),
                context_word: f.explanation.context_word.as_deref(),
                flags: outbound
                    .map(|_| vec![crate::outbound::FLAG])
                    .unwrap_or_default(),
                recipient_domains: outbound.map(|m| m.recipient_domains.as_slice()),
            };
            serde_json::to_writer(&mut self.out, &line)?;
            self.out.write_all(b"\n")?;
        }
        for u in &o.unreadable {
            let line = Line {
                path: &path,
                member: u.member.to_contract(),
                kind: "unreadable",
                // Certain: this file (or member) was not checked.
                confidence: "high",
                location: "file".to_string(),
                masked: "",
                reason: Some(u.reason.as_str()),
                format: u.format,
                detail: Some(&u.detail),
                detector: None,
                detector_version: None,
                fingerprint: None,
                pattern: None,
                validation: None,
                context_word: None,
                flags: Vec::new(),
                recipient_domains: None,
            };
            serde_json::to_writer(&mut self.out, &line)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(&mut self, _stats: &ScanStats) -> io::Result<()> {
        self.out.flush()
    }
}

/// A readable summary: per file, counts by kind and confidence; unreadable
/// files with their reason; totals. Files are listed in path order.
pub struct SummarySink<W: Write> {
    out: W,
    min: Confidence,
    lang: Lang,
    files: BTreeMap<String, FileSummary>,
    internal: Vec<String>,
}

#[derive(Default)]
struct FileSummary {
    kinds: BTreeMap<Kind, [u32; 3]>,
    outbound: Vec<crate::outbound::OutboundMessage>,
    unreadable: Vec<(
        Option<String>,
        &'static str,
        &'static str,
        Option<&'static str>,
    )>,
}

impl<W: Write> SummarySink<W> {
    pub fn new(out: W, min: Confidence, lang: Lang) -> Self {
        SummarySink {
            out,
            min,
            lang,
            files: BTreeMap::new(),
            internal: Vec::new(),
        }
    }

    /// The office's own mail domains, for the outbound check.
    pub fn with_internal_domains(mut self, internal: Vec<String>) -> Self {
        self.internal = internal;
        self
    }
}

impl<W: Write> OutcomeSink for SummarySink<W> {
    fn accept(&mut self, o: &FileOutcome) -> io::Result<()> {
        let mut s = FileSummary::default();
        for (_, f) in &o.findings {
            if f.confidence >= self.min {
                s.kinds.entry(f.kind).or_default()[f.confidence as usize] += 1;
            }
        }
        for u in &o.unreadable {
            s.unreadable.push((
                u.member.to_contract(),
                u.reason.as_str(),
                u.reason.label_ja(),
                u.format,
            ));
        }
        s.outbound = crate::outbound::outbound_messages(o, &self.internal);
        if !s.kinds.is_empty() || !s.unreadable.is_empty() {
            // Parts of one file (mbox messages) add up.
            let e = self
                .files
                .entry(o.path.to_string_lossy().into_owned())
                .or_default();
            for (k, c) in s.kinds {
                let t = e.kinds.entry(k).or_default();
                for i in 0..3 {
                    t[i] += c[i];
                }
            }
            e.unreadable.extend(s.unreadable);
            e.outbound.extend(s.outbound);
        }
        Ok(())
    }

    fn finish(&mut self, st: &ScanStats) -> io::Result<()> {
        let ja = self.lang == Lang::Ja;
        for (path, s) in &self.files {
            writeln!(self.out, "{path}")?;
            for (kind, counts) in &s.kinds {
                let total: u32 = counts.iter().sum();
                let parts: Vec<String> = [Confidence::High, Confidence::Medium, Confidence::Low]
                    .iter()
                    .filter(|c| counts[**c as usize] > 0)
                    .map(|c| {
                        if ja {
                            format!("{} {}", c.label_ja(), counts[*c as usize])
                        } else {
                            format!("{} {}", c.as_str(), counts[*c as usize])
                        }
                    })
                    .collect();
                if ja {
                    writeln!(
                        self.out,
                        "    {}  {}件（{}）",
                        kind.label_ja(),
                        total,
                        parts.join("・")
                    )?;
                } else {
                    writeln!(
                        self.out,
                        "    {:<24} {:>5}  ({})",
                        kind.as_str(),
                        total,
                        parts.join(", ")
                    )?;
                }
            }
            for m in &s.outbound {
                let which = m
                    .member
                    .to_contract()
                    .map(|x| format!(" [{x}]"))
                    .unwrap_or_default();
                let kinds: Vec<String> = m
                    .kinds
                    .iter()
                    .map(|(k, n)| {
                        if ja {
                            format!("{} {n}", k.label_ja())
                        } else {
                            format!("{k} {n}")
                        }
                    })
                    .collect();
                if ja {
                    writeln!(
                        self.out,
                        "    外部送信の疑い{which}: 宛先 {}（{}）",
                        m.recipient_domains.join(", "),
                        kinds.join("・")
                    )?;
                } else {
                    writeln!(
                        self.out,
                        "    outbound leak candidate{which}: to {} ({})",
                        m.recipient_domains.join(", "),
                        kinds.join(", ")
                    )?;
                }
            }
            for (member, reason, reason_ja, format) in &s.unreadable {
                let member = member
                    .as_ref()
                    .map(|m| format!(" [{m}]"))
                    .unwrap_or_default();
                let format = format.map(|f| format!(" ({f})")).unwrap_or_default();
                if ja {
                    writeln!(self.out, "    読み取れません{member}: {reason_ja}{format}")?;
                } else {
                    writeln!(self.out, "    unreadable{member}: {reason}{format}")?;
                }
            }
        }
        if !self.files.is_empty() {
            writeln!(self.out)?;
        }
        let mb = st.bytes as f64 / 1_000_000.0;
        let unchanged = match (st.unchanged, ja) {
            (0, _) => String::new(),
            (n, true) => format!("、変更なしのため再読込なし {n} 件"),
            (n, false) => format!(", {n} unchanged (not reopened)"),
        };
        let secs = st.elapsed.as_secs_f64();
        if ja {
            writeln!(
                self.out,
                "{} ファイルを走査（{:.1} MB、{:.2} 秒）: 検出 {} 件（{} ファイル）、読み取れないもの {} 件、対象外のバイナリ {} 件{}",
                st.files, mb, secs, st.findings, st.files_with_findings, st.unreadable, st.skipped_binary, unchanged
            )?;
        } else {
            writeln!(
                self.out,
                "Scanned {} files ({:.1} MB) in {:.2} s: {} findings in {} files, {} unreadable, {} binary files skipped{}",
                st.files, mb, secs, st.findings, st.files_with_findings, st.unreadable, st.skipped_binary, unchanged
            )?;
        }
        self.out.flush()
    }
}
