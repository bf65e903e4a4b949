//! Components embedded by `build.rs` from every crate under `adapters/`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// `(package, component bytes)` for every bundled adapter.
pub fn bundled_components() -> &'static [(&'static str, &'static [u8])] {
    generated::BUNDLED_COMPONENTS
}
