//! Pointwise activations and softmax.

/// `g[j] = silu(g[j]) · u[j]` with `silu(z) = z / (1 + e^−z)` (SwiGLU).
pub fn swiglu(g: &mut [f32], u: &[f32]) {
    for (a, &b) in g.iter_mut().zip(u) {
        *a = *a / (1.0 + (-*a).exp()) * b;
    }
}

/// In-place softmax; returns nothing for an empty slice.
pub fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f64;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += f64::from(*v);
    }
    let inv = (1.0 / sum) as f32;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_orders() {
        let mut x = vec![1.0, 2.0, 3.0, -100.0];
        softmax(&mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(x[2] > x[1] && x[1] > x[0] && x[3] < 1e-40);
    }

    #[test]
    fn swiglu_values() {
        let mut g = vec![0.0, 1.0, -1.0];
        swiglu(&mut g, &[5.0, 2.0, 2.0]);
        assert_eq!(g[0], 0.0);
        assert!((g[1] - 2.0 * 0.7310586).abs() < 1e-6);
        assert!((g[2] + 2.0 * 0.26894143).abs() < 1e-6);
    }
}
