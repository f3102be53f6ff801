//! `bitmoe dump`: a tensor dequantized to f32 as .npy.

use crate::support::bitmoe;
use bitmoe::gguf::{GgufWriter, MetaValue, Metadata, TensorDecl};
use bitmoe::quant::QuantType;

/// Parses an f32 .npy: (shape text, values).
fn read_npy(bytes: &[u8]) -> (String, Vec<f32>) {
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = String::from_utf8(bytes[10..10 + len].to_vec()).unwrap();
    let values = bytes[10 + len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (header, values)
}

#[test]
fn dump_q8_0_tensor_to_npy() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.gguf");
    let mut md = Metadata::new();
    md.set("general.architecture", MetaValue::String("llama".into()));
    let decl = TensorDecl {
        name: "blk.0.attn_q.weight".into(),
        dims: vec![64, 3],
        ty: QuantType::Q8_0,
    };
    let mut w = GgufWriter::create(&model, &md, &[decl]).unwrap();
    // 3 rows × 2 blocks; block b of row r: scale 0.5 · (b + 1), quants q_j = j - 16 + r.
    let mut expected = Vec::new();
    for r in 0..3i32 {
        for b in 0..2 {
            let d = 0.5 * (b + 1) as f32;
            w.write_data(&half::f16::from_f32(d).to_le_bytes()).unwrap();
            let qs: Vec<u8> = (0..32).map(|j| (j - 16 + r) as i8 as u8).collect();
            w.write_data(&qs).unwrap();
            expected.extend((0..32).map(|j| d * (j - 16 + r) as f32));
        }
    }
    w.finish().unwrap();
    let out = dir.path().join("q.npy");
    let o = bitmoe(&[
        "dump",
        "-m",
        model.to_str().unwrap(),
        "blk.0.attn_q.weight",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (header, values) = read_npy(&std::fs::read(&out).unwrap());
    assert!(header.contains("'shape': (3, 64)"), "{header}");
    assert_eq!(values, expected);

    let o = bitmoe(&[
        "dump",
        "-m",
        model.to_str().unwrap(),
        "attn_q",
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("no tensor named")
            && err.contains("blk.0.attn_q.weight"),
        "{err}"
    );
}
