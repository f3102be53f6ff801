//! Compatibility tests: chat templates in the style of the published Qwen2.5-Instruct
//! and Llama-3.1-Instruct templates render what spec §8.2 / §8.3 say they should.
//!
//! The template texts below were written from memory of the published ones (Qwen2.5:
//! complete; Llama 3.1: tool branches left out). They exist to exercise the Jinja
//! constructs those families use (`messages[1:]`, `| trim`, `is defined`,
//! `is not none`, `'x' in message`, `loop.index0`, `{#- comments #}`, `tojson`,
//! `raise_exception`, reassigning `messages`), not as golden copies; the R1 templates
//! are tested verbatim in `tests/it/tokenizer.rs`.

use super::chat::{ChatMessage, ChatSpecials, ChatTemplate};

const QWEN25: &str = r#"{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"#;

const LLAMA31_ABRIDGED: &str = r#"{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}

{%- if tools_in_user_message and not tools is none %}
    {%- if messages | length == 0 %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
    {%- endif %}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"#;

fn specials(bos: &str, eos: &str, add_bos: bool) -> ChatSpecials {
    ChatSpecials {
        bos: bos.into(),
        eos: eos.into(),
        add_bos,
        add_eos: false,
    }
}

#[test]
fn qwen25_default_system_and_explicit_system() {
    let t = ChatTemplate::from_jinja(QWEN25, specials("", "<|im_end|>", false)).unwrap();
    let msgs = [
        ChatMessage::user("Hi"),
        ChatMessage::assistant("Hello."),
        ChatMessage::user("Bye"),
    ];
    assert_eq!(
        t.render(&msgs, true).unwrap(),
        "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful \
         assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n\
         Hello.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"
    );
    let msgs = [ChatMessage::system("Be brief."), ChatMessage::user("Hi")];
    assert_eq!(
        t.render(&msgs, false).unwrap(),
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
    );
}

#[test]
fn llama31_style_system_block_and_trim() {
    let bos = "<|begin_of_text|>";
    let header = "<|start_header_id|>system<|end_header_id|>\n\n\
                  Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
    let msgs = [
        ChatMessage::system("  Be brief. "),
        ChatMessage::user(" Hi\n"),
    ];
    let want_body = format!(
        "{header}Be brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi\
         <|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    );
    let t = ChatTemplate::from_jinja(LLAMA31_ABRIDGED, specials(bos, "<|eot_id|>", false));
    assert_eq!(
        t.unwrap().render(&msgs, true).unwrap(),
        format!("{bos}{want_body}")
    );
    // Llama 3 GGUFs add BOS themselves: the template's BOS text is removed.
    let t = ChatTemplate::from_jinja(LLAMA31_ABRIDGED, specials(bos, "<|eot_id|>", true));
    assert_eq!(t.unwrap().render(&msgs, true).unwrap(), want_body);
    // Without a system message the block is still there, empty.
    let t = ChatTemplate::from_jinja(LLAMA31_ABRIDGED, specials(bos, "<|eot_id|>", true));
    let out = t.unwrap().render(&msgs[1..], false).unwrap();
    assert!(out.starts_with(&format!("{header}<|eot_id|>")), "{out:?}");
}

#[test]
fn templates_are_thread_safe() {
    fn check<T: Send + Sync>() {}
    check::<ChatTemplate>();
    check::<super::Tokenizer>();
    check::<super::StreamDecoder>();
}
