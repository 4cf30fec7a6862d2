//! Paths as they really are, and as people are shown them.
//!
//! A file name on a share is whatever bytes its creator chose: an old Samba
//! share holds CP932 names that are not UTF-8, and any user can create a
//! name with control characters in it. mamori carries paths losslessly
//! (as bytes between processes and in the store) and shows them escaped:
//! undecodable bytes as `\xNN`, control and bidirectional-override
//! characters as `\u{NN}`, so that a name can neither break a line of
//! output nor drive the terminal (set its title, clear the screen, fake a
//! summary line).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The path's bytes (Unix: as the file system holds them; Windows: the
/// UTF-16 code units, little-endian, unpaired surrogates included).
pub fn to_bytes(path: &Path) -> Cow<'_, [u8]> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Cow::Borrowed(path.as_os_str().as_bytes())
    }
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStrExt;
        Cow::Owned(
            path.as_os_str()
                .encode_wide()
                .flat_map(u16::to_le_bytes)
                .collect(),
        )
    }
}

/// The path whose bytes [`to_bytes`] gave.
pub fn from_bytes(bytes: Vec<u8>) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(std::ffi::OsString::from_vec(bytes))
    }
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStringExt;
        let wide: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        PathBuf::from(std::ffi::OsString::from_wide(&wide))
    }
}

/// Whether a character must not reach a terminal or a one-line record as
/// it is: C0 and C1 controls, DEL, line and paragraph separators, and the
/// bidirectional overrides that make text read backwards.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// `text` with unsafe characters (see [`is_unsafe_char`]) escaped as `\u{NN}`.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The path as shown to people: valid UTF-8 kept, undecodable bytes as
/// `\xNN`, unsafe characters escaped.
pub fn display(path: &Path) -> Cow<'_, str> {
    match path.to_str() {
        Some(s) => escape_control(s),
        None => Cow::Owned(display_bytes(&to_bytes(path))),
    }
}

/// Bytes shown as text: UTF-8 runs kept (escaped as [`escape_control`]
/// does), every other byte as `\xNN`.
pub fn display_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape_control(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Serde for a path as its bytes (the worker protocol), so that names that
/// are not UTF-8 cross the pipe unchanged.
pub mod as_bytes {
    use std::path::{Path, PathBuf};

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&super::to_bytes(path))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        let bytes: serde_bytes_vec::Bytes = Deserialize::deserialize(d)?;
        Ok(super::from_bytes(bytes.0))
    }

    /// A byte vector that deserialises from a byte string or a sequence.
    mod serde_bytes_vec {
        use serde::de::{Deserializer, SeqAccess, Visitor};

        pub struct Bytes(pub Vec<u8>);

        impl<'de> serde::Deserialize<'de> for Bytes {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Bytes;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("bytes")
                    }
                    fn visit_bytes<E>(self, v: &[u8]) -> Result<Bytes, E> {
                        Ok(Bytes(v.to_vec()))
                    }
                    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Bytes, E> {
                        Ok(Bytes(v))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Bytes, A::Error> {
                        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                        while let Some(b) = seq.next_element()? {
                            v.push(b);
                        }
                        Ok(Bytes(v))
                    }
                }
                d.deserialize_bytes(V)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_control("a\u{1b}]0;x\u{7}b"), "a\\u{1b}]0;x\\u{7}b");
        assert_eq!(escape_control("名簿\n.csv"), "名簿\\u{a}.csv");
        assert_eq!(escape_control("\u{202e}fdp.exe"), "\\u{202e}fdp.exe");
        assert!(matches!(
            escape_control("普通の名前.xlsx"),
            Cow::Borrowed(_)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn undecodable_names_round_trip_and_display_escaped() {
        let p = from_bytes(b"/srv/\x8e\x52\x93\x63.txt".to_vec());
        assert_eq!(to_bytes(&p).as_ref(), b"/srv/\x8e\x52\x93\x63.txt");
        assert_eq!(display(&p), "/srv/\\x8eR\\x93c.txt");
        let wire = postcard::to_stdvec(&crate::outcome::FileRef::new(p.clone(), 1, 2)).unwrap();
        let back: crate::outcome::FileRef = postcard::from_bytes(&wire).unwrap();
        assert_eq!(back.path, p);
        let json = serde_json::to_string(&crate::outcome::FileRef::new(p.clone(), 1, 2)).unwrap();
        let back: crate::outcome::FileRef = serde_json::from_str(&json).unwrap();
        assert_eq!(back.path, p);
    }
}
