//! Quantize a raw little-endian f32 file with `bitmoe_simd::quantize`.
//!
//! ```text
//! cargo run --release -p bitmoe-simd --example quantize_raw -- \
//!     IN.f32 TYPE N_PER_ROW OUT.bin [IMPORTANCE.f32]
//! ```
//! TYPE is a ggml type name (`q4_K`, `iq1_s`, …, case-insensitive). The importance
//! file holds N_PER_ROW f32 values. Rows are split over the available cores; the time
//! taken is printed to stderr. Used by `tools/quant_rmse.py`.

use std::process::ExitCode;
use std::time::Instant;

use bitmoe_simd::quantize::{quantize_rows, supports};
use bitmoe_simd::GgmlType;

fn read_f32(path: &str) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    if bytes.len() % 4 != 0 {
        return Err(format!(
            "{path}: length {} is not a multiple of 4",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn run(args: &[String]) -> Result<(), String> {
    let [input, ty, n, output, rest @ ..] = args else {
        return Err("usage: quantize_raw IN.f32 TYPE N_PER_ROW OUT.bin [IMPORTANCE.f32]".into());
    };
    let ty = GgmlType::ALL
        .iter()
        .copied()
        .find(|t| t.name().eq_ignore_ascii_case(ty))
        .filter(|t| supports(*t))
        .ok_or_else(|| format!("unsupported type {ty}"))?;
    let n: usize = n.parse().map_err(|e| format!("N_PER_ROW {n}: {e}"))?;
    let src = read_f32(input)?;
    let importance = match rest {
        [] => None,
        [p] => Some(read_f32(p)?),
        _ => return Err("too many arguments".into()),
    };
    let row_bytes = ty
        .row_bytes(n)
        .filter(|_| n > 0)
        .ok_or_else(|| format!("{n} is not a whole number of {} blocks", ty.name()))?;
    if src.len() % n != 0 {
        return Err(format!("{} values are not whole rows of {n}", src.len()));
    }
    let rows = src.len() / n;
    let mut dst = vec![0u8; rows * row_bytes];
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let per = rows.div_ceil(threads).max(1);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = src
            .chunks(per * n)
            .zip(dst.chunks_mut(per * row_bytes))
            .map(|(x, d)| s.spawn(|| quantize_rows(ty, x, n, importance.as_deref(), d)))
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| "worker panicked".to_string())?
                .map_err(|e| e.to_string())
        })
    })?;
    eprintln!(
        "{}: {rows} rows x {n} in {:.2} s",
        ty.name(),
        t0.elapsed().as_secs_f64()
    );
    std::fs::write(output, &dst).map_err(|e| format!("{output}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quantize_raw: {e}");
            ExitCode::FAILURE
        }
    }
}
