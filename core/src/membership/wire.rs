//! The membership messages and their bytes (subprotocol `0x0A00`, see `docs/membership.md`).
//!
//! Each message is one event of an event frame on the control stream ([`CONTROL_STREAM`]).
//! Layout, little-endian, exact length (no trailing bytes):
//!
//! ```text
//! 0      type        u8   1 subscribe, 2 unsubscribe, 3 ack
//! 1      flags       u8   subscribe: 0x01 token present, 0x02 queue group present; others 0
//! 2..10  request_id  u64  chosen by the subscriber, echoed by the ack
//! subscribe:   name_len u8 (1..=255), name, [group_len u8 (1..=64), group],
//!              [subject 32 B (ed25519 public key), chain_len u16 (1..), chain bytes]
//! unsubscribe: name_len u8, name
//! ack:         channel u64 (canonical hash), status u8, reason u8
//!              status 0 subscribed, 1 unsubscribed, 2 not_subscribed, 3 denied
//!              reason 0 unless denied, else a `DenyReason` code
//! ```
//!
//! Promises: [`Message::parse`] is total and strict (unknown type, unknown or inconsistent flag
//! bits, channel names and group names that do not validate, a nonzero reason outside `denied`,
//! an unknown reason code, a short or long input are each their own [`WireError`]); it never
//! panics; `parse(encode(m)) == m` for every message `encode` accepts. Not here: token
//! verification (the chain bytes are carried opaque), deciding anything (see `roster`).

use std::fmt;

use super::reason::DenyReason;
use crate::channel::{ChannelHash, ChannelName};
use crate::identity::EntityId;

/// The subprotocol id of membership traffic (control messages and channel events).
pub const SUBPROTOCOL_MEMBERSHIP: u16 = 0x0A00;
/// The stream id of the control stream (subscribe / unsubscribe / ack) in each direction.
/// Channel events travel on the stream whose id is the channel's canonical hash; a channel
/// whose hash equals this id cannot be published (`PubSubError::ReservedHash`).
pub const CONTROL_STREAM: u64 = u64::MAX;
/// Longest encoded message: one event of a default frame (1,320 bytes minus the 2-byte
/// length prefix). A chain of up to 4 tokens always fits.
pub const MAX_MESSAGE_LEN: usize = 1318;
/// Longest queue-group name, in bytes.
pub const MAX_GROUP_LEN: usize = 64;

const T_SUBSCRIBE: u8 = 1;
const T_UNSUBSCRIBE: u8 = 2;
const T_ACK: u8 = 3;
const F_TOKEN: u8 = 0x01;
const F_GROUP: u8 = 0x02;
const FIXED: usize = 10;

/// A token presented with a subscribe: who presents it and the encoded chain
/// (`TokenChain::to_bytes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The presenter's ed25519 public key; its node id must be the sending peer's.
    pub subject: EntityId,
    /// The encoded chain (at least one byte).
    pub chain: Vec<u8>,
}

/// What an ack says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckStatus {
    /// The subscriber is on the roster.
    Subscribed,
    /// The subscriber was removed from the roster.
    Unsubscribed,
    /// An unsubscribe for a channel the peer was not subscribed to.
    NotSubscribed,
    /// The subscribe was refused, with the reason.
    Denied(DenyReason),
}

impl AckStatus {
    /// A stable snake_case name (`denied` reasons use the reason's name).
    pub fn kind(&self) -> &'static str {
        match self {
            AckStatus::Subscribed => "subscribed",
            AckStatus::Unsubscribed => "unsubscribed",
            AckStatus::NotSubscribed => "not_subscribed",
            AckStatus::Denied(r) => r.kind(),
        }
    }
}

/// One membership message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Put the sender on `channel`'s roster (in `group` if given).
    Subscribe {
        /// Echoed by the ack.
        request_id: u64,
        /// The channel.
        channel: ChannelName,
        /// Optional queue group: one member of a group receives each event.
        group: Option<String>,
        /// Optional token.
        credential: Option<Credential>,
    },
    /// Take the sender off `channel`'s roster.
    Unsubscribe {
        /// Echoed by the ack.
        request_id: u64,
        /// The channel.
        channel: ChannelName,
    },
    /// The answer to a subscribe or unsubscribe.
    Ack {
        /// The request answered.
        request_id: u64,
        /// The channel's canonical hash.
        channel: ChannelHash,
        /// The outcome.
        status: AckStatus,
    },
}

