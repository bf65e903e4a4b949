# regent's tasks. `just demo` and `just test` are the README's quick start.

set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# Build the regent binary (bundled adapters are built and embedded by host/build.rs).
build:
    cargo build -p regent

# Build every bundled adapter to a component on its own (target/wasm-adapters).
adapters:
    rustup target add wasm32-wasip2
    cargo build --target wasm32-wasip2 --profile adapter --target-dir target/wasm-adapters \
        $(for d in adapters/*/; do n=$(basename "$d"); [ "$n" = sdk ] || [ "$n" = builder ] || echo "-p regent-adapter-$n"; done)
    @ls -l target/wasm-adapters/wasm32-wasip2/adapter/*.wasm

# Run every test: unit, sandbox, end-to-end (starts its own servers on loopback).
test:
    cargo build -p regent
    cargo test --workspace --no-fail-fast

# Build, start a local CNCF registry, run the main job end to end, stop everything.
demo:
    bash scripts/demo.sh

# Benchmarks (results go to bench/RESULTS.md).
bench:
    cargo run -p regent-tests --bin adapter-bench
    cargo build -p regent
    cargo run -p regent-tests --bin events-bench
    cargo run -p regent-tests --bin registry-bench

# Format all code.
fmt:
    cargo fmt --all

# Lints as CI wants them: formatting and clippy with warnings as errors.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
