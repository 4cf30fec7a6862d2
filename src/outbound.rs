//! The outbound check: a message from the office's own domains to any
//! outside recipient whose body or attachments hold personal data or My
//! Number (at medium confidence or above) is an outbound leak candidate.
//! The incident behind mamori was exactly that: a records-request form
//! mailed, unmasked, to another body. Recipients are named by domain only.

use std::collections::BTreeMap;

use crate::extract::mail::is_internal;
use crate::finding::{Confidence, Kind};
use crate::outcome::{Content, OutboundMessage};

/// The step: sets `content.outbound` to the messages of `content` that are
/// outbound leak candidates.
pub fn check(content: &mut Content, internal: &[String]) {
    content.outbound = outbound_messages(content, internal);
}

/// The messages of `o` that are outbound leak candidates. Without internal
/// domains nothing is outbound: mamori cannot tell the office's mail apart.
pub fn outbound_messages(o: &Content, internal: &[String]) -> Vec<OutboundMessage> {
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
