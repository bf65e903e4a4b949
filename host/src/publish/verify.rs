//! A reader that checks a blob against its digest as it streams, so a
//! corrupt layer is caught without reading it twice or holding it in memory.
//!
//! The check happens at end of file: a corrupt blob fails the read that
//! would have returned EOF, so a consumer that uploads while reading never
//! sees a clean finish for bad content (a registry will then refuse the
//! upload's digest anyway, but this error says which file is at fault).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use sha2::{Digest as _, Sha256, Sha512};
use tokio::io::{AsyncRead, ReadBuf};

use crate::registry::digest::Digest;

enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    fn for_digest(digest: &Digest) -> Self {
        match digest.algorithm() {
            "sha512" => Hasher::Sha512(Sha512::new()),
            _ => Hasher::Sha256(Sha256::new()),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest::from_sha256(h),
            Hasher::Sha512(h) => {
                let text = format!("sha512:{}", hex::encode(h.finalize()));
                // A sha512 hex string is always a valid digest; fall back to
                // an impossible-to-match sha256 rather than panic.
                text.parse()
                    .unwrap_or_else(|_| Digest::sha256_of(text.as_bytes()))
            }
        }
    }
}

enum State {
    Reading(Box<Hasher>),
    Verified,
    Failed(String),
}

/// Wraps a blob's reader; fails with `InvalidData` at EOF (or as soon as
/// too many bytes arrive) when the content does not match `expected`.
pub struct VerifyingReader<R> {
    inner: R,
    expected: Digest,
    expected_size: u64,
    read: u64,
    /// Names the blob in errors: `oci:/dir: blobs/sha256/ab...`.
    label: String,
    state: State,
}

impl<R> VerifyingReader<R> {
    /// Verify `inner` against `expected` and `expected_size`; `label` names
    /// the blob in the error.
    pub fn new(inner: R, expected: Digest, expected_size: u64, label: String) -> Self {
        let state = State::Reading(Box::new(Hasher::for_digest(&expected)));
        Self {
            inner,
            expected,
            expected_size,
            read: 0,
            label,
            state,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for VerifyingReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match &this.state {
            State::Verified => return Poll::Ready(Ok(())),
            State::Failed(message) => {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    message.clone(),
                )));
            }
            State::Reading(_) => {}
        }
        let before = buf.filled().len();
        let wanted = buf.remaining();
        if let Err(e) = std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, buf)) {
            return Poll::Ready(Err(e));
        }
        let fresh = &buf.filled()[before..];
        this.read += fresh.len() as u64;
        if let State::Reading(hasher) = &mut this.state {
            hasher.update(fresh);
        }
        if this.read > this.expected_size {
            let message = format!(
                "{} is corrupt: it is longer than the expected {} bytes of {}",
                this.label, this.expected_size, this.expected
            );
            this.state = State::Failed(message.clone());
            // A failed read must not hand out bytes.
            buf.set_filled(before);
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, message)));
        }
        if fresh.is_empty() && wanted > 0 {
            let State::Reading(hasher) = std::mem::replace(&mut this.state, State::Verified) else {
                return Poll::Ready(Ok(()));
            };
            let actual = (*hasher).finish();
            if actual != this.expected || this.read != this.expected_size {
                let message = format!(
                    "{} is corrupt: expected {} ({} bytes) but read {} ({} bytes); rebuild or re-export the image",
                    this.label, this.expected, this.expected_size, actual, this.read
                );
                this.state = State::Failed(message.clone());
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, message)));
            }
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn read_all(data: &'static [u8], digest: Digest, size: u64) -> io::Result<Vec<u8>> {
        let mut reader = VerifyingReader::new(data, digest, size, "test blob".to_owned());
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await?;
        Ok(out)
    }

    #[tokio::test]
    async fn passes_matching_content() {
        let data = b"layer bytes";
        let out = read_all(data, Digest::sha256_of(data), data.len() as u64)
            .await
            .expect("verifies");
        assert_eq!(out, data);
        let out = read_all(data, Digest::sha512_of(data), data.len() as u64)
            .await
            .expect("sha512 verifies");
        assert_eq!(out, data);
    }

    #[tokio::test]
    async fn fails_at_eof_on_mismatch() {
        let err = read_all(b"layer bytez", Digest::sha256_of(b"layer bytes"), 11)
            .await
            .expect_err("corrupt");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("test blob is corrupt"), "{err}");
        let err = read_all(b"layer bytez", Digest::sha512_of(b"layer bytes"), 11)
            .await
            .expect_err("corrupt sha512");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[tokio::test]
    async fn fails_on_wrong_length() {
        let err = read_all(b"layer", Digest::sha256_of(b"layer"), 9)
            .await
            .expect_err("short");
        assert!(err.to_string().contains("5 bytes"), "{err}");
        let err = read_all(b"layer bytes", Digest::sha256_of(b"layer bytes"), 3)
            .await
            .expect_err("long");
        assert!(err.to_string().contains("longer than"), "{err}");
    }

    #[tokio::test]
    async fn keeps_failing_after_an_error() {
        let mut reader =
            VerifyingReader::new(&b"abc"[..], Digest::sha256_of(b"abd"), 3, "b".to_owned());
        let mut out = Vec::new();
        assert!(reader.read_to_end(&mut out).await.is_err());
        let mut buf = [0u8; 4];
        assert!(
            reader.read(&mut buf).await.is_err(),
            "a second read must not report a clean EOF"
        );
    }
}
