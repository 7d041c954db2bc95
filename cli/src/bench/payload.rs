//! The standard payload: `{"token":"hello","index":N,"pad":"..."}` padded to exactly 64 bytes.

use net::Event;

use crate::failure::{CliResult, fail};

/// Size of every benchmark event in bytes.
pub const PAYLOAD_BYTES: usize = 64;

/// The JSON text of event `index` (exactly [`PAYLOAD_BYTES`] long).
pub fn text(index: u64) -> String {
    let head = format!(r#"{{"token":"hello","index":{index},"pad":""#);
    let pad = PAYLOAD_BYTES.saturating_sub(head.len() + 2);
    let mut s = String::with_capacity(PAYLOAD_BYTES);
    s.push_str(&head);
    s.extend(std::iter::repeat_n('x', pad));
    s.push_str("\"}");
    s
}

/// `n` events, serialized and validated now (before any timer), each with its own buffer.
pub fn events(n: u64) -> CliResult<Vec<Event>> {
    (0..n)
        .map(|i| Event::from_str(&text(i)).map_err(|e| fail!("payload {i}: {e}")))
        .collect()
}

/// `n` payload texts (for workloads that validate inside the timer).
pub fn texts(n: u64) -> Vec<String> {
    (0..n).map(text).collect()
}

/// An order-independent fingerprint of a set of events: the wrapping sum of a hash of each
/// event's buffer address and length. Equal fingerprints and equal counts mean the receiver
/// holds exactly the buffers the sender built (none missing, none repeated) without copying or
/// parsing a byte inside the timed loop.
pub fn fingerprint_one(event: &Event) -> u64 {
    let addr = event.raw().as_ptr() as u64;
    (addr ^ ((event.len() as u64) << 56)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// [`fingerprint_one`] summed over `events`.
pub fn fingerprint<'a>(events: impl IntoIterator<Item = &'a Event>) -> u64 {
    events
        .into_iter()
        .fold(0u64, |acc, e| acc.wrapping_add(fingerprint_one(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_payload_is_64_bytes_of_valid_json() {
        for i in [0, 7, 10, 999, 1_000_000, 1_999_999, u64::MAX] {
            let t = text(i);
            assert_eq!(t.len(), PAYLOAD_BYTES, "{t}");
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            assert_eq!(v["index"], i);
            assert_eq!(v["token"], "hello");
        }
    }
}
