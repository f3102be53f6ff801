//! Hostile and broken GGUF files: each must give a typed error naming the problem —
//! never a panic, a hang or a huge allocation.

use std::path::Path;

use bitmoe::gguf::{parse, ErrorKind, GgufFile};

use crate::support::{small_valid, Raw, T_ARRAY, T_BOOL, T_STRING, T_U32, T_U8};

fn kind(bytes: &[u8]) -> ErrorKind {
    match parse(bytes, Path::new("test.gguf")) {
        Ok(_) => panic!("expected an error"),
        Err(e) => {
            // The message names the file.
            assert!(e.to_string().starts_with("test.gguf: "), "{e}");
            e.kind
        }
    }
}

#[test]
fn the_base_file_is_valid() {
    let (bytes, _) = small_valid();
    let h = parse(&bytes, Path::new("x")).unwrap();
    assert_eq!(h.tensors.len(), 3);
    assert_eq!(h.metadata.len(), 3);
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    let (bytes, end_of_data) = small_valid();
    for cut in 0..end_of_data {
        match kind(&bytes[..cut]) {
            ErrorKind::Truncated { .. }
            | ErrorKind::BadMagic { .. }
            | ErrorKind::TensorOutOfFile { .. } => {}
            other => panic!("cut at {cut}: unexpected {other:?}"),
        }
    }
    // Trailing padding after the last tensor is optional.
    parse(&bytes[..end_of_data], Path::new("x")).unwrap();
}

#[test]
fn bad_magic_and_versions() {
    assert!(matches!(
        kind(b"GGUX\x03\0\0\0"),
        ErrorKind::BadMagic { .. }
    ));
    assert!(matches!(kind(b""), ErrorKind::BadMagic { .. }));
    for v in [0u32, 1, 4, 0x0300_0000] {
        let r = Raw::header(v, 0, 0);
        assert!(matches!(kind(&r.bytes), ErrorKind::UnsupportedVersion { found } if found == v));
    }
    // Version 2 is read like 3.
    parse(&Raw::header(2, 0, 0).bytes, Path::new("x")).unwrap();
}

