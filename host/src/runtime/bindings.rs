//! Host bindings generated from `wit/adapter.wit`. Every import may trap,
//! which is how sandbox violations end a call.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "adapter",
    imports: { default: trappable },
});
