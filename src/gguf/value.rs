//! GGUF metadata values: the 13 value types of the container (spec `gguf.md` §3),
//! scalar and array, arrays typed by their element type so a 129k-entry vocabulary is
//! one `Vec<String>`, not 129k tagged values. Arrays of arrays are kept (the spec allows
//! them; ggml's reader does not).

/// A metadata value type id as stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ValueType {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
}

impl ValueType {
    pub fn from_id(id: u32) -> Option<Self> {
        use ValueType::*;
        Some(match id {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// Bytes of one encoded value; `None` for strings and arrays (variable size).
    pub fn fixed_size(self) -> Option<u64> {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => Some(1),
            U16 | I16 => Some(2),
            U32 | I32 | F32 => Some(4),
            U64 | I64 | F64 => Some(8),
            String | Array => None,
        }
    }

    /// Smallest possible encoding of one value (strings: the length; arrays: type+count).
    pub fn min_size(self) -> u64 {
        match self {
            ValueType::String => 8,
            ValueType::Array => 12,
            t => t.fixed_size().unwrap_or(1),
        }
    }

    pub fn name(self) -> &'static str {
        use ValueType::*;
        match self {
            U8 => "u8",
            I8 => "i8",
            U16 => "u16",
            I16 => "i16",
            U32 => "u32",
            I32 => "i32",
            F32 => "f32",
            Bool => "bool",
            String => "string",
            Array => "array",
            U64 => "u64",
            I64 => "i64",
            F64 => "f64",
        }
    }
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(MetaArray),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// An array value: all elements share one type.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaArray {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    Array(Vec<MetaArray>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl MetaValue {
    pub fn value_type(&self) -> ValueType {
        use MetaValue as V;
        match self {
            V::U8(_) => ValueType::U8,
            V::I8(_) => ValueType::I8,
            V::U16(_) => ValueType::U16,
            V::I16(_) => ValueType::I16,
            V::U32(_) => ValueType::U32,
            V::I32(_) => ValueType::I32,
            V::F32(_) => ValueType::F32,
            V::Bool(_) => ValueType::Bool,
            V::String(_) => ValueType::String,
            V::Array(_) => ValueType::Array,
            V::U64(_) => ValueType::U64,
            V::I64(_) => ValueType::I64,
            V::F64(_) => ValueType::F64,
        }
    }

    /// Any integer type, converted, if it fits in `i128` semantics (always) — callers
    /// narrow with `try_from`.
    pub fn as_integer(&self) -> Option<i128> {
        use MetaValue as V;
        Some(match *self {
            V::U8(v) => v.into(),
            V::I8(v) => v.into(),
            V::U16(v) => v.into(),
            V::I16(v) => v.into(),
            V::U32(v) => v.into(),
            V::I32(v) => v.into(),
            V::U64(v) => v.into(),
            V::I64(v) => v.into(),
            _ => return None,
        })
    }

    /// F32 or F64 as f64.
    pub fn as_float(&self) -> Option<f64> {
        match *self {
            MetaValue::F32(v) => Some(v.into()),
            MetaValue::F64(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            MetaValue::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&MetaArray> {
        match self {
            MetaValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A short human rendering: scalars in full, strings up to `max_chars`, arrays as
    /// `[type; len]` with the first few elements.
    pub fn summary(&self, max_chars: usize) -> String {
        use MetaValue as V;
        match self {
            V::String(s) => {
                let mut out: String = s.chars().take(max_chars).collect();
                if out.len() < s.len() {
                    out.push('…');
                }
                format!("{out:?}")
            }
            V::Array(a) => a.summary(),
            V::U8(v) => v.to_string(),
            V::I8(v) => v.to_string(),
            V::U16(v) => v.to_string(),
            V::I16(v) => v.to_string(),
            V::U32(v) => v.to_string(),
            V::I32(v) => v.to_string(),
            V::U64(v) => v.to_string(),
            V::I64(v) => v.to_string(),
            V::F32(v) => v.to_string(),
            V::F64(v) => v.to_string(),
            V::Bool(v) => v.to_string(),
        }
    }
}

impl MetaArray {
    pub fn elem_type(&self) -> ValueType {
        use MetaArray as A;
        match self {
            A::U8(_) => ValueType::U8,
            A::I8(_) => ValueType::I8,
            A::U16(_) => ValueType::U16,
            A::I16(_) => ValueType::I16,
            A::U32(_) => ValueType::U32,
            A::I32(_) => ValueType::I32,
            A::F32(_) => ValueType::F32,
            A::Bool(_) => ValueType::Bool,
            A::String(_) => ValueType::String,
            A::Array(_) => ValueType::Array,
            A::U64(_) => ValueType::U64,
            A::I64(_) => ValueType::I64,
            A::F64(_) => ValueType::F64,
        }
    }

    pub fn len(&self) -> usize {
        use MetaArray as A;
        match self {
            A::U8(v) => v.len(),
            A::I8(v) => v.len(),
            A::U16(v) => v.len(),
            A::I16(v) => v.len(),
            A::U32(v) => v.len(),
            A::I32(v) => v.len(),
            A::F32(v) => v.len(),
            A::Bool(v) => v.len(),
            A::String(v) => v.len(),
            A::Array(v) => v.len(),
            A::U64(v) => v.len(),
            A::I64(v) => v.len(),
            A::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `i` of an integer array, widened.
    pub fn integer_at(&self, i: usize) -> Option<i128> {
        use MetaArray as A;
        match self {
            A::U8(v) => v.get(i).map(|&x| x.into()),
            A::I8(v) => v.get(i).map(|&x| x.into()),
            A::U16(v) => v.get(i).map(|&x| x.into()),
            A::I16(v) => v.get(i).map(|&x| x.into()),
            A::U32(v) => v.get(i).map(|&x| x.into()),
            A::I32(v) => v.get(i).map(|&x| x.into()),
            A::U64(v) => v.get(i).map(|&x| x.into()),
            A::I64(v) => v.get(i).map(|&x| x.into()),
            _ => None,
        }
    }

    pub fn summary(&self) -> String {
        const SHOW: usize = 4;
        fn head<T: std::fmt::Debug>(v: &[T]) -> String {
            let shown: Vec<String> = v.iter().take(SHOW).map(|x| format!("{x:?}")).collect();
            let more = if v.len() > SHOW { ", …" } else { "" };
            format!("[{}{more}]", shown.join(", "))
        }
        use MetaArray as A;
        let body = match self {
            A::U8(v) => head(v),
            A::I8(v) => head(v),
            A::U16(v) => head(v),
            A::I16(v) => head(v),
            A::U32(v) => head(v),
            A::I32(v) => head(v),
            A::F32(v) => head(v),
            A::Bool(v) => head(v),
            A::String(v) => head(v),
            A::Array(v) => format!("[{} nested arrays]", v.len()),
            A::U64(v) => head(v),
            A::I64(v) => head(v),
            A::F64(v) => head(v),
        };
        format!("[{}; {}] {body}", self.elem_type().name(), self.len())
    }
}
