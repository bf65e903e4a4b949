//! A resource limiter whose refusal is a typed trap, so a memory-hungry
//! adapter ends with a clear "memory limit" error rather than a bare abort.

use wasmtime::ResourceLimiter;

use super::error::SandboxViolation;

/// Caps linear memory and tables of one store.
#[derive(Debug, Clone)]
pub struct MemoryLimiter {
    memory_bytes: usize,
}

impl MemoryLimiter {
    /// A limiter allowing `memory_bytes` per linear memory.
    pub fn new(memory_bytes: usize) -> Self {
        Self { memory_bytes }
    }
}

/// Tables are small in Rust guests; this guards against a table bomb.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(wasmtime::Error::new(SandboxViolation::MemoryLimit {
                limit_bytes: self.memory_bytes,
                requested_bytes: desired,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        32
    }

    fn memories(&self) -> usize {
        8
    }

    fn tables(&self) -> usize {
        16
    }
}
