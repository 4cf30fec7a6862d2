//! The outbound check: a message from the office's own domains to any
//! outside recipient whose body or attachments hold personal data or My
//! Number (at medium confidence or above) is an outbound leak candidate.
//! The incident behind mamori was exactly that: a records-request form
//! mailed, unmasked, to another body. Recipients are named by domain only.

use std::collections::BTreeMap;

use crate::extract::mail::is_internal;
use crate::extract::MemberPath;
use crate::finding::{Confidence, Kind};
use crate::pipeline::FileOutcome;

/// A flagged message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// The message (empty for a single .eml; `3` for an mbox's third message).
    pub member: MemberPath,
    /// Outside recipients' domains.
    pub recipient_domains: Vec<String>,
    /// Personal findings in the message, by kind.
    pub kinds: BTreeMap<Kind, usize>,
}

/// The flag added to the JSONL lines of a flagged message's findings.
pub const FLAG: &str = "outbound_leak_candidate";

fn starts_with(member: &MemberPath, prefix: &MemberPath) -> bool {
    member.0.len() >= prefix.0.len() && member.0[..prefix.0.len()] == prefix.0[..]
}

/// The messages of `o` that are outbound leak candidates. Without internal
/// domains nothing is outbound: mamori cannot tell the office's mail apart.
pub fn outbound_messages(o: &FileOutcome, internal: &[String]) -> Vec<OutboundMessage> {
    if internal.is_empty() {
        return Vec::new();
    }
    // The innermost message of each finding, found by looking up the
    // finding's member path and its prefixes: linear in findings.
    let index: std::collections::HashMap<&[String], usize> = o
        .messages
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (m.0.as_slice(), i))
        .collect();
    let mut kinds: Vec<BTreeMap<Kind, usize>> = vec![BTreeMap::new(); o.messages.len()];
    for (m, f) in &o.findings {
        if f.kind == Kind::CorporateNumber || f.confidence < Confidence::Medium {
            continue;
        }
        // Every enclosing message carries the finding (a forward carries its original).
        for len in (0..=m.0.len()).rev() {
            if let Some(&i) = index.get(&m.0[..len]) {
                *kinds[i].entry(f.kind).or_insert(0) += 1;
            }
        }
    }
    let mut out = Vec::new();
    for ((member, meta), kinds) in o.messages.iter().zip(kinds) {
        let Some(sender) = meta.sender_domain.as_deref() else {
            continue;
        };
        if !is_internal(sender, internal) || kinds.is_empty() {
            continue;
        }
        let external: Vec<String> = meta
            .recipient_domains
            .iter()
            .filter(|d| !is_internal(d, internal))
            .cloned()
            .collect();
        if !external.is_empty() {
            out.push(OutboundMessage {
                member: member.clone(),
                recipient_domains: external,
                kinds,
            });
        }
    }
    out
}

/// The flagged message a finding at `member` belongs to (the innermost).
pub fn message_of<'a>(
    flagged: &'a [OutboundMessage],
    member: &MemberPath,
) -> Option<&'a OutboundMessage> {
    flagged
        .iter()
        .filter(|m| starts_with(member, &m.member))
        .max_by_key(|m| m.member.0.len())
}
