//! The byte-level BPE pipeline for plain text fragments (spec §2–§4), built on HF
//! `tokenizers`: pre-tokenizer regexes → byte-to-unicode map → BPE merges.
//!
//! Owns parsing `tokenizer.ggml.merges` and the HF model. Special tokens never reach
//! this pipeline: `special` cuts them out first, so the HF tokenizer has no added tokens
//! and cannot apply its own (different) matching rules.
//!
//! Merge rules: `"left right"` splits at the first space at byte position ≥ 1; rank =
//! array index; of a pair listed twice the first rank wins. HF requires `left`, `right`
//! and `left+right` to be vocabulary entries; a merge violating that (never seen in a
//! consistent file) is dropped with a warning. llama.cpp would apply it and then fall
//! back to the bytes of the unknown symbol, so ids could differ only for such files.
//!
//! HF's merge loop is the one spec §4 describes (lowest rank first, leftmost on ties).
//! A byte whose character is not in the vocabulary is dropped, as llama.cpp drops it;
//! real vocabularies do lack some (SmolLM2 has no token for 0x04, 0x06, 0x13, 0x14,
//! 0x16, 0x1D, 0xF1, 0xF2), so this is not warned about.

use std::collections::HashSet;

use tokenizers::models::bpe::{Vocab as HfVocab, BPE};
use tokenizers::{DecoderWrapper, Tokenizer as HfTokenizer};

use crate::gguf::Metadata;
use crate::schema::TokenizerKey;

use super::decode::byte_to_char;
use super::pretok::PreType;
use super::vocab::{TokenizerError, Vocab};

/// Splits one merge line into `(left, right)`.
pub fn split_merge(line: &str) -> Option<(&str, &str)> {
    // The space is ASCII, so any byte index where it sits is a char boundary.
    let pos = 1 + line.as_bytes().get(1..)?.iter().position(|&b| b == b' ')?;
    let (left, right) = (&line[..pos], &line[pos + 1..]);
    (!right.is_empty()).then_some((left, right))
}

/// Reads and validates the merges; returns them in rank order, first occurrence of a
/// pair kept, pairs HF cannot represent dropped (counted in `warnings`).
fn read_merges(
    md: &Metadata,
    vocab: &Vocab,
    warnings: &mut Vec<String>,
) -> Result<Vec<(String, String)>, TokenizerError> {
    let key = TokenizerKey::Merges.name();
    let lines = super::vocab::required_strings(md, key)?;
    let mut seen = HashSet::with_capacity(lines.len());
    let mut merges = Vec::with_capacity(lines.len());
    let (mut duplicate, mut unrepresentable) = (0usize, 0usize);
    let mut joined = String::new();
    for (index, line) in lines.iter().enumerate() {
        let (left, right) = split_merge(line).ok_or_else(|| TokenizerError::BadMerge {
            key,
            index,
            text: line.clone(),
        })?;
        joined.clear();
        joined.push_str(left);
        joined.push_str(right);
        let known = |t: &str| vocab.ids.contains_key(t);
        if !(known(left) && known(right) && known(&joined)) {
            unrepresentable += 1;
            continue;
        }
        if !seen.insert((left, right)) {
            duplicate += 1;
            continue;
        }
        merges.push((left.to_string(), right.to_string()));
    }
    if duplicate > 0 {
        warnings.push(format!(
            "{key}: {duplicate} repeated pairs; the first (lowest) rank of each is used"
        ));
    }
    if unrepresentable > 0 {
        warnings.push(format!(
            "{key}: {unrepresentable} merges name a token missing from the vocabulary; \
             they are ignored"
        ));
    }
    Ok(merges)
}

/// Builds the HF tokenizer for plain fragments.
pub fn build(
    md: &Metadata,
    vocab: &Vocab,
    pre: PreType,
    warnings: &mut Vec<String>,
) -> Result<HfTokenizer, TokenizerError> {
    let merges = read_merges(md, vocab, warnings)?;
    let hf_vocab: HfVocab = vocab.ids.iter().map(|(t, &i)| (t.clone(), i)).collect();
    let model = BPE::builder()
        .vocab_and_merges(hf_vocab, merges)
        .ignore_merges(pre.ignore_merges())
        .build()
        .map_err(|e| TokenizerError::Build(format!("BPE model: {e}")))?;
    let mut hf = HfTokenizer::new(model);
    hf.with_pre_tokenizer(Some(pre.hf_pre_tokenizer()?));
    let decoder = tokenizers::decoders::byte_level::ByteLevel::default();
    hf.with_decoder(Some(DecoderWrapper::ByteLevel(decoder)));
    Ok(hf)
}

/// Token ids of a fragment that contains no special token.
///
/// With no added tokens, no normalizer, no `unk_token` and no dropout, HF's encode has
/// no failure path for a `&str` input; should one appear in a later version, the
/// fragment degrades to one token per byte instead of being lost.
pub fn encode_fragment(hf: &HfTokenizer, vocab: &Vocab, text: &str, out: &mut Vec<u32>) {
    match hf.encode_fast(text, false) {
        Ok(enc) => out.extend_from_slice(enc.get_ids()),
        Err(_) => out.extend(
            text.bytes()
                .filter_map(|b| vocab.ids.get(byte_to_char(b).encode_utf8(&mut [0; 4])))
                .copied(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_lines_split_at_first_space_after_position_0() {
        assert_eq!(split_merge("Ġ t"), Some(("Ġ", "t")));
        assert_eq!(split_merge("a b c"), Some(("a", "b c")));
        // A leading space is part of the left symbol (position ≥ 1 rule).
        assert_eq!(split_merge("  x"), Some((" ", "x")));
        assert_eq!(split_merge("ab"), None);
        assert_eq!(split_merge("a "), None);
        assert_eq!(split_merge(""), None);
    }
}
