//! Exports `regent:adapter/registry@0.2.0`, which no regent supports yet.

wit_bindgen::generate!({ path: "wit", world: "adapter" });

/// Exported only on wasm32: component export names are not native symbols.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Future;

impl exports::regent::adapter::registry::Guest for Future {
    fn info() -> String {
        "from the future".to_owned()
    }
}

#[cfg(target_arch = "wasm32")]
export!(Future);
