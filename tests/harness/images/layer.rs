//! Layer tars with reproducible bytes: fixed owners, modes and times, and
//! seeded pseudo-random content for large layers (benchmarks need big blobs
//! that neither compress nor deduplicate, yet are the same on every run).

use std::io::Write;

use super::{Compression, sha256_digest};

/// An uncompressed layer tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    tar: Vec<u8>,
}

impl Layer {
    /// A tar of regular files (`path`, content), in the given order.
    pub fn from_files(files: &[(&str, &[u8])]) -> Self {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut header = tar::Header::new_ustar();
            header
                .set_path(path)
                .unwrap_or_else(|e| panic!("tar path {path:?}: {e}"));
            header.set_size(content.len() as u64);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_cksum();
            builder
                .append(&header, *content)
                .expect("append to an in-memory tar");
        }
        Self {
            tar: builder.into_inner().expect("finish an in-memory tar"),
        }
    }

    /// One file `random-<seed>.bin` of exactly `size` bytes from
    /// [`seeded_bytes`]; the tar is a little larger (headers and padding).
    pub fn random(size: usize, seed: u64) -> Self {
        let content = seeded_bytes(size, seed);
        Self::from_files(&[(&format!("random-{seed}.bin"), &content)])
    }

    /// The tar bytes.
    pub fn tar(&self) -> &[u8] {
        &self.tar
    }

    /// Take the tar bytes.
    pub fn into_tar(self) -> Vec<u8> {
        self.tar
    }

    /// `sha256:` of the uncompressed tar, as listed in the config's `rootfs.diff_ids`.
    pub fn diff_id(&self) -> String {
        sha256_digest(&self.tar)
    }

    /// The blob as stored in a registry. Gzip output is deterministic:
    /// flate2 writes mtime 0 and no file name.
    pub fn blob(&self, compression: Compression) -> Vec<u8> {
        match compression {
            Compression::None => self.tar.clone(),
            Compression::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(&self.tar).expect("gzip into memory");
                encoder.finish().expect("finish gzip")
            }
        }
    }
}

/// `size` pseudo-random bytes determined by `seed` (SplitMix64): fast,
/// incompressible, and identical on every machine.
pub fn seeded_bytes(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(size + 8);
    while out.len() < size {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(size);
    out
}
