//! Quantization recipes as data: an ordered list of rules, each choosing a type for the
//! tensors it matches, and a default type for the quantizable tensors no rule matches.
//! The first matching rule wins, as with llama-quantize's `--tensor-type`.
//!
//! ```toml
//! name = "ud-iq1_s"
//! default = "iq1_s"
//! [[rule]]
//! tensor = "ffn_down_exps"   # regular expression searched in the tensor name
//! layers = "first 6 moe"     # optional: "3-8", "first 3", "last 2", "dense", "moe"
//! type = "iq2_xxs"
//! [[rule]]
//! role = "attention"         # optional: embeddings, attention, dense_ffn,
//! type = "q4_K"              #   shared_experts, routed_experts, output
//! ```
//!
//! Built-in recipes live in `recipes/*.toml` and are named by their file stem.

use regex::Regex;
use serde::Deserialize;

use crate::quant::QuantType;
use crate::schema::{block_of, role_of, TensorRole};

/// A recipe that failed to parse or names something that does not exist.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    #[error("recipe {recipe}: {source}")]
    Toml {
        recipe: String,
        source: toml::de::Error,
    },
    #[error("recipe {recipe}, rule {rule}: {problem}")]
    Rule {
        recipe: String,
        rule: usize,
        problem: String,
    },
    #[error("recipe {recipe}: {problem}")]
    Recipe { recipe: String, problem: String },
    #[error("no built-in recipe {name:?} (built in: {known}); or give a .toml file")]
    Unknown { name: String, known: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecipeFile {
    name: Option<String>,
    description: Option<String>,
    default: String,
    #[serde(default)]
    rule: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    tensor: Option<String>,
    role: Option<String>,
    layers: Option<String>,
    #[serde(rename = "type")]
    ty: String,
}

/// Which blocks a rule applies to; resolved against the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layers {
    /// Blocks `lo..=hi`.
    Range(usize, usize),
    First(usize),
    Last(usize),
    /// The first `n` MoE blocks (after the leading dense ones).
    FirstMoe(usize),
    /// The leading dense blocks of an MoE model (every block of a dense one).
    Dense,
    Moe,
}

impl Layers {
    fn parse(s: &str) -> Result<Layers, String> {
        let words: Vec<&str> = s.split_whitespace().collect();
        let num = |w: &str| {
            w.parse::<usize>()
                .map_err(|_| format!("layers {s:?}: {w:?} is not a number"))
        };
        Ok(match words.as_slice() {
            ["dense"] => Layers::Dense,
            ["moe"] => Layers::Moe,
            ["first", n] => Layers::First(num(n)?),
            ["last", n] => Layers::Last(num(n)?),
            ["first", n, "moe"] => Layers::FirstMoe(num(n)?),
            [range] => match range.split_once('-') {
                Some((a, b)) => {
                    let (lo, hi) = (num(a)?, num(b)?);
                    if lo > hi {
                        return Err(format!("layers {s:?}: {lo} > {hi}"));
                    }
                    Layers::Range(lo, hi)
                }
                None => {
                    let n = num(range)?;
                    Layers::Range(n, n)
                }
            },
            _ => {
                return Err(format!(
                    "layers {s:?}: expected \"3-8\", \"5\", \"first N\", \"last N\", \
                     \"first N moe\", \"dense\" or \"moe\""
                ))
            }
        })
    }

    fn contains(&self, block: usize, shape: &ModelShape) -> bool {
        let moe_start = shape.n_dense_lead;
        match *self {
            Layers::Range(lo, hi) => (lo..=hi).contains(&block),
            Layers::First(n) => block < n,
            Layers::Last(n) => block + n >= shape.n_layer,
            Layers::FirstMoe(n) => shape.is_moe && block >= moe_start && block < moe_start + n,
            Layers::Dense => !shape.is_moe || block < moe_start,
            Layers::Moe => shape.is_moe && block >= moe_start,
        }
    }
}

