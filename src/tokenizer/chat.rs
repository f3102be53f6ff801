//! Chat templates (spec §8): a conversation → the prompt string the model was trained
//! on. Owns rendering `tokenizer.chat_template` (Jinja, via minijinja configured like
//! `transformers`: `trim_blocks`, `lstrip_blocks`, Python string methods from
//! `pycompat`), the built-in renderers llama.cpp uses when a file has no template, and
//! llama.cpp's BOS/EOS de-duplication.
//!
//! Context given to a Jinja template: `messages` (list of `{role, content}`),
//! `add_generation_prompt`, `bos_token`, `eos_token`. Templates that need `tools` or
//! `tool_calls` see them undefined (tool use is not supported yet).
//!
//! BOS rule (llama.cpp `common/chat.cpp`): when the tokenizer itself adds BOS, a
//! rendered prompt that starts with the BOS text loses it, so that
//! `encode(prompt, add_special = true, parse_special = true)` holds exactly one BOS;
//! likewise a trailing EOS text when the tokenizer adds EOS. The built-in renderers
//! never print BOS.

use std::fmt;

use minijinja::{Environment, ErrorKind};
use serde::Serialize;

use crate::gguf::{KeyTypeError, Metadata};
use crate::schema::TokenizerKey;

use super::Tokenizer;

/// Name of the one template in the environment.
const NAME: &str = "chat_template";

// Marker texts of the built-in renderers (token texts of those model families).
const IM_START: &str = "<|im_start|>";
const IM_END: &str = "<|im_end|>";
const START_HEADER: &str = "<|start_header_id|>";
const END_HEADER: &str = "<|end_header_id|>";
const EOT_ID: &str = "<|eot_id|>";
const DS_USER: &str = "<｜User｜>";
const DS_ASSISTANT: &str = "<｜Assistant｜>";
const DS_EOS: &str = "<｜end▁of▁sentence｜>";

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
    pub fn system(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("system", content)
    }
    pub fn user(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("user", content)
    }
    pub fn assistant(content: impl Into<String>) -> ChatMessage {
        ChatMessage::new("assistant", content)
    }
}

/// Template errors. Unsupported constructs (an unknown filter, test, function or
/// method) are reported apart from ordinary failures.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error(transparent)]
    KeyType(#[from] KeyTypeError),
    #[error("the chat template does not compile: {detail}")]
    Syntax { detail: String },
    #[error("the chat template uses a construct bitmoe does not support: {detail}")]
    Unsupported { detail: String },
    #[error("rendering the chat template failed: {detail}")]
    Render { detail: String },
}

impl From<minijinja::Error> for ChatError {
    fn from(e: minijinja::Error) -> ChatError {
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(&format!(": {s}"));
            source = s.source();
        }
        match e.kind() {
            ErrorKind::SyntaxError | ErrorKind::UnknownBlock => ChatError::Syntax { detail },
            ErrorKind::UnknownFilter
            | ErrorKind::UnknownTest
            | ErrorKind::UnknownFunction
            | ErrorKind::UnknownMethod => ChatError::Unsupported { detail },
            _ => ChatError::Render { detail },
        }
    }
}

/// llama.cpp's built-in (non-Jinja) renderers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinTemplate {
    /// `<|im_start|>{role}\n{content}<|im_end|>\n`; Qwen2, SmolLM2.
    ChatMl,
    /// `<|start_header_id|>{role}<|end_header_id|>\n\n{trimmed content}<|eot_id|>`.
    Llama3,
    /// System text + `\n\n`, `<｜User｜>…`, `<｜Assistant｜>…<｜end▁of▁sentence｜>`;
    /// generation prompt `<｜Assistant｜>` (R1's own template adds `<think>\n`).
    Deepseek3,
}

impl BuiltinTemplate {
    /// llama.cpp's detection on a template text.
    pub fn detect(template: &str) -> Option<BuiltinTemplate> {
        if template.contains(IM_START) {
            Some(BuiltinTemplate::ChatMl)
        } else if template.contains(START_HEADER) && template.contains(END_HEADER) {
            Some(BuiltinTemplate::Llama3)
        } else if [DS_ASSISTANT, DS_USER, DS_EOS]
            .iter()
            .all(|m| template.contains(m))
        {
            Some(BuiltinTemplate::Deepseek3)
        } else {
            None
        }
    }

