//! Components embedded by `build.rs` from every crate under `adapters/`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// `(package, component bytes)` for every bundled adapter.
pub fn bundled_components() -> &'static [(&'static str, &'static [u8])] {
    generated::BUNDLED_COMPONENTS
}

/// The `sha256:` digest of bundled `package`, computed at build time so
/// start-up does not hash megabytes of components.
pub fn bundled_digest(package: &str) -> Option<&'static str> {
    generated::BUNDLED_DIGESTS
        .iter()
        .find(|(p, _)| *p == package)
        .map(|(_, d)| *d)
}