/// What layer selectors need to know about the model.
#[derive(Debug, Clone, Copy)]
pub struct ModelShape {
    pub n_layer: usize,
    /// Blocks before the first MoE block (DeepSeek's `leading_dense_block_count`).
    pub n_dense_lead: usize,
    pub is_moe: bool,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub tensor: Option<Regex>,
    pub role: Option<TensorRole>,
    pub layers: Option<Layers>,
    pub ty: QuantType,
    /// The rule as written, for the plan.
    pub text: String,
}

impl Rule {
    fn matches(&self, name: &str, shape: &ModelShape) -> bool {
        self.tensor.as_ref().is_none_or(|re| re.is_match(name))
            && self.role.is_none_or(|r| role_of(name) == r)
            && self
                .layers
                .as_ref()
                .is_none_or(|l| block_of(name).is_some_and(|b| l.contains(b, shape)))
    }
}

#[derive(Debug, Clone)]
pub struct Recipe {
    pub name: String,
    pub description: String,
    /// The type of every quantizable tensor no rule matches (llama-quantize's FTYPE).
    pub default: QuantType,
    pub rules: Vec<Rule>,
}

/// The built-in recipes: (name, TOML).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("ud-iq1_s", include_str!("recipes/ud-iq1_s.toml")),
    ("ud-iq1_m", include_str!("recipes/ud-iq1_m.toml")),
    ("ud-iq2_xxs", include_str!("recipes/ud-iq2_xxs.toml")),
    ("ud-q2_k_xl", include_str!("recipes/ud-q2_k_xl.toml")),
];

fn parse_type(s: &str) -> Result<QuantType, String> {
    QuantType::from_name(s).ok_or_else(|| format!("unknown type {s:?}"))
}

/// A role as recipes spell it: `dense_ffn`, `routed_experts`, …
fn role_key(r: TensorRole) -> String {
    r.name().replace(' ', "_").to_lowercase()
}

fn parse_role(s: &str) -> Result<TensorRole, String> {
    TensorRole::ALL
        .iter()
        .copied()
        .find(|&r| role_key(r) == s)
        .ok_or_else(|| {
            let known: Vec<String> = TensorRole::ALL.iter().map(|&r| role_key(r)).collect();
            format!("unknown role {s:?} (one of {})", known.join(", "))
        })
}

