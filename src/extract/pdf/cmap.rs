//! CMap parsing: `ToUnicode` streams of fonts and Adobe's CID-to-Unicode
//! table. Reads `begincodespacerange`, `beginbfchar` and `beginbfrange`
//! sections (destination strings are UTF-16BE); everything else is skipped.

use std::collections::HashMap;

/// A code-to-Unicode map with its code space.
#[derive(Debug, Default, Clone)]
pub struct CMap {
    /// (byte length, low, high) of each code-space range.
    pub codespace: Vec<(usize, u32, u32)>,
    /// (code length, code) → text.
    pub map: HashMap<(u8, u32), String>,
}

enum Tok<'a> {
    Hex(Vec<u8>),
    Word(&'a [u8]),
    Int,
    Open,
    Close,
}

fn tokens(data: &[u8]) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        match c {
            b'%' => {
                while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                    i += 1;
                }
            }
            b'<' if data.get(i + 1) != Some(&b'<') => {
                let start = i + 1;
                let end = data[start..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map(|p| start + p)
                    .unwrap_or(data.len());
                let hex: Vec<u8> = data[start..end]
                    .iter()
                    .copied()
                    .filter(u8::is_ascii_hexdigit)
                    .collect();
                let mut bytes = Vec::with_capacity(hex.len() / 2 + 1);
                for pair in hex.chunks(2) {
                    let s = std::str::from_utf8(pair).unwrap_or("0");
                    let v = u8::from_str_radix(s, 16).unwrap_or(0);
                    // An odd last digit is padded with 0 (PDF 7.3.4.3).
                    bytes.push(if pair.len() == 1 { v << 4 } else { v });
                }
                out.push(Tok::Hex(bytes));
                i = end + 1;
            }
            b'[' => {
                out.push(Tok::Open);
                i += 1;
            }
            b']' => {
                out.push(Tok::Close);
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                let start = i;
                while i < data.len()
                    && !data[i].is_ascii_whitespace()
                    && !b"[]<>%".contains(&data[i])
                {
                    i += 1;
                }
                if i == start {
                    i += 1;
                    continue;
                }
                let w = &data[start..i];
                match std::str::from_utf8(w)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                {
                    Some(_) => out.push(Tok::Int),
                    None => out.push(Tok::Word(w)),
                }
            }
        }
    }
    out
}

fn code_of(b: &[u8]) -> (u8, u32) {
    let mut v = 0u32;
    for &x in b.iter().take(4) {
        v = (v << 8) | x as u32;
    }
    (b.len().min(4) as u8, v)
}

fn utf16be(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// Adds `delta` to the last UTF-16 unit of a bfrange destination.
fn offset_utf16(b: &[u8], delta: u32) -> String {
    let mut units: Vec<u16> = b
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
        .collect();
    if let Some(last) = units.last_mut() {
        *last = last.wrapping_add(delta as u16);
    }
    String::from_utf16_lossy(&units)
}

/// Parses a CMap. Unknown sections and malformed entries are skipped;
/// ranges are capped so that a hostile CMap cannot allocate without bound.
pub fn parse(data: &[u8]) -> CMap {
    const MAX_ENTRIES: usize = 200_000;
    let toks = tokens(data);
    let mut cm = CMap::default();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Word(b"begincodespacerange") => {
                i += 1;
                while i + 1 < toks.len() {
                    match (&toks[i], &toks[i + 1]) {
                        (Tok::Hex(lo), Tok::Hex(hi)) => {
                            cm.codespace
                                .push((lo.len().clamp(1, 4), code_of(lo).1, code_of(hi).1));
                            i += 2;
                        }
                        _ => break,
                    }
                }
            }
            Tok::Word(b"beginbfchar") => {
                i += 1;
                while i + 1 < toks.len() {
                    match (&toks[i], &toks[i + 1]) {
                        (Tok::Hex(src), Tok::Hex(dst)) => {
                            if cm.map.len() < MAX_ENTRIES {
                                cm.map.insert(code_of(src), utf16be(dst));
                            }
                            i += 2;
                        }
                        (Tok::Hex(_), Tok::Word(_)) => i += 2, // a glyph name: not mapped
                        _ => break,
                    }
                }
            }
            Tok::Word(b"beginbfrange") => {
                i += 1;
                while i + 2 < toks.len() {
                    let (Tok::Hex(lo), Tok::Hex(hi)) = (&toks[i], &toks[i + 1]) else {
                        break;
                    };
                    let (len, lo_c) = code_of(lo);
                    let hi_c = code_of(hi).1;
                    match &toks[i + 2] {
                        Tok::Hex(dst) => {
                            for (k, c) in (lo_c..=hi_c).enumerate() {
                                if cm.map.len() >= MAX_ENTRIES {
                                    break;
                                }
                                cm.map.insert((len, c), offset_utf16(dst, k as u32));
                            }
                            i += 3;
                        }
                        Tok::Open => {
                            let mut j = i + 3;
                            let mut c = lo_c;
                            while j < toks.len() {
                                match &toks[j] {
                                    Tok::Hex(dst) => {
                                        if c <= hi_c && cm.map.len() < MAX_ENTRIES {
                                            cm.map.insert((len, c), utf16be(dst));
                                        }
                                        c = c.saturating_add(1);
                                        j += 1;
                                    }
                                    Tok::Close => {
                                        j += 1;
                                        break;
                                    }
                                    _ => j += 1,
                                }
                            }
                            i = j;
                        }
                        _ => i += 3,
                    }
                }
            }
            Tok::Int | Tok::Hex(_) | Tok::Word(_) | Tok::Open | Tok::Close => i += 1,
        }
    }
    cm
}

