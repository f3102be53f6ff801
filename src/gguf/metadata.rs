//! The key/value section of a GGUF file: an insertion-ordered map (order is kept so a
//! written file is byte-identical to the one read) with typed getters that accept any
//! integer width for integer keys and f32 or f64 for float keys, as llama.cpp does.
//!
//! Getters return `Ok(None)` for an absent key and an error for a present key of the
//! wrong kind; `schema/` turns absences of required keys into one error listing them all.

use std::collections::HashMap;

use super::value::{MetaArray, MetaValue};

/// A present key whose value has the wrong kind or does not fit the requested type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metadata key {key:?} is {found}, expected {expected}")]
pub struct KeyTypeError {
    pub key: String,
    pub expected: &'static str,
    pub found: String,
}

/// GGUF metadata in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metadata {
    entries: Vec<(String, MetaValue)>,
    index: HashMap<String, usize>,
}

impl Metadata {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces `key` (a replaced key keeps its position).
    pub fn set(&mut self, key: impl Into<String>, value: MetaValue) {
        let key = key.into();
        match self.index.get(&key) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// Inserts a key read from a file; `false` if it was already present.
    pub(crate) fn insert_new(&mut self, key: String, value: MetaValue) -> bool {
        if self.index.contains_key(&key) {
            return false;
        }
        self.index.insert(key.clone(), self.entries.len());
        self.entries.push((key, value));
        true
    }

    pub fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Removes `key`, keeping the order of the rest.
    pub fn remove(&mut self, key: &str) -> Option<MetaValue> {
        let i = self.index.remove(key)?;
        let (_, v) = self.entries.remove(i);
        for idx in self.index.values_mut() {
            if *idx > i {
                *idx -= 1;
            }
        }
        Some(v)
    }

    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        self.index.get(key).map(|&i| &self.entries[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &MetaValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    fn wrong(key: &str, expected: &'static str, found: &MetaValue) -> KeyTypeError {
        let found = match found {
            MetaValue::Array(a) => format!("an array of {}", a.elem_type().name()),
            v => format!("{} {}", v.value_type().name(), v.summary(40)),
        };
        KeyTypeError {
            key: key.to_string(),
            expected,
            found,
        }
    }

    /// An integer key of any width that fits in `T`.
    pub fn get_int<T: TryFrom<i128>>(&self, key: &str) -> Result<Option<T>, KeyTypeError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let expected = std::any::type_name::<T>();
        let i = v
            .as_integer()
            .ok_or_else(|| Self::wrong(key, expected, v))?;
        T::try_from(i)
            .map(Some)
            .map_err(|_| Self::wrong(key, expected, v))
    }

    pub fn get_u32(&self, key: &str) -> Result<Option<u32>, KeyTypeError> {
        self.get_int::<u32>(key)
    }

    pub fn get_u64(&self, key: &str) -> Result<Option<u64>, KeyTypeError> {
        self.get_int::<u64>(key)
    }

    /// A float key stored as f32 or f64.
    pub fn get_f32(&self, key: &str) -> Result<Option<f32>, KeyTypeError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_float()
            .map(|f| Some(f as f32))
            .ok_or_else(|| Self::wrong(key, "f32", v))
    }

    pub fn get_bool(&self, key: &str) -> Result<Option<bool>, KeyTypeError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_bool()
            .map(Some)
            .ok_or_else(|| Self::wrong(key, "bool", v))
    }

    pub fn get_str(&self, key: &str) -> Result<Option<&str>, KeyTypeError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_str()
            .map(Some)
            .ok_or_else(|| Self::wrong(key, "string", v))
    }

    pub fn get_array(&self, key: &str) -> Result<Option<&MetaArray>, KeyTypeError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        v.as_array()
            .map(Some)
            .ok_or_else(|| Self::wrong(key, "array", v))
    }

    /// A key that is either one integer or an array with one integer per layer
    /// (llama.cpp's `get_key_or_arr`: `head_count`, `head_count_kv`, `feed_forward_length`).
    pub fn get_u32_or_per_layer(
        &self,
        key: &str,
        n_layer: usize,
    ) -> Result<Option<PerLayer>, KeyTypeError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        if let Some(arr) = v.as_array() {
            if arr.len() != n_layer {
                return Err(KeyTypeError {
                    key: key.to_string(),
                    expected: "one value per layer",
                    found: format!("an array of {} values for {n_layer} layers", arr.len()),
                });
            }
            let values = (0..n_layer)
                .map(|i| arr.integer_at(i).and_then(|x| u32::try_from(x).ok()))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| Self::wrong(key, "u32 per layer", v))?;
            return Ok(Some(PerLayer::from_values(values)));
        }
        Ok(self.get_u32(key)?.map(PerLayer::Uniform))
    }
}

/// A hyper-parameter that may differ per layer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum PerLayer {
    Uniform(u32),
    Layers(Vec<u32>),
}

impl PerLayer {
    fn from_values(values: Vec<u32>) -> Self {
        match values.first() {
            Some(&first) if values.iter().all(|&v| v == first) => PerLayer::Uniform(first),
            _ => PerLayer::Layers(values),
        }
    }

    /// The value at `layer` (a uniform value for any layer).
    pub fn at(&self, layer: usize) -> u32 {
        match self {
            PerLayer::Uniform(v) => *v,
            PerLayer::Layers(v) => v.get(layer).copied().unwrap_or(0),
        }
    }

    /// The largest value over all layers.
    pub fn max(&self) -> u32 {
        match self {
            PerLayer::Uniform(v) => *v,
            PerLayer::Layers(v) => v.iter().copied().max().unwrap_or(0),
        }
    }
}

impl std::fmt::Display for PerLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PerLayer::Uniform(v) => write!(f, "{v}"),
            PerLayer::Layers(v) => write!(f, "{v:?}"),
        }
    }
}
