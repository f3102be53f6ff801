//! Tokenizer: GGUF "gpt2" byte-level BPE vocabularies (DeepSeek-V3/R1, R1 distills,
//! Qwen2, Llama 3, SmolLM2), their special tokens, streaming detokenization and chat
//! templates, with llama.cpp's behaviour as the reference
//! (spec `shared/spec/tokenizer-and-chat.md`).
//!
//! Encoding, text → ids:
//! 1. `special`: cut CONTROL / USER_DEFINED / UNKNOWN token texts out of the input,
//!    longest first (CONTROL and UNKNOWN only with `parse_special`).
//! 2. `bpe`: each remaining fragment → `pretok` regexes → byte-to-unicode map → BPE
//!    merges, run by HF `tokenizers`.
//! 3. BOS prepended / EOS appended when asked and the vocabulary says so.
//!
//! Decoding, ids → text: `decode` (per token type; [`StreamDecoder`] for generation).
//! Chat: [`ChatTemplate`] renders `tokenizer.chat_template` with minijinja, or a
//! built-in ChatML / Llama-3 / DeepSeek-3 renderer when the file has none.
//!
//! Owns everything under `tokenizer.` in the metadata. Depends on `gguf` (metadata) and
//! `schema` (key names); used by the engine.

mod bpe;
mod chat;
mod decode;
mod pretok;
mod pycompat;
mod special;
#[cfg(test)]
mod template_compat;
mod vocab;

use std::borrow::Cow;
use std::fmt;

use crate::gguf::Metadata;
use crate::schema::TokenizerKey;

pub use chat::{BuiltinTemplate, ChatError, ChatMessage, ChatSpecials, ChatTemplate};
pub use decode::{byte_to_char, char_to_byte, StreamDecoder};
pub use pretok::{PreType, SUPPORTED_PRE};
pub use special::Fragment;
pub use vocab::{SpecialIds, TokenType, TokenizerError, MAX_TOKENS};

use special::SpecialMatcher;
use vocab::Vocab;

/// A loaded tokenizer. Immutable after construction; `Send + Sync`.
#[derive(Clone)]
pub struct Tokenizer {
    vocab: Vocab,
    pre: PreType,
    specials: SpecialMatcher,
    hf: tokenizers::Tokenizer,
    warnings: Vec<String>,
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("n_vocab", &self.vocab.n_tokens())
            .field("pre", &self.pre)
            .field("special", &self.vocab.special)
            .field("add_bos", &self.vocab.add_bos)
            .field("add_eos", &self.vocab.add_eos)
            .field("eog", &self.vocab.eog)
            .field("n_special_candidates", &self.specials.n_candidates())
            .finish()
    }
}

impl Tokenizer {
    /// Builds the tokenizer from GGUF metadata.
    ///
    /// Errors name the key: a missing `tokenizer.ggml.model`, `tokens` or `merges`; a
    /// model other than `"gpt2"`; an unknown `pre` (a missing `pre` falls back to
    /// llama.cpp's default regexes with a warning, as llama.cpp does); a `token_type`
    /// array of the wrong length; a merge without a separating space.
    pub fn from_metadata(md: &Metadata) -> Result<Tokenizer, TokenizerError> {
        let key = TokenizerKey::Model.name();
        match md.get_str(key)? {
            Some("gpt2") => {}
            Some(other) => {
                return Err(TokenizerError::UnsupportedModel {
                    key,
                    found: other.to_string(),
                })
            }
            None => return Err(TokenizerError::Missing { key }),
        }
        let mut warnings = Vec::new();
        let pre_key = TokenizerKey::Pre.name();
        let pre_value = md.get_str(pre_key)?;
        let pre = PreType::from_gguf(pre_key, pre_value)?;
        if pre == PreType::Default {
            warnings.push(format!(
                "{pre_key} is {}; using llama.cpp's default pre-tokenizer regexes, \
                 which may not match how the model was trained",
                pre_value.map_or("missing".to_string(), |v| format!("{v:?}"))
            ));
        }
        let vocab = Vocab::from_metadata(md, pre, &mut warnings)?;
        let hf = bpe::build(md, &vocab, pre, &mut warnings)?;
        let specials = SpecialMatcher::new(&vocab);
        Ok(Tokenizer {
            vocab,
            pre,
            specials,
            hf,
            warnings,
        })
    }

