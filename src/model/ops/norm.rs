//! RMSNorm as ggml computes it: Σx² accumulated in f64, the mean converted to f32,
//! `scale = 1 / sqrt(mean + eps)` in f32, then `x · scale · w`.

/// `out[j] = w[j] · x[j] / sqrt(mean(x²) + eps)`.
pub fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let sum: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let mean = (sum / x.len() as f64) as f32;
    let scale = 1.0 / (mean + eps).sqrt();
    for ((o, &v), &g) in out.iter_mut().zip(x).zip(w) {
        *o = v * scale * g;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_rms_after_norm() {
        let x: Vec<f32> = (0..64).map(|i| i as f32 - 20.0).collect();
        let mut y = vec![0f32; 64];
        rms_norm(&x, &[1.0; 64], 0.0, &mut y);
        let rms = (y.iter().map(|v| v * v).sum::<f32>() / 64.0).sqrt();
        assert!((rms - 1.0).abs() < 1e-5, "{rms}");
    }
}
