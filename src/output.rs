//! Where outcomes go in `mamori scan`: the JSON Lines contract on stdout, or
//! a readable summary per file (Japanese by default, English on request).
//! One writer thread owns the sink, so lines never tear.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use crate::finding::{Confidence, Kind};
use crate::outcome::{Content, Outcome, OutcomeSink, ScanStats, SinkError, OUTBOUND_FLAG};
use crate::paths::escape_control;

/// Language of human-readable output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Ja,
    En,
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
    /// The path's bytes in hex, when they are not UTF-8 (and the name holds
    /// no identifier): `path` then shows them escaped as `\xNN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    path_hex: Option<String>,
}

/// Writes the findings contract: one JSON object per line, nothing else.
pub struct JsonlSink<W: Write> {
    out: W,
    min: Confidence,
    /// With a configuration: records flags of each file, on its lines.
    records: Option<(
        crate::records::apply::RecordsContext,
        Vec<std::path::PathBuf>,
    )>,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W, min: Confidence) -> Self {
        JsonlSink {
            out,
            min,
            records: None,
        }
    }

    /// Adds the records flags of each file (as of today) to its lines;
    /// `roots` are the scan's PATH arguments.
    pub fn with_records(
        mut self,
        ctx: crate::records::apply::RecordsContext,
        roots: Vec<std::path::PathBuf>,
    ) -> Self {
        self.records = Some((ctx, roots));
        self
    }

    /// The records flags of an outcome's file. A large container's part
    /// (an mbox message) is judged on its own content.
    fn records_flags(&self, o: &Outcome, content: &Content) -> Vec<&'static str> {
        let Some((ctx, roots)) = &self.records else {
            return Vec::new();
        };
        let format = match o {
            Outcome::Done { end, .. } => end.format.as_deref(),
            _ => Some("mbox"),
        };
        let facts =
            crate::records::apply::facts_from_outcome(ctx, roots, o.file(), content, format);
        if !facts.holds_personal_data() {
            return Vec::new();
        }
        crate::records::evaluate(&ctx.rules, &facts, crate::time::today_jst())
            .flag_names()
            .into_iter()
            .filter(|f| *f != OUTBOUND_FLAG)
            .collect()
    }
}

/// Whether a finding of `kind` at `member` carries the outbound flag.
pub fn outbound_of<'c>(
    content: &'c Content,
    member: &crate::outcome::MemberPath,
    kind: Kind,
) -> Option<&'c crate::outcome::OutboundMessage> {
    content
        .outbound_of(member)
        .filter(|_| kind != Kind::CorporateNumber)
}

