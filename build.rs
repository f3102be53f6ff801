//! Records the git commit bitmoe is built from, for `bitmoe bench`'s rows (as
//! llama-bench's `build_commit`). Outside a git checkout it is "unknown".

use std::path::Path;
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=8", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=BITMOE_BUILD_COMMIT={commit}");
    // Rebuild when HEAD moves: the HEAD file (branch switches) and the branch's ref.
    let git = Path::new(".git");
    if git.join("HEAD").exists() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
            if let Some(r) = head.trim().strip_prefix("ref: ") {
                if git.join(r).exists() {
                    println!("cargo:rerun-if-changed=.git/{r}");
                }
            }
        }
        if git.join("packed-refs").exists() {
            println!("cargo:rerun-if-changed=.git/packed-refs");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