impl Recipe {
    /// A built-in recipe by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Recipe, RecipeError> {
        if let Some((name, text)) = BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
            return Recipe::parse(name, text);
        }
        let path = std::path::Path::new(name_or_path);
        if path.extension().is_some_and(|e| e == "toml") || path.exists() {
            let text = std::fs::read_to_string(path).map_err(|e| RecipeError::Recipe {
                recipe: name_or_path.to_string(),
                problem: format!("cannot read: {e}"),
            })?;
            return Recipe::parse(name_or_path, &text);
        }
        Err(RecipeError::Unknown {
            name: name_or_path.to_string(),
            known: BUILT_IN
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    pub fn parse(label: &str, text: &str) -> Result<Recipe, RecipeError> {
        let file: RecipeFile = toml::from_str(text).map_err(|source| RecipeError::Toml {
            recipe: label.to_string(),
            source,
        })?;
        let recipe = file.name.clone().unwrap_or_else(|| label.to_string());
        let default = parse_type(&file.default).map_err(|problem| RecipeError::Recipe {
            recipe: recipe.clone(),
            problem: format!("default: {problem}"),
        })?;
        let mut rules = Vec::with_capacity(file.rule.len());
        for (i, r) in file.rule.iter().enumerate() {
            let err = |problem: String| RecipeError::Rule {
                recipe: recipe.clone(),
                rule: i + 1,
                problem,
            };
            if r.tensor.is_none() && r.role.is_none() && r.layers.is_none() {
                return Err(err(
                    "matches every tensor: give tensor, role or layers".into()
                ));
            }
            let tensor = r
                .tensor
                .as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|e| err(format!("tensor pattern: {e}")))?;
            let role = r.role.as_deref().map(parse_role).transpose().map_err(err)?;
            let layers = r
                .layers
                .as_deref()
                .map(Layers::parse)
                .transpose()
                .map_err(err)?;
            let ty = parse_type(&r.ty).map_err(err)?;
            let mut text = Vec::new();
            if let Some(t) = &r.tensor {
                text.push(format!("tensor ~ {t}"));
            }
            if let Some(ro) = &r.role {
                text.push(format!("role {ro}"));
            }
            if let Some(l) = &r.layers {
                text.push(format!("layers {l}"));
            }
            rules.push(Rule {
                tensor,
                role,
                layers,
                ty,
                text: format!("rule {}: {}", i + 1, text.join(", ")),
            });
        }
        Ok(Recipe {
            name: recipe,
            description: file.description.unwrap_or_default(),
            default,
            rules,
        })
    }

    /// The type the recipe gives tensor `name`, and why (the matching rule, or
    /// "default").
    pub fn choose(&self, name: &str, shape: &ModelShape) -> (QuantType, &str) {
        self.rules
            .iter()
            .find(|r| r.matches(name, shape))
            .map_or((self.default, "default"), |r| (r.ty, r.text.as_str()))
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    const R1: ModelShape = ModelShape {
        n_layer: 61,
        n_dense_lead: 3,
        is_moe: true,
    };

    #[test]
    fn built_in_recipes_parse() {
        for (name, _) in BUILT_IN {
            let r = Recipe::load(name).unwrap();
            assert!(!r.rules.is_empty(), "{name}");
        }
    }

    #[test]
    fn ud_iq1_s_follows_the_spec_table() {
        use crate::schema::TensorKind::*;
        let r = Recipe::load("ud-iq1_s").unwrap();
        let t = |name: String| r.choose(&name, &R1).0.name();
        assert_eq!(t(TokenEmbd.name(0)), "q4_K");
        assert_eq!(t(Output.name(0)), "q6_K");
        assert_eq!(t(FfnDown.name(0)), "q6_K");
        assert_eq!(t(FfnGate.name(2)), "q4_K");
        assert_eq!(t(FfnDownShexp.name(3)), "q6_K");
        assert_eq!(t(FfnUpShexp.name(3)), "q5_K");
        assert_eq!(t(AttnKvAMqa.name(9)), "q6_K");
        assert_eq!(t(AttnKvB.name(9)), "q6_K");
        assert_eq!(t(AttnQB.name(9)), "q4_K");
        assert_eq!(t(AttnOutput.name(60)), "q4_K");
        assert_eq!(t(FfnDownExps.name(8)), "iq2_xxs");
        assert_eq!(t(FfnDownExps.name(9)), "iq1_s");
        assert_eq!(t(FfnGateExps.name(3)), "iq1_s");
    }

    #[test]
    fn layer_selectors() {
        let small = ModelShape {
            n_layer: 30,
            n_dense_lead: 0,
            is_moe: false,
        };
        assert!(Layers::parse("last 2").unwrap().contains(28, &small));
        assert!(!Layers::parse("last 2").unwrap().contains(27, &small));
        assert!(Layers::parse("dense").unwrap().contains(29, &small));
        assert!(!Layers::parse("moe").unwrap().contains(0, &small));
        assert!(Layers::parse("first 6 moe").unwrap().contains(8, &R1));
        assert!(!Layers::parse("first 6 moe").unwrap().contains(9, &R1));
        assert_eq!(Layers::parse("4").unwrap(), Layers::Range(4, 4));
        for bad in ["9-3", "first", "some 3", "x-4"] {
            assert!(Layers::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_recipes_are_named() {
        let e = Recipe::parse("x", "default = \"q9_K\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("q9_K"), "{e}");
        let e = Recipe::parse("x", "default = \"q4_K\"\n[[rule]]\ntype = \"q6_K\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("rule 1") && e.contains("every tensor"), "{e}");
        let e = Recipe::parse(
            "x",
            "default = \"q4_K\"\n[[rule]]\ntensor = \"(\"\ntype = \"q6_K\"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("tensor pattern"), "{e}");
        let e = Recipe::parse(
            "x",
            "default = \"q4_K\"\n[[rule]]\nrole = \"brain\"\ntype = \"q6_K\"",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("brain") && e.contains("attention"), "{e}");
        let e = Recipe::parse("x", "default = \"q4_K\"\nextra = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("extra"), "{e}");
        assert!(Recipe::load("ud-iq0")
            .unwrap_err()
            .to_string()
            .contains("ud-iq1_s"));
    }
}
