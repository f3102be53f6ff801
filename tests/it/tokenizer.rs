//! Tokenizer and chat templates against the real SmolLM2 vocabulary: the 130 spec test
//! vectors (5 pre-tokenizer types × 26 strings, ids from llama.cpp and HF), round trips,
//! streaming detokenization, the special-token partition, EOG, and chat templates
//! (SmolLM2's own, the official DeepSeek-R1 and R1-Distill templates, our built-ins).

use bitmoe::gguf::{GgufFile, MetaArray, MetaValue, Metadata};
use bitmoe::schema::TokenizerKey;
use bitmoe::tokenizer::{
    BuiltinTemplate, ChatMessage, ChatSpecials, ChatTemplate, Fragment, PreType, TokenType,
    Tokenizer,
};

use crate::support;

/// SmolLM2's metadata, or `None` (with a note) when the model is absent.
fn smollm2_metadata() -> Option<Metadata> {
    let path = support::smollm2()?;
    let file = GgufFile::open(&path).expect("open SmolLM2");
    Some(file.metadata().clone())
}

fn with_pre(md: &Metadata, pre: &str) -> Tokenizer {
    let mut md = md.clone();
    md.set(TokenizerKey::Pre.name(), MetaValue::String(pre.to_string()));
    Tokenizer::from_metadata(&md).unwrap_or_else(|e| panic!("pre {pre}: {e}"))
}

#[test]
fn smollm2_vocabulary_facts() {
    let Some(md) = smollm2_metadata() else { return };
    let t = Tokenizer::from_metadata(&md).unwrap();
    assert!(t.warnings().is_empty(), "{:?}", t.warnings());
    assert_eq!(t.pre_type(), PreType::Smollm);
    assert_eq!(t.vocab_size(), 49152);
    assert_eq!((t.bos(), t.eos()), (Some(1), Some(2)));
    assert!(!t.add_bos() && !t.add_eos());
    assert_eq!(t.token_text(0), Some("<|endoftext|>"));
    assert_eq!(t.token_text(2), Some("<|im_end|>"));
    assert_eq!(t.token_type(1), Some(TokenType::Control));
    assert_eq!(t.n_special_candidates(), 17);
    // EOG: eos `<|im_end|>` and `<|endoftext|>` (spec §6).
    assert_eq!(t.eog_ids(), [0, 2]);
    assert!(t.is_eog(0) && t.is_eog(2) && !t.is_eog(1));
}

