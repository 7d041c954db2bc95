//! [`Redex`]: the manager mapping channel names to open files.
//!
//! Promises: one open handle per channel name (opening again returns the same file); channel
//! names are validated before any path is built, so a name can never escape the base
//! directory. Does not promise cross-process exclusion: two processes must not open the same
//! directory's channel at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;

use super::config::RedexFileConfig;
use super::error::RedexError;
use super::file::RedexFile;

/// Longest accepted channel name in bytes.
pub const MAX_CHANNEL_LEN: usize = 255;

/// Checks a channel name: 1..=255 bytes of `/`-separated segments, each non-empty, made of
/// ASCII letters, digits, `_`, `-` and `.`, and not `.` or `..`.
pub fn validate_channel(name: &str) -> Result<(), RedexError> {
    let bad = |m: &str| Err(RedexError::InvalidChannel(format!("{name:?}: {m}")));
    if name.is_empty() || name.len() > MAX_CHANNEL_LEN {
        return bad("length must be 1..=255");
    }
    for seg in name.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return bad("empty, `.` or `..` segment");
        }
        if !seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return bad("only ASCII letters, digits, `_`, `-`, `.` and `/` are allowed");
        }
    }
    Ok(())
}

/// Owns the open files of one process, optionally rooted at a base directory.
#[derive(Clone, Debug, Default)]
pub struct Redex {
    base: Option<PathBuf>,
    files: Arc<Mutex<HashMap<String, RedexFile>>>,
}

impl Redex {
    /// A manager for heap-only files.
    pub fn new() -> Redex {
        Redex::default()
    }

    /// A manager whose persistent files live under `base/<channel>/`.
    pub fn with_dir(base: impl Into<PathBuf>) -> Redex {
        Redex {
            base: Some(base.into()),
            files: Arc::default(),
        }
    }

    /// The base directory, if any.
    pub fn base_dir(&self) -> Option<&Path> {
        self.base.as_deref()
    }

    /// Opens (or returns the already open) file of `channel`.
    pub fn open_file(
        &self,
        channel: &str,
        config: RedexFileConfig,
    ) -> Result<RedexFile, RedexError> {
        validate_channel(channel)?;
        let mut files = self.files.lock();
        if let Some(f) = files.get(channel)
            && !f.is_closed()
        {
            return Ok(f.clone());
        }
        let dir = if config.persistent {
            let Some(base) = &self.base else {
                return Err(RedexError::InvalidConfig {
                    key: "persistent",
                    message: "the manager has no base directory (use Redex::with_dir)".into(),
                });
            };
            Some(base.join(channel))
        } else {
            None
        };
        let f = RedexFile::open(channel, dir.as_deref(), config)?;
        files.insert(channel.to_string(), f.clone());
        Ok(f)
    }

    /// The open file of `channel`, if any.
    pub fn get(&self, channel: &str) -> Option<RedexFile> {
        self.files.lock().get(channel).cloned()
    }

    /// Names of the open files, sorted.
    pub fn channels(&self) -> Vec<String> {
        let mut v: Vec<String> = self.files.lock().keys().cloned().collect();
        v.sort();
        v
    }

    /// Closes and forgets the file of `channel` (no-op when not open).
    pub fn close_file(&self, channel: &str) -> Result<(), RedexError> {
        let f = self.files.lock().remove(channel);
        match f {
            Some(f) => f.close(),
            None => Ok(()),
        }
    }

    /// Closes every open file; returns the first error after trying all.
    pub fn close_all(&self) -> Result<(), RedexError> {
        let all: Vec<RedexFile> = self.files.lock().drain().map(|(_, f)| f).collect();
        let mut first = Ok(());
        for f in all {
            if let Err(e) = f.close()
                && first.is_ok()
            {
                first = Err(e);
            }
        }
        first
    }
}
