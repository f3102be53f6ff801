//! Pre-tokenizer selection (spec `tokenizer-and-chat.md` §3): `tokenizer.ggml.pre` →
//! the list of regexes that cut text into pieces before BPE, plus the per-type flags
//! (`ignore_merges`, default `add_bos`, `clean_spaces`).
//!
//! Semantics of a list: each regex is applied to every piece produced by the previous
//! one; every match is a piece and every gap between matches stays a piece (HF
//! `Split(pattern, Isolated)`). Matching is backtracking alternation (first alternative
//! wins), which `fancy-regex` provides, look-ahead `\s+(?!\S)` included.
//!
//! fancy-regex caps backtracking (1,000,000 steps per match); should a pathological
//! piece exceed it, HF stops splitting that piece and keeps the rest as one piece, so
//! text is never lost, only tokenized differently from llama.cpp.
//!
//! Owns the regex strings and the HF pre-tokenizer built from them. These strings are
//! values of a metadata key, not keys, so they live here rather than in `schema/`.

use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{PreTokenizerWrapper, SplitDelimiterBehavior};

use super::vocab::TokenizerError;

/// The GPT-2 regex (contractions lower-case only).
const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

/// Qwen2's regex with llama.cpp's spelled-out contractions (≡ HF's `(?i:'s|…)`).
const QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Llama 3: Qwen2's regex with digit runs of up to three.
const LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// DeepSeek-V3 / R1: digits by three, CJK + kana runs, then the main regex.
const DEEPSEEK_V3: [&str; 3] = [
    r"\p{N}{1,3}",
    r"[一-龥぀-ゟ゠-ヿ]+",
    r##"[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"##,
];

/// llama.cpp's list for a missing or `"default"` pre-tokenizer.
const DEFAULT: [&str; 4] = [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"];

/// The `tokenizer.ggml.pre` values bitmoe knows, for error messages.
pub const SUPPORTED_PRE: &str = "deepseek-v3, qwen2, deepseek-r1-qwen, llama-bpe (llama3, \
                                 llama-v3), smollm, gpt-2, default";

/// A pre-tokenizer family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreType {
    /// Key missing or `"default"`: llama.cpp's fallback list (it warns loudly).
    Default,
    /// `"gpt-2"`: the GPT-2 regex alone.
    Gpt2,
    /// `"smollm"`: every digit isolated, then GPT-2.
    Smollm,
    /// `"qwen2"`, `"deepseek-r1-qwen"`.
    Qwen2,
    /// `"llama-bpe"`, `"llama3"`, `"llama-v3"`; also sets `ignore_merges`.
    LlamaBpe,
    /// `"deepseek-v3"` (DeepSeek-V3 and R1 671B).
    DeepseekV3,
}

impl PreType {
    /// Maps the key's value. `None` (absent) and `"default"` give [`PreType::Default`];
    /// an unknown name is an error, as in llama.cpp (its ids would silently differ).
    pub fn from_gguf(key: &'static str, value: Option<&str>) -> Result<PreType, TokenizerError> {
        Ok(match value {
            None | Some("default") => PreType::Default,
            Some("gpt-2") => PreType::Gpt2,
            Some("smollm") => PreType::Smollm,
            Some("qwen2" | "deepseek-r1-qwen") => PreType::Qwen2,
            Some("llama-bpe" | "llama3" | "llama-v3") => PreType::LlamaBpe,
            Some("deepseek-v3") => PreType::DeepseekV3,
            Some(other) => {
                return Err(TokenizerError::UnknownPre {
                    key,
                    found: other.to_string(),
                    supported: SUPPORTED_PRE,
                })
            }
        })
    }