/// All 130 cases of `testvectors/tokenizer-pretok-smollm2-vocab.json` (embedded below
/// so the test runs on a fresh clone; checked against the shared copy when present).
#[test]
fn spec_vectors_all_pre_tokenizers() {
    let Some(md) = smollm2_metadata() else { return };
    let vectors: serde_json::Value = serde_json::from_str(VECTORS).unwrap();
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/spec/testvectors/tokenizer-pretok-smollm2-vocab.json");
    if let Ok(text) = std::fs::read_to_string(&shared) {
        let original: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            vectors,
            original,
            "embedded vectors differ from {}",
            shared.display()
        );
    }
    let mut n = 0;
    let mut failures = Vec::new();
    for pre in [
        "smollm",
        "qwen2",
        "deepseek-r1-qwen",
        "llama-bpe",
        "deepseek-v3",
    ] {
        let t = with_pre(&md, pre);
        let cases = vectors[pre].as_array().unwrap();
        assert_eq!(cases.len(), 26, "{pre}");
        for case in cases {
            let text = case["text"].as_str().unwrap();
            let want: Vec<u32> = case["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect();
            let got = t.encode(text, false, true);
            if got != want {
                failures.push(format!("{pre} {text:?}\n  want {want:?}\n  got  {got:?}"));
            }
            // Every case decodes back to its text.
            assert_eq!(t.decode(&got, true), text, "{pre} round trip");
            n += 1;
        }
    }
    assert_eq!(n, 130);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn round_trip_mixed_text() {
    let Some(md) = smollm2_metadata() else { return };
    let t = Tokenizer::from_metadata(&md).unwrap();
    let text = "Hello, World! fn main() { println!(\"{}\", 1 + 2); }\n\t日本語のテキスト 我想 \
                🦙🚀 😶\u{200d}🌫️ naïve café\r\n<|im_start|>user\nhi<|im_end|>\n  trailing  ";
    for parse_special in [true, false] {
        let ids = t.encode(text, false, parse_special);
        assert_eq!(t.decode(&ids, true), text, "parse_special={parse_special}");
        assert_eq!(ids.contains(&1), parse_special);
    }
    // Without rendering, control tokens vanish and the rest stays.
    let ids = t.encode("a<|im_end|>b", false, true);
    assert_eq!(t.decode(&ids, false), "ab");
    // A byte without a token (SmolLM2 has none for 0x04) is dropped, as in llama.cpp.
    assert_eq!(t.decode(&t.encode("a\u{4}b", false, true), false), "ab");
}

#[test]
fn long_input_every_pre_tokenizer() {
    let Some(md) = smollm2_metadata() else { return };
    let unit = "The 12345 quick   brown 🦊 jumps; 日本語のテキスト, naïve\r\n\t x  = y**2\n";
    let text = unit.repeat(2000); // ~150 KB; units end at \n so pieces never straddle
    for pre in ["smollm", "qwen2", "llama-bpe", "deepseek-v3"] {
        let t = with_pre(&md, pre);
        let ids = t.encode(&text, false, true);
        assert_eq!(ids.len(), 2000 * t.encode(unit, false, true).len(), "{pre}");
        assert_eq!(t.decode(&ids, false), text, "{pre}");
        // Long whitespace runs go through the look-ahead alternatives in linear time.
        let spaces = format!("a{}b\n\n{}c", " ".repeat(20_000), "\r\n ".repeat(5_000));
        let ids = t.encode(&spaces, false, true);
        assert_eq!(t.decode(&ids, false), spaces, "{pre}");
    }
}

#[test]
fn streaming_never_splits_a_character() {
    let Some(md) = smollm2_metadata() else { return };
    let t = Tokenizer::from_metadata(&md).unwrap();
    // The spec vectors show 🚀 as three byte-level tokens [10813, 244, 218].
    let ids = t.encode("🚀", false, true);
    assert_eq!(ids, [10813, 244, 218]);
    let mut d = t.stream_decoder(false);
    assert_eq!(d.push(&t, ids[0]), "");
    assert_eq!(d.push(&t, ids[1]), "");
    assert_eq!(d.push(&t, ids[2]), "🚀");
    assert_eq!(d.finish(), "");

    let text = "Grüße 🦙🦙 日本語 ✅<|im_end|> done";
    let ids = t.encode(text, false, true);
    for render_special in [false, true] {
        let mut d = t.stream_decoder(render_special);
        let mut out = String::new();
        for &id in &ids {
            out.push_str(&d.push(&t, id));
        }
        out.push_str(&d.finish());
        assert_eq!(out, t.decode(&ids, render_special));
        assert!(!out.contains('\u{FFFD}'));
    }
    // A stream cut inside a character flushes U+FFFD at the end.
    let mut d = t.stream_decoder(false);
    assert_eq!(d.push(&t, 10813), "");
    assert_eq!(d.finish(), "\u{FFFD}");
}

#[test]
fn special_token_partition() {
    let Some(md) = smollm2_metadata() else { return };
    let t = Tokenizer::from_metadata(&md).unwrap();
    let s = "<|im_start|>user\nHi<|im_end|>";
    assert_eq!(
        t.partition(s, true),
        [
            Fragment::Token(1),
            Fragment::Text("user\nHi"),
            Fragment::Token(2)
        ]
    );
    assert_eq!(t.partition(s, false), [Fragment::Text(s)]);
    let ids = t.encode(s, false, false);
    assert!(!ids.contains(&1) && !ids.contains(&2), "{ids:?}");
    assert_eq!(t.decode(&ids, false), s, "injected markers stay text");

    // USER_DEFINED tokens are matched even with parse_special = false (`<think>` rule).
    let mut md = md.clone();
    let mut types: Vec<i32> = match md.get(TokenizerKey::TokenType.name()) {
        Some(MetaValue::Array(MetaArray::I32(v))) => v.clone(),
        other => panic!("token_type is {other:?}"),
    };
    types[3] = 4; // `<repo_name>`
    md.set(
        TokenizerKey::TokenType.name(),
        MetaValue::Array(MetaArray::I32(types)),
    );
    let t = Tokenizer::from_metadata(&md).unwrap();
    assert_eq!(t.token_text(3), Some("<repo_name>"));
    let s = "x<repo_name>y<|im_start|>";
    let ids = t.encode(s, false, false);
    assert!(ids.contains(&3) && !ids.contains(&1), "{ids:?}");
    assert_eq!(t.decode(&ids, false), s, "USER_DEFINED prints verbatim");
}

const SMOLLM_SYSTEM: &str = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

#[test]
fn smollm2_chat_template_is_chatml_with_default_system() {
    let Some(md) = smollm2_metadata() else { return };
    let t = Tokenizer::from_metadata(&md).unwrap();
    let chat = ChatTemplate::from_metadata(&md, &t).unwrap();
    assert!(chat.source().is_some());
    let msgs = [
        ChatMessage::user("What is 2+2?"),
        ChatMessage::assistant("4."),
        ChatMessage::user("And 3+3?"),
    ];
    let want = format!(
        "<|im_start|>system\n{SMOLLM_SYSTEM}<|im_end|>\n\
         <|im_start|>user\nWhat is 2+2?<|im_end|>\n\
         <|im_start|>assistant\n4.<|im_end|>\n\
         <|im_start|>user\nAnd 3+3?<|im_end|>\n\
         <|im_start|>assistant\n"
    );
    let prompt = chat.render(&msgs, true).unwrap();
    assert_eq!(prompt, want);
    // The built-in ChatML renderer agrees once the default system message is explicit.
    let mut with_system = vec![ChatMessage::system(SMOLLM_SYSTEM)];
    with_system.extend(msgs.iter().cloned());
    assert_eq!(chat.render(&with_system, true).unwrap(), want);
    assert_eq!(BuiltinTemplate::ChatMl.render(&with_system, true), want);
    assert_eq!(
        BuiltinTemplate::detect(chat.source().unwrap()),
        Some(BuiltinTemplate::ChatMl)
    );
    // No BOS for SmolLM2; the prompt starts with `<|im_start|>` (id 1) and parses back.
    let ids = t.encode(&prompt, true, true);
    assert_eq!(ids[0], 1);
    assert_eq!(ids.iter().filter(|&&i| i == 2).count(), 4);
    assert_eq!(t.decode(&ids, true), prompt);

    // Without a template in the file: the built-in ChatML chosen from the vocabulary.
    let mut bare = md.clone();
    bare.remove(TokenizerKey::ChatTemplate.name());
    let chat = ChatTemplate::from_metadata(&bare, &t).unwrap();
    assert_eq!(chat.builtin_kind(), Some(BuiltinTemplate::ChatMl));
}

fn r1_specials(add_bos: bool) -> ChatSpecials {
    ChatSpecials {
        bos: "<｜begin▁of▁sentence｜>".into(),
        eos: "<｜end▁of▁sentence｜>".into(),
        add_bos,
        add_eos: false,
    }
}

#[test]
fn r1_template_matches_spec_examples() {
    let chat = ChatTemplate::from_jinja(R1_TEMPLATE, r1_specials(false)).unwrap();
    let one = [ChatMessage::user("What is 1+1?")];
    assert_eq!(
        chat.render(&one, true).unwrap(),
        "<｜begin▁of▁sentence｜><｜User｜>What is 1+1?<｜Assistant｜><think>\n"
    );
    let two = [
        ChatMessage::user("What is 1+1?"),
        ChatMessage::assistant("<think>\nadd them\n</think>\n\nIt's 2."),
        ChatMessage::user("Explain more!"),
    ];
    let want_two = "<｜begin▁of▁sentence｜><｜User｜>What is 1+1?<｜Assistant｜>\n\nIt's 2.\
                    <｜end▁of▁sentence｜><｜User｜>Explain more!<｜Assistant｜><think>\n";
    assert_eq!(chat.render(&two, true).unwrap(), want_two);
    let plain = [
        two[0].clone(),
        ChatMessage::assistant("It's 2."),
        two[2].clone(),
    ];
    assert_eq!(
        chat.render(&plain, true).unwrap(),
        "<｜begin▁of▁sentence｜><｜User｜>What is 1+1?<｜Assistant｜>It's 2.\
         <｜end▁of▁sentence｜><｜User｜>Explain more!<｜Assistant｜><think>\n"
    );
    // R1 joins all system messages with a blank line, right after BOS.
    let sys = [
        ChatMessage::system("A."),
        ChatMessage::system("B."),
        ChatMessage::user("u"),
    ];
    assert_eq!(
        chat.render(&sys, false).unwrap(),
        "<｜begin▁of▁sentence｜>A.\n\nB.<｜User｜>u"
    );
    // The tokenizer adds BOS (R1: add_bos_token = true): the rendered BOS text goes.
    let chat = ChatTemplate::from_jinja(R1_TEMPLATE, r1_specials(true)).unwrap();
    assert_eq!(
        chat.render(&one, true).unwrap(),
        "<｜User｜>What is 1+1?<｜Assistant｜><think>\n"
    );
    assert_eq!(
        BuiltinTemplate::detect(R1_TEMPLATE),
        Some(BuiltinTemplate::Deepseek3)
    );
}

#[test]
fn r1_distill_template_keeps_last_system_message() {
    let chat = ChatTemplate::from_jinja(R1_DISTILL_TEMPLATE, r1_specials(false)).unwrap();
    let msgs = [
        ChatMessage::system("A."),
        ChatMessage::system("B."),
        ChatMessage::user("What is 1+1?"),
        ChatMessage::assistant("<think>x</think>It's 2."),
        ChatMessage::user("Explain more!"),
    ];
    assert_eq!(
        chat.render(&msgs, true).unwrap(),
        "<｜begin▁of▁sentence｜>B.<｜User｜>What is 1+1?<｜Assistant｜>It's 2.\
         <｜end▁of▁sentence｜><｜User｜>Explain more!<｜Assistant｜><think>\n"
    );
}

#[test]
fn deepseek3_builtin_fallback() {
    let msgs = [ChatMessage::user("What is 1+1?")];
    let chat = ChatTemplate::builtin(BuiltinTemplate::Deepseek3, r1_specials(true));
    // llama.cpp's built-in: no BOS (the tokenizer adds it), no `<think>\n`.
    assert_eq!(
        chat.render(&msgs, true).unwrap(),
        "<｜User｜>What is 1+1?<｜Assistant｜>"
    );
}

/// DeepSeek-R1 (671B) `tokenizer_config.json` chat template, updated version with the
/// `<think>\n` generation prompt (Jinja escapes `\n` kept as written).
const R1_TEMPLATE: &str = concat!(
    r"{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}",
    r"{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', is_first_sp=true) %}",
    r"{%- for message in messages %}{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}",
    r"{% set ns.system_prompt = ns.system_prompt + message['content'] %}{% set ns.is_first_sp = false %}",
    r"{%- else %}{% set ns.system_prompt = ns.system_prompt + '\n\n' + message['content'] %}{%- endif %}",
    r"{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}",
    r"{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}",
    r"{%- if message['role'] == 'assistant' and 'tool_calls' in message %}{%- set ns.is_tool = false -%}",
    r"{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}{%- if message['content'] is none %}",
    r"{{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}",
    r"{%- else %}",
    r"{{'<｜Assistant｜>' + message['content'] + '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}",
    r"{%- endif %}{%- set ns.is_first = true -%}{%- else %}",
    r"{{'\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}",
    r"{%- endif %}{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}",
    r"{%- if message['role'] == 'assistant' and 'tool_calls' not in message %}{%- if ns.is_tool %}",
    r"{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}",
    r"{%- else %}{% set content = message['content'] %}{% if '</think>' in content %}",
    r"{% set content = content.split('</think>')[-1] %}{% endif %}",
    r"{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}",
    r"{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}",
    r"{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}",
    r"{%- set ns.is_output_first = false %}{%- else %}",
    r"{{'<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}{%- endif %}",
    r"{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}",
    r"{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\n'}}{% endif %}",
);

/// DeepSeek-R1-Distill-Qwen-32B's template as laid out in llama.cpp's
/// `models/templates/` (line breaks between tags, `-` whitespace control).
const R1_DISTILL_TEMPLATE: &str = r#"{% if not add_generation_prompt is defined -%}
  {%- set add_generation_prompt = false -%}
{%- endif -%}
{%- set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') -%}
{%- for message in messages -%}
  {%- if message['role'] == 'system' -%}
    {%- set ns.system_prompt = message['content'] -%}
  {%- endif -%}
{%- endfor -%}{{bos_token}}{{ns.system_prompt}}
{%- for message in messages -%}
  {%- if message['role'] == 'user' -%}
    {%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}
  {%- endif -%}
  {%- if message['role'] == 'assistant' and message['tool_calls'] -%}
    {%- set ns.is_tool = false -%}
    {%- for tool in message['tool_calls']-%}
      {%- if not ns.is_first -%}
        {{'<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}
        {%- set ns.is_first = true -%}
      {%- else -%}
        {{'\n' + '<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\n' + '```json' + '\n' + tool['function']['arguments'] + '\n' + '```' + '<｜tool▁call▁end｜>'}}
      {%- endif -%}
    {%- endfor -%}
    {{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}
  {%- endif -%}
  {%- if message['role'] == 'assistant' and message['content'] is not none -%}
    {%- if ns.is_tool -%}{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}
      {%- set ns.is_tool = false -%}
    {%- else -%}
      {%- set content = message['content'] -%}
      {%- if '</think>' in content -%}
        {%- set content = content.split('</think>')[-1] -%}
      {%- endif -%}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}
    {%- endif -%}
  {%- endif -%}
  {%- if message['role'] == 'tool' -%}
    {%- set ns.is_tool = true -%}
    {%- if ns.is_output_first -%}{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}
      {%- set ns.is_output_first = false -%}
      {%- else -%}{{'\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}
    {%- endif -%}
  {%- endif -%}
{%- endfor -%}
{%- if ns.is_tool -%}{{'<｜tool▁outputs▁end｜>'}}
{%- endif -%}
{%- if add_generation_prompt and not ns.is_tool -%}{{'<｜Assistant｜><think>\n'}}
{%- endif %}"#;

/// `shared/spec/testvectors/tokenizer-pretok-smollm2-vocab.json`, one case per line.
const VECTORS: &str = r##"
{
"smollm": [
{"text": "Hello world", "ids": [19556, 905]},
{"text": " Hello world", "ids": [38699, 905]},
{"text": "Hello  world", "ids": [19556, 216, 905]},
{"text": "  leading and trailing  ", "ids": [216, 2899, 284, 35079, 256]},
{"text": "line1\nline2\n\n\nline3", "ids": [1311, 33, 198, 1311, 34, 1116, 198, 1311, 35]},
{"text": "a\r\nb\r\n\r\n c", "ids": [81, 201, 198, 82, 18682, 265]},
{"text": "tabs\tand\t\tspaces \t mixed", "ids": [100, 7366, 197, 397, 197, 197, 41123, 216, 197, 6468]},
{"text": "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL", "ids": [57, 3543, 719, 637, 100, 793, 384, 506, 665, 28, 637, 3256, 346, 2090, 47, 637, 61, 441, 2090, 339, 3060, 919, 357, 28, 637, 52, 346, 702, 634, 7188, 47, 1046, 23, 25917, 253, 23, 92, 60]},
{"text": "3 33 333 3333 33333 3.14159 1,000,000 x2y22z222", "ids": [35, 216, 35, 35, 216, 35, 35, 35, 216, 35, 35, 35, 35, 216, 35, 35, 35, 35, 35, 216, 35, 30, 33, 36, 33, 37, 41, 216, 33, 28, 32, 32, 32, 28, 32, 32, 32, 1792, 34, 105, 34, 34, 106, 34, 34, 34]},
{"text": "\ud83d\ude80 (normal) \ud83d\ude36\u200d\ud83c\udf2b\ufe0f (multiple emojis concatenated) \u2705 \ud83e\udd99\ud83e\udd99", "ids": [10813, 244, 218, 365, 5472, 25, 40303, 131, 321, 231, 10813, 230, 121, 31752, 365, 30404, 649, 21658, 271, 46336, 483, 25, 4636, 246, 223, 15107, 116, 243, 10813, 116, 243]},
{"text": "\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e", "ids": [19805, 235, 177, 221, 128, 32632, 21949, 36149, 115, 40994, 33, 35, 33, 36, 33, 37, 33, 18614, 119, 186, 138, 248]},
{"text": "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u30ab\u30bf\u30ab\u30ca\u3001\u3072\u3089\u304c\u306a\u3002", "ids": [23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226, 7365, 118, 10391, 121, 10391, 140, 10391, 121, 11100, 228, 29917, 7365, 127, 10391, 227, 7365, 230, 7365, 120, 19076]},
{"text": "\u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438", "ids": [8831, 6643, 46438, 6485, 40610, 5470, 235, 156, 228, 12681, 29441, 6511, 9175, 39511, 7872]},
{"text": "\u0915\u093e\u0928\u094d\u0924\u0948\u092a\u093f\u0938\u0947\u0938\u0906\u091a", "ids": [38565, 18075, 30658, 16525, 26293, 9310, 226, 4300, 120, 27011, 38770, 30581, 38770, 4300, 224, 4300, 244]},
{"text": "------======= '''''' ``````` \"\"\"\" ......!!!!!!??????", "ids": [21771, 2031, 28733, 7855, 11193, 10120, 1969, 3725, 1620, 18, 32543, 950, 36689, 10095, 16693, 16693, 16693]},
{"text": "(a+b)*c; x->y; #include <stdio.h>; @user .NET ,Hello", "ids": [24, 81, 27, 82, 14428, 83, 43, 1792, 22690, 105, 43, 907, 21745, 2067, 10491, 1119, 30, 88, 46, 43, 3394, 4093, 1673, 18815, 3297, 19556]},
{"text": "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "ids": [1, 4093, 198, 1780, 314, 216, 34, 27, 34, 47, 2, 198, 1, 520, 9531, 198]},
{"text": "def f(x):\n    return x**2  # square\n\n\n    \n", "ids": [1604, 275, 24, 104, 727, 472, 1003, 1792, 828, 34, 216, 907, 5222, 1116, 2367, 198]},
{"text": "\u00dcn\u00efc\u00f6d\u00e9 fa\u00e7ade na\u00efve caf\u00e9", "ids": [142, 246, 94, 25972, 83, 7466, 84, 2756, 40852, 15486, 46494, 37366]},
{"text": "e\u0301 (combining) vs \u00e9", "ids": [85, 151, 219, 365, 14558, 1294, 25, 6375, 26411]},
{"text": "\u00a0nbsp\u2003emspace\u3000ideographic", "ids": [15442, 94, 32093, 321, 221, 1687, 6525, 12109, 218, 489, 4551]},
{"text": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ids": [31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069]},
{"text": "The quick brown fox jumps over the lazy dog.", "ids": [504, 2365, 6354, 16438, 27003, 690, 260, 23790, 2767, 30]},
{"text": "$100 + 20% = \u00a5120 \u20ac5 \u00a33 \u00a9\u00ae\u2122", "ids": [20, 33, 32, 32, 1232, 216, 34, 32, 21, 446, 3351, 115, 33, 34, 32, 24927, 37, 10257, 35, 11435, 10532, 14824]},
{"text": "emails: a.b@c.com; urls: https://x.y/z?q=1&r=2", "ids": [391, 4735, 42, 253, 30, 82, 48, 83, 30, 824, 43, 44961, 42, 5141, 1742, 104, 30, 105, 31, 106, 47, 97, 45, 33, 22, 98, 45, 34]},
{"text": "'''quoted''' \"dq\" `bt`", "ids": [11193, 385, 5036, 11193, 476, 43683, 18, 2179, 10781, 80]}
],
"qwen2": [
{"text": "Hello world", "ids": [19556, 905]},
{"text": " Hello world", "ids": [38699, 905]},
{"text": "Hello  world", "ids": [19556, 216, 905]},
{"text": "  leading and trailing  ", "ids": [216, 2899, 284, 35079, 256]},
{"text": "line1\nline2\n\n\nline3", "ids": [1311, 33, 198, 1311, 34, 16506, 1311, 35]},
{"text": "a\r\nb\r\n\r\n c", "ids": [81, 2738, 82, 18682, 265]},
{"text": "tabs\tand\t\tspaces \t mixed", "ids": [100, 7366, 197, 397, 197, 197, 41123, 216, 197, 6468]},
{"text": "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL", "ids": [57, 3543, 719, 637, 100, 793, 384, 506, 665, 28, 637, 3256, 346, 2090, 47, 637, 61, 441, 2090, 339, 3060, 919, 357, 28, 637, 52, 346, 702, 634, 7188, 47, 1046, 23, 25917, 253, 23, 92, 60]},
{"text": "3 33 333 3333 33333 3.14159 1,000,000 x2y22z222", "ids": [35, 216, 35, 35, 216, 35, 35, 35, 216, 35, 35, 35, 35, 216, 35, 35, 35, 35, 35, 216, 35, 30, 33, 36, 33, 37, 41, 216, 33, 28, 32, 32, 32, 28, 32, 32, 32, 1792, 34, 105, 34, 34, 106, 34, 34, 34]},
{"text": "\ud83d\ude80 (normal) \ud83d\ude36\u200d\ud83c\udf2b\ufe0f (multiple emojis concatenated) \u2705 \ud83e\udd99\ud83e\udd99", "ids": [10813, 244, 218, 365, 5472, 25, 40303, 131, 321, 231, 10813, 230, 121, 31752, 365, 30404, 649, 21658, 271, 46336, 483, 25, 4636, 246, 223, 15107, 116, 243, 10813, 116, 243]},
{"text": "\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e", "ids": [19805, 235, 177, 221, 128, 32632, 21949, 36149, 115, 40994, 33, 35, 33, 36, 33, 37, 33, 18614, 119, 186, 138, 248]},
{"text": "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u30ab\u30bf\u30ab\u30ca\u3001\u3072\u3089\u304c\u306a\u3002", "ids": [23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226, 7365, 118, 10391, 121, 10391, 140, 10391, 121, 11100, 228, 29917, 7365, 127, 10391, 227, 7365, 230, 7365, 120, 19076]},
{"text": "\u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438", "ids": [8831, 6643, 46438, 6485, 40610, 5470, 235, 156, 228, 12681, 29441, 6511, 9175, 39511, 7872]},
{"text": "\u0915\u093e\u0928\u094d\u0924\u0948\u092a\u093f\u0938\u0947\u0938\u0906\u091a", "ids": [38565, 18075, 30658, 16525, 26293, 9310, 226, 4300, 120, 27011, 38770, 30581, 38770, 4300, 224, 4300, 244]},
{"text": "------======= '''''' ``````` \"\"\"\" ......!!!!!!??????", "ids": [21771, 2031, 28733, 7855, 11193, 10120, 1969, 3725, 1620, 18, 32543, 950, 36689, 10095, 16693, 16693, 16693]},
{"text": "(a+b)*c; x->y; #include <stdio.h>; @user .NET ,Hello", "ids": [24, 81, 27, 82, 14428, 83, 43, 1792, 22690, 105, 43, 907, 21745, 2067, 10491, 1119, 30, 88, 46, 43, 3394, 4093, 1673, 18815, 3297, 19556]},
{"text": "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "ids": [1, 4093, 198, 1780, 314, 216, 34, 27, 34, 47, 2, 198, 1, 520, 9531, 198]},
{"text": "def f(x):\n    return x**2  # square\n\n\n    \n", "ids": [1604, 275, 24, 104, 727, 198, 333, 1003, 1792, 828, 34, 216, 907, 5222, 1116, 2367, 198]},
{"text": "\u00dcn\u00efc\u00f6d\u00e9 fa\u00e7ade na\u00efve caf\u00e9", "ids": [142, 246, 94, 25972, 83, 7466, 84, 2756, 40852, 15486, 46494, 37366]},
{"text": "e\u0301 (combining) vs \u00e9", "ids": [85, 151, 219, 365, 14558, 1294, 25, 6375, 26411]},
{"text": "\u00a0nbsp\u2003emspace\u3000ideographic", "ids": [15442, 94, 32093, 321, 221, 1687, 6525, 12109, 218, 489, 4551]},
{"text": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ids": [31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069]},
{"text": "The quick brown fox jumps over the lazy dog.", "ids": [504, 2365, 6354, 16438, 27003, 690, 260, 23790, 2767, 30]},
{"text": "$100 + 20% = \u00a5120 \u20ac5 \u00a33 \u00a9\u00ae\u2122", "ids": [20, 33, 32, 32, 1232, 216, 34, 32, 21, 446, 3351, 115, 33, 34, 32, 24927, 37, 10257, 35, 11435, 10532, 14824]},
{"text": "emails: a.b@c.com; urls: https://x.y/z?q=1&r=2", "ids": [391, 4735, 42, 253, 30, 82, 48, 83, 30, 824, 43, 44961, 42, 5141, 1742, 104, 30, 105, 31, 106, 47, 97, 45, 33, 22, 98, 45, 34]},
{"text": "'''quoted''' \"dq\" `bt`", "ids": [11193, 385, 5036, 11193, 476, 43683, 18, 2179, 10781, 80]}
],
"deepseek-r1-qwen": [
{"text": "Hello world", "ids": [19556, 905]},
{"text": " Hello world", "ids": [38699, 905]},
{"text": "Hello  world", "ids": [19556, 216, 905]},
{"text": "  leading and trailing  ", "ids": [216, 2899, 284, 35079, 256]},
{"text": "line1\nline2\n\n\nline3", "ids": [1311, 33, 198, 1311, 34, 16506, 1311, 35]},
{"text": "a\r\nb\r\n\r\n c", "ids": [81, 2738, 82, 18682, 265]},
{"text": "tabs\tand\t\tspaces \t mixed", "ids": [100, 7366, 197, 397, 197, 197, 41123, 216, 197, 6468]},
{"text": "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL", "ids": [57, 3543, 719, 637, 100, 793, 384, 506, 665, 28, 637, 3256, 346, 2090, 47, 637, 61, 441, 2090, 339, 3060, 919, 357, 28, 637, 52, 346, 702, 634, 7188, 47, 1046, 23, 25917, 253, 23, 92, 60]},
{"text": "3 33 333 3333 33333 3.14159 1,000,000 x2y22z222", "ids": [35, 216, 35, 35, 216, 35, 35, 35, 216, 35, 35, 35, 35, 216, 35, 35, 35, 35, 35, 216, 35, 30, 33, 36, 33, 37, 41, 216, 33, 28, 32, 32, 32, 28, 32, 32, 32, 1792, 34, 105, 34, 34, 106, 34, 34, 34]},
{"text": "\ud83d\ude80 (normal) \ud83d\ude36\u200d\ud83c\udf2b\ufe0f (multiple emojis concatenated) \u2705 \ud83e\udd99\ud83e\udd99", "ids": [10813, 244, 218, 365, 5472, 25, 40303, 131, 321, 231, 10813, 230, 121, 31752, 365, 30404, 649, 21658, 271, 46336, 483, 25, 4636, 246, 223, 15107, 116, 243, 10813, 116, 243]},
{"text": "\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e", "ids": [19805, 235, 177, 221, 128, 32632, 21949, 36149, 115, 40994, 33, 35, 33, 36, 33, 37, 33, 18614, 119, 186, 138, 248]},
{"text": "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u30ab\u30bf\u30ab\u30ca\u3001\u3072\u3089\u304c\u306a\u3002", "ids": [23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226, 7365, 118, 10391, 121, 10391, 140, 10391, 121, 11100, 228, 29917, 7365, 127, 10391, 227, 7365, 230, 7365, 120, 19076]},
{"text": "\u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438", "ids": [8831, 6643, 46438, 6485, 40610, 5470, 235, 156, 228, 12681, 29441, 6511, 9175, 39511, 7872]},
{"text": "\u0915\u093e\u0928\u094d\u0924\u0948\u092a\u093f\u0938\u0947\u0938\u0906\u091a", "ids": [38565, 18075, 30658, 16525, 26293, 9310, 226, 4300, 120, 27011, 38770, 30581, 38770, 4300, 224, 4300, 244]},
{"text": "------======= '''''' ``````` \"\"\"\" ......!!!!!!??????", "ids": [21771, 2031, 28733, 7855, 11193, 10120, 1969, 3725, 1620, 18, 32543, 950, 36689, 10095, 16693, 16693, 16693]},
{"text": "(a+b)*c; x->y; #include <stdio.h>; @user .NET ,Hello", "ids": [24, 81, 27, 82, 14428, 83, 43, 1792, 22690, 105, 43, 907, 21745, 2067, 10491, 1119, 30, 88, 46, 43, 3394, 4093, 1673, 18815, 3297, 19556]},
{"text": "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "ids": [1, 4093, 198, 1780, 314, 216, 34, 27, 34, 47, 2, 198, 1, 520, 9531, 198]},
{"text": "def f(x):\n    return x**2  # square\n\n\n    \n", "ids": [1604, 275, 24, 104, 727, 198, 333, 1003, 1792, 828, 34, 216, 907, 5222, 1116, 2367, 198]},
{"text": "\u00dcn\u00efc\u00f6d\u00e9 fa\u00e7ade na\u00efve caf\u00e9", "ids": [142, 246, 94, 25972, 83, 7466, 84, 2756, 40852, 15486, 46494, 37366]},
{"text": "e\u0301 (combining) vs \u00e9", "ids": [85, 151, 219, 365, 14558, 1294, 25, 6375, 26411]},
{"text": "\u00a0nbsp\u2003emspace\u3000ideographic", "ids": [15442, 94, 32093, 321, 221, 1687, 6525, 12109, 218, 489, 4551]},
{"text": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ids": [31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069]},
{"text": "The quick brown fox jumps over the lazy dog.", "ids": [504, 2365, 6354, 16438, 27003, 690, 260, 23790, 2767, 30]},
{"text": "$100 + 20% = \u00a5120 \u20ac5 \u00a33 \u00a9\u00ae\u2122", "ids": [20, 33, 32, 32, 1232, 216, 34, 32, 21, 446, 3351, 115, 33, 34, 32, 24927, 37, 10257, 35, 11435, 10532, 14824]},
{"text": "emails: a.b@c.com; urls: https://x.y/z?q=1&r=2", "ids": [391, 4735, 42, 253, 30, 82, 48, 83, 30, 824, 43, 44961, 42, 5141, 1742, 104, 30, 105, 31, 106, 47, 97, 45, 33, 22, 98, 45, 34]},
{"text": "'''quoted''' \"dq\" `bt`", "ids": [11193, 385, 5036, 11193, 476, 43683, 18, 2179, 10781, 80]}
],
"llama-bpe": [
{"text": "Hello world", "ids": [19556, 905]},
{"text": " Hello world", "ids": [38699, 905]},
{"text": "Hello  world", "ids": [19556, 216, 905]},
{"text": "  leading and trailing  ", "ids": [216, 2899, 284, 35079, 256]},
{"text": "line1\nline2\n\n\nline3", "ids": [1311, 33, 198, 1311, 34, 16506, 1311, 35]},
{"text": "a\r\nb\r\n\r\n c", "ids": [81, 2738, 82, 18682, 265]},
{"text": "tabs\tand\t\tspaces \t mixed", "ids": [100, 7366, 197, 397, 197, 197, 41123, 216, 197, 6468]},
{"text": "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL", "ids": [57, 3543, 719, 637, 100, 793, 384, 506, 665, 28, 637, 3256, 346, 2090, 47, 637, 61, 441, 2090, 339, 3060, 919, 357, 28, 637, 52, 346, 702, 634, 7188, 47, 1046, 23, 25917, 253, 23, 92, 60]},
{"text": "3 33 333 3333 33333 3.14159 1,000,000 x2y22z222", "ids": [35, 216, 35, 35, 216, 35, 35, 35, 216, 35, 35, 35, 35, 216, 35, 35, 35, 35, 35, 216, 35, 30, 33, 36, 33, 37, 41, 216, 33, 28, 32, 32, 32, 28, 32, 32, 32, 1792, 34, 105, 34, 34, 106, 34, 34, 34]},
{"text": "\ud83d\ude80 (normal) \ud83d\ude36\u200d\ud83c\udf2b\ufe0f (multiple emojis concatenated) \u2705 \ud83e\udd99\ud83e\udd99", "ids": [10813, 244, 218, 365, 5472, 25, 40303, 131, 321, 231, 10813, 230, 121, 31752, 365, 30404, 649, 21658, 271, 46336, 483, 25, 4636, 246, 223, 15107, 116, 243, 10813, 116, 243]},
{"text": "\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e", "ids": [19805, 235, 177, 221, 128, 32632, 21949, 36149, 115, 40994, 33, 35, 33, 36, 33, 37, 33, 18614, 119, 186, 138, 248]},
{"text": "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u30ab\u30bf\u30ab\u30ca\u3001\u3072\u3089\u304c\u306a\u3002", "ids": [23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226, 7365, 118, 10391, 121, 10391, 140, 10391, 121, 11100, 228, 29917, 7365, 127, 10391, 227, 7365, 230, 7365, 120, 19076]},
{"text": "\u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438", "ids": [8831, 6643, 46438, 6485, 40610, 5470, 235, 156, 228, 12681, 29441, 6511, 9175, 39511, 7872]},
{"text": "\u0915\u093e\u0928\u094d\u0924\u0948\u092a\u093f\u0938\u0947\u0938\u0906\u091a", "ids": [38565, 18075, 30658, 16525, 26293, 9310, 226, 4300, 120, 27011, 38770, 30581, 38770, 4300, 224, 4300, 244]},
{"text": "------======= '''''' ``````` \"\"\"\" ......!!!!!!??????", "ids": [21771, 2031, 28733, 7855, 11193, 10120, 1969, 3725, 1620, 18, 32543, 950, 36689, 10095, 16693, 16693, 16693]},
{"text": "(a+b)*c; x->y; #include <stdio.h>; @user .NET ,Hello", "ids": [24, 81, 27, 82, 14428, 83, 43, 1792, 22690, 105, 43, 907, 21745, 2067, 10491, 1119, 30, 88, 46, 43, 3394, 4093, 1673, 18815, 3297, 19556]},
{"text": "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "ids": [1, 4093, 198, 1780, 314, 216, 34, 27, 34, 47, 2, 198, 1, 520, 9531, 198]},
{"text": "def f(x):\n    return x**2  # square\n\n\n    \n", "ids": [1604, 275, 24, 104, 727, 198, 333, 1003, 1792, 828, 34, 216, 907, 5222, 1116, 2367, 198]},
{"text": "\u00dcn\u00efc\u00f6d\u00e9 fa\u00e7ade na\u00efve caf\u00e9", "ids": [142, 246, 94, 25972, 83, 7466, 84, 2756, 40852, 15486, 46494, 37366]},
{"text": "e\u0301 (combining) vs \u00e9", "ids": [85, 151, 219, 365, 14558, 1294, 25, 6375, 26411]},
{"text": "\u00a0nbsp\u2003emspace\u3000ideographic", "ids": [15442, 94, 32093, 321, 221, 1687, 6525, 12109, 218, 489, 4551]},
{"text": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ids": [31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069]},
{"text": "The quick brown fox jumps over the lazy dog.", "ids": [504, 2365, 6354, 16438, 27003, 690, 260, 23790, 2767, 30]},
{"text": "$100 + 20% = \u00a5120 \u20ac5 \u00a33 \u00a9\u00ae\u2122", "ids": [20, 33, 32, 32, 1232, 216, 34, 32, 21, 446, 3351, 115, 33, 34, 32, 24927, 37, 10257, 35, 11435, 10532, 14824]},
{"text": "emails: a.b@c.com; urls: https://x.y/z?q=1&r=2", "ids": [391, 4735, 42, 253, 30, 82, 48, 83, 30, 824, 43, 44961, 42, 5141, 1742, 104, 30, 105, 31, 106, 47, 97, 45, 33, 22, 98, 45, 34]},
{"text": "'''quoted''' \"dq\" `bt`", "ids": [11193, 385, 5036, 11193, 476, 43683, 18, 2179, 10781, 80]}
],
"deepseek-v3": [
{"text": "Hello world", "ids": [19556, 905]},
{"text": " Hello world", "ids": [38699, 905]},
{"text": "Hello  world", "ids": [19556, 216, 905]},
{"text": "  leading and trailing  ", "ids": [216, 2899, 284, 35079, 256]},
{"text": "line1\nline2\n\n\nline3", "ids": [1311, 33, 198, 1311, 34, 16506, 1311, 35]},
{"text": "a\r\nb\r\n\r\n c", "ids": [81, 2738, 82, 18682, 265]},
{"text": "tabs\tand\t\tspaces \t mixed", "ids": [100, 7366, 197, 397, 197, 197, 41123, 216, 197, 6468]},
{"text": "I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL", "ids": [57, 3543, 719, 637, 100, 793, 384, 506, 665, 28, 637, 3256, 346, 2090, 47, 637, 61, 441, 2090, 339, 3060, 919, 357, 28, 637, 52, 346, 702, 634, 7188, 47, 1046, 23, 25917, 253, 23, 92, 60]},
{"text": "3 33 333 3333 33333 3.14159 1,000,000 x2y22z222", "ids": [35, 216, 35, 35, 216, 35, 35, 35, 216, 35, 35, 35, 35, 216, 35, 35, 35, 35, 35, 216, 35, 30, 33, 36, 33, 37, 41, 216, 33, 28, 32, 32, 32, 28, 32, 32, 32, 1792, 34, 105, 34, 34, 106, 34, 34, 34]},
{"text": "\ud83d\ude80 (normal) \ud83d\ude36\u200d\ud83c\udf2b\ufe0f (multiple emojis concatenated) \u2705 \ud83e\udd99\ud83e\udd99", "ids": [10813, 244, 218, 365, 5472, 25, 40303, 131, 321, 231, 10813, 230, 121, 31752, 365, 30404, 649, 21658, 271, 46336, 483, 25, 4636, 246, 223, 15107, 116, 243, 10813, 116, 243]},
{"text": "\u6211\u60f3\u5728apple\u5de5\u4f5c1314151\u5929\uff5e", "ids": [19805, 235, 177, 221, 128, 32632, 21949, 36149, 115, 40994, 33, 35, 33, 36, 33, 37, 33, 18614, 119, 186, 138, 248]},
{"text": "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3068\u30ab\u30bf\u30ab\u30ca\u3001\u3072\u3089\u304c\u306a\u3002", "ids": [23274, 115, 40993, 179, 120, 248, 26453, 11100, 224, 10391, 251, 10391, 134, 11100, 226, 7365, 118, 10391, 121, 10391, 140, 10391, 121, 11100, 228, 29917, 7365, 127, 10391, 227, 7365, 230, 7365, 120, 19076]},
{"text": "\u043d\u0435\u0449\u043e \u043d\u0430 \u0411\u044a\u043b\u0433\u0430\u0440\u0441\u043a\u0438", "ids": [8831, 6643, 46438, 6485, 40610, 5470, 235, 156, 228, 12681, 29441, 6511, 9175, 39511, 7872]},
{"text": "\u0915\u093e\u0928\u094d\u0924\u0948\u092a\u093f\u0938\u0947\u0938\u0906\u091a", "ids": [38565, 18075, 30658, 16525, 26293, 9310, 226, 4300, 120, 27011, 38770, 30581, 38770, 4300, 224, 4300, 244]},
{"text": "------======= '''''' ``````` \"\"\"\" ......!!!!!!??????", "ids": [21771, 2031, 28733, 7855, 11193, 10120, 1969, 3725, 1620, 18, 32543, 950, 36689, 10095, 16693, 16693, 16693]},
{"text": "(a+b)*c; x->y; #include <stdio.h>; @user .NET ,Hello", "ids": [24, 81, 27, 82, 14428, 83, 43, 1792, 22690, 105, 43, 907, 21745, 2067, 10491, 1119, 30, 88, 46, 43, 3394, 4093, 1673, 18815, 3297, 19556]},
{"text": "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n", "ids": [1, 4093, 198, 1780, 314, 216, 34, 27, 34, 47, 2, 198, 1, 520, 9531, 198]},
{"text": "def f(x):\n    return x**2  # square\n\n\n    \n", "ids": [1604, 275, 24, 104, 727, 198, 333, 1003, 1792, 828, 34, 216, 907, 5222, 1116, 2367, 198]},
{"text": "\u00dcn\u00efc\u00f6d\u00e9 fa\u00e7ade na\u00efve caf\u00e9", "ids": [142, 246, 94, 25972, 83, 7466, 84, 2756, 40852, 15486, 46494, 37366]},
{"text": "e\u0301 (combining) vs \u00e9", "ids": [85, 151, 219, 365, 14558, 1294, 25, 6375, 26411]},
{"text": "\u00a0nbsp\u2003emspace\u3000ideographic", "ids": [15442, 94, 32093, 321, 221, 1687, 6525, 12109, 218, 489, 4551]},
{"text": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ids": [31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069, 31069]},
{"text": "The quick brown fox jumps over the lazy dog.", "ids": [504, 2365, 6354, 16438, 27003, 690, 260, 23790, 2767, 30]},
{"text": "$100 + 20% = \u00a5120 \u20ac5 \u00a33 \u00a9\u00ae\u2122", "ids": [20, 33, 32, 32, 1232, 216, 34, 32, 21, 446, 3351, 115, 33, 34, 32, 24927, 37, 10257, 35, 11435, 10532, 14824]},
{"text": "emails: a.b@c.com; urls: https://x.y/z?q=1&r=2", "ids": [391, 4735, 42, 253, 30, 82, 48, 83, 30, 824, 43, 44961, 42, 5141, 1742, 104, 30, 105, 31, 106, 47, 97, 45, 33, 22, 98, 45, 34]},
{"text": "'''quoted''' \"dq\" `bt`", "ids": [11193, 385, 5036, 11193, 476, 43683, 18, 2179, 10781, 80]}
]
}"##;