impl CMap {
    /// Splits `bytes` into codes by the code space (one byte per code
    /// when there is none, or `default_len`), and maps each.
    pub fn decode(&self, bytes: &[u8], default_len: usize, out: &mut String) -> usize {
        self.decode_with(bytes, default_len, out, |_, _| false)
    }

    /// Like [`CMap::decode`], handing codes the map lacks to `fallback`
    /// (which returns whether it produced text); returns the codes left unmapped.
    pub fn decode_with(
        &self,
        bytes: &[u8],
        default_len: usize,
        out: &mut String,
        mut fallback: impl FnMut(&[u8], &mut String) -> bool,
    ) -> usize {
        let mut unmapped = 0;
        let mut i = 0;
        while i < bytes.len() {
            let len = self
                .code_len(&bytes[i..])
                .unwrap_or(default_len)
                .min(bytes.len() - i)
                .max(1);
            let code = code_of(&bytes[i..i + len]);
            match self.map.get(&code) {
                Some(s) => out.push_str(s),
                None => {
                    if !fallback(&bytes[i..i + len], out) {
                        unmapped += 1;
                    }
                }
            }
            i += len;
        }
        unmapped
    }

    fn code_len(&self, rest: &[u8]) -> Option<usize> {
        for &(len, lo, hi) in &self.codespace {
            if rest.len() >= len {
                let c = code_of(&rest[..len]).1;
                // Compare byte by byte, as code-space ranges are defined.
                let ok = (0..len).all(|k| {
                    let shift = 8 * (len - 1 - k);
                    let (b, l, h) = (
                        (c >> shift) & 0xFF,
                        (lo >> shift) & 0xFF,
                        (hi >> shift) & 0xFF,
                    );
                    b >= l && b <= h
                });
                if ok {
                    return Some(len);
                }
            }
        }
        None
    }
}

/// Adobe-Japan1 CID → Unicode, from Adobe's Adobe-Japan1-UCS2 CMap (BSD-3-Clause).
pub fn adobe_japan1() -> &'static CMap {
    static TABLE: std::sync::OnceLock<CMap> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| parse(include_bytes!("Adobe-Japan1-UCS2")))
}

/// CID → Unicode for an Adobe character collection (`Japan1`, `Korea1`,
/// `GB1`, `CNS1`), from Adobe's UCS2 CMaps (BSD-3-Clause), built on first use.
pub fn adobe_collection(ordering: &[u8]) -> Option<&'static CMap> {
    use std::sync::OnceLock;
    static KOREA1: OnceLock<CMap> = OnceLock::new();
    static GB1: OnceLock<CMap> = OnceLock::new();
    static CNS1: OnceLock<CMap> = OnceLock::new();
    match ordering {
        b"Japan1" => Some(adobe_japan1()),
        b"Korea1" => Some(KOREA1.get_or_init(|| parse(include_bytes!("Adobe-Korea1-UCS2")))),
        b"GB1" => Some(GB1.get_or_init(|| parse(include_bytes!("Adobe-GB1-UCS2")))),
        b"CNS1" => Some(CNS1.get_or_init(|| parse(include_bytes!("Adobe-CNS1-UCS2")))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfchar_and_bfrange() {
        let cm = parse(
            b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
              2 beginbfchar <0001> <5C71> <0002> <7530> endbfchar\n\
              1 beginbfrange <0010> <0012> <0030> endbfrange\n\
              1 beginbfrange <0020> <0021> [<592A> <90CE>] endbfrange",
        );
        let mut s = String::new();
        assert_eq!(
            cm.decode(&[0, 1, 0, 2, 0, 0x10, 0, 0x12, 0, 0x20, 0, 0x21], 2, &mut s),
            0
        );
        assert_eq!(s, "山田02太郎");
    }

    #[test]
    fn adobe_japan1_maps_common_cids() {
        let t = adobe_japan1();
        assert!(t.map.len() > 15_000);
        // CID 1 is the space; CID 843 is 亜 in Adobe-Japan1-0... check a few digits:
        // CIDs 17-26 are the digits 0-9.
        let mut s = String::new();
        t.decode(&[0, 17, 0, 26], 2, &mut s);
        assert_eq!(s, "09");
    }
}
