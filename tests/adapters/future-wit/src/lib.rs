//! Exports `regent:adapter/registry@0.2.0`, which no regent supports yet.

wit_bindgen::generate!({ path: "wit", world: "adapter" });

struct Future;

impl exports::regent::adapter::registry::Guest for Future {
    fn info() -> String {
        "from the future".to_owned()
    }
}

export!(Future);
