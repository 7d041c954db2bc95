//! Validated hierarchical channel names (`sensors/lidar/front`).
//!
//! Rules (an invalid name is reported by its first problem from the left):
//! 1 to [`MAX_NAME_LEN`] bytes; segments separated by `/`, 1 to [`MAX_SEGMENTS`] of them, each
//! 1 to [`MAX_SEGMENT_LEN`] bytes of ASCII letters, digits, `_`, `-` and `.`, and not `.` or `..`.
//! Names are case-sensitive. Every valid channel name is also a valid RedEX channel name.
//! `*` is not a name character: it is reserved for [`super::ChannelPattern`].
//!
//! A [`ChannelName`] stores its canonical hash, computed once at parse time, and keeps names of
//! up to 46 bytes inline (no allocation).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use super::error::NameError;
use super::hash::{ChannelHash, ChannelHint};

/// Longest channel name, in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// Longest segment of a channel name, in bytes.
pub const MAX_SEGMENT_LEN: usize = 64;
/// Most segments in a channel name.
pub const MAX_SEGMENTS: usize = 16;

/// `NAME_CHAR[b]` is true for the bytes allowed inside a segment.
static NAME_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.';
        b += 1;
    }
    t
};

/// Whether `b` may appear inside a name segment.
#[inline]
pub(crate) fn is_name_byte(b: u8) -> bool {
    NAME_CHAR[usize::from(b)]
}

/// The character starting at byte `offset` of `s` (a char boundary by construction).
pub(crate) fn char_at(s: &str, offset: usize) -> char {
    s.get(offset..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Checks one finished segment `seg` (index `index`).
#[inline]
pub(crate) fn check_segment(seg: &[u8], index: usize) -> Result<(), NameError> {
    if index >= MAX_SEGMENTS {
        return Err(NameError::TooManySegments { max: MAX_SEGMENTS });
    }
    match seg.len() {
        0 => Err(NameError::EmptySegment { index }),
        n if n > MAX_SEGMENT_LEN => Err(NameError::SegmentTooLong {
            index,
            len: n,
            max: MAX_SEGMENT_LEN,
        }),
        _ if seg == b"." || seg == b".." => Err(NameError::DotSegment { index }),
        _ => Ok(()),
    }
}

/// Checks the overall length of a name or pattern.
#[inline]
pub(crate) fn check_len(s: &str) -> Result<(), NameError> {
    match s.len() {
        0 => Err(NameError::Empty),
        n if n > MAX_NAME_LEN => Err(NameError::TooLong {
            len: n,
            max: MAX_NAME_LEN,
        }),
        _ => Ok(()),
    }
}

/// Whether every byte is a name byte or `/`, branch-free so that it vectorizes.
#[inline]
fn all_name_or_slash(bytes: &[u8]) -> bool {
    let mut bad = 0u8;
    for &b in bytes {
        let lower = b | 0x20;
        let ok = (lower.wrapping_sub(b'a') < 26)
            | (b.wrapping_sub(b'0') < 10)
            | (b == b'_')
            | (b == b'-')
            | (b == b'.')
            | (b == b'/');
        bad |= u8::from(!ok);
    }
    bad == 0
}

/// The common case, checked quickly: `true` only if `name` is valid. `false` means "maybe
/// invalid": [`validate_precise`] then finds (and names) the first problem.
#[inline]
fn quick_valid(name: &[u8]) -> bool {
    if name.is_empty() || name.len() > MAX_NAME_LEN || !all_name_or_slash(name) {
        return false;
    }
    let mut count = 0;
    for seg in name.split(|&b| b == b'/') {
        count += 1;
        if seg.is_empty() || seg.len() > MAX_SEGMENT_LEN || seg == b"." || seg == b".." {
            return false;
        }
    }
    count <= MAX_SEGMENTS
}

/// Validates `name` against the rules in the module documentation.
#[inline]
pub fn validate(name: &str) -> Result<(), NameError> {
    if quick_valid(name.as_bytes()) {
        Ok(())
    } else {
        validate_precise(name)
    }
}

/// One left-to-right pass reporting the first problem (the authority on validity).
fn validate_precise(name: &str) -> Result<(), NameError> {
    check_len(name)?;
    let bytes = name.as_bytes();
    let mut start = 0;
    let mut index = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'/' {
            check_segment(&bytes[start..i], index)?;
            index += 1;
            start = i + 1;
        } else if !is_name_byte(b) {
            return Err(NameError::InvalidChar {
                offset: i,
                ch: char_at(name, i),
            });
        }
    }
    check_segment(&bytes[start..], index)
}

/// Bytes of a name stored inline (no allocation) up to this length.
const INLINE: usize = 46;

/// A name's text: inline when short, boxed otherwise. Always valid ASCII.
#[derive(Clone)]
enum Text {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<str>),
}