/// Why bytes are not a membership message, or a message cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The input ends before the message does.
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes needed at least.
        needed: usize,
    },
    /// Bytes follow the end of the message.
    TrailingBytes {
        /// Bytes present.
        len: usize,
        /// The message's length.
        expected: usize,
    },
    /// The type byte is not 1, 2 or 3.
    UnknownType(u8),
    /// Flag bits that the type does not allow.
    BadFlags(u8),
    /// The channel name is empty, not UTF-8 or does not validate.
    BadChannel,
    /// The group name is empty, longer than 64 bytes or not a valid name segment.
    BadGroup,
    /// The token chain length is 0.
    EmptyChain,
    /// The status byte is unknown, or the reason byte does not fit the status.
    BadStatus {
        /// The status byte.
        status: u8,
        /// The reason byte.
        reason: u8,
    },
    /// The channel hash of an ack is 0 (no canonical hash is 0).
    BadChannelHash,
    /// The message would be longer than [`MAX_MESSAGE_LEN`].
    TooLarge(usize),
}

impl WireError {
    /// A stable snake_case name (for counters).
    pub fn kind(&self) -> &'static str {
        match self {
            WireError::Truncated { .. } => "truncated",
            WireError::TrailingBytes { .. } => "trailing_bytes",
            WireError::UnknownType(_) => "unknown_type",
            WireError::BadFlags(_) => "bad_flags",
            WireError::BadChannel => "bad_channel",
            WireError::BadGroup => "bad_group",
            WireError::EmptyChain => "empty_chain",
            WireError::BadStatus { .. } => "bad_status",
            WireError::BadChannelHash => "bad_channel_hash",
            WireError::TooLarge(_) => "too_large",
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { len, needed } => {
                write!(
                    f,
                    "membership message truncated at {len} bytes ({needed} needed)"
                )
            }
            WireError::TrailingBytes { len, expected } => {
                write!(f, "membership message has {len} bytes, {expected} expected")
            }
            WireError::UnknownType(t) => write!(f, "unknown membership message type {t}"),
            WireError::BadFlags(b) => write!(f, "membership flags {b:#04x} not allowed"),
            WireError::BadChannel => f.write_str("membership message names an invalid channel"),
            WireError::BadGroup => f.write_str("invalid queue group name"),
            WireError::EmptyChain => f.write_str("token present but its chain is empty"),
            WireError::BadStatus { status, reason } => {
                write!(f, "bad ack status {status} with reason {reason}")
            }
            WireError::BadChannelHash => f.write_str("ack names channel hash 0"),
            WireError::TooLarge(n) => {
                write!(
                    f,
                    "membership message of {n} bytes exceeds {MAX_MESSAGE_LEN}"
                )
            }
        }
    }
}

impl std::error::Error for WireError {}

/// Whether `group` is a valid queue-group name: 1..=64 bytes of `[A-Za-z0-9_-.]`.
pub fn valid_group(group: &str) -> bool {
    !group.is_empty()
        && group.len() <= MAX_GROUP_LEN
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.at.checked_add(n).ok_or(WireError::Truncated {
            len: self.b.len(),
            needed: usize::MAX,
        })?;
        let s = self.b.get(self.at..end).ok_or(WireError::Truncated {
            len: self.b.len(),
            needed: end,
        })?;
        self.at = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, WireError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    fn u64(&mut self) -> Result<u64, WireError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }

    fn channel(&mut self) -> Result<ChannelName, WireError> {
        let n = usize::from(self.u8()?);
        if n == 0 {
            return Err(WireError::BadChannel);
        }
        let s = std::str::from_utf8(self.take(n)?).map_err(|_| WireError::BadChannel)?;
        ChannelName::parse(s).map_err(|_| WireError::BadChannel)
    }

    fn end(&self) -> Result<(), WireError> {
        if self.at == self.b.len() {
            Ok(())
        } else {
            Err(WireError::TrailingBytes {
                len: self.b.len(),
                expected: self.at,
            })
        }
    }
}

