//! The list of tests one bench runs, from llama-bench's flags: `-p` (prompt processing,
//! "pp512"), `-n` (generation, "tg128"), `-pg` (a prompt then generation, timed
//! together, "pp512+tg128"), each at every context depth of `-d` ("… @ d4096": that many
//! tokens are evaluated first, untimed).

use anyhow::Context;

/// One test: `n_prompt` tokens in one batch, then `n_gen` single-token steps, after
/// `depth` untimed tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchTest {
    pub n_prompt: usize,
    pub n_gen: usize,
    pub depth: usize,
}

impl BenchTest {
    /// llama-bench's name: pp512, tg128, pp512+tg128, with " @ d4096" for a depth.
    pub fn name(&self) -> String {
        let base = match (self.n_prompt, self.n_gen) {
            (p, 0) => format!("pp{p}"),
            (0, g) => format!("tg{g}"),
            (p, g) => format!("pp{p}+tg{g}"),
        };
        if self.depth > 0 {
            format!("{base} @ d{}", self.depth)
        } else {
            base
        }
    }

    /// Tokens the timed part evaluates.
    pub fn tokens(&self) -> usize {
        self.n_prompt + self.n_gen
    }

    /// Context positions the test needs.
    pub fn positions(&self) -> usize {
        self.depth + self.n_prompt + self.n_gen
    }

    /// A generation-only test: its tokens/s is the decode speed the memory-bandwidth
    /// column is about.
    pub fn is_generation(&self) -> bool {
        self.n_prompt == 0
    }
}

/// A comma list of counts (`-p 128,512`).
pub fn parse_list(s: &str, flag: &str) -> anyhow::Result<Vec<usize>> {
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .with_context(|| format!("{flag}: {x:?} is not a number"))
        })
        .collect()
}

/// `-pg 512,128`: one prompt/generation pair (llama-bench takes the flag once per pair).
pub fn parse_pair(s: &str) -> anyhow::Result<(usize, usize)> {
    match parse_list(s, "-pg")?.as_slice() {
        &[p, g] if p > 0 && g > 0 => Ok((p, g)),
        _ => anyhow::bail!("-pg: {s:?} is not two positive counts PROMPT,GEN (e.g. 512,128)"),
    }
}

/// Every test, in llama-bench's order: prompt tests, generation tests, then pairs, each
/// at every depth. Zero-length entries are skipped.
pub fn expand(
    prompts: &[usize],
    gens: &[usize],
    pairs: &[(usize, usize)],
    depths: &[usize],
) -> Vec<BenchTest> {
    let mut out = Vec::new();
    for &depth in depths {
        out.extend(prompts.iter().filter(|&&p| p > 0).map(|&p| BenchTest {
            n_prompt: p,
            n_gen: 0,
            depth,
        }));
        out.extend(gens.iter().filter(|&&g| g > 0).map(|&g| BenchTest {
            n_prompt: 0,
            n_gen: g,
            depth,
        }));
        out.extend(pairs.iter().map(|&(p, g)| BenchTest {
            n_prompt: p,
            n_gen: g,
            depth,
        }));
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn names_and_order_follow_llama_bench() {
        let tests = expand(&[512, 0], &[128], &[(64, 16)], &[0, 1024]);
        let names: Vec<String> = tests.iter().map(BenchTest::name).collect();
        assert_eq!(
            names,
            [
                "pp512",
                "tg128",
                "pp64+tg16",
                "pp512 @ d1024",
                "tg128 @ d1024",
                "pp64+tg16 @ d1024"
            ]
        );
        assert_eq!(tests[5].positions(), 1024 + 80);
        assert!(tests[1].is_generation() && !tests[2].is_generation());
    }

    #[test]
    fn bad_lists_name_the_flag() {
        let e = parse_list("1,x", "-t").unwrap_err().to_string();
        assert!(e.contains("-t") && e.contains("\"x\""), "{e}");
        assert!(parse_pair("512").is_err());
        assert!(parse_pair("0,5").is_err());
        assert_eq!(parse_pair("512, 128").unwrap(), (512, 128));
    }
}