    /// Text → ids. `add_special`: prepend BOS iff the vocabulary's `add_bos`, append EOS
    /// iff `add_eos`. `parse_special`: match CONTROL / UNKNOWN token texts in `text`
    /// (USER_DEFINED ones are matched either way). Rendered chat prompts need `true`;
    /// raw user text should use `false` so it cannot inject role markers.
    pub fn encode(&self, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 2);
        if add_special && self.vocab.add_bos {
            out.extend(self.vocab.special.bos);
        }
        for frag in self.partition(text, parse_special) {
            match frag {
                Fragment::Token(id) => out.push(id),
                Fragment::Text(s) => bpe::encode_fragment(&self.hf, &self.vocab, s, &mut out),
            }
        }
        if add_special && self.vocab.add_eos {
            out.extend(self.vocab.special.eos);
        }
        out
    }

    /// The special-token partition of `text` (spec §5), for inspection and tests.
    pub fn partition<'a>(&self, text: &'a str, parse_special: bool) -> Vec<Fragment<'a>> {
        self.specials.partition(&self.vocab, text, parse_special)
    }

    /// Ids → text, invalid UTF-8 replaced by U+FFFD. `render_special`: print CONTROL /
    /// UNKNOWN token texts. Ids outside the vocabulary produce nothing.
    pub fn decode(&self, ids: &[u32], render_special: bool) -> String {
        let mut bytes = Vec::new();
        for &id in ids {
            bytes.extend_from_slice(&self.piece(id, render_special));
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The bytes token `id` stands for (possibly part of a UTF-8 character).
    pub fn piece(&self, id: u32, render_special: bool) -> Cow<'_, [u8]> {
        decode::piece(&self.vocab, id, render_special)
    }

    /// A decoder for generated ids; see [`StreamDecoder`].
    pub fn stream_decoder(&self, render_special: bool) -> StreamDecoder {
        StreamDecoder::new(render_special)
    }

    /// The stored text of a token (byte-level alphabet for NORMAL tokens).
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.vocab.texts.get(id as usize).map(String::as_str)
    }

    pub fn token_type(&self, id: u32) -> Option<TokenType> {
        self.vocab.types.get(id as usize).copied()
    }

    /// The id whose stored text is exactly `text` (the highest id for duplicates).
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.vocab.ids.get(text).copied()
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab.n_tokens()
    }

    pub fn bos(&self) -> Option<u32> {
        self.vocab.special.bos
    }

    pub fn eos(&self) -> Option<u32> {
        self.vocab.special.eos
    }

    /// All optional special ids (bos, eos, eot, eom, unk, pad).
    pub fn special_ids(&self) -> SpecialIds {
        self.vocab.special
    }

    /// Whether `encode(.., add_special = true, ..)` prepends BOS.
    pub fn add_bos(&self) -> bool {
        self.vocab.add_bos && self.vocab.special.bos.is_some()
    }

    /// Whether `encode(.., add_special = true, ..)` appends EOS.
    pub fn add_eos(&self) -> bool {
        self.vocab.add_eos && self.vocab.special.eos.is_some()
    }

    /// End of generation: eos, eot, eom and every end-of-turn token text (spec §6).
    pub fn is_eog(&self, id: u32) -> bool {
        self.vocab.eog.binary_search(&id).is_ok()
    }

    /// The EOG set, ascending.
    pub fn eog_ids(&self) -> &[u32] {
        &self.vocab.eog
    }

    pub fn pre_type(&self) -> PreType {
        self.pre
    }

    /// Number of tokens the special-token partition looks for.
    pub fn n_special_candidates(&self) -> usize {
        self.specials.n_candidates()
    }

    /// What llama.cpp would log as warnings while loading this vocabulary.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::{MetaArray, MetaValue};

    /// A toy vocabulary: the 256 byte characters, a few merges and specials.
    pub(crate) fn toy_metadata() -> Metadata {
        let mut tokens: Vec<String> = (0..=255u8).map(|b| byte_to_char(b).to_string()).collect();
        let mut types = vec![1i32; 256];
        for (t, ty) in [
            ("he", 1),
            ("ll", 1),
            ("hell", 1),
            ("hello", 1),
            ("Ġw", 1),
            ("<|im_start|>", 3),
            ("<|im_end|>", 3),
            ("<think>", 4),
            ("<｜User｜>", 3),
            ("<｜Assistant｜>", 3),
            ("<｜end▁of▁sentence｜>", 3),
        ] {
            tokens.push(t.to_string());
            types.push(ty);
        }
        let merges = ["h e", "l l", "he ll", "hell o", "Ġ w"];
        let mut md = Metadata::new();
        let s = |v: &str| MetaValue::String(v.to_string());
        md.set(TokenizerKey::Model.name(), s("gpt2"));
        md.set(TokenizerKey::Pre.name(), s("smollm"));
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
            MetaValue::Array(MetaArray::String(
                merges.iter().map(|m| m.to_string()).collect(),
            )),
        );
        md.set(TokenizerKey::BosId.name(), MetaValue::U32(261));
        md.set(TokenizerKey::EosId.name(), MetaValue::U32(262));
        md
    }

    #[test]
    fn toy_encode_decode() {
        let t = Tokenizer::from_metadata(&toy_metadata()).unwrap();
        assert!(t.warnings().is_empty(), "{:?}", t.warnings());
        let ids = t.encode("<|im_start|>hello w<think>", false, true);
        assert_eq!(ids, [261, 259, 260, 263]);
        assert_eq!(t.decode(&ids, false), "hello w<think>");
        assert_eq!(t.decode(&ids, true), "<|im_start|>hello w<think>");
        let ids = t.encode("<|im_start|>", true, false);
        assert_eq!(t.decode(&ids, true), "<|im_start|>");
        assert!(
            !ids.contains(&261),
            "parse_special=false: text, not the token"
        );
        assert!(t.is_eog(262) && !t.is_eog(261));
    }

    #[test]
    fn r1_style_markers() {
        let mut md = toy_metadata();
        md.set(
            TokenizerKey::Pre.name(),
            MetaValue::String("deepseek-v3".into()),
        );
        let t = Tokenizer::from_metadata(&md).unwrap();
        let (user, assistant, end) = (264, 265, 266);
        let prompt = "<｜User｜>hi<｜Assistant｜><think>\n";
        let ids = t.encode(prompt, false, true);
        assert_eq!(ids, [user, 104, 105, assistant, 263, 10]); // byte ids = byte values
        assert_eq!(t.decode(&ids, true), prompt);
        // Safe mode: the fullwidth role markers are text, `<think>` is still a token.
        let ids = t.encode(prompt, false, false);
        assert!(!ids.contains(&user) && ids.contains(&263), "{ids:?}");
        assert_eq!(t.decode(&ids, false), prompt);
        assert!(t.is_eog(end), "<｜end▁of▁sentence｜> ends generation");
    }

    #[test]
    fn bos_eos_flags() {
        let mut md = toy_metadata();
        md.set(TokenizerKey::AddBos.name(), MetaValue::Bool(true));
        md.set(TokenizerKey::AddEos.name(), MetaValue::Bool(true));
        let t = Tokenizer::from_metadata(&md).unwrap();
        assert_eq!(t.encode("he", true, true), [261, 256, 262]);
        assert_eq!(t.encode("he", false, true), [256]);
    }

    #[test]
    fn load_errors_are_specific() {
        let mut md = toy_metadata();
        md.set(
            TokenizerKey::Model.name(),
            MetaValue::String("llama".into()),
        );
        let e = Tokenizer::from_metadata(&md).unwrap_err();
        assert!(matches!(e, TokenizerError::UnsupportedModel { .. }), "{e}");
        assert!(e.to_string().contains("only \"gpt2\""), "{e}");

        let mut md = toy_metadata();
        md.set(
            TokenizerKey::Merges.name(),
            MetaValue::Array(MetaArray::String(vec!["h e".into(), "he".into()])),
        );
        let e = Tokenizer::from_metadata(&md).unwrap_err();
        assert!(
            matches!(e, TokenizerError::BadMerge { index: 1, .. }),
            "{e}"
        );

        let mut md = toy_metadata();
        md.remove(TokenizerKey::Pre.name());
        let t = Tokenizer::from_metadata(&md).unwrap();
        assert_eq!(t.pre_type(), PreType::Default);
        assert!(t.warnings()[0].contains("missing"), "{:?}", t.warnings());
    }
}
