//! The synthetic models' tokenizer metadata: either a tiny byte-level BPE vocabulary
//! made here, or every `tokenizer.*` key copied from another GGUF file (to give a
//! synthetic model a real vocabulary, e.g. SmolLM2's 49,152 tokens).
//!
//! The made-up vocabulary is the 256 byte symbols, six merges of common English pairs
//! (so BPE has something to do) and three ChatML specials; BOS is `<|im_start|>`, EOS
//! `<|im_end|>`, no BOS is added. It runs end to end in bitmoe and llama.cpp without a
//! download. Depends on `gguf` and `schema` (key names) and the tokenizer's byte map.

use std::path::Path;

use crate::gguf::{ErrorKind, GgufError, GgufFile, MetaArray, MetaValue, Metadata};
use crate::schema::TokenizerKey;
use crate::tokenizer::byte_to_char;

/// The special tokens of the synthetic vocabulary (ChatML), after the 256 bytes.
const SPECIALS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
/// Merges of common English pairs.
const MERGES: [(&str, &str); 6] = [
    ("t", "h"),
    ("th", "e"),
    ("Ġ", "t"),
    ("i", "n"),
    ("a", "n"),
    ("e", "r"),
];
const CHAT_TEMPLATE: &str = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// (tokens, token types, merges) of the synthetic vocabulary.
fn synthetic() -> (Vec<String>, Vec<i32>, Vec<String>) {
    let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_to_char(b).to_string()).collect();
    let mut types = vec![1i32; 256];
    let mut merges = Vec::new();
    for (a, b) in MERGES {
        merges.push(format!("{a} {b}"));
        tokens.push(format!("{a}{b}"));
        types.push(1);
    }
    for s in SPECIALS {
        tokens.push(s.to_string());
        types.push(3);
    }
    (tokens, types, merges)
}

/// Sets the synthetic vocabulary's `tokenizer.*` keys with pre-tokenizer `pre`;
/// returns the vocabulary size.
pub(crate) fn set_synthetic(md: &mut Metadata, pre: &str) -> usize {
    let (tokens, types, merges) = synthetic();
    let n_vocab = tokens.len();
    let s = |v: &str| MetaValue::String(v.to_string());
    let u = |v: usize| MetaValue::U32(v as u32);
    md.set(TokenizerKey::Model.name(), s("gpt2"));
    md.set(TokenizerKey::Pre.name(), s(pre));
    md.set(
        TokenizerKey::Tokens.name(),
        MetaValue::Array(MetaArray::String(tokens)),
    );
    md.set(
        TokenizerKey::TokenType.name(),
        MetaValue::Array(MetaArray::I32(types)),
    );
    md.set(
        TokenizerKey::Merges.name(),
        MetaValue::Array(MetaArray::String(merges)),
    );
    md.set(TokenizerKey::BosId.name(), u(n_vocab - 2));
    md.set(TokenizerKey::EosId.name(), u(n_vocab - 1));
    md.set(TokenizerKey::AddBos.name(), MetaValue::Bool(false));
    md.set(TokenizerKey::ChatTemplate.name(), s(CHAT_TEMPLATE));
    n_vocab
}

/// Copies every `tokenizer.*` key of the GGUF file `from` into `md`; returns the
/// vocabulary size (the length of its token list, which must be present).
pub fn copy_tokenizer(md: &mut Metadata, from: &Path) -> Result<usize, GgufError> {
    let file = GgufFile::open(from)?;
    let src = file.metadata();
    let tokens = TokenizerKey::Tokens.name();
    let n_vocab = match src.get_array(tokens) {
        Ok(Some(a)) if !a.is_empty() => a.len(),
        _ => {
            return Err(GgufError::new(
                from,
                ErrorKind::MissingKey {
                    key: tokens.to_string(),
                },
            ))
        }
    };
    for (key, value) in src.iter() {
        if key.starts_with(TokenizerKey::PREFIX) {
            md.set(key, value.clone());
        }
    }
    Ok(n_vocab)
}
