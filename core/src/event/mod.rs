//! The event type: opaque bytes that are known to be one valid JSON value.
//!
//! An [`Event`] is validated once, when it is made, and is cheap to clone afterwards (a
//! reference-counted byte buffer). The engine never re-serializes an event: what a producer
//! emitted is byte for byte what a consumer reads.

use std::fmt;

use bytes::Bytes;

use crate::error::{Error, Result};

pub mod validate;

/// One event: the bytes of a single valid JSON value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Event {
    raw: Bytes,
}

impl Event {
    /// Validates `json` and copies it into a new event.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(json: &str) -> Result<Event> {
        Self::from_slice(json.as_bytes())
    }

    /// Validates `bytes` as JSON (UTF-8, one value, nothing trailing) and copies them.
    pub fn from_slice(bytes: &[u8]) -> Result<Event> {
        validate(bytes)?;
        Ok(Event {
            raw: Bytes::copy_from_slice(bytes),
        })
    }

    /// Validates `bytes` as JSON and takes ownership without copying.
    pub fn from_bytes(bytes: Bytes) -> Result<Event> {
        validate(&bytes)?;
        Ok(Event { raw: bytes })
    }

    /// Wraps bytes the caller has already validated with [`validate`] (no second pass).
    pub(crate) fn from_validated(raw: Bytes) -> Event {
        debug_assert!(validate(&raw).is_ok());
        Event { raw }
    }

    /// Serializes `value` to JSON. Serialization output is valid JSON, so it is not re-checked.
    /// A value that cannot be represented as JSON (a map with non-string keys, a failing
    /// `Serialize` impl) is `Error::InvalidArgument`.
    pub fn from_serialize<T: serde::Serialize + ?Sized>(value: &T) -> Result<Event> {
        let vec = serde_json::to_vec(value)
            .map_err(|e| Error::InvalidArgument(format!("cannot serialize to JSON: {e}")))?;
        Ok(Event {
            raw: Bytes::from(vec),
        })
    }

    /// The raw JSON bytes.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The raw JSON as text (always valid UTF-8, because it was validated as JSON).
    pub fn as_str(&self) -> &str {
        // Validation checked UTF-8, so this cannot fail; the fallback keeps the function total
        // without `unsafe`.
        std::str::from_utf8(&self.raw).unwrap_or("")
    }

    /// The underlying shared buffer.
    pub fn bytes(&self) -> &Bytes {
        &self.raw
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// True if the event has no bytes (never the case for a validated event).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Parses the event into a `serde_json::Value`.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_slice(&self.raw).unwrap_or(serde_json::Value::Null)
    }

    /// Deserializes the event into `T`.
    pub fn decode<'a, T: serde::Deserialize<'a>>(&'a self) -> Result<T> {
        serde_json::from_slice(&self.raw).map_err(|e| Error::InvalidJson(e.to_string()))
    }
}

/// Checks that `bytes` hold exactly one JSON value (surrounding whitespace allowed); see
/// [`validate::validate_json`] for the exact rules.
pub fn validate(bytes: &[u8]) -> Result<()> {
    validate::validate_json(bytes).map_err(|e| Error::InvalidJson(e.to_string()))
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Event").field(&self.as_str()).finish()
    }
}

impl std::str::FromStr for Event {
    type Err = Error;
    fn from_str(s: &str) -> Result<Event> {
        Event::from_slice(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_any_json_value() {
        for ok in [r#"{"a":1}"#, "[1,2]", "3", "\"s\"", "null", "  {}  "] {
            assert_eq!(Event::from_str(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_malformed_json() {
        for bad in ["", "{", "{\"a\":}", "{} {}", "nul", "{'a':1}", "[1,]"] {
            let err = Event::from_str(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidJson, "{bad:?}");
        }
        let err = Event::from_slice(b"\"\xff\"").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidJson);
    }
}
