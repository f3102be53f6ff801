//! Split (multi-file) models: `<prefix>-00001-of-00003.gguf` … as written by
//! `llama-gguf-split`. Part numbers in names are 1-based; `split.no` is 0-based.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The path of part `no` (1-based) of `count` for a model whose parts share `prefix`.
pub fn part_path(prefix: &Path, no: u32, count: u32) -> PathBuf {
    let mut s = OsString::from(prefix.as_os_str());
    s.push(format!("-{no:05}-of-{count:05}.gguf"));
    PathBuf::from(s)
}

/// Splits a part's path into (prefix, 1-based part number, part count), or `None` when
/// the name does not follow the pattern.
pub fn parse_part_path(path: &Path) -> Option<(PathBuf, u32, u32)> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".gguf")?;
    // "<prefix>-NNNNN-of-MMMMM"
    let (rest, count) = stem.rsplit_once("-of-")?;
    let (prefix, no) = rest.rsplit_once('-')?;
    let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(no) || !digits(count) || prefix.is_empty() {
        return None;
    }
    let (no, count) = (no.parse().ok()?, count.parse().ok()?);
    Some((path.with_file_name(prefix), no, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let p = Path::new("/m/DeepSeek-R1-UD-IQ1_S-00002-of-00003.gguf");
        let (prefix, no, count) = parse_part_path(p).unwrap();
        assert_eq!(prefix, Path::new("/m/DeepSeek-R1-UD-IQ1_S"));
        assert_eq!((no, count), (2, 3));
        assert_eq!(part_path(&prefix, 2, 3), p);
    }

    #[test]
    fn other_names_are_not_parts() {
        for p in [
            "a.gguf",
            "a-1-of-3.gguf",
            "a-00001-of-00003.bin",
            "-00001-of-00003.gguf",
        ] {
            assert_eq!(parse_part_path(Path::new(p)), None, "{p}");
        }
    }
}
