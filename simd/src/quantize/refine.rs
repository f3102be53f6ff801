//! Local refinement of a super-block's scales after llama.cpp's search, shared by the
//! K-quants and IQ4_XS.
//!
//! llama.cpp picks sub-block scales by a search on the unquantized values, quantizes
//! them onto a super-block grid (`d·sc_j`, or `d·sc_j` and `dmin·m_j`) and re-rounds every
//! element once. Two cheap steps lower the weighted error from there, each accepted only
//! when it does:
//! 1. per sub-block, try the neighbouring scale codes (`sc_j ± 1`, and `m_j ± 1` for
//!    affine types), re-rounding the sub-block's elements for each;
//! 2. refit the super-block scale(s) by weighted least squares for the current codes,
//!    round to f16, re-round every element.
//!
//! Errors are measured on what the dequantizer produces (f16 scales, integer codes), so
//! the result is never worse on the objective than the starting point.

use super::{f16_round, nearest_int};

/// Symmetric super-block `x_i ≈ d·sc_j·v(code_i)`, sub-blocks of `sub` elements.
pub(crate) struct Symmetric<'a, N: Fn(f32) -> u8, V: Fn(u8) -> f32> {
    pub x: &'a [f32],
    pub w: &'a [f32],
    pub sub: usize,
    /// Range of the sub-block scale codes `sc_j`.
    pub sc_range: (i32, i32),
    /// Code nearest to a value in units of the sub-block scale.
    pub nearest: N,
    /// Value of a code in units of the sub-block scale.
    pub value: V,
}

impl<N: Fn(f32) -> u8, V: Fn(u8) -> f32> Symmetric<'_, N, V> {
    /// Re-rounds sub-block `j` for the scale `dl`; returns its weighted error.
    fn requant(&self, j: usize, dl: f32, codes: &mut [u8]) -> f32 {
        let r = j * self.sub..(j + 1) * self.sub;
        let idl = if dl != 0.0 { 1.0 / dl } else { 0.0 };
        let mut err = 0.0f32;
        for ((c, &x), &w) in codes[r.clone()]
            .iter_mut()
            .zip(&self.x[r.clone()])
            .zip(&self.w[r])
        {
            *c = (self.nearest)(x * idl);
            let e = x - dl * (self.value)(*c);
            err += w * e * e;
        }
        err
    }

    /// Re-rounds everything for `d` and the scale codes; returns the total error.
    pub fn requant_all(&self, d: f32, sc: &[i32], codes: &mut [u8]) -> f32 {
        (0..sc.len())
            .map(|j| self.requant(j, d * sc[j] as f32, codes))
            .sum()
    }

    /// Steps 1 and 2 (module docs), up to `rounds` times, from the re-rounding for `d`
    /// (f16-representable) and `sc`. Returns the final error.
    pub fn refine(&self, d: &mut f32, sc: &mut [i32], codes: &mut [u8], rounds: usize) -> f32 {
        let mut err = self.requant_all(*d, sc, codes);
        let mut tmp = codes.to_vec();
        for _ in 0..rounds {
            for (j, scj) in sc.iter_mut().enumerate() {
                let r = j * self.sub..(j + 1) * self.sub;
                let mut best = self.requant(j, *d * *scj as f32, codes);
                for s in [*scj - 1, *scj + 1] {
                    if s < self.sc_range.0 || s > self.sc_range.1 {
                        continue;
                    }
                    let e = self.requant(j, *d * s as f32, &mut tmp);
                    if e < best {
                        best = e;
                        *scj = s;
                        codes[r.clone()].copy_from_slice(&tmp[r.clone()]);
                    }
                }
            }
            err = self.requant_all(*d, sc, codes);
            let (mut sxa, mut saa) = (0.0f64, 0.0f64);
            for (i, (&x, &w)) in self.x.iter().zip(self.w).enumerate() {
                let a = sc[i / self.sub] as f64 * (self.value)(codes[i]) as f64;
                sxa += w as f64 * x as f64 * a;
                saa += w as f64 * a * a;
            }
            if saa <= 0.0 {
                break;
            }
            let nd = f16_round((sxa / saa) as f32);
            let e = self.requant_all(nd, sc, &mut tmp);
            if e < err {
                err = e;
                *d = nd;
                codes.copy_from_slice(&tmp);
            } else {
                break;
            }
        }
        err
    }
}

