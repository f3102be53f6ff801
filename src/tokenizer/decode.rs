//! Token ids → text (spec §2, §7): the GPT-2 byte ↔ unicode alphabet, the bytes each
//! token stands for, and [`StreamDecoder`], which turns a stream of ids into text
//! without ever splitting a UTF-8 character.
//!
//! Byte alphabet: bytes 0x21–0x7E, 0xA1–0xAC and 0xAE–0xFF map to the code point of the
//! same value; the other 68 bytes (0x00–0x20, 0x7F–0xA0, 0xAD), in increasing order,
//! map to U+0100…U+0143. So ' ' → 'Ġ' (U+0120), '\n' → 'Ċ' (U+010A).
//!
//! Per token type: NORMAL (and UNDEFINED) → the bytes behind its characters; a character
//! outside the alphabet (not produced by the converter) stands for its own UTF-8.
//! USER_DEFINED → its text verbatim. CONTROL / UNKNOWN → nothing, or the text verbatim
//! when special tokens are rendered. BYTE `<0xAB>` → that byte. UNUSED → nothing.
//! HF's `clean_up_tokenization_spaces` is not applied (llama.cpp's streaming output does
//! not apply it either).

use std::borrow::Cow;

use super::vocab::{TokenType, Vocab};

/// The alphabet character standing for byte `b`.
pub fn byte_to_char(b: u8) -> char {
    let cp = match b {
        0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF => u32::from(b),
        0x00..=0x20 => 0x100 + u32::from(b),
        0x7F..=0xA0 => 0x121 + u32::from(b - 0x7F),
        0xAD => 0x143,
    };
    // Every value above is a valid scalar (≤ U+0143).
    char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The byte an alphabet character stands for; `None` outside the alphabet.
pub fn char_to_byte(c: char) -> Option<u8> {
    let cp = u32::from(c);
    match cp {
        0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF => Some(cp as u8),
        0x100..=0x120 => Some((cp - 0x100) as u8),
        0x121..=0x142 => Some((cp - 0x121 + 0x7F) as u8),
        0x143 => Some(0xAD),
        _ => None,
    }
}

/// The bytes of token `id` (empty for an id outside the vocabulary).
pub fn piece(vocab: &Vocab, id: u32, render_special: bool) -> Cow<'_, [u8]> {
    let (Some(text), Some(&ty)) = (vocab.texts.get(id as usize), vocab.types.get(id as usize))
    else {
        return Cow::Borrowed(&[]);
    };
    match ty {
        TokenType::Normal | TokenType::Undefined => {
            let mut out = Vec::with_capacity(text.len());
            for c in text.chars() {
                match char_to_byte(c) {
                    Some(b) => out.push(b),
                    None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
            Cow::Owned(out)
        }
        TokenType::UserDefined => Cow::Borrowed(text.as_bytes()),
        TokenType::Control | TokenType::Unknown if render_special => Cow::Borrowed(text.as_bytes()),
        TokenType::Control | TokenType::Unknown | TokenType::Unused => Cow::Borrowed(&[]),
        TokenType::Byte => match parse_byte_token(text) {
            Some(b) => Cow::Owned(vec![b]),
            None => Cow::Borrowed(text.as_bytes()),
        },
    }
}

/// `<0xAB>` → 0xAB.
fn parse_byte_token(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    u8::from_str_radix(hex, 16).ok()
}

/// Incremental detokenizer: push ids (or raw bytes), get back only complete UTF-8 text.
///
/// Bytes of an incomplete sequence at the end wait for the next push; a byte sequence
/// that can never become valid is emitted at once as U+FFFD; [`StreamDecoder::finish`]
/// flushes a trailing incomplete sequence as U+FFFD. It does not borrow the tokenizer,
/// so an engine can keep one beside an `Arc<Tokenizer>`.
#[derive(Debug, Clone, Default)]
pub struct StreamDecoder {
    pending: Vec<u8>,
    render_special: bool,
}

impl StreamDecoder {
    /// `render_special`: print CONTROL / UNKNOWN token texts (e.g. `<|im_end|>`).
    pub fn new(render_special: bool) -> StreamDecoder {
        StreamDecoder {
            pending: Vec::new(),
            render_special,
        }
    }

    /// Appends the bytes of token `id`; returns the text completed by them.
    pub fn push(&mut self, tok: &super::Tokenizer, id: u32) -> String {
        let bytes = tok.piece(id, self.render_special);
        self.push_bytes(&bytes)
    }

    /// Appends raw bytes; returns the text completed by them.
    pub fn push_bytes(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut start = 0;
        while start < self.pending.len() {
            match std::str::from_utf8(&self.pending[start..]) {
                Ok(s) => {
                    out.push_str(s);
                    start = self.pending.len();
                }
                Err(e) => {
                    let valid = start + e.valid_up_to();
                    // Checked valid just above.
                    out.push_str(std::str::from_utf8(&self.pending[start..valid]).unwrap_or(""));
                    match e.error_len() {
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            start = valid + bad;
                        }
                        None => {
                            start = valid; // incomplete tail: wait for more bytes
                            break;
                        }
                    }
                }
            }
        }
        self.pending.drain(..start);
        out
    }

    /// Bytes waiting for the rest of their character.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Ends the stream: the incomplete tail, if any, as U+FFFD.
    pub fn finish(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_is_a_bijection_with_the_documented_anchors() {
        let mut seen = std::collections::HashSet::new();
        for b in 0..=255u8 {
            let c = byte_to_char(b);
            assert_eq!(char_to_byte(c), Some(b));
            assert!(seen.insert(c));
        }
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
        assert_eq!(byte_to_char(b'\t'), 'ĉ');
        assert_eq!(byte_to_char(b'\r'), 'č');
        assert_eq!(byte_to_char(0xAD), 'Ń');
        assert_eq!(byte_to_char(b'a'), 'a');
        assert_eq!(char_to_byte('€'), None);
    }

    #[test]
    fn stream_holds_incomplete_sequences() {
        let rocket = "🚀".as_bytes(); // F0 9F 9A 80
        let mut d = StreamDecoder::new(false);
        assert_eq!(d.push_bytes(b"a"), "a");
        assert_eq!(d.push_bytes(&rocket[..1]), "");
        assert_eq!(d.push_bytes(&rocket[1..3]), "");
        assert_eq!(d.pending().len(), 3);
        assert_eq!(d.push_bytes(&[rocket[3], b'!']), "🚀!");
        // An impossible byte is replaced at once, not held back.
        assert_eq!(d.push_bytes(&[0xFF, b'x']), "\u{FFFD}x");
        // A truncated tail is flushed as U+FFFD at the end.
        assert_eq!(d.push_bytes(&rocket[..2]), "");
        assert_eq!(d.finish(), "\u{FFFD}");
        assert_eq!(d.finish(), "");
    }

    #[test]
    fn byte_tokens() {
        assert_eq!(parse_byte_token("<0x0A>"), Some(10));
        assert_eq!(parse_byte_token("<0xZZ>"), None);
    }
}