fn status_bytes(s: AckStatus) -> (u8, u8) {
    match s {
        AckStatus::Subscribed => (0, 0),
        AckStatus::Unsubscribed => (1, 0),
        AckStatus::NotSubscribed => (2, 0),
        AckStatus::Denied(r) => (3, r.code()),
    }
}

fn status_of(status: u8, reason: u8) -> Result<AckStatus, WireError> {
    let bad = WireError::BadStatus { status, reason };
    match (status, reason) {
        (0, 0) => Ok(AckStatus::Subscribed),
        (1, 0) => Ok(AckStatus::Unsubscribed),
        (2, 0) => Ok(AckStatus::NotSubscribed),
        (3, r) => DenyReason::from_code(r).map(AckStatus::Denied).ok_or(bad),
        _ => Err(bad),
    }
}

fn push_name(out: &mut Vec<u8>, name: &str) {
    // Channel names are at most 255 bytes (validated by `ChannelName`).
    out.push(u8::try_from(name.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(name.as_bytes());
}

impl Message {
    /// The request id.
    pub fn request_id(&self) -> u64 {
        match self {
            Message::Subscribe { request_id, .. }
            | Message::Unsubscribe { request_id, .. }
            | Message::Ack { request_id, .. } => *request_id,
        }
    }

    /// The bytes of the message. Refused: a group that does not validate, an empty chain, or
    /// a message longer than [`MAX_MESSAGE_LEN`].
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut out = Vec::with_capacity(64);
        match self {
            Message::Subscribe {
                request_id,
                channel,
                group,
                credential,
            } => {
                let mut flags = 0;
                if credential.is_some() {
                    flags |= F_TOKEN;
                }
                if group.is_some() {
                    flags |= F_GROUP;
                }
                out.extend_from_slice(&[T_SUBSCRIBE, flags]);
                out.extend_from_slice(&request_id.to_le_bytes());
                push_name(&mut out, channel.as_str());
                if let Some(g) = group {
                    if !valid_group(g) {
                        return Err(WireError::BadGroup);
                    }
                    push_name(&mut out, g);
                }
                if let Some(c) = credential {
                    if c.chain.is_empty() {
                        return Err(WireError::EmptyChain);
                    }
                    let n = u16::try_from(c.chain.len())
                        .map_err(|_| WireError::TooLarge(c.chain.len()))?;
                    out.extend_from_slice(c.subject.as_bytes());
                    out.extend_from_slice(&n.to_le_bytes());
                    out.extend_from_slice(&c.chain);
                }
            }
            Message::Unsubscribe {
                request_id,
                channel,
            } => {
                out.extend_from_slice(&[T_UNSUBSCRIBE, 0]);
                out.extend_from_slice(&request_id.to_le_bytes());
                push_name(&mut out, channel.as_str());
            }
            Message::Ack {
                request_id,
                channel,
                status,
            } => {
                out.extend_from_slice(&[T_ACK, 0]);
                out.extend_from_slice(&request_id.to_le_bytes());
                out.extend_from_slice(&channel.get().to_le_bytes());
                let (s, r) = status_bytes(*status);
                out.extend_from_slice(&[s, r]);
            }
        }
        if out.len() > MAX_MESSAGE_LEN {
            return Err(WireError::TooLarge(out.len()));
        }
        Ok(out)
    }

    /// Parses one message (see the module docs for the checks).
    pub fn parse(bytes: &[u8]) -> Result<Message, WireError> {
        if bytes.len() > MAX_MESSAGE_LEN {
            return Err(WireError::TooLarge(bytes.len()));
        }
        if bytes.len() < FIXED {
            return Err(WireError::Truncated {
                len: bytes.len(),
                needed: FIXED,
            });
        }
        let mut r = Reader { b: bytes, at: 0 };
        let ty = r.u8()?;
        let flags = r.u8()?;
        let request_id = r.u64()?;
        let msg = match ty {
            T_SUBSCRIBE => {
                if flags & !(F_TOKEN | F_GROUP) != 0 {
                    return Err(WireError::BadFlags(flags));
                }
                let channel = r.channel()?;
                let group = if flags & F_GROUP != 0 {
                    let n = usize::from(r.u8()?);
                    let g = std::str::from_utf8(r.take(n)?).map_err(|_| WireError::BadGroup)?;
                    if !valid_group(g) {
                        return Err(WireError::BadGroup);
                    }
                    Some(g.to_string())
                } else {
                    None
                };
                let credential = if flags & F_TOKEN != 0 {
                    let mut subject = [0u8; 32];
                    subject.copy_from_slice(r.take(32)?);
                    let n = usize::from(r.u16()?);
                    if n == 0 {
                        return Err(WireError::EmptyChain);
                    }
                    Some(Credential {
                        subject: EntityId(subject),
                        chain: r.take(n)?.to_vec(),
                    })
                } else {
                    None
                };
                Message::Subscribe {
                    request_id,
                    channel,
                    group,
                    credential,
                }
            }
            T_UNSUBSCRIBE => {
                if flags != 0 {
                    return Err(WireError::BadFlags(flags));
                }
                Message::Unsubscribe {
                    request_id,
                    channel: r.channel()?,
                }
            }
            T_ACK => {
                if flags != 0 {
                    return Err(WireError::BadFlags(flags));
                }
                let channel = ChannelHash::from_u64(r.u64()?).ok_or(WireError::BadChannelHash)?;
                let status = r.u8()?;
                let reason = r.u8()?;
                Message::Ack {
                    request_id,
                    channel,
                    status: status_of(status, reason)?,
                }
            }
            t => return Err(WireError::UnknownType(t)),
        };
        r.end()?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> ChannelName {
        ChannelName::parse(s).unwrap()
    }

    #[test]
    fn round_trips_and_exact_bytes() {
        let ack = Message::Ack {
            request_id: 7,
            channel: name("a/b").hash(),
            status: AckStatus::Denied(DenyReason::Revoked),
        };
        let b = ack.encode().unwrap();
        assert_eq!(b.len(), 20);
        assert_eq!(&b[..2], &[3, 0]);
        assert_eq!(&b[2..10], &7u64.to_le_bytes());
        assert_eq!(b[18], 3);
        assert_eq!(b[19], DenyReason::Revoked.code());
        assert_eq!(Message::parse(&b).unwrap(), ack);
        let sub = Message::Subscribe {
            request_id: u64::MAX,
            channel: name("sensors/lidar"),
            group: Some("workers".into()),
            credential: Some(Credential {
                subject: EntityId([9; 32]),
                chain: vec![1, 2, 3],
            }),
        };
        let b = sub.encode().unwrap();
        assert_eq!(b.len(), 10 + 1 + 13 + 1 + 7 + 32 + 2 + 3);
        assert_eq!(b[1], 0x03);
        assert_eq!(Message::parse(&b).unwrap(), sub);
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let ok = Message::Unsubscribe {
            request_id: 1,
            channel: name("x"),
        }
        .encode()
        .unwrap();
        let mut bad = ok.clone();
        bad[1] = 1;
        assert_eq!(Message::parse(&bad), Err(WireError::BadFlags(1)));
        let mut bad = ok.clone();
        bad[0] = 9;
        assert_eq!(Message::parse(&bad), Err(WireError::UnknownType(9)));
        let mut bad = ok.clone();
        bad.push(0);
        assert!(matches!(
            Message::parse(&bad),
            Err(WireError::TrailingBytes { .. })
        ));
        let mut bad = ok;
        bad[11] = b'/';
        assert_eq!(Message::parse(&bad), Err(WireError::BadChannel));
        let g = Message::Subscribe {
            request_id: 1,
            channel: name("x"),
            group: Some("no spaces".into()),
            credential: None,
        };
        assert_eq!(g.encode(), Err(WireError::BadGroup));
    }
}