impl<W: Write> OutcomeSink for JsonlSink<W> {
    fn accept(&mut self, o: &Outcome) -> Result<(), SinkError> {
        let Some(content) = o.content() else {
            return Ok(());
        };
        let file = o.file();
        let path = file.shown();
        let path_hex = (file.path.to_str().is_none() && path == crate::paths::display(&file.path))
            .then(|| hex::encode(crate::paths::to_bytes(&file.path)));
        let file_flags = self.records_flags(o, content);
        for (member, f) in &content.findings {
            if f.confidence < self.min {
                continue;
            }
            let outbound = outbound_of(content, member, f.kind);
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
                validation: Some(f.explanation.validation.as_str()),
                context_word: f.explanation.context_word.as_deref(),
                flags: outbound
                    .map(|_| OUTBOUND_FLAG)
                    .into_iter()
                    .chain(file_flags.iter().copied())
                    .collect(),
                recipient_domains: outbound.map(|m| m.recipient_domains.as_slice()),
                path_hex: path_hex.clone(),
            };
            serde_json::to_writer(&mut self.out, &line).map_err(std::io::Error::from)?;
            self.out.write_all(b"\n")?;
        }
        for u in &content.unreadable {
            let line = Line {
                path: &path,
                member: u.member.to_contract(),
                kind: "unreadable",
                // Certain: this file (or member) was not checked.
                confidence: "high",
                location: "file".to_string(),
                masked: "",
                reason: Some(u.reason.as_str()),
                format: u.format.as_deref(),
                detail: Some(&u.detail),
                detector: None,
                detector_version: None,
                fingerprint: None,
                pattern: None,
                validation: None,
                context_word: None,
                flags: Vec::new(),
                recipient_domains: None,
                path_hex: path_hex.clone(),
            };
            serde_json::to_writer(&mut self.out, &line).map_err(std::io::Error::from)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(&mut self, _stats: &ScanStats) -> Result<(), SinkError> {
        Ok(self.out.flush()?)
    }
}

/// A readable summary: per file, counts by kind and confidence; unreadable
/// files with their reason; totals. Files are listed in path order.
pub struct SummarySink<W: Write> {
    out: W,
    min: Confidence,
    lang: Lang,
    files: BTreeMap<String, FileSummary>,
}

#[derive(Default)]
struct FileSummary {
    kinds: BTreeMap<Kind, [u32; 3]>,
    outbound: Vec<crate::outcome::OutboundMessage>,
    unreadable: Vec<(Option<String>, &'static str, &'static str, Option<String>)>,
}

impl<W: Write> SummarySink<W> {
    pub fn new(out: W, min: Confidence, lang: Lang) -> Self {
        SummarySink {
            out,
            min,
            lang,
            files: BTreeMap::new(),
        }
    }
}

impl<W: Write> OutcomeSink for SummarySink<W> {
    fn accept(&mut self, o: &Outcome) -> Result<(), SinkError> {
        let Some(content) = o.content() else {
            return Ok(());
        };
        let mut s = FileSummary::default();
        for (_, f) in &content.findings {
            if f.confidence >= self.min {
                s.kinds.entry(f.kind).or_default()[f.confidence as usize] += 1;
            }
        }
        for u in &content.unreadable {
            s.unreadable.push((
                u.member.to_contract(),
                u.reason.as_str(),
                u.reason.label_ja(),
                u.format.clone(),
            ));
        }
        s.outbound = content.outbound.clone();
        if !s.kinds.is_empty() || !s.unreadable.is_empty() {
            // Parts of one file (mbox messages) add up.
            let e = self.files.entry(o.file().shown().into_owned()).or_default();
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

    fn finish(&mut self, st: &ScanStats) -> Result<(), SinkError> {
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
                let format = format
                    .as_ref()
                    .map(|f| format!(" ({})", escape_control(f)))
                    .unwrap_or_default();
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
        if st.changed_during_scan > 0 {
            if ja {
                writeln!(
                    self.out,
                    "読み取り中に変更されたファイル {} 件（次回の走査で読み直します）",
                    st.changed_during_scan
                )?;
            } else {
                writeln!(
                    self.out,
                    "{} file(s) changed while being read (they are read again on the next scan)",
                    st.changed_during_scan
                )?;
            }
        }
        if st.failed > 0 {
            if ja {
                writeln!(
                    self.out,
                    "走査できなかったファイル {} 件（mamori の内部エラー。終了コード 1）",
                    st.failed
                )?;
            } else {
                writeln!(
                    self.out,
                    "{} file(s) NOT scanned: mamori itself failed on them (exit code 1)",
                    st.failed
                )?;
            }
        }
        Ok(self.out.flush()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::FileRef;

    #[test]
    fn the_summary_says_how_many_files_were_not_scanned() {
        let mut stats = ScanStats::default();
        let failed = Outcome::failed(FileRef::new("/s/a.txt".into(), 3, 0), "worker failed");
        let ok = Outcome::unreadable(
            FileRef::new("/s/b.pdf".into(), 3, 0),
            crate::outcome::UnreadableReason::Encrypted,
            Some("pdf"),
            "password",
        );
        let mut sink = SummarySink::new(Vec::new(), Confidence::Low, Lang::En);
        for o in [&failed, &ok] {
            stats.add(o, Confidence::Low);
            sink.accept(o).unwrap();
        }
        assert_eq!((stats.files, stats.failed), (2, 1));
        sink.finish(&stats).unwrap();
        let text = String::from_utf8(sink.out).unwrap();
        assert!(text.contains("1 file(s) NOT scanned"), "{text}");
        let mut ja = SummarySink::new(Vec::new(), Confidence::Low, Lang::Ja);
        ja.finish(&stats).unwrap();
        assert!(String::from_utf8(ja.out)
            .unwrap()
            .contains("走査できなかったファイル 1 件"));
    }
}
