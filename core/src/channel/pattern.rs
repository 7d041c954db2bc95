//! Channel patterns: exact names, `*` (exactly one segment) and a trailing `**` (zero or more
//! segments), e.g. `sensors/*/front`, `sensors/**`, `**`.
//!
//! Promises: a pattern follows the name rules (length, segment count and length, characters) with
//! two extra segment forms, `*` anywhere and `**` only as the last segment; `sens*` is rejected
//! (wildcards are whole segments). `p/**` matches `p` itself and everything below it, so it is
//! the segment-wise prefix match. Matching walks the segments once, without allocating.
//! Not here: matching by hash (a pattern has no single hash; match names, then use their hashes).

use std::fmt;
use std::str::FromStr;

use super::error::PatternError;
use super::name::{ChannelName, char_at, check_len, check_segment, is_name_byte};

/// One segment of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// Matches this exact segment.
    Literal(Box<str>),
    /// `*`: matches any one segment.
    Star,
}

/// A parsed channel pattern.
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelPattern {
    text: Box<str>,
    segs: Vec<Seg>,
    /// The pattern ends in `**`.
    tail: bool,
}

impl ChannelPattern {
    /// Parses and validates a pattern.
    pub fn parse(pattern: &str) -> Result<ChannelPattern, PatternError> {
        check_len(pattern)?;
        let mut segs = Vec::new();
        let mut tail = false;
        let pieces = pattern.split('/');
        let mut offset = 0;
        let count = pattern.bytes().filter(|&b| b == b'/').count() + 1;
        for (index, seg) in pieces.enumerate() {
            let bytes = seg.as_bytes();
            match seg {
                "*" | "**" => {
                    check_segment(bytes, index)?;
                    if seg == "*" {
                        segs.push(Seg::Star);
                    } else if index + 1 == count {
                        tail = true;
                    } else {
                        return Err(PatternError::DoubleStarNotLast { index });
                    }
                }
                _ => {
                    if let Some(i) = bytes.iter().position(|&b| !is_name_byte(b)) {
                        if bytes[i] == b'*' {
                            return Err(PatternError::PartialWildcard { index });
                        }
                        return Err(crate::channel::NameError::InvalidChar {
                            offset: offset + i,
                            ch: char_at(pattern, offset + i),
                        }
                        .into());
                    }
                    check_segment(bytes, index)?;
                    segs.push(Seg::Literal(seg.into()));
                }
            }
            offset += seg.len() + 1;
        }
        Ok(ChannelPattern {
            text: pattern.into(),
            segs,
            tail,
        })
    }

    /// The pattern's text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has no wildcard (it matches exactly one name).
    pub fn is_exact(&self) -> bool {
        !self.tail && self.segs.iter().all(|s| matches!(s, Seg::Literal(_)))
    }

    /// Whether `name` matches the pattern.
    pub fn matches(&self, name: &ChannelName) -> bool {
        let mut parts = name.as_str().as_bytes().split(|&b| b == b'/');
        for seg in &self.segs {
            match (seg, parts.next()) {
                (_, None) => return false,
                (Seg::Star, Some(_)) => {}
                (Seg::Literal(lit), Some(part)) => {
                    if lit.as_bytes() != part {
                        return false;
                    }
                }
            }
        }
        self.tail || parts.next().is_none()
    }
}

impl fmt::Debug for ChannelPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelPattern({:?})", &*self.text)
    }
}

impl fmt::Display for ChannelPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for ChannelPattern {
    type Err = PatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChannelPattern::parse(s)
    }
}

impl From<&ChannelName> for ChannelPattern {
    /// The exact pattern of a name (a valid name is a valid pattern).
    fn from(name: &ChannelName) -> Self {
        ChannelPattern {
            text: name.as_str().into(),
            segs: name.segments().map(|s| Seg::Literal(s.into())).collect(),
            tail: false,
        }
    }
}