/// Affine super-block `x_i ≈ d·sc_j·l_i − dmin·m_j`, `l ∈ 0..=qmax`, sub-blocks of `sub`.
pub(crate) struct Affine<'a> {
    pub x: &'a [f32],
    pub w: &'a [f32],
    pub sub: usize,
    pub qmax: i32,
    /// Largest scale / min code (both are unsigned).
    pub smax: i32,
}

impl Affine<'_> {
    fn requant(&self, j: usize, dl: f32, ml: f32, codes: &mut [u8]) -> f32 {
        let r = j * self.sub..(j + 1) * self.sub;
        let idl = if dl != 0.0 { 1.0 / dl } else { 0.0 };
        let mut err = 0.0f32;
        for ((c, &x), &w) in codes[r.clone()]
            .iter_mut()
            .zip(&self.x[r.clone()])
            .zip(&self.w[r])
        {
            let l = nearest_int((x + ml) * idl).clamp(0, self.qmax);
            *c = l as u8;
            let e = x - (dl * l as f32 - ml);
            err += w * e * e;
        }
        err
    }

    /// Re-rounds everything; returns the total error.
    pub fn requant_all(&self, d: f32, dmin: f32, sc: &[i32], m: &[i32], codes: &mut [u8]) -> f32 {
        (0..sc.len())
            .map(|j| self.requant(j, d * sc[j] as f32, dmin * m[j] as f32, codes))
            .sum()
    }

    /// Steps 1 and 2 (module docs), up to `rounds` times. `d`, `dmin` f16-representable.
    pub fn refine(
        &self,
        d: &mut f32,
        dmin: &mut f32,
        sc: &mut [i32],
        m: &mut [i32],
        codes: &mut [u8],
        rounds: usize,
    ) -> f32 {
        let mut err = self.requant_all(*d, *dmin, sc, m, codes);
        let mut tmp = codes.to_vec();
        for _ in 0..rounds {
            for j in 0..sc.len() {
                let r = j * self.sub..(j + 1) * self.sub;
                let mut best = self.requant(j, *d * sc[j] as f32, *dmin * m[j] as f32, codes);
                let (s0, m0) = (sc[j], m[j]);
                for ds in -1..=1 {
                    for dm in -1..=1 {
                        let (s, mm) = (s0 + ds, m0 + dm);
                        if (ds == 0 && dm == 0)
                            || !(0..=self.smax).contains(&s)
                            || !(0..=self.smax).contains(&mm)
                        {
                            continue;
                        }
                        let e = self.requant(j, *d * s as f32, *dmin * mm as f32, &mut tmp);
                        if e < best {
                            best = e;
                            sc[j] = s;
                            m[j] = mm;
                            codes[r.clone()].copy_from_slice(&tmp[r.clone()]);
                        }
                    }
                }
            }
            err = self.requant_all(*d, *dmin, sc, m, codes);
            // x ≈ d·a − e·b with a = sc·l, b = m: 2×2 weighted normal equations.
            let (mut saa, mut sab, mut sbb, mut sax, mut sbx) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
            for (i, (&x, &w)) in self.x.iter().zip(self.w).enumerate() {
                let j = i / self.sub;
                let a = sc[j] as f64 * codes[i] as f64;
                let b = m[j] as f64;
                let (w, x) = (w as f64, x as f64);
                saa += w * a * a;
                sab += w * a * b;
                sbb += w * b * b;
                sax += w * a * x;
                sbx += w * b * x;
            }
            let det = saa * sbb - sab * sab;
            let (nd, ne) = if det > 1e-12 * saa * sbb && det > 0.0 {
                ((sax * sbb - sab * sbx) / det, (sax * sab - saa * sbx) / det)
            } else if saa > 0.0 {
                (sax / saa, 0.0)
            } else {
                break;
            };
            let (nd, ne) = if ne < 0.0 && saa > 0.0 {
                (sax / saa, 0.0)
            } else {
                (nd, ne)
            };
            if nd.is_nan() || nd <= 0.0 {
                break;
            }
            let (nd, ne) = (f16_round(nd as f32), f16_round(ne as f32));
            let e = self.requant_all(nd, ne, sc, m, &mut tmp);
            if e < err {
                err = e;
                *d = nd;
                *dmin = ne;
                codes.copy_from_slice(&tmp);
            } else {
                break;
            }
        }
        err
    }
}
