//! Integration tests of bitmoe-simd, one binary with a module per concern:
//! * `dequant`: every scalar dequantizer against the `gguf`-package vectors;
//! * `dot_vectors`: activation quantizers and dots against llama.cpp's CPU library;
//! * `isa`: every ISA level this host supports against the scalar references.

mod common;
mod dequant;
mod dot_vectors;
mod isa;
