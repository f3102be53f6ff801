//! llama.cpp's scale searches, shared by the legacy and K-quant quantizers.
//!
//! * [`make_qx_quants`]: symmetric `x ≈ s·l`, `l ∈ [lo, hi]`: start from the scale that
//!   maps the largest |x| to `−nmax`, try 18 nearby scales `(nmax ± 0.1·k)/max`, keep
//!   the one maximising `(Σ w x l)² / Σ w l²` (equivalently the least weighted error
//!   with the optimal scale `Σ w x l / Σ w l²`).
//! * [`make_qkx3_quants`]: affine `x ≈ s·l − m`, `l ∈ [0, nmax]`, `m ≥ 0`: try
//!   `nstep + 1` scales from `(nmax + rmin)/(max − min)` in steps of `rdelta`, solving
//!   the 2×2 weighted least-squares for `(s, m)` at each rounding, keep the least error.
//! * [`make_qp_quants`]: positive values (sub-block scales and mins) onto `0..=nmax` with
//!   one super-block scale: 9 scales, then up to 5 rounds of single-value moves that
//!   increase `(Σ w x l)² / Σ w l²`.
//!
//! All arithmetic is f32 in llama.cpp's order, so results match it closely; the inputs
//! are finite (checked by the caller) and every division is guarded.

use super::nearest_int;

/// ggml's `GROUP_MAX_EPS`: a group whose largest |x| is below this is all zeros.
pub(crate) const GROUP_MAX_EPS: f32 = 1e-15;

