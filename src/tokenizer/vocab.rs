//! The vocabulary as the GGUF declares it (spec `tokenizer-and-chat.md` §1, §6): token
//! texts and types, the special ids, the BOS/EOS flags and the end-of-generation set.
//!
//! Owns: [`TokenType`], [`TokenizerError`] and the validated [`Vocab`]. Reading is done
//! once here; everything downstream (BPE, special-token partition, decoding) trusts it.
//! Does not own merges or pre-tokenizer regexes (`bpe`, `pretok`).
//!
//! llama.cpp rules reproduced here: an empty token text becomes `[EMPTY_{id}]`; when two
//! tokens share a text the later id wins the text → id lookup; a special id outside the
//! vocabulary is ignored with a warning; tokens whose text marks an end of turn
//! (`<|im_end|>`, `<|eot_id|>`, …) are forced to CONTROL and join the EOG set.

use std::collections::HashMap;

use crate::gguf::{KeyTypeError, MetaArray, Metadata};
use crate::schema::TokenizerKey;

use super::pretok::PreType;

/// Most tokens a vocabulary may declare (R1 has 129,280; this leaves room for any
/// plausible model while bounding the tables built from an untrusted file).
pub const MAX_TOKENS: usize = 1 << 24;

/// `tokenizer.ggml.token_type` values (llama.cpp `llama_token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// 0: not set by the converter; treated like NORMAL.
    Undefined,
    /// 1: an ordinary BPE token, text in the byte-to-unicode alphabet.
    Normal,
    /// 2: the unknown token.
    Unknown,
    /// 3: a control token (`<|im_start|>`, `<｜begin▁of▁sentence｜>`): matched in text
    /// only with `parse_special`, not printed unless asked.
    Control,
    /// 4: an added non-special token (`<think>`): always matched, always printed.
    UserDefined,
    /// 5: a placeholder id (`[PAD123]`).
    Unused,
    /// 6: a raw byte `<0xAB>` (SentencePiece vocabularies; unused by "gpt2").
    Byte,
}

impl TokenType {
    pub fn from_gguf(v: i128) -> Option<TokenType> {
        Some(match v {
            0 => TokenType::Undefined,
            1 => TokenType::Normal,
            2 => TokenType::Unknown,
            3 => TokenType::Control,
            4 => TokenType::UserDefined,
            5 => TokenType::Unused,
            6 => TokenType::Byte,
            _ => return None,
        })
    }

    /// Whether the special-token partition (§5) looks for this token in input text.
    pub fn is_partition_candidate(self) -> bool {
        matches!(
            self,
            TokenType::Control | TokenType::UserDefined | TokenType::Unknown
        )
    }

    /// CONTROL and UNKNOWN: matched and printed only on request.
    pub fn is_special(self) -> bool {
        matches!(self, TokenType::Control | TokenType::Unknown)
    }
}

