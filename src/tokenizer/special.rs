//! Cutting special tokens out of input text before BPE (spec §5), with llama.cpp's
//! semantics, which HF's added-token matcher (leftmost-longest over all tokens at once)
//! does not reproduce exactly.
//!
//! Algorithm: candidates are the CONTROL, USER_DEFINED and UNKNOWN tokens, taken in
//! order of decreasing text length in bytes (ties: ascending id). For each candidate,
//! every fragment that is still text is scanned left to right for non-overlapping
//! occurrences; each occurrence becomes a fixed token and the text on both sides stays
//! text for the next candidates. With `parse_special = false` CONTROL and UNKNOWN
//! candidates are skipped, but USER_DEFINED ones (`<think>`) are still matched.
//!
//! Cost: one substring search of the whole input per candidate (819 candidates for R1),
//! then splitting only for candidates that occur.

use super::vocab::Vocab;

/// A piece of input after the partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment<'a> {
    /// A special token found in the text.
    Token(u32),
    /// Text that goes through the pre-tokenizer and BPE.
    Text(&'a str),
}

/// The partition candidates in matching order.
#[derive(Debug, Clone, Default)]
pub struct SpecialMatcher {
    /// Candidate ids, longest text first.
    order: Vec<u32>,
}

impl SpecialMatcher {
    pub fn new(vocab: &Vocab) -> SpecialMatcher {
        let mut order: Vec<u32> = (0..vocab.n_tokens() as u32)
            .filter(|&id| vocab.types[id as usize].is_partition_candidate())
            .collect();
        order.sort_by_key(|&id| (std::cmp::Reverse(vocab.texts[id as usize].len()), id));
        SpecialMatcher { order }
    }

    /// Number of candidates (llama.cpp's "special tokens cache size").
    pub fn n_candidates(&self) -> usize {
        self.order.len()
    }

    /// Splits `text` into special tokens and text fragments (empty fragments dropped).
    pub fn partition<'a>(
        &self,
        vocab: &Vocab,
        text: &'a str,
        parse_special: bool,
    ) -> Vec<Fragment<'a>> {
        let mut frags = Vec::new();
        if !text.is_empty() {
            frags.push(Fragment::Text(text));
        }
        for &id in &self.order {
            let ty = vocab.types[id as usize];
            if !parse_special && ty.is_special() {
                continue;
            }
            let needle = vocab.texts[id as usize].as_str();
            // Fragments are substrings of `text`: no occurrence there, none anywhere.
            if !text.contains(needle) {
                continue;
            }
            let mut next = Vec::with_capacity(frags.len() + 2);
            for frag in frags {
                let Fragment::Text(s) = frag else {
                    next.push(frag);
                    continue;
                };
                let mut rest = 0;
                for (at, _) in s.match_indices(needle) {
                    if at > rest {
                        next.push(Fragment::Text(&s[rest..at]));
                    }
                    next.push(Fragment::Token(id));
                    rest = at + needle.len();
                }
                if rest < s.len() {
                    next.push(Fragment::Text(&s[rest..]));
                }
            }
            frags = next;
        }
        frags
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::{MetaArray, MetaValue, Metadata};
    use crate::schema::TokenizerKey;
    use crate::tokenizer::pretok::PreType;
    use Fragment::{Text, Token};

    fn vocab(tokens: &[(&str, i32)]) -> Vocab {
        let mut md = Metadata::new();
        let texts = tokens.iter().map(|t| t.0.to_string()).collect();
        let types = tokens.iter().map(|t| t.1).collect();
        md.set(
            TokenizerKey::Tokens.name(),
            MetaValue::Array(MetaArray::String(texts)),
        );
        md.set(
            TokenizerKey::TokenType.name(),
            MetaValue::Array(MetaArray::I32(types)),
        );
        Vocab::from_metadata(&md, PreType::Smollm, &mut Vec::new()).unwrap()
    }

    #[test]
    fn longest_candidate_wins_over_leftmost() {
        // "yzw" (longer) is cut first although "xy" starts further left.
        let v = vocab(&[("a", 1), ("xy", 3), ("yzw", 3)]);
        let m = SpecialMatcher::new(&v);
        assert_eq!(m.n_candidates(), 2);
        assert_eq!(
            m.partition(&v, "axyzwxy", true),
            [Text("ax"), Token(2), Token(1)]
        );
    }

    #[test]
    fn parse_special_false_keeps_user_defined() {
        let v = vocab(&[("a", 1), ("<|c|>", 3), ("<think>", 4), ("<unk>", 2)]);
        let m = SpecialMatcher::new(&v);
        let s = "<|c|><think>hi<unk>";
        assert_eq!(
            m.partition(&v, s, true),
            [Token(1), Token(2), Text("hi"), Token(3)]
        );
        assert_eq!(
            m.partition(&v, s, false),
            [Text("<|c|>"), Token(2), Text("hi<unk>")]
        );
        assert_eq!(m.partition(&v, "", true), []);
    }
}