/// Symmetric scale search (`make_qx_quants` with `rmse_type = 1` and explicit weights).
/// Writes `l − lo` (0..=hi−lo) into `codes` and returns the scale `s` (`x ≈ s·l`).
/// llama.cpp's ranges are `lo = −nmax, hi = nmax − 1`.
pub(crate) fn make_qx_quants(
    x: &[f32],
    w: &[f32],
    nmax: i32,
    lo: i32,
    hi: i32,
    codes: &mut [u8],
) -> f32 {
    let (mut max, mut amax) = (0.0f32, 0.0f32);
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    if amax < GROUP_MAX_EPS {
        codes.iter_mut().for_each(|c| *c = 0);
        return 0.0;
    }
    let quant = |iscale: f32, v: f32| nearest_int(iscale * v).clamp(lo, hi);
    let sums = |iscale: f32| {
        let (mut sumlx, mut suml2) = (0.0f32, 0.0f32);
        for (&v, &w) in x.iter().zip(w) {
            let l = quant(iscale, v) as f32;
            sumlx += w * v * l;
            suml2 += w * l * l;
        }
        (sumlx, suml2)
    };
    let iscale = -(nmax as f32) / max;
    for (c, &v) in codes.iter_mut().zip(x) {
        *c = (quant(iscale, v) - lo) as u8;
    }
    let (sumlx, suml2) = sums(iscale);
    let mut scale = if suml2 != 0.0 { sumlx / suml2 } else { 0.0 };
    let mut best = scale * sumlx;
    for is in -9..=9 {
        if is == 0 {
            continue;
        }
        let iscale = -(nmax as f32 + 0.1 * is as f32) / max;
        let (sumlx, suml2) = sums(iscale);
        if suml2 > 0.0 && sumlx * sumlx > best * suml2 {
            for (c, &v) in codes.iter_mut().zip(x) {
                *c = (quant(iscale, v) - lo) as u8;
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    scale
}

/// Affine scale-and-min search (`make_qkx3_quants`, squared error, explicit weights).
/// Writes codes 0..=nmax and returns `(s, m)` with `x ≈ s·l − m`, `m ≥ 0`.
pub(crate) fn make_qkx3_quants(
    x: &[f32],
    w: &[f32],
    nmax: i32,
    rmin: f32,
    rdelta: f32,
    nstep: i32,
    codes: &mut [u8],
) -> (f32, f32) {
    let (mut min, mut max) = (x[0], x[0]);
    let (mut sum_w, mut sum_x) = (0.0f32, 0.0f32);
    for (&v, &w) in x.iter().zip(w) {
        min = min.min(v);
        max = max.max(v);
        sum_w += w;
        sum_x += w * v;
    }
    if min > 0.0 {
        min = 0.0;
    }
    if max <= min {
        codes.iter_mut().for_each(|c| *c = 0);
        return (0.0, -min);
    }
    let code = |iscale: f32, v: f32, min: f32| nearest_int(iscale * (v - min)).clamp(0, nmax);
    let mut iscale = nmax as f32 / (max - min);
    let mut scale = 1.0 / iscale;
    let mut best = 0.0f32;
    for ((c, &v), &w) in codes.iter_mut().zip(x).zip(w) {
        *c = code(iscale, v, min) as u8;
        let diff = scale * *c as f32 + min - v;
        best += w * diff * diff;
    }
    let mut aux = [0u8; 32];
    let aux = &mut aux[..x.len().min(32)];
    if aux.len() != x.len() {
        // Only sub-blocks of up to 32 are searched (all callers).
        return (scale, -min);
    }
    for is in 0..=nstep {
        iscale = (rmin + rdelta * is as f32 + nmax as f32) / (max - min);
        let (mut sum_l, mut sum_l2, mut sum_xl) = (0.0f32, 0.0f32, 0.0f32);
        for ((a, &v), &w) in aux.iter_mut().zip(x).zip(w) {
            let l = code(iscale, v, min);
            *a = l as u8;
            let l = l as f32;
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * v;
        }
        let det = sum_w * sum_l2 - sum_l * sum_l;
        if det > 0.0 {
            let mut this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
            let mut this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
            if this_min > 0.0 {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            let mut err = 0.0f32;
            for ((&a, &v), &w) in aux.iter().zip(x).zip(w) {
                let diff = this_scale * a as f32 + this_min - v;
                err += w * diff * diff;
            }
            if err < best {
                codes.copy_from_slice(aux);
                best = err;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    (scale, -min)
}

/// Positive values onto `0..=nmax` with one scale (`make_qp_quants`). Writes the codes
/// and returns the scale.
pub(crate) fn make_qp_quants(x: &[f32], w: &[f32], nmax: i32, codes: &mut [u8]) -> f32 {
    let max = x.iter().fold(0.0f32, |m, &v| m.max(v));
    if max < GROUP_MAX_EPS {
        codes.iter_mut().for_each(|c| *c = 0);
        return 0.0;
    }
    let code = |iscale: f32, v: f32| nearest_int(iscale * v).clamp(0, nmax);
    let mse = |iscale: f32| {
        let scale = 1.0 / iscale;
        x.iter()
            .zip(w)
            .map(|(&v, &w)| {
                let diff = v - scale * code(iscale, v) as f32;
                w * diff * diff
            })
            .sum::<f32>()
    };
    let mut iscale = nmax as f32 / max;
    let mut best = mse(iscale);
    for is in -4..=4 {
        if is == 0 {
            continue;
        }
        let iscale_is = (0.1 * is as f32 + nmax as f32) / max;
        let m = mse(iscale_is);
        if m < best {
            best = m;
            iscale = iscale_is;
        }
    }
    let (mut sumlx, mut suml2) = (0.0f32, 0.0f32);
    for ((c, &v), &w) in codes.iter_mut().zip(x).zip(w) {
        let l = code(iscale, v);
        *c = l as u8;
        sumlx += w * v * l as f32;
        suml2 += w * (l * l) as f32;
    }
    for _ in 0..5 {
        let mut changed = false;
        for ((c, &v), &w) in codes.iter_mut().zip(x).zip(w) {
            let l = *c as f32;
            let mut slx = sumlx - w * v * l;
            let mut sl2 = suml2 - w * l * l;
            if slx > 0.0 && sl2 > 0.0 {
                let new_l = nearest_int(v * sl2 / slx).clamp(0, nmax);
                if new_l != *c as i32 {
                    slx += w * v * new_l as f32;
                    sl2 += w * (new_l * new_l) as f32;
                    if slx * slx * suml2 > sumlx * sumlx * sl2 {
                        *c = new_l as u8;
                        sumlx = slx;
                        suml2 = sl2;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    if suml2 > 0.0 {
        sumlx / suml2
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qx_finds_an_exact_grid() {
        let x: Vec<f32> = (-8..8).map(|l| 0.5 * l as f32).collect();
        let w = vec![1.0; 16];
        let mut c = [0u8; 16];
        let s = make_qx_quants(&x, &w, 8, -8, 7, &mut c);
        for (&c, &x) in c.iter().zip(&x) {
            assert!((s * (c as f32 - 8.0) - x).abs() < 1e-5);
        }
    }

    #[test]
    fn qkx3_fits_an_affine_grid() {
        let x: Vec<f32> = (0..32).map(|i| 0.1 * (i % 16) as f32 - 0.3).collect();
        let w = vec![1.0; 32];
        let mut c = [0u8; 32];
        let (s, m) = make_qkx3_quants(&x, &w, 15, -0.9, 0.05, 36, &mut c);
        for (&c, &x) in c.iter().zip(&x) {
            assert!((s * c as f32 - m - x).abs() < 1e-4, "{s} {m}");
        }
    }

    #[test]
    fn qp_zero_input_gives_zero_scale() {
        let mut c = [9u8; 8];
        assert_eq!(make_qp_quants(&[0.0; 8], &[1.0; 8], 63, &mut c), 0.0);
        assert_eq!(c, [0; 8]);
    }
}
