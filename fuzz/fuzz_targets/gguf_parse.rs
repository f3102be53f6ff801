//! Fuzz the GGUF parser: any bytes must give a header or a typed error — no panic, no
//! hang, no allocation beyond a small multiple of the input. On success, every tensor's
//! byte range must lie inside the input and the hyper-parameter reader and `info`
//! summary must cope with whatever metadata came through.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(h) = bitmoe::gguf::parse(data, Path::new("fuzz.gguf")) else {
        return;
    };
    for t in &h.tensors {
        let end = h.data_start + t.offset + t.n_bytes;
        assert!(end <= data.len() as u64);
    }
    let _ = bitmoe::schema::Hparams::from_metadata(&h.metadata);
});
