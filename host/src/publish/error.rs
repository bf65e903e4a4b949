//! What can go wrong reading an image source.
//!
//! Every error names the source (as the user wrote it, with the path made
//! absolute), the file inside it, and what to do about it, because the user
//! sees these messages far away from the build that produced the layout or
//! archive.

use std::path::PathBuf;

use crate::registry::digest::Digest;

/// Why an image source could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The operating system refused a read; `what` says which file and why
    /// regent wanted it.
    #[error("{source_name}: cannot read {what} ({path}): {error}", path = path.display())]
    Io {
        source_name: String,
        what: String,
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// The directory is not an OCI image layout at all.
    #[error(
        "{source_name}: {reason}; an OCI image layout holds `oci-layout`, `index.json` and `blobs/` \
         (write one with e.g. `skopeo copy docker://IMAGE oci:DIR:REF` or `docker buildx build --output type=oci,tar=false,dest=DIR`)"
    )]
    NotALayout { source_name: String, reason: String },
    /// A metadata file inside the source is malformed.
    #[error("{source_name}: {file} is not valid: {reason}")]
    Invalid {
        source_name: String,
        file: String,
        reason: String,
    },
    /// A file the source needs is not there.
    #[error("{source_name}: {file} is missing{hint}", hint = hint_suffix(hint))]
    Missing {
        source_name: String,
        file: String,
        hint: String,
    },
    /// A file is larger than regent reads into memory for that kind of file.
    #[error(
        "{source_name}: {file} is {size} bytes, over the {limit}-byte limit for {kind}; \
         the source is probably damaged or not what it claims to be"
    )]
    TooLarge {
        source_name: String,
        file: String,
        kind: &'static str,
        size: u64,
        limit: u64,
    },
    /// Content does not hash to the digest that names it.
    #[error(
        "{source_name}: {file} is corrupt: expected {expected} ({expected_size} bytes) but found {actual} ({actual_size} bytes); \
         rebuild or re-export the image"
    )]
    DigestMismatch {
        source_name: String,
        file: String,
        expected: Digest,
        expected_size: u64,
        actual: Digest,
        actual_size: u64,
    },
    /// A blob or manifest asked for is not in the source.
    #[error(
        "{source_name}: {digest} is not in this source; it may be a platform or layer that the export left out \
         (e.g. `docker save` with the containerd store keeps only the local platform)"
    )]
    NotFound { source_name: String, digest: Digest },
    /// The requested ref does not name an image in the source.
    #[error(
        "{source_name}: no image is named {wanted:?}; {}",
        list_refs(available)
    )]
    RefNotFound {
        source_name: String,
        wanted: String,
        available: Vec<String>,
    },
    /// No ref was given and the source holds more than one image.
    #[error(
        "{source_name}: holds {count} images; pick one by appending `:REF` to the source ({})",
        list_refs(available)
    )]
    Ambiguous {
        source_name: String,
        count: usize,
        available: Vec<String>,
    },
    /// The source holds no image.
    #[error("{source_name}: holds no image")]
    Empty { source_name: String },
    /// Every image needs a ref for an operation that names images by ref.
    #[error(
        "{source_name}: image {digest} has no ref name, so it cannot be published under one; \
         give it a ref (the `org.opencontainers.image.ref.name` annotation in index.json)"
    )]
    Unnamed { source_name: String, digest: Digest },
    /// Two images claim the same ref.
    #[error(
        "{source_name}: the ref {reference:?} names more than one image ({first}, {second}); remove one from index.json"
    )]
    DuplicateRef {
        source_name: String,
        reference: String,
        first: Digest,
        second: Digest,
    },
    /// The source uses a format or feature regent does not read.
    #[error("{source_name}: {what} is not supported{hint}", hint = hint_suffix(hint))]
    Unsupported {
        source_name: String,
        what: String,
        hint: String,
    },
    /// A `docker://` source is read by the registry client, not here.
    #[error(
        "{reference:?} is a remote image (docker://); local image sources are oci:DIR[:REF] and docker-archive:FILE[:REF]"
    )]
    Remote { reference: String },
    /// A background read could not finish (the runtime shut down).
    #[error("{source_name}: reading was interrupted: {reason}")]
    Interrupted { source_name: String, reason: String },
}

fn hint_suffix(hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!("; {hint}")
    }
}

fn list_refs(refs: &[String]) -> String {
    if refs.is_empty() {
        "none of them has a ref".to_owned()
    } else {
        let quoted: Vec<String> = refs.iter().map(|r| format!("{r:?}")).collect();
        format!("refs: {}", quoted.join(", "))
    }
}