/// Everything that can be wrong with a GGUF's tokenizer metadata.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error(transparent)]
    KeyType(#[from] KeyTypeError),
    #[error("metadata key {key:?} is missing")]
    Missing { key: &'static str },
    #[error(
        "{key} = {found:?} is not supported: bitmoe reads only \"gpt2\" (byte-level BPE) \
         vocabularies; SentencePiece (\"llama\"), WordPiece and others are not implemented"
    )]
    UnsupportedModel { key: &'static str, found: String },
    #[error("{key} = {found:?} is not a known pre-tokenizer; supported: {supported}")]
    UnknownPre {
        key: &'static str,
        found: String,
        supported: &'static str,
    },
    #[error("metadata key {key:?} is an array of {found}, expected an array of {expected}")]
    ArrayType {
        key: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    #[error("metadata key {key:?} has {found} entries, expected {expected} (one per token)")]
    LengthMismatch {
        key: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{key}[{index}] = {value} is not a token type (valid: 0..=6)")]
    BadTokenType {
        key: &'static str,
        index: usize,
        value: i128,
    },
    #[error("{key}[{index}] = {text:?} is not \"left right\" (no space at byte position >= 1)")]
    BadMerge {
        key: &'static str,
        index: usize,
        text: String,
    },
    #[error("metadata key {key:?} has {found} tokens; between 1 and {cap} are accepted")]
    VocabSize {
        key: &'static str,
        found: usize,
        cap: usize,
    },
    #[error("building the BPE pipeline failed: {0}")]
    Build(String),
}

/// Token texts whose token ends a turn (spec §6). llama.cpp forces them to CONTROL.
const EOG_TEXTS: [&str; 9] = [
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<|eom_id|>",
    "<EOT>",
    "<｜end▁of▁sentence｜>",
];

/// Optional special ids, each checked to lie inside the vocabulary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpecialIds {
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub eot: Option<u32>,
    pub eom: Option<u32>,
    pub unk: Option<u32>,
    pub pad: Option<u32>,
}

/// The validated vocabulary.
#[derive(Debug, Clone)]
pub struct Vocab {
    /// Token text by id (`[EMPTY_{id}]` for an empty text).
    pub texts: Vec<String>, // [n_vocab]
    /// Token type by id, after the EOG override.
    pub types: Vec<TokenType>, // [n_vocab]
    /// Text → id; for duplicated texts the highest id.
    pub ids: HashMap<String, u32>,
    pub special: SpecialIds,
    pub add_bos: bool,
    pub add_eos: bool,
    /// End-of-generation ids, ascending, without duplicates.
    pub eog: Vec<u32>,
}

impl Vocab {
    /// Reads tokens, types, special ids and flags. `warnings` collects what llama.cpp
    /// would log and carry on with.
    pub fn from_metadata(
        md: &Metadata,
        pre: PreType,
        warnings: &mut Vec<String>,
    ) -> Result<Vocab, TokenizerError> {
        let key = TokenizerKey::Tokens.name();
        let texts = required_strings(md, key)?;
        let n = texts.len();
        if n == 0 || n > MAX_TOKENS {
            return Err(TokenizerError::VocabSize {
                key,
                found: n,
                cap: MAX_TOKENS,
            });
        }
        let texts: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| match t.is_empty() {
                true => format!("[EMPTY_{i}]"),
                false => t.clone(),
            })
            .collect();
        let mut types = read_types(md, n)?;
        let mut ids = HashMap::with_capacity(n);
        for (i, t) in texts.iter().enumerate() {
            ids.insert(t.clone(), i as u32); // n <= MAX_TOKENS < u32::MAX
        }

        let id_key = |k: TokenizerKey, warnings: &mut Vec<String>| -> Result<_, TokenizerError> {
            let Some(id) = md.get_u32(k.name())? else {
                return Ok(None);
            };
            if id as usize >= n {
                warnings.push(format!(
                    "{} = {id} is outside the vocabulary of {n} tokens; ignored",
                    k.name()
                ));
                return Ok(None);
            }
            Ok(Some(id))
        };
        let special = SpecialIds {
            bos: id_key(TokenizerKey::BosId, warnings)?,
            eos: id_key(TokenizerKey::EosId, warnings)?,
            eot: id_key(TokenizerKey::EotId, warnings)?,
            eom: id_key(TokenizerKey::EomId, warnings)?,
            unk: id_key(TokenizerKey::UnknownId, warnings)?,
            pad: id_key(TokenizerKey::PaddingId, warnings)?,
        };
        let add_bos = md
            .get_bool(TokenizerKey::AddBos.name())?
            .unwrap_or(pre.default_add_bos());
        let add_eos = md.get_bool(TokenizerKey::AddEos.name())?.unwrap_or(false);

        let mut eog: Vec<u32> = [special.eos, special.eot, special.eom]
            .into_iter()
            .flatten()
            .collect();
        for text in EOG_TEXTS {
            let Some(&id) = ids.get(text) else { continue };
            let ty = &mut types[id as usize];
            if *ty != TokenType::Control {
                warnings.push(format!(
                    "end-of-turn token {id} {text:?} has type {ty:?}; treated as CONTROL"
                ));
                *ty = TokenType::Control;
            }
            eog.push(id);
        }
        eog.sort_unstable();
        eog.dedup();

        Ok(Vocab {
            texts,
            types,
            ids,
            special,
            add_bos,
            add_eos,
            eog,
        })
    }

    pub fn n_tokens(&self) -> usize {
        self.texts.len()
    }
}

