//! Fingerprints: the only form in which codex-warden keeps a key, a token or a file's content.

use sha2::{Digest as _, Sha256};

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex SHA-256 of a secret: the only form in which a key or token is kept.
pub fn fingerprint(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// The first 12 hex digits of a fingerprint, as shown in audit records and status.
pub fn short_fingerprint(fp: &str) -> &str {
    fp.get(..12).unwrap_or(fp)
}
