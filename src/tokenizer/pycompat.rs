//! The Python-isms of HF chat templates that minijinja does not provide by itself:
//! string methods (`content.split('</think>')[-1]`, `.strip()`, `.startswith(..)`),
//! dict methods (`.items()`, `.get(..)`) and the `raise_exception` global that
//! `transformers` injects. Written for bitmoe (the crate `minijinja-contrib` has a
//! fuller `pycompat`, not a dependency here).
//!
//! Semantics follow Python's: `split()` without a separator splits on whitespace runs
//! and drops empty parts; `strip(chars)` removes any of `chars`; `find` counts
//! characters. A method not listed here fails with minijinja's `UnknownMethod`, which
//! `chat` reports as an unsupported construct.

use minijinja::value::{from_args, Value, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State};

/// Installs the method callback and `raise_exception` into `env`.
pub fn install(env: &mut Environment<'_>) {
    env.set_unknown_method_callback(call_method);
    env.add_function("raise_exception", raise_exception);
}

fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("the template raised an exception: {message}"),
    ))
}

fn call_method(state: &State, value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::String => string_method(value.as_str().unwrap_or_default(), method, args),
        ValueKind::Map => map_method(state, value, method, args),
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

fn string_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    Ok(match method {
        "strip" | "lstrip" | "rstrip" => {
            let (chars,): (Option<&str>,) = from_args(args)?;
            let is_stripped = |c: char| match chars {
                Some(set) => set.contains(c),
                None => c.is_whitespace(),
            };
            Value::from(match method {
                "strip" => s.trim_matches(is_stripped),
                "lstrip" => s.trim_start_matches(is_stripped),
                _ => s.trim_end_matches(is_stripped),
            })
        }
        "split" => {
            let (sep, maxsplit): (Option<&str>, Option<i64>) = from_args(args)?;
            let max = maxsplit.and_then(|m| usize::try_from(m).ok());
            Value::from(split(s, sep, max)?)
        }
        "splitlines" => {
            let () = from_args(args)?;
            Value::from(s.lines().map(str::to_string).collect::<Vec<_>>())
        }
        "startswith" | "endswith" => {
            let (affix,): (&str,) = from_args(args)?;
            Value::from(match method {
                "startswith" => s.starts_with(affix),
                _ => s.ends_with(affix),
            })
        }
        "lower" | "upper" | "title" | "capitalize" => {
            let () = from_args(args)?;
            Value::from(match method {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                "title" => title(s),
                _ => capitalize(s),
            })
        }
        "replace" => {
            let (old, new, count): (&str, &str, Option<i64>) = from_args(args)?;
            Value::from(match count.and_then(|c| usize::try_from(c).ok()) {
                Some(n) => s.replacen(old, new, n),
                None => s.replace(old, new),
            })
        }
        "find" => {
            let (needle,): (&str,) = from_args(args)?;
            Value::from(match s.find(needle) {
                Some(at) => s[..at].chars().count() as i64,
                None => -1,
            })
        }
        "count" => {
            let (needle,): (&str,) = from_args(args)?;
            Value::from(match needle.is_empty() {
                true => s.chars().count() + 1,
                false => s.matches(needle).count(),
            })
        }
        "join" => {
            let (items,): (Value,) = from_args(args)?;
            let parts: Vec<String> = items.try_iter()?.map(|v| v.to_string()).collect();
            Value::from(parts.join(s))
        }
        _ => return Err(Error::from(ErrorKind::UnknownMethod)),
    })
}

/// Python `str.split(sep, maxsplit)`.
fn split(s: &str, sep: Option<&str>, max: Option<usize>) -> Result<Vec<String>, Error> {
    match sep {
        Some("") => Err(Error::new(
            ErrorKind::InvalidOperation,
            "split: empty separator",
        )),
        Some(sep) => Ok(match max {
            Some(n) => s.splitn(n + 1, sep).map(str::to_string).collect(),
            None => s.split(sep).map(str::to_string).collect(),
        }),
        None => {
            let mut parts = Vec::new();
            let mut rest = s.trim_start();
            while !rest.is_empty() {
                if max.is_some_and(|n| parts.len() == n) {
                    parts.push(rest.to_string());
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                parts.push(rest[..end].to_string());
                rest = rest[end..].trim_start();
            }
            Ok(parts)
        }
    }
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        match prev_cased {
            true => out.extend(c.to_lowercase()),
            false => out.extend(c.to_uppercase()),
        }
        prev_cased = c.is_alphabetic();
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

fn map_method(state: &State, map: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    match method {
        "items" => {
            let () = from_args(args)?;
            state.apply_filter("items", std::slice::from_ref(map))
        }
        "keys" => {
            let () = from_args(args)?;
            Ok(Value::from(map.try_iter()?.collect::<Vec<_>>()))
        }
        "values" => {
            let () = from_args(args)?;
            let values: Result<Vec<Value>, Error> =
                map.try_iter()?.map(|k| map.get_item(&k)).collect();
            Ok(Value::from(values?))
        }
        "get" => {
            let (key, default): (Value, Option<Value>) = from_args(args)?;
            let v = map.get_item(&key)?;
            Ok(match v.is_undefined() {
                true => default.unwrap_or(Value::from(())),
                false => v,
            })
        }
        _ => Err(Error::from(ErrorKind::UnknownMethod)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(src: &str) -> Result<String, Error> {
        let mut env = Environment::new();
        install(&mut env);
        env.render_str(
            src,
            minijinja::context! { m => minijinja::context! { a => 1 } },
        )
    }

    #[test]
    fn python_string_methods() {
        let r = |s| render(s).unwrap();
        assert_eq!(r("{{ 'a</think>b</think>c'.split('</think>')[-1] }}"), "c");
        assert_eq!(r("{{ '  a  b '.split() }}"), r#"["a", "b"]"#);
        assert_eq!(r("{{ 'a b c'.split(none, 1) }}"), r#"["a", "b c"]"#);
        assert_eq!(r("{{ 'a,b,c'.split(',', 1) }}"), r#"["a", "b,c"]"#);
        assert_eq!(
            r("{{ '\n x \t'.strip() }}|{{ 'xxaxx'.lstrip('x') }}"),
            "x|axx"
        );
        assert_eq!(
            r("{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('x') }}"),
            "TrueFalse"
        );
        assert_eq!(
            r("{{ 'hello world'.title() }} {{ 'éa'.upper() }}"),
            "Hello World ÉA"
        );
        assert_eq!(
            r("{{ 'aXa'.replace('a', 'b') }} {{ 'héllo'.find('l') }}"),
            "bXb 2"
        );
        assert_eq!(r("{{ '-'.join(['a', 'b']) }}"), "a-b");
        assert_eq!(
            r("{{ m.get('a') }} {{ m.get('z', 5) }} {{ m.keys() }}"),
            "1 5 [\"a\"]"
        );
        assert_eq!(
            r("{% for k, v in m.items() %}{{ k }}={{ v }}{% endfor %}"),
            "a=1"
        );
    }

    #[test]
    fn unknown_methods_and_exceptions_are_errors() {
        let e = render("{{ 'a'.frobnicate() }}").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownMethod);
        let e = render("{{ raise_exception('no system role') }}").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidOperation);
        assert!(e.to_string().contains("no system role"), "{e}");
    }
}
