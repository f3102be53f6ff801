//! One tensor-info record (spec `gguf.md` §4), after validation.

use crate::quant::QuantType;

/// Where one tensor lives and what it is. Dimensions are in GGUF order, fastest-varying
/// first: a weight `[K, N]` is N rows of K elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    pub dims: Vec<u64>,
    pub ty: QuantType,
    /// Offset of the data relative to its part's data section, as stored.
    pub offset: u64,
    /// Bytes of data (rows × row bytes), without alignment padding.
    pub n_bytes: u64,
    /// Index of the split part holding the data (0 for single-file models).
    pub part: usize,
}

impl TensorInfo {
    /// Number of elements.
    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Bytes of one row (`dims[0]` elements).
    pub fn row_bytes(&self) -> u64 {
        // Validated at open: dims[0] is a whole number of blocks and fits.
        self.ty.row_bytes(self.dims[0]).unwrap_or(0)
    }

    /// Shape as `[a, b, c]` text, GGUF order.
    pub fn shape_string(&self) -> String {
        let d: Vec<String> = self.dims.iter().map(u64::to_string).collect();
        format!("[{}]", d.join(", "))
    }
}