#[test]
fn absurd_counts_are_refused_before_allocating() {
    for (n_tensors, n_kv) in [(u64::MAX, 0), (0, u64::MAX), (1 << 40, 0), (0, 1 << 19)] {
        let r = Raw::header(3, n_tensors, n_kv);
        match kind(&r.bytes) {
            ErrorKind::TooLarge { .. } | ErrorKind::Truncated { .. } => {}
            other => panic!("{n_tensors}/{n_kv}: {other:?}"),
        }
    }
    // A key length of 2^63.
    let mut r = Raw::header(3, 0, 1);
    r.u64(1 << 63);
    assert!(matches!(
        kind(&r.bytes),
        ErrorKind::TooLarge {
            what: "metadata key",
            ..
        }
    ));
    // A string value longer than the file.
    let mut r = Raw::header(3, 0, 1);
    r.str("k").u32(T_STRING).u64(1 << 20);
    assert!(matches!(kind(&r.bytes), ErrorKind::Truncated { .. }));
    let mut r = Raw::header(3, 0, 1);
    r.str("k").u32(T_STRING).u64(1 << 40);
    assert!(matches!(kind(&r.bytes), ErrorKind::TooLarge { .. }));
    // An array claiming 2^60 u32 elements, and 1M strings in a 40-byte file.
    for (elem, n) in [(T_U32, 1u64 << 60), (T_STRING, 1 << 20)] {
        let mut r = Raw::header(3, 0, 1);
        r.str("k").u32(T_ARRAY).u32(elem).u64(n);
        match kind(&r.bytes) {
            ErrorKind::TooLarge { .. } | ErrorKind::Truncated { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    // A tensor name of 2^40 bytes.
    let mut r = Raw::header(3, 1, 0);
    r.u64(1 << 40);
    assert!(matches!(kind(&r.bytes), ErrorKind::TooLarge { .. }));
}

#[test]
fn unknown_value_types_bools_and_keys() {
    let mut r = Raw::header(3, 0, 1);
    r.str("k").u32(13).u32(0);
    assert!(matches!(
        kind(&r.bytes),
        ErrorKind::UnknownValueType { found: 13, .. }
    ));
    let mut r = Raw::header(3, 0, 1);
    r.str("k").u32(T_ARRAY).u32(99).u64(0);
    assert!(matches!(
        kind(&r.bytes),
        ErrorKind::UnknownValueType { found: 99, .. }
    ));
    let mut r = Raw::header(3, 0, 1);
    r.str("k").u32(T_BOOL).u8(2);
    assert!(matches!(
        kind(&r.bytes),
        ErrorKind::InvalidBool { found: 2, .. }
    ));
    let mut r = Raw::header(3, 0, 1);
    r.str("").u32(T_U8).u8(0);
    assert!(matches!(kind(&r.bytes), ErrorKind::EmptyKey { .. }));
    let mut r = Raw::header(3, 0, 2);
    r.kv_u32("a.b", 1).kv_u32("a.b", 2);
    assert!(matches!(kind(&r.bytes), ErrorKind::DuplicateKey { key, .. } if key == "a.b"));
    let mut r = Raw::header(3, 0, 1);
    r.u64(2).data(&[0xff, 0xfe]).u32(T_U8).u8(0);
    assert!(matches!(kind(&r.bytes), ErrorKind::InvalidUtf8 { .. }));
}

#[test]
fn nested_arrays_are_read_and_depth_is_capped() {
    // [[1, 2], []] of u8 arrays.
    let mut r = Raw::header(3, 0, 1);
    r.str("nested").u32(T_ARRAY).u32(T_ARRAY).u64(2);
    r.u32(T_U8).u64(2).u8(1).u8(2);
    r.u32(T_U8).u64(0);
    parse(&r.bytes, Path::new("x")).unwrap();
    // 100 levels deep.
    let mut r = Raw::header(3, 0, 1);
    r.str("deep").u32(T_ARRAY);
    for _ in 0..100 {
        r.u32(T_ARRAY).u64(1);
    }
    assert!(matches!(kind(&r.bytes), ErrorKind::NestedTooDeep { .. }));
}

#[test]
fn alignment_must_be_a_u32_power_of_two() {
    for bad in [0u32, 3, 48] {
        let mut r = Raw::header(3, 0, 1);
        r.kv_u32("general.alignment", bad);
        assert!(
            matches!(kind(&r.bytes), ErrorKind::BadAlignment { .. }),
            "{bad}"
        );
    }
    let mut r = Raw::header(3, 0, 1);
    r.kv_str("general.alignment", "32");
    assert!(matches!(kind(&r.bytes), ErrorKind::BadAlignment { .. }));
}

/// A file with one tensor info and `data_len` bytes of data.
fn one_tensor(name: &str, dims: &[u64], ty: u32, offset: u64, data_len: usize) -> Vec<u8> {
    let mut r = Raw::header(3, 1, 0);
    r.tensor(name, dims, ty, offset)
        .pad(32)
        .data(&vec![0; data_len]);
    r.bytes
}

#[test]
fn bad_tensor_infos() {
    let k = |b: Vec<u8>| kind(&b);
    assert!(matches!(
        k(one_tensor("", &[8], 0, 0, 32)),
        ErrorKind::BadTensorName { .. }
    ));
    assert!(matches!(
        k(one_tensor(&"x".repeat(64), &[8], 0, 0, 32)),
        ErrorKind::BadTensorName { .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[], 0, 0, 32)),
        ErrorKind::BadDimCount { found: 0, .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[1, 1, 1, 1, 1], 0, 0, 32)),
        ErrorKind::BadDimCount { found: 5, .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[8], 99, 0, 32)),
        ErrorKind::UnknownTensorType { id: 99, .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[32], 4, 0, 32)),
        ErrorKind::RemovedTensorType { id: 4, .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[100], 12, 0, 32)),
        ErrorKind::BadShape { .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[u64::MAX, 2], 0, 0, 32)),
        ErrorKind::BadShape { .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[8], 0, 1, 64)),
        ErrorKind::MisalignedTensor { offset: 1, .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[8], 0, 1 << 40, 32)),
        ErrorKind::TensorOutOfFile { .. }
    ));
    assert!(matches!(
        k(one_tensor("t", &[8], 0, u64::MAX - 31, 32)),
        ErrorKind::TensorOutOfFile { .. }
    ));
    // The data is one byte short.
    assert!(matches!(
        k(one_tensor("t", &[8], 0, 0, 31)),
        ErrorKind::TensorOutOfFile { .. }
    ));
    one_tensor("t", &[8], 0, 0, 32);
}

#[test]
fn overlapping_and_duplicate_tensors() {
    let mut r = Raw::header(3, 2, 0);
    r.tensor("a", &[16], 0, 0)
        .tensor("b", &[8], 0, 32)
        .pad(32)
        .data(&[0; 96]);
    assert!(matches!(
        kind(&r.bytes),
        ErrorKind::OverlappingTensors { .. }
    ));
    let mut r = Raw::header(3, 2, 0);
    r.tensor("a", &[8], 0, 0)
        .tensor("a", &[8], 0, 32)
        .pad(32)
        .data(&[0; 64]);
    assert!(matches!(kind(&r.bytes), ErrorKind::DuplicateTensor { .. }));
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let e = GgufFile::open("/nonexistent/model.gguf").unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Io(_)));
    assert!(e.to_string().contains("/nonexistent/model.gguf"), "{e}");
}

#[test]
fn random_corruption_never_panics() {
    // Flip bytes of the valid file at pseudo-random places: any result but a panic is
    // fine, and every error must render.
    let (bytes, _) = small_valid();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..20_000 {
        let mut b = bytes.clone();
        for _ in 0..1 + next() % 4 {
            let i = (next() % b.len() as u64) as usize;
            b[i] = next() as u8;
        }
        if let Err(e) = parse(&b, Path::new("x")) {
            assert!(!e.to_string().is_empty());
        }
    }
}