    /// The same markers looked up as tokens of the vocabulary; ChatML when none match
    /// (llama.cpp's default for a file without a template).
    pub fn for_vocab(tok: &Tokenizer) -> BuiltinTemplate {
        let has = |t: &str| tok.token_id(t).is_some();
        if has(IM_START) {
            BuiltinTemplate::ChatMl
        } else if has(START_HEADER) && has(END_HEADER) {
            BuiltinTemplate::Llama3
        } else if has(DS_ASSISTANT) && has(DS_USER) && has(DS_EOS) {
            BuiltinTemplate::Deepseek3
        } else {
            BuiltinTemplate::ChatMl
        }
    }

    pub fn render(self, messages: &[ChatMessage], add_generation_prompt: bool) -> String {
        let mut out = String::new();
        for m in messages {
            let (role, content) = (m.role.as_str(), m.content.as_str());
            match self {
                BuiltinTemplate::ChatMl => {
                    out.extend([IM_START, role, "\n", content, IM_END, "\n"]);
                }
                BuiltinTemplate::Llama3 => {
                    let body = content.trim();
                    out.extend([START_HEADER, role, END_HEADER, "\n\n", body, EOT_ID]);
                }
                BuiltinTemplate::Deepseek3 => match role {
                    "system" => out.extend([content, "\n\n"]),
                    "user" => out.extend([DS_USER, content]),
                    "assistant" => out.extend([DS_ASSISTANT, content, DS_EOS]),
                    _ => {}
                },
            }
        }
        if add_generation_prompt {
            match self {
                BuiltinTemplate::ChatMl => out.extend([IM_START, "assistant\n"]),
                BuiltinTemplate::Llama3 => {
                    out.extend([START_HEADER, "assistant", END_HEADER, "\n\n"])
                }
                BuiltinTemplate::Deepseek3 => out.push_str(DS_ASSISTANT),
            }
        }
        out
    }
}

/// The special texts a template sees and the tokenizer flags of the BOS rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatSpecials {
    /// `bos_token` (empty when the vocabulary has none).
    pub bos: String,
    /// `eos_token`.
    pub eos: String,
    /// The tokenizer prepends BOS: strip a leading `bos` from the rendered prompt.
    pub add_bos: bool,
    /// The tokenizer appends EOS: strip a trailing `eos`.
    pub add_eos: bool,
}

impl ChatSpecials {
    pub fn from_tokenizer(tok: &Tokenizer) -> ChatSpecials {
        let text = |id: Option<u32>| {
            id.map(|id| String::from_utf8_lossy(&tok.piece(id, true)).into_owned())
                .unwrap_or_default()
        };
        ChatSpecials {
            bos: text(tok.bos()),
            eos: text(tok.eos()),
            add_bos: tok.add_bos(),
            add_eos: tok.add_eos(),
        }
    }
}

enum Engine {
    Jinja {
        env: Box<Environment<'static>>,
        source: String,
    },
    Builtin(BuiltinTemplate),
}

/// A compiled chat template.
pub struct ChatTemplate {
    engine: Engine,
    specials: ChatSpecials,
}

impl fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ChatTemplate");
        match &self.engine {
            Engine::Jinja { source, .. } => d.field("jinja_bytes", &source.len()),
            Engine::Builtin(b) => d.field("builtin", b),
        };
        d.field("specials", &self.specials).finish()
    }
}

impl ChatTemplate {
    /// `tokenizer.chat_template` when present (an error if it does not compile), else
    /// the built-in renderer matching the vocabulary.
    pub fn from_metadata(md: &Metadata, tok: &Tokenizer) -> Result<ChatTemplate, ChatError> {
        let specials = ChatSpecials::from_tokenizer(tok);
        match md.get_str(TokenizerKey::ChatTemplate.name())? {
            Some(source) => ChatTemplate::from_jinja(source, specials),
            None => Ok(ChatTemplate::builtin(
                BuiltinTemplate::for_vocab(tok),
                specials,
            )),
        }
    }

