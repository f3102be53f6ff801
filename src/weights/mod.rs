//! Weights: typed, shape-checked views of a model's tensors in the mapped GGUF files.
//!
//! Owns: [`Weights`] (the opened model file set) and [`WeightRef`] (where one tensor
//! lives, its kernel type and shape), bound once at load with every shape checked, so
//! the forward pass only slices. Placement (resident / expert cache / GPU) and the
//! expert cache arrive with later issues and will sit behind this module.
//! Depends on `gguf`, `schema` and `bitmoe_simd`'s type ids.

pub mod experts;
pub mod placement;

use bitmoe_simd::GgmlType;

use crate::gguf::{GgufFile, TensorInfo};
use crate::model::ops::QMatrix;
use crate::schema::TensorKind;

/// Why a tensor cannot be bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeightsError {
    #[error("tensor {name} is missing")]
    Missing { name: String },
    #[error("tensor {name} has shape {found:?}, expected {expected:?}")]
    Shape {
        name: String,
        expected: Vec<u64>,
        found: Vec<u64>,
    },
    #[error("tensor {name} has type {ty}, which bitmoe has no kernel for")]
    UnsupportedType { name: String, ty: String },
    #[error("tensor {name} must be f32, found {ty}")]
    NotF32 { name: String, ty: String },
}

/// Where one tensor lives: its part, absolute byte range and kernel type.
#[derive(Debug, Clone)]
pub struct WeightRef {
    pub name: String,
    pub ty: GgmlType,
    /// GGUF dimensions, fastest first.
    pub dims: Vec<usize>,
    part: usize,
    start: usize,
    len: usize,
}

impl WeightRef {
    /// Elements per row (`dims[0]`).
    pub fn k(&self) -> usize {
        self.dims[0]
    }

    /// Rows (product of the other dimensions).
    pub fn rows(&self) -> usize {
        self.dims[1..].iter().product()
    }

    /// Bytes of the whole tensor.
    pub fn n_bytes(&self) -> usize {
        self.len
    }

    /// Which file of a split model holds it, and its absolute byte range there.
    pub fn location(&self) -> (usize, std::ops::Range<usize>) {
        (self.part, self.start..self.start + self.len)
    }
}

/// An opened model's tensors.
#[derive(Debug)]
pub struct Weights {
    file: GgufFile,
}

impl Weights {
    pub fn new(file: GgufFile) -> Weights {
        Weights { file }
    }

    pub fn file(&self) -> &GgufFile {
        &self.file
    }

    fn info(&self, name: &str) -> Result<&TensorInfo, WeightsError> {
        self.file.tensor(name).ok_or_else(|| WeightsError::Missing {
            name: name.to_string(),
        })
    }

    /// Binds tensor `kind` of `layer` with the expected GGUF shape.
    pub fn bind(
        &self,
        kind: TensorKind,
        layer: usize,
        shape: &[usize],
    ) -> Result<WeightRef, WeightsError> {
        self.bind_name(&kind.name(layer), shape)
    }

    /// Like [`Weights::bind`], `None` when the tensor is absent (optional tensors).
    pub fn bind_optional(
        &self,
        kind: TensorKind,
        layer: usize,
        shape: &[usize],
    ) -> Result<Option<WeightRef>, WeightsError> {
        match self.bind(kind, layer, shape) {
            Err(WeightsError::Missing { .. }) => Ok(None),
            r => r.map(Some),
        }
    }

    fn bind_name(&self, name: &str, shape: &[usize]) -> Result<WeightRef, WeightsError> {
        let t = self.info(name)?;
        let expected: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        // Trailing 1-dimensions are equivalent ([576] == [576, 1]).
        let trim = |d: &[u64]| {
            let mut v = d.to_vec();
            while v.len() > 1 && v.last() == Some(&1) {
                v.pop();
            }
            v
        };
        if trim(&t.dims) != trim(&expected) {
            return Err(WeightsError::Shape {
                name: name.to_string(),
                expected,
                found: t.dims.clone(),
            });
        }
        let ty = GgmlType::from_id(t.ty.id())
            .filter(|ty| ty.vec_dot_type().is_some())
            .ok_or_else(|| WeightsError::UnsupportedType {
                name: name.to_string(),
                ty: t.ty.to_string(),
            })?;
        let part = &self.file.parts()[t.part];
        // Ranges were validated against the file at open.
        let start = (part.data_start + t.offset) as usize;
        Ok(WeightRef {
            name: name.to_string(),
            ty,
            dims: shape.to_vec(),
            part: t.part,
            start,
            len: t.n_bytes as usize,
        })
    }

    /// Binds an f32 tensor (norm weights, biases) and copies it out.
    pub fn f32_vector(
        &self,
        kind: TensorKind,
        layer: usize,
        len: usize,
    ) -> Result<Vec<f32>, WeightsError> {
        let r = self.bind(kind, layer, &[len])?;
        if r.ty != GgmlType::F32 {
            return Err(WeightsError::NotF32 {
                name: r.name,
                ty: r.ty.name().to_string(),
            });
        }
        Ok(self
            .bytes(&r)
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// Like [`Weights::f32_vector`], `None` when absent.
    pub fn f32_vector_optional(
        &self,
        kind: TensorKind,
        layer: usize,
        len: usize,
    ) -> Result<Option<Vec<f32>>, WeightsError> {
        match self.f32_vector(kind, layer, len) {
            Err(WeightsError::Missing { .. }) => Ok(None),
            r => r.map(Some),
        }
    }

    /// The bytes of a bound tensor.
    pub fn bytes(&self, r: &WeightRef) -> &[u8] {
        &self.file.parts()[r.part].map.bytes()[r.start..r.start + r.len]
    }

    /// A bound 2-D tensor as a matrix of `rows()` rows of `k()` elements.
    pub fn matrix(&self, r: &WeightRef) -> QMatrix<'_> {
        QMatrix::new(r.ty, r.k(), r.rows(), self.bytes(r)).expect("shape and type checked at bind")
    }

    /// Row `i` of a bound matrix, dequantized into `out` (`k()` floats).
    pub fn dequantize_row(
        &self,
        kernels: &bitmoe_simd::Kernels,
        r: &WeightRef,
        i: usize,
        out: &mut [f32],
    ) {
        let row_bytes = r.ty.row_bytes(r.k()).expect("checked at bind");
        let bytes = &self.bytes(r)[i * row_bytes..(i + 1) * row_bytes];
        kernels.dequantize(r.ty)(bytes, out);
    }
}
