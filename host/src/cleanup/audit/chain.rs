//! The hash chain itself: how a log splits into lines and what each line's
//! hash is. Kept in one place so the writer and the verifier can never
//! disagree about which bytes are hashed.

use sha2::{Digest, Sha256};

/// The `prev` of the first record: 64 zeros, since nothing comes before it.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Lower-case hex SHA-256 of one line's exact bytes (without its newline):
/// what the next record stores as `prev`. Exact bytes, not re-serialised
/// JSON, so any change to a line — even whitespace — breaks the chain.
pub fn line_hash(line: &[u8]) -> String {
    hex::encode(Sha256::digest(line))
}

/// Split a log into its lines (without newlines). A final newline ends the
/// last line rather than starting an empty one; any other empty line is kept
/// so the verifier can report it.
pub fn split_lines(content: &[u8]) -> Vec<&[u8]> {
    if content.is_empty() {
        return Vec::new();
    }
    let body = content.strip_suffix(b"\n").unwrap_or(content);
    body.split(|b| *b == b'\n').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_is_64_zeros() {
        assert_eq!(GENESIS_PREV.len(), 64);
        assert!(GENESIS_PREV.bytes().all(|b| b == b'0'));
    }

    #[test]
    fn hash_is_sha256_hex_of_exact_bytes() {
        assert_eq!(
            line_hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(line_hash(b"{\"a\":1}"), line_hash(b"{\"a\": 1}"));
    }

    #[test]
    fn splits_lines_keeping_inner_empty_ones() {
        assert!(split_lines(b"").is_empty());
        assert_eq!(split_lines(b"a\nb\n"), vec![&b"a"[..], b"b"]);
        assert_eq!(split_lines(b"a\nb"), vec![&b"a"[..], b"b"]);
        assert_eq!(split_lines(b"a\n\nb\n"), vec![&b"a"[..], b"", b"b"]);
        assert_eq!(split_lines(b"a\n\n"), vec![&b"a"[..], b""]);
    }
}
