//! Test adapters built by `build.rs` from `tests/adapters/*`.

mod generated {
    include!(concat!(env!("OUT_DIR"), "/test_components.rs"));
}

/// The component bytes of the test adapter package `package`.
pub fn component(package: &str) -> &'static [u8] {
    generated::TEST_COMPONENTS
        .iter()
        .find(|(name, _)| *name == package)
        .map(|(_, bytes)| *bytes)
        .unwrap_or_else(|| panic!("no test component {package}; is it under tests/adapters/?"))
}
