//! The model `bitmoe bench` uses without `-m`: a synthetic DeepSeek-R1-shaped file
//! (`MoeSpec::r1_small`: MLA attention, one dense block, MoE blocks of 64 IQ1_S / IQ2_XXS
//! experts with a shared expert, the UD-IQ1_S type mix), built once into the user's
//! cache directory. Random weights: its numbers are speed, not text quality.

use std::path::PathBuf;

use anyhow::Context;

use crate::synth::{write_deepseek2, MoeSpec};

/// MoE blocks of the default model: ~0.4 GB, builds in about a second.
const MOE_BLOCKS: usize = 4;

/// The cache directory: `$XDG_CACHE_HOME/bitmoe`, else `~/.cache/bitmoe`, else the
/// temporary directory.
fn cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("bitmoe")
}

/// The default model's path, built first if it is not cached yet. `progress` is told
/// what is happening (building takes a second or two).
pub fn default_model(progress: &dyn Fn(&str)) -> anyhow::Result<PathBuf> {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // The generator's version is in the name: a changed generator builds a new file.
    let path = dir.join(format!("synth-r1-small-{MOE_BLOCKS}moe-seed42-v1.gguf"));
    if !path.exists() {
        progress(&format!(
            "building the synthetic R1-shaped model {}",
            path.display()
        ));
        // Written under a temporary name and renamed, so an interrupted build is never
        // mistaken for a model.
        let tmp = path.with_extension(format!("part{}", std::process::id()));
        let spec = MoeSpec::r1_small(MOE_BLOCKS);
        write_deepseek2(&tmp, &spec)
            .with_context(|| format!("writing the synthetic model {}", tmp.display()))?;
        std::fs::rename(&tmp, &path)
            .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    }
    Ok(path)
}
