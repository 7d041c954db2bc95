//! [`TypedRedexFile`]: a RedEX file whose payloads are serde values encoded with postcard.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::RedexError;
use super::file::{RedexEvent, RedexFile};
use super::tail::RedexTail;

/// Encodes `v` with postcard.
pub fn encode<T: Serialize + ?Sized>(v: &T) -> Result<Vec<u8>, RedexError> {
    postcard::to_allocvec(v).map_err(|e| RedexError::Encode(e.to_string()))
}

/// Decodes a postcard value.
pub fn decode<T: DeserializeOwned>(b: &[u8]) -> Result<T, RedexError> {
    postcard::from_bytes(b).map_err(|e| RedexError::Decode(e.to_string()))
}

/// A typed view of a [`RedexFile`]; the file itself stays usable untyped.
pub struct TypedRedexFile<T> {
    file: RedexFile,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for TypedRedexFile<T> {
    fn clone(&self) -> Self {
        TypedRedexFile {
            file: self.file.clone(),
            _t: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for TypedRedexFile<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TypedRedexFile").field(&self.file).finish()
    }
}

impl<T: Serialize + DeserializeOwned> TypedRedexFile<T> {
    /// Wraps `file`.
    pub fn new(file: RedexFile) -> Self {
        TypedRedexFile {
            file,
            _t: PhantomData,
        }
    }

    /// The untyped file.
    pub fn file(&self) -> &RedexFile {
        &self.file
    }

    /// Encodes and appends one value.
    pub fn append(&self, value: &T) -> Result<u64, RedexError> {
        self.file.append(&encode(value)?)
    }

    /// Encodes and appends values as one all-or-nothing batch.
    pub fn append_batch(&self, values: &[T]) -> Result<Option<u64>, RedexError> {
        let enc = values.iter().map(encode).collect::<Result<Vec<_>, _>>()?;
        self.file.append_batch(&enc)
    }

    /// Decoded entries with `start <= seq < end`.
    pub fn read_range(&self, start: u64, end: u64) -> Result<Vec<(u64, T)>, RedexError> {
        self.file
            .read_range(start, end)
            .into_iter()
            .map(|e| Ok((e.seq, decode(&e.payload)?)))
            .collect()
    }

    /// A tail yielding decoded values.
    pub fn tail(&self, from_seq: u64) -> impl Iterator<Item = Result<(u64, T), RedexError>> {
        let t: RedexTail = self.file.tail(from_seq);
        t.blocking_iter()
            .map(|r| r.and_then(|e: RedexEvent| Ok((e.seq, decode(&e.payload)?))))
    }
}