impl Text {
    /// Stores `s`, which must be a validated name (ASCII).
    #[inline]
    fn new(s: &str) -> Text {
        if s.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..s.len()].copy_from_slice(s.as_bytes());
            Text::Inline {
                len: s.len() as u8,
                bytes,
            }
        } else {
            Text::Heap(s.into())
        }
    }

    #[inline]
    fn as_str(&self) -> &str {
        match self {
            Text::Inline { len, bytes } => {
                let b = &bytes[..usize::from(*len)];
                // SAFETY: `b` is a copy of the first `len` bytes of a `&str` that `validate`
                // accepted, so it is ASCII (valid UTF-8) and `len` is on a char boundary; the
                // bytes are never mutated after construction.
                unsafe { std::str::from_utf8_unchecked(b) }
            }
            Text::Heap(s) => s,
        }
    }
}

/// A valid channel name together with its canonical hash.
///
/// Equality, ordering and display use the text; `Hash` feeds the canonical hash (equal names
/// have equal hashes, so this agrees with `Eq`).
#[derive(Clone)]
pub struct ChannelName {
    text: Text,
    hash: ChannelHash,
}

impl ChannelName {
    /// Parses and validates `name`, computing its hash.
    pub fn parse(name: &str) -> Result<ChannelName, NameError> {
        validate(name)?;
        Ok(ChannelName {
            hash: ChannelHash::of_bytes(name.as_bytes()),
            text: Text::new(name),
        })
    }

    /// A name with a chosen hash, to test collision handling (tests only).
    #[cfg(test)]
    pub(crate) fn forged(text: &str, hash: ChannelHash) -> ChannelName {
        ChannelName {
            text: Text::new(text),
            hash,
        }
    }

    /// The canonical hash of `name` without keeping the name (validates it first).
    pub fn hash_of(name: &str) -> Result<ChannelHash, NameError> {
        validate(name)?;
        Ok(ChannelHash::of_bytes(name.as_bytes()))
    }

    /// The name's text.
    #[inline]
    pub fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The canonical 64-bit hash.
    #[inline]
    pub fn hash(&self) -> ChannelHash {
        self.hash
    }

    /// The 16-bit wire hint.
    #[inline]
    pub fn hint(&self) -> ChannelHint {
        self.hash.hint()
    }

    /// The segments, left to right.
    pub fn segments(&self) -> std::str::Split<'_, char> {
        self.as_str().split('/')
    }

    /// The number of segments (at least 1).
    pub fn depth(&self) -> usize {
        self.as_str().bytes().filter(|&b| b == b'/').count() + 1
    }

    /// The name without its last segment (`None` for a one-segment name).
    pub fn parent(&self) -> Option<ChannelName> {
        let text = self.as_str();
        let cut = text.rfind('/')?;
        // A prefix of a valid name ending at a segment boundary is valid.
        ChannelName::parse(&text[..cut]).ok()
    }

    /// Whether `self` is `other` or one of its ancestors, segment-wise (`a/b` is a prefix of
    /// `a/b/c` but not of `a/bc`).
    pub fn is_prefix_of(&self, other: &ChannelName) -> bool {
        let (p, o) = (self.as_str(), other.as_str());
        o.starts_with(p) && (o.len() == p.len() || o.as_bytes()[p.len()] == b'/')
    }
}

impl PartialEq for ChannelName {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.as_str() == other.as_str()
    }
}

impl Eq for ChannelName {}

impl PartialOrd for ChannelName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ChannelName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for ChannelName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash.get());
    }
}

impl fmt::Debug for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelName({:?})", self.as_str())
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChannelName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelName::parse(s)
    }
}

impl TryFrom<&str> for ChannelName {
    type Error = NameError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        ChannelName::parse(s)
    }
}

impl AsRef<str> for ChannelName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick check and the precise pass agree on every string over a small alphabet.
    #[test]
    fn quick_and_precise_agree() {
        let alphabet: &[u8] = b"a./-*";
        let mut checked = 0;
        for len in 0..=6u32 {
            for mut n in 0..alphabet.len().pow(len) {
                let mut s = Vec::new();
                for _ in 0..len {
                    s.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let text = std::str::from_utf8(&s).unwrap();
                assert_eq!(quick_valid(&s), validate_precise(text).is_ok(), "{text:?}");
                checked += 1;
            }
        }
        assert!(checked > 19_000);
        let long = "x".repeat(47);
        let n = ChannelName::parse(&long).unwrap();
        assert!(matches!(n.text, Text::Heap(_)));
        assert_eq!(n.as_str(), long);
        let short = ChannelName::parse(&long[..46]).unwrap();
        assert!(matches!(short.text, Text::Inline { .. }));
        assert_eq!(short.as_str(), &long[..46]);
    }
}