/// `token_type`, absent ⇒ all NORMAL (as llama.cpp); any integer element type accepted.
fn read_types(md: &Metadata, n: usize) -> Result<Vec<TokenType>, TokenizerError> {
    let key = TokenizerKey::TokenType.name();
    let Some(arr) = md.get_array(key)? else {
        return Ok(vec![TokenType::Normal; n]);
    };
    if arr.len() != n {
        return Err(TokenizerError::LengthMismatch {
            key,
            expected: n,
            found: arr.len(),
        });
    }
    (0..n)
        .map(|i| {
            let v = arr.integer_at(i).ok_or(TokenizerError::ArrayType {
                key,
                expected: "integers",
                found: arr.elem_type().name(),
            })?;
            TokenType::from_gguf(v).ok_or(TokenizerError::BadTokenType {
                key,
                index: i,
                value: v,
            })
        })
        .collect()
}

/// A required metadata key holding an array of strings (tokens, merges).
pub(crate) fn required_strings<'a>(
    md: &'a Metadata,
    key: &'static str,
) -> Result<&'a [String], TokenizerError> {
    match md.get_array(key)? {
        None => Err(TokenizerError::Missing { key }),
        Some(MetaArray::String(v)) => Ok(v),
        Some(a) => Err(TokenizerError::ArrayType {
            key,
            expected: "string",
            found: a.elem_type().name(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::MetaValue;

    fn md(tokens: &[&str], types: Option<Vec<i32>>) -> Metadata {
        let mut md = Metadata::new();
        md.set(
            TokenizerKey::Tokens.name(),
            MetaValue::Array(MetaArray::String(
                tokens.iter().map(|s| s.to_string()).collect(),
            )),
        );
        if let Some(t) = types {
            md.set(
                TokenizerKey::TokenType.name(),
                MetaValue::Array(MetaArray::I32(t)),
            );
        }
        md
    }

    #[test]
    fn eog_texts_are_forced_to_control() {
        let mut m = md(&["a", "<|im_end|>", "", "a"], Some(vec![1, 4, 1, 1]));
        m.set(TokenizerKey::EosId.name(), MetaValue::U32(0));
        let mut w = Vec::new();
        let v = Vocab::from_metadata(&m, PreType::Smollm, &mut w).unwrap();
        assert_eq!(v.types[1], TokenType::Control);
        assert_eq!(v.eog, vec![0, 1]);
        assert_eq!(v.texts[2], "[EMPTY_2]");
        assert_eq!(v.ids["a"], 3, "later duplicate wins");
        assert_eq!(w.len(), 1);
    }

    #[test]
    fn bad_inputs_name_the_key() {
        let m = md(&["a", "b"], Some(vec![1]));
        let e = Vocab::from_metadata(&m, PreType::Smollm, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(e, TokenizerError::LengthMismatch { found: 1, .. }),
            "{e}"
        );
        let m = md(&["a", "b"], Some(vec![1, 9]));
        let e = Vocab::from_metadata(&m, PreType::Smollm, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("token_type[1] = 9"), "{e}");
        let mut m = md(&["a"], None);
        m.set(TokenizerKey::BosId.name(), MetaValue::U32(7));
        let mut w = Vec::new();
        let v = Vocab::from_metadata(&m, PreType::LlamaBpe, &mut w).unwrap();
        assert_eq!(v.special.bos, None);
        assert!(v.add_bos, "llama-bpe defaults add_bos to true");
        assert!(w[0].contains("bos_token_id = 7"), "{w:?}");
    }
}
