//! Stream and subject names of the JetStream adapter.

/// The stream of `shard`: `{prefix}_shard_{shard}`.
pub(super) fn stream(prefix: &str, shard: u16) -> String {
    format!("{prefix}_shard_{shard}")
}

/// The subject of `shard`: `{prefix}.shard.{shard}`.
pub(super) fn subject(prefix: &str, shard: u16) -> String {
    format!("{prefix}.shard.{shard}")
}

/// The stream whose sequence numbers are producer ids.
pub(super) fn producers_stream(prefix: &str) -> String {
    format!("{prefix}_producers")
}

/// The subject of [`producers_stream`].
pub(super) fn producers_subject(prefix: &str) -> String {
    format!("{prefix}.producers")
}
