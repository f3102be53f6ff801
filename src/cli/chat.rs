//! `bitmoe chat`: an interactive conversation rendered through the model's chat
//! template, with history kept in the KV cache (only the new part of each turn is
//! evaluated), `/reset` and `/exit`, `--system`, and `<think>` sections marked.

use std::io::{BufRead, Write};

use super::ChatArgs;
use crate::engine::{GenerateParams, Session};
use crate::sampler::Sampler;
use crate::tokenizer::{ChatMessage, ChatTemplate};

const THINK_OPEN: &str = "<think>";
const THINK_CLOSE: &str = "</think>";

/// Marks reasoning sections on a terminal: dim text between `<think>` and `</think>`.
struct ThinkMarker {
    color: bool,
    thinking: bool,
}

impl ThinkMarker {
    fn show(&mut self, out: &mut impl Write, text: &str) {
        let mut rest = text;
        loop {
            let tag = if self.thinking {
                THINK_CLOSE
            } else {
                THINK_OPEN
            };
            match rest.find(tag) {
                Some(i) => {
                    let _ = write!(out, "{}", &rest[..i]);
                    self.thinking = !self.thinking;
                    let _ = match (self.thinking, self.color) {
                        (true, true) => write!(out, "\x1b[2m[thinking] "),
                        (false, true) => write!(out, " [/thinking]\x1b[0m"),
                        (true, false) => write!(out, "[thinking] "),
                        (false, false) => write!(out, " [/thinking]"),
                    };
                    rest = &rest[i + tag.len()..];
                }
                None => {
                    let _ = write!(out, "{rest}");
                    break;
                }
            }
        }
        let _ = out.flush();
    }
}

pub fn run(args: &ChatArgs) -> anyhow::Result<()> {
    let mut session = Session::load(&args.load.options())?;
    let sampler_cfg = args.sampling.config(&session.sampling_defaults())?;
    let template =
        ChatTemplate::from_metadata(session.weights().file().metadata(), session.tokenizer())
            .map_err(crate::engine::EngineError::from)?;
    let mut sampler = Sampler::new(sampler_cfg);
    let params = GenerateParams {
        n_predict: usize::try_from(args.n_predict).ok(),
        ..GenerateParams::default()
    };
    let color = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut history: Vec<ChatMessage> = args.system.iter().map(ChatMessage::system).collect();
    // Tokens whose K/V are in the cache, in order.
    let mut evaluated: Vec<u32> = Vec::new();
    eprintln!("bitmoe chat: /reset clears the conversation, /exit (or end of input) quits.");
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    loop {
        eprint!("> ");
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim_end_matches(['\n', '\r']);
        match line.trim() {
            "/exit" | "/quit" => break,
            "/reset" => {
                history.retain(|m| m.role == "system");
                evaluated.clear();
                session.reset();
                sampler.reset();
                eprintln!("(conversation cleared)");
                continue;
            }
            "" => continue,
            _ => {}
        }
        history.push(ChatMessage::user(line));
        let rendered = template
            .render(&history, true)
            .map_err(crate::engine::EngineError::from)?;
        let tokens = session.tokenizer().encode(&rendered, true, true);
        // Reuse the cached prefix; evaluate only what is new.
        let common = evaluated
            .iter()
            .zip(&tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(tokens.len() - 1);
        session.truncate(common);
        evaluated.truncate(common);
        let mut marker = ThinkMarker {
            color,
            thinking: rendered.trim_end().ends_with(THINK_OPEN),
        };
        if marker.thinking {
            marker.show(
                &mut stdout,
                if color {
                    "\x1b[2m[thinking] "
                } else {
                    "[thinking] "
                },
            );
        }
        let reply = session.generate(&tokens[common..], &params, &mut sampler, &mut |t| {
            marker.show(&mut stdout, t)
        });
        let reply = match reply {
            Ok(r) => r,
            Err(e @ crate::engine::EngineError::ContextOverflow { .. }) => {
                eprintln!("\n{e}; use /reset");
                history.pop();
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if marker.thinking && color {
            let _ = write!(stdout, "\x1b[0m");
        }
        let _ = writeln!(stdout);
        evaluated.extend_from_slice(&tokens);
        evaluated.extend_from_slice(&reply.tokens);
        history.push(ChatMessage::assistant(reply.text));
    }
    eprint!("{}", session.timings().report());
    Ok(())
}
