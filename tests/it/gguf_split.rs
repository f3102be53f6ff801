//! Split models: parts found by name, validated and merged; a later part or a missing
//! part is an error naming the file to open or the file that is missing.

use std::path::{Path, PathBuf};

use bitmoe::gguf::{
    split::part_path, ErrorKind, GgufFile, GgufWriter, MetaValue, Metadata, TensorDecl,
};
use bitmoe::quant::QuantType;

struct PartSpec {
    no: u16,
    count: u16,
    total: i32,
    tensors: Vec<&'static str>,
}

fn write_part(prefix: &Path, spec: &PartSpec) -> PathBuf {
    let path = part_path(prefix, u32::from(spec.no) + 1, u32::from(spec.count));
    write_part_at(&path, spec);
    path
}

fn write_part_at(path: &Path, spec: &PartSpec) {
    let mut md = Metadata::new();
    if spec.no == 0 {
        md.set("general.architecture", MetaValue::String("llama".into()));
    }
    md.set("split.no", MetaValue::U16(spec.no));
    md.set("split.count", MetaValue::U16(spec.count));
    md.set("split.tensors.count", MetaValue::I32(spec.total));
    let decls: Vec<TensorDecl> = spec
        .tensors
        .iter()
        .map(|n| TensorDecl {
            name: n.to_string(),
            dims: vec![32, 2],
            ty: QuantType::Q8_0,
        })
        .collect();
    let mut w = GgufWriter::create(path, &md, &decls).unwrap();
    for (i, _) in decls.iter().enumerate() {
        w.write_data(&[i as u8 + 10 * spec.no as u8; 68]).unwrap();
    }
    w.finish().unwrap();
}

fn three_parts(dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    let prefix = dir.join("Model-UD-IQ1_S");
    let specs = [
        PartSpec {
            no: 0,
            count: 3,
            total: 5,
            tensors: vec!["a", "b"],
        },
        PartSpec {
            no: 1,
            count: 3,
            total: 5,
            tensors: vec!["c", "d"],
        },
        PartSpec {
            no: 2,
            count: 3,
            total: 5,
            tensors: vec!["e"],
        },
    ];
    let paths = specs.iter().map(|s| write_part(&prefix, s)).collect();
    (prefix, paths)
}

#[test]
fn parts_are_found_and_merged() {
    let dir = tempfile::tempdir().unwrap();
    let (_, paths) = three_parts(dir.path());
    let f = GgufFile::open(&paths[0]).unwrap();
    assert_eq!(f.parts().len(), 3);
    let names: Vec<&str> = f.tensors().iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    let d = f.tensor("d").unwrap();
    assert_eq!(d.part, 1);
    assert_eq!(f.tensor_data(d).unwrap(), &[11u8; 68][..]);
    assert_eq!(
        f.metadata().get_str("general.architecture").unwrap(),
        Some("llama")
    );
}

#[test]
fn opening_a_later_part_names_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let (_, paths) = three_parts(dir.path());
    let e = GgufFile::open(&paths[1]).unwrap_err();
    match &e.kind {
        ErrorKind::SplitLaterPart {
            no: 2,
            count: 3,
            first,
        } => assert_eq!(first, &paths[0]),
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().contains("Model-UD-IQ1_S-00001-of-00003.gguf"),
        "{e}"
    );
}

#[test]
fn a_missing_part_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (_, paths) = three_parts(dir.path());
    std::fs::remove_file(&paths[2]).unwrap();
    let e = GgufFile::open(&paths[0]).unwrap_err();
    match &e.kind {
        ErrorKind::SplitMissingPart {
            no: 3,
            count: 3,
            missing,
        } => assert_eq!(missing, &paths[2]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn inconsistent_parts_are_rejected() {
    // Part 2 claims to be split.no 2; tensor total wrong; a tensor in two parts.
    type Expect = fn(&ErrorKind) -> bool;
    let cases: [(Vec<PartSpec>, Expect); 3] = [
        (
            vec![
                PartSpec {
                    no: 0,
                    count: 2,
                    total: 2,
                    tensors: vec!["a"],
                },
                PartSpec {
                    no: 0,
                    count: 2,
                    total: 2,
                    tensors: vec!["b"],
                },
            ],
            |k| {
                matches!(
                    k,
                    ErrorKind::SplitLaterPart { .. }
                        | ErrorKind::SplitMismatch {
                            key: "split.no",
                            ..
                        }
                )
            },
        ),
        (
            vec![
                PartSpec {
                    no: 0,
                    count: 2,
                    total: 9,
                    tensors: vec!["a"],
                },
                PartSpec {
                    no: 1,
                    count: 2,
                    total: 9,
                    tensors: vec!["b"],
                },
            ],
            |k| {
                matches!(
                    k,
                    ErrorKind::SplitTensorCount {
                        expected: 9,
                        found: 2
                    }
                )
            },
        ),
        (
            vec![
                PartSpec {
                    no: 0,
                    count: 2,
                    total: 2,
                    tensors: vec!["a"],
                },
                PartSpec {
                    no: 1,
                    count: 2,
                    total: 2,
                    tensors: vec!["a"],
                },
            ],
            |k| matches!(k, ErrorKind::DuplicateTensor { .. }),
        ),
    ];
    for (i, (specs, ok)) in cases.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("m");
        // Each part goes under its position's file name even when its keys lie.
        let first = part_path(&prefix, 1, 2);
        write_part_at(&first, &specs[0]);
        write_part_at(&part_path(&prefix, 2, 2), &specs[1]);
        let e = GgufFile::open(&first).unwrap_err();
        assert!(ok(&e.kind), "case {i}: {e}");
    }
}

#[test]
fn a_split_model_with_a_nonconforming_name_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, paths) = three_parts(dir.path());
    let renamed = dir.path().join("renamed.gguf");
    std::fs::rename(&paths[0], &renamed).unwrap();
    let e = GgufFile::open(&renamed).unwrap_err();
    assert!(
        matches!(e.kind, ErrorKind::SplitUnnamed { count: 3 }),
        "{e}"
    );
}