    /// Compiles a Jinja template.
    pub fn from_jinja(source: &str, specials: ChatSpecials) -> Result<ChatTemplate, ChatError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        super::pycompat::install(&mut env);
        env.add_template_owned(NAME, source.to_string())?;
        Ok(ChatTemplate {
            engine: Engine::Jinja {
                env: Box::new(env),
                source: source.to_string(),
            },
            specials,
        })
    }

    pub fn builtin(kind: BuiltinTemplate, specials: ChatSpecials) -> ChatTemplate {
        ChatTemplate {
            engine: Engine::Builtin(kind),
            specials,
        }
    }

    /// The Jinja source, `None` for a built-in renderer.
    pub fn source(&self) -> Option<&str> {
        match &self.engine {
            Engine::Jinja { source, .. } => Some(source),
            Engine::Builtin(_) => None,
        }
    }

    pub fn builtin_kind(&self) -> Option<BuiltinTemplate> {
        match &self.engine {
            Engine::Jinja { .. } => None,
            Engine::Builtin(b) => Some(*b),
        }
    }

    pub fn specials(&self) -> &ChatSpecials {
        &self.specials
    }

    /// Renders the conversation; applies the BOS/EOS rule of the module doc.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, ChatError> {
        let out = match &self.engine {
            Engine::Jinja { env, .. } => env.get_template(NAME)?.render(minijinja::context! {
                messages => messages,
                add_generation_prompt => add_generation_prompt,
                bos_token => &self.specials.bos,
                eos_token => &self.specials.eos,
            })?,
            Engine::Builtin(b) => b.render(messages, add_generation_prompt),
        };
        let s = &self.specials;
        let mut out = out.as_str();
        if s.add_bos && !s.bos.is_empty() {
            out = out.strip_prefix(s.bos.as_str()).unwrap_or(out);
        }
        if s.add_eos && !s.eos.is_empty() {
            out = out.strip_suffix(s.eos.as_str()).unwrap_or(out);
        }
        Ok(out.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specials(add_bos: bool) -> ChatSpecials {
        ChatSpecials {
            bos: "<s>".into(),
            eos: "</s>".into(),
            add_bos,
            add_eos: false,
        }
    }

    #[test]
    fn builtins() {
        let msgs = [
            ChatMessage::system("Be brief."),
            ChatMessage::user(" Hi "),
            ChatMessage::assistant("Hello."),
        ];
        assert_eq!(
            BuiltinTemplate::ChatMl.render(&msgs[1..2], true),
            "<|im_start|>user\n Hi <|im_end|>\n<|im_start|>assistant\n"
        );
        assert_eq!(
            BuiltinTemplate::Llama3.render(&msgs[1..2], true),
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>\
             <|start_header_id|>assistant<|end_header_id|>\n\n"
        );
        assert_eq!(
            BuiltinTemplate::Deepseek3.render(&msgs, true),
            "Be brief.\n\n<｜User｜> Hi <｜Assistant｜>Hello.<｜end▁of▁sentence｜><｜Assistant｜>"
        );
        assert_eq!(
            BuiltinTemplate::detect("{{'<｜Assistant｜>'}}<｜User｜><｜end▁of▁sentence｜>"),
            Some(BuiltinTemplate::Deepseek3)
        );
        assert_eq!(BuiltinTemplate::detect("{{ x }}"), None);
    }

    #[test]
    fn jinja_bos_rule_and_errors() {
        let src = "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}\n\
                   {% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}";
        let msgs = [ChatMessage::user("x")];
        let t = ChatTemplate::from_jinja(src, specials(false)).unwrap();
        assert_eq!(t.render(&msgs, true).unwrap(), "<s>[user]x\n[assistant]");
        let t = ChatTemplate::from_jinja(src, specials(true)).unwrap();
        assert_eq!(t.render(&msgs, false).unwrap(), "[user]x\n");

        let e = ChatTemplate::from_jinja("{% for %}", specials(false)).unwrap_err();
        assert!(matches!(e, ChatError::Syntax { .. }), "{e}");
        let t = ChatTemplate::from_jinja("{{ messages | frob }}", specials(false));
        let e = t.and_then(|t| t.render(&msgs, true)).unwrap_err();
        assert!(matches!(e, ChatError::Unsupported { .. }), "{e}");
        let t = ChatTemplate::from_jinja("{{ raise_exception('bad role') }}", specials(false));
        let e = t.unwrap().render(&msgs, true).unwrap_err();
        assert!(matches!(e, ChatError::Render { .. }) && e.to_string().contains("bad role"));
    }

    #[test]
    fn namespace_and_trim_blocks() {
        let src = "{% set ns = namespace(sys='') %}\n{% for m in messages %}\n  \
                   {% if m.role == 'system' %}{% set ns.sys = m.content %}{% endif %}\n\
                   {% endfor %}\n{{ ns.sys }}";
        let t = ChatTemplate::from_jinja(src, specials(false)).unwrap();
        let msgs = [ChatMessage::system("S"), ChatMessage::user("u")];
        assert_eq!(t.render(&msgs, false).unwrap(), "S");
    }
}
