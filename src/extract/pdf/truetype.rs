//! A minimal TrueType reader: the `cmap` table of an embedded font, turned
//! round into glyph id → character. Used for CID TrueType fonts that come
//! without a ToUnicode map (Word's and Acrobat's Identity-H subsets often
//! keep their cmap); poppler does the same.

use std::collections::HashMap;

fn u16_at(d: &[u8], o: usize) -> Option<u16> {
    d.get(o..o + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], o: usize) -> Option<u32> {
    d.get(o..o + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Glyph id → character from the font's Unicode `cmap` subtable (format 4
/// or 12). `None` when the font has no usable table. Bounded: a hostile
/// table cannot make this allocate more than the glyphs a font can have.
pub fn glyph_to_char(font: &[u8]) -> Option<HashMap<u16, char>> {
    let num_tables = u16_at(font, 4)? as usize;
    let mut cmap = None;
    for i in 0..num_tables.min(64) {
        let rec = 12 + i * 16;
        if font.get(rec..rec + 4)? == b"cmap" {
            cmap = Some(u32_at(font, rec + 8)? as usize);
        }
    }
    let base = cmap?;
    let count = u16_at(font, base + 2)? as usize;
    // Prefer a Unicode subtable: (3,10) format 12, then (3,1) / (0,x) format 4.
    let mut best: Option<(u8, usize)> = None;
    for i in 0..count.min(64) {
        let rec = base + 4 + i * 8;
        let (pid, eid) = (u16_at(font, rec)?, u16_at(font, rec + 2)?);
        let off = base + u32_at(font, rec + 4)? as usize;
        let rank = match (pid, eid) {
            (3, 10) | (0, 4) | (0, 6) => 3,
            (3, 1) | (0, _) => 2,
            _ => continue,
        };
        if best.is_none_or(|(r, _)| rank > r) {
            best = Some((rank, off));
        }
    }
    let (_, sub) = best?;
    let mut map = HashMap::new();
    match u16_at(font, sub)? {
        4 => {
            let segs = u16_at(font, sub + 6)? as usize / 2;
            let ends = sub + 14;
            let starts = ends + 2 * segs + 2;
            let deltas = starts + 2 * segs;
            let ranges = deltas + 2 * segs;
            for s in 0..segs {
                let end = u16_at(font, ends + 2 * s)? as u32;
                let start = u16_at(font, starts + 2 * s)? as u32;
                let delta = u16_at(font, deltas + 2 * s)?;
                let range_off = u16_at(font, ranges + 2 * s)? as usize;
                if start > end || end == 0xFFFF && start == 0xFFFF {
                    continue;
                }
                for c in start..=end.min(0xFFFE) {
                    let gid = if range_off == 0 {
                        (c as u16).wrapping_add(delta)
                    } else {
                        let at = ranges + 2 * s + range_off + 2 * (c - start) as usize;
                        match u16_at(font, at) {
                            Some(0) | None => continue,
                            Some(g) => g.wrapping_add(delta),
                        }
                    };
                    if let Some(ch) = char::from_u32(c) {
                        map.entry(gid).or_insert(ch);
                    }
                }
            }
        }
        12 => {
            let groups = u32_at(font, sub + 12)? as usize;
            for g in 0..groups.min(100_000) {
                let rec = sub + 16 + g * 12;
                let (start, end, gid0) = (
                    u32_at(font, rec)?,
                    u32_at(font, rec + 4)?,
                    u32_at(font, rec + 8)?,
                );
                if end < start || end - start > 0x10FFFF {
                    continue;
                }
                for (k, c) in (start..=end).enumerate() {
                    if map.len() > 65_536 {
                        break;
                    }
                    if let (Some(ch), Ok(gid)) =
                        (char::from_u32(c), u16::try_from(gid0 as usize + k))
                    {
                        map.entry(gid).or_insert(ch);
                    }
                }
            }
        }
        _ => return None,
    }
    (!map.is_empty()).then_some(map)
}
