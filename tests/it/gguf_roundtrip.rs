//! The writer: every value type round-trips; read → write → read is byte-identical;
//! misuse is an error.

use std::path::Path;

use bitmoe::gguf::{ErrorKind, GgufFile, GgufWriter, MetaArray, MetaValue, Metadata, TensorDecl};
use bitmoe::quant::QuantType;

pub fn every_value_type() -> Metadata {
    let mut md = Metadata::new();
    md.set("general.architecture", MetaValue::String("llama".into()));
    md.set("general.alignment", MetaValue::U32(64));
    md.set("t.u8", MetaValue::U8(200));
    md.set("t.i8", MetaValue::I8(-5));
    md.set("t.u16", MetaValue::U16(65_000));
    md.set("t.i16", MetaValue::I16(-30_000));
    md.set("t.u32", MetaValue::U32(4_000_000_000));
    md.set("t.i32", MetaValue::I32(-2_000_000_000));
    md.set("t.f32", MetaValue::F32(f32::from_bits(0x7fc0_1234))); // a NaN payload survives
    md.set("t.bool", MetaValue::Bool(true));
    md.set("t.string", MetaValue::String("héllo <｜User｜>".into()));
    md.set("t.u64", MetaValue::U64(u64::MAX));
    md.set("t.i64", MetaValue::I64(i64::MIN));
    md.set("t.f64", MetaValue::F64(-1.5e300));
    md.set("t.empty", MetaValue::String(String::new()));
    md.set("a.u8", MetaValue::Array(MetaArray::U8(vec![1, 2, 3])));
    md.set("a.i32", MetaValue::Array(MetaArray::I32(vec![-1, 3, 6])));
    md.set("a.f32", MetaValue::Array(MetaArray::F32(vec![0.5, -0.25])));
    md.set(
        "a.bool",
        MetaValue::Array(MetaArray::Bool(vec![true, false])),
    );
    md.set(
        "a.str",
        MetaValue::Array(MetaArray::String(vec![
            "a".into(),
            "".into(),
            "Ġthe".into(),
        ])),
    );
    md.set("a.u64", MetaValue::Array(MetaArray::U64(vec![])));
    md.set(
        "a.nested",
        MetaValue::Array(MetaArray::Array(vec![
            MetaArray::U16(vec![7, 8]),
            MetaArray::String(vec!["x".into()]),
            MetaArray::Array(vec![MetaArray::F64(vec![1.0])]),
        ])),
    );
    md
}

fn decls() -> Vec<TensorDecl> {
    let d = |name: &str, dims: &[u64], ty| TensorDecl {
        name: name.into(),
        dims: dims.to_vec(),
        ty,
    };
    vec![
        d("token_embd.weight", &[256, 3], QuantType::Q4K),
        d("output_norm.weight", &[5], QuantType::F32),
        d("blk.0.ffn_up_exps.weight", &[256, 2, 4], QuantType::Iq1S),
        d("blk.0.attn_q.weight", &[32, 3], QuantType::Q8_0),
    ]
}

/// Deterministic bytes for tensor `i`.
fn data_for(i: usize, n: u64) -> Vec<u8> {
    (0..n).map(|j| (j as usize * 31 + i * 7) as u8).collect()
}

fn write_file(path: &Path, chunk: usize) {
    let decls = decls();
    let mut w = GgufWriter::create(path, &every_value_type(), &decls).unwrap();
    for (i, d) in decls.iter().enumerate() {
        let n = d.ty.tensor_bytes(&d.dims).unwrap();
        for c in data_for(i, n).chunks(chunk) {
            w.write_data(c).unwrap();
        }
    }
    w.finish().unwrap();
}

#[test]
fn every_value_type_and_tensor_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.gguf");
    write_file(&a, 1 << 20);
    let f = GgufFile::open(&a).unwrap();
    // NaN payloads compare unequal; compare bits of that one and the rest by value.
    let expected = every_value_type();
    for (k, v) in expected.iter() {
        let got = f.metadata().get(k).unwrap();
        match (v, got) {
            (MetaValue::F32(x), MetaValue::F32(y)) => assert_eq!(x.to_bits(), y.to_bits()),
            _ => assert_eq!(v, got, "{k}"),
        }
    }
    assert_eq!(
        f.metadata().iter().map(|(k, _)| k).collect::<Vec<_>>(),
        expected.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    assert_eq!(f.parts()[0].alignment, 64);
    for (i, (t, d)) in f.tensors().iter().zip(decls()).enumerate() {
        assert_eq!((&t.name, &t.dims, t.ty), (&d.name, &d.dims, d.ty));
        assert_eq!(t.offset % 64, 0);
        assert_eq!(f.tensor_data(t).unwrap(), data_for(i, t.n_bytes).as_slice());
    }
}

#[test]
fn chunking_does_not_change_the_bytes_and_rewrite_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    write_file(&a, 1 << 20);
    write_file(&b, 7);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // read → write → read.
    let f = GgufFile::open(&a).unwrap();
    let decls: Vec<TensorDecl> = f.tensors().iter().map(TensorDecl::from).collect();
    let mut w = GgufWriter::create(&c, f.metadata(), &decls).unwrap();
    for t in f.tensors() {
        w.write_data(f.tensor_data(t).unwrap()).unwrap();
    }
    w.finish().unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
}

#[test]
fn writer_misuse_is_an_error() {
    let md = every_value_type();
    let decls = decls();
    let sink = |decls: &[TensorDecl]| GgufWriter::new(Vec::new(), Path::new("mem"), &md, decls);
    // Too many bytes for the first tensor.
    let mut w = sink(&decls).unwrap();
    let e = w.write_data(&vec![0; 10_000]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Write(_)), "{e}");
    // Finishing early names the tensor.
    let w = sink(&decls).unwrap();
    let e = w.finish().unwrap_err();
    assert!(e.to_string().contains("token_embd.weight"), "{e}");
    // A shape that is not whole blocks.
    let bad = [TensorDecl {
        name: "x".into(),
        dims: vec![100],
        ty: QuantType::Q4K,
    }];
    assert!(matches!(
        sink(&bad).err().unwrap().kind,
        ErrorKind::BadShape { .. }
    ));
}