    /// The regexes, applied in order.
    pub fn regexes(self) -> &'static [&'static str] {
        match self {
            PreType::Default => &DEFAULT,
            PreType::Gpt2 => &[GPT2],
            PreType::Smollm => &[r"\p{N}", GPT2],
            PreType::Qwen2 => &[QWEN2],
            PreType::LlamaBpe => &[LLAMA3],
            PreType::DeepseekV3 => &DEEPSEEK_V3,
        }
    }

    /// A piece that is itself a vocabulary entry is emitted without merging.
    pub fn ignore_merges(self) -> bool {
        self == PreType::LlamaBpe
    }

    /// `add_bos` when `tokenizer.ggml.add_bos_token` is absent.
    pub fn default_add_bos(self) -> bool {
        self == PreType::LlamaBpe
    }

    /// HF `clean_up_tokenization_spaces` (whole-string detokenization only; not applied
    /// by bitmoe's decoder, see `decode`).
    pub fn clean_spaces(self) -> bool {
        self == PreType::LlamaBpe
    }

    /// The HF pre-tokenizer: one `Split(Isolated)` per regex, then the byte-level map
    /// (no prefix space, no GPT-2 regex of its own).
    pub fn hf_pre_tokenizer(self) -> Result<PreTokenizerWrapper, TokenizerError> {
        let mut steps = Vec::with_capacity(self.regexes().len() + 1);
        for re in self.regexes() {
            let split = Split::new(
                SplitPattern::Regex(re.to_string()),
                SplitDelimiterBehavior::Isolated,
                false,
            )
            .map_err(|e| TokenizerError::Build(format!("regex {re:?}: {e}")))?;
            steps.push(PreTokenizerWrapper::Split(split));
        }
        let byte_level = ByteLevel::default()
            .add_prefix_space(false)
            .use_regex(false);
        steps.push(PreTokenizerWrapper::ByteLevel(byte_level));
        Ok(PreTokenizerWrapper::Sequence(Sequence::new(steps)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenizers::{OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

    /// The pieces of `text` (byte-level encoded) under `pre`.
    fn pieces(pre: PreType, text: &str) -> Vec<String> {
        let pt = pre.hf_pre_tokenizer().unwrap();
        let mut s = PreTokenizedString::from(text);
        pt.pre_tokenize(&mut s).unwrap();
        s.get_splits(OffsetReferential::Original, OffsetType::Byte)
            .into_iter()
            .map(|(p, _, _)| p.to_string())
            .collect()
    }

    #[test]
    fn every_regex_compiles() {
        for p in [
            PreType::Default,
            PreType::Gpt2,
            PreType::Smollm,
            PreType::Qwen2,
            PreType::LlamaBpe,
            PreType::DeepseekV3,
        ] {
            p.hf_pre_tokenizer().unwrap();
        }
    }

    #[test]
    fn digits_and_whitespace_lookahead() {
        // `\s+(?!\S)` leaves the last space of a run to prefix the next word.
        assert_eq!(pieces(PreType::Gpt2, "a   b"), ["a", "ĠĠ", "Ġb"]);
        assert_eq!(pieces(PreType::Smollm, "x12"), ["x", "1", "2"]);
        assert_eq!(pieces(PreType::LlamaBpe, "12345"), ["123", "45"]);
        assert_eq!(pieces(PreType::Qwen2, "I'VE"), ["I", "'VE"]);
        // One ASCII punctuation + letters is a piece; after a space, " ." wins first.
        assert_eq!(
            pieces(PreType::DeepseekV3, "@user .NET"),
            ["@user", "Ġ.", "NET"]
        );
        assert_eq!(pieces(PreType::DeepseekV3, "x.NET"), ["x", ".NET"]);
        assert_eq!(
            pieces(PreType::DeepseekV3, "我想apple"),
            ["æĪĳæĥ³", "apple"]
        );
    }

    #[test]
    fn names() {
        let k = "tokenizer.ggml.pre";
        assert_eq!(PreType::from_gguf(k, None).unwrap(), PreType::Default);
        assert_eq!(
            PreType::from_gguf(k, Some("deepseek-r1-qwen")).unwrap(),
            PreType::Qwen2
        );
        assert_eq!(
            PreType::from_gguf(k, Some("llama3")).unwrap(),
            PreType::LlamaBpe
        );
        let e = PreType::from_gguf(k, Some("falcon")).unwrap_err();
        assert!(e.to_string().contains("\"falcon\""), "{e}");
    }
}
