//! Identity key files: an identity's 32-byte seed on disk, readable by its owner only.
//!
//! Format (text, ASCII, one line): `net-mesh-identity-v1 <64 lowercase hex digits>\n`. Only the
//! seed is stored; everything else (node id, origin hash, X25519 key) is derived from it.
//!
//! Promises: [`Identity::save`] creates the file with mode `0600` (written to a temporary file
//! in the same directory, synced, then renamed, so a crash never leaves a half-written key) and
//! refuses to replace an existing file unless asked. [`Identity::load`] refuses a file that
//! group or others may read or write (like OpenSSH), a file larger than a key file can be, and
//! any other content, each with a typed [`KeyFileError`]. Seed bytes read or written are
//! zeroized after use. Unix only (the permission checks need Unix modes).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use zeroize::Zeroize;

use super::Identity;

/// The first word of a key file.
pub const KEY_FILE_TAG: &str = "net-mesh-identity-v1";

/// Largest file `load` reads: the tag, a space, 64 hex digits and a line ending, with room.
const MAX_KEY_FILE: u64 = 256;

/// Why a key file could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file system refused an operation.
    Io {
        /// What was being done (`"create"`, `"read"`, ...).
        op: &'static str,
        /// The path involved.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// `save` found a file already at the path and was not allowed to replace it.
    Exists(String),
    /// The file's mode lets group or others access it.
    TooOpen {
        /// The path.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The content is not a key file.
    BadFormat(String),
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyFileError::Io { op, path, message } => write!(f, "{op} {path}: {message}"),
            KeyFileError::Exists(path) => {
                write!(f, "{path} already exists (refusing to replace a key)")
            }
            KeyFileError::TooOpen { path, mode } => write!(
                f,
                "{path} has mode {mode:03o}: a key file must not be accessible by group or others (chmod 600)"
            ),
            KeyFileError::BadFormat(why) => write!(f, "not a net-mesh key file: {why}"),
        }
    }
}

impl std::error::Error for KeyFileError {}

/// Every key file error is the caller's to fix (a path, a mode, a file's content), so all
/// of them are `invalid_argument`; the message says which.
impl From<KeyFileError> for crate::Error {
    fn from(e: KeyFileError) -> Self {
        crate::Error::InvalidArgument(format!("key file: {e}"))
    }
}

fn io(op: &'static str, path: &Path, e: std::io::Error) -> KeyFileError {
    KeyFileError::Io {
        op,
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

impl Identity {
    /// Writes this identity's seed to `path` with mode `0600`. An existing file is an error
    /// ([`KeyFileError::Exists`]) unless `replace` is true.
    pub fn save(&self, path: &Path, replace: bool) -> Result<(), KeyFileError> {
        if !replace && fs::symlink_metadata(path).is_ok() {
            return Err(KeyFileError::Exists(path.display().to_string()));
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let name = path
            .file_name()
            .ok_or_else(|| KeyFileError::BadFormat(format!("{} names no file", path.display())))?;
        let tmp = dir.unwrap_or(Path::new(".")).join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let mut seed = self.signing.to_bytes();
        let mut line = format!("{KEY_FILE_TAG} {}\n", hex(&seed));
        seed.zeroize();
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(|e| io("create", &tmp, e))?;
            f.write_all(line.as_bytes())
                .map_err(|e| io("write", &tmp, e))?;
            f.sync_all().map_err(|e| io("sync", &tmp, e))?;
            fs::rename(&tmp, path).map_err(|e| io("rename", path, e))
        })();
        line.zeroize();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Reads an identity from a key file written by [`Identity::save`].
    pub fn load(path: &Path) -> Result<Identity, KeyFileError> {
        let mut f = File::open(path).map_err(|e| io("open", path, e))?;
        let meta = f.metadata().map_err(|e| io("stat", path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::TooOpen {
                path: path.display().to_string(),
                mode,
            });
        }
        if meta.len() > MAX_KEY_FILE {
            return Err(KeyFileError::BadFormat(format!(
                "{} bytes, a key file has fewer than {MAX_KEY_FILE}",
                meta.len()
            )));
        }
        let mut text = Vec::new();
        (&mut f)
            .take(MAX_KEY_FILE + 1)
            .read_to_end(&mut text)
            .map_err(|e| io("read", path, e))?;
        let parsed = parse(&text);
        text.zeroize();
        let mut seed = parsed?;
        let id = Identity::from_seed(&seed);
        seed.zeroize();
        Ok(id)
    }
}

fn parse(text: &[u8]) -> Result<[u8; 32], KeyFileError> {
    let text =
        std::str::from_utf8(text).map_err(|_| KeyFileError::BadFormat("not UTF-8 text".into()))?;
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let Some((tag, digits)) = line.split_once(' ') else {
        return Err(KeyFileError::BadFormat(format!(
            "expected `{KEY_FILE_TAG} <64 hex digits>`"
        )));
    };
    if tag != KEY_FILE_TAG {
        return Err(KeyFileError::BadFormat(format!(
            "unknown tag (expected `{KEY_FILE_TAG}`)"
        )));
    }
    if digits.len() != 64 {
        return Err(KeyFileError::BadFormat(format!(
            "the seed has {} hex digits, expected 64",
            digits.len()
        )));
    }
    let mut seed = [0u8; 32];
    for (i, pair) in digits.as_bytes().chunks_exact(2).enumerate() {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(h), Some(l)) => seed[i] = h << 4 | l,
            _ => {
                seed.zeroize();
                return Err(KeyFileError::BadFormat(
                    "the seed is not lowercase hex".into(),
                ));
            }
        }
    }
    Ok(seed)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_only_the_exact_format() {
        let digits = "00".repeat(31) + "ff";
        let ok = format!("{KEY_FILE_TAG} {digits}\n");
        assert_eq!(parse(ok.as_bytes()).unwrap()[31], 0xff);
        assert!(parse(format!("{KEY_FILE_TAG} {digits}").as_bytes()).is_ok());
        for bad in [
            String::new(),
            KEY_FILE_TAG.to_owned(),
            format!("{KEY_FILE_TAG}  {digits}"),
            format!("net-mesh-identity-v2 {digits}"),
            format!("{KEY_FILE_TAG} {}", &digits[..62]),
            format!(
                "{KEY_FILE_TAG} {}",
                digits.to_uppercase().replace("00", "0G")
            ),
            format!("{KEY_FILE_TAG} {}FF", &digits[..62]),
            format!("{KEY_FILE_TAG} {digits}\nextra"),
        ] {
            assert!(
                matches!(parse(bad.as_bytes()), Err(KeyFileError::BadFormat(_))),
                "{bad:?}"
            );
        }
        assert!(parse(&[0xff, 0xfe]).is_err());
    }
}
