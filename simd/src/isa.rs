//! Instruction-set detection.
//!
//! Owns: [`Isa`], the kernel family a process uses, found once by [`Isa::detect`]. It
//! reports what the CPU *and the operating system* enable: on x86-64 the AVX and AVX-512
//! register states must be switched on in XCR0, not just advertised by CPUID. We rely
//! on std's `is_x86_feature_detected!`, which does exactly that (it reads CPUID and,
//! for AVX / AVX2 / FMA / AVX-512, checks the XCR0 bits via XGETBV: bits 1-2 for
//! SSE/AVX state, bits 5-7 for opmask / ZMM state), and caches the result. On aarch64
//! NEON is architectural; `dotprod` (SDOT) comes from the OS's hwcaps via
//! `is_aarch64_feature_detected!`.
//!
//! The environment variable `BITMOE_ISA=scalar|avx2|avx512|neon` caps the level (for
//! tests and benchmarks); it can never raise it above what the machine supports. An
//! unknown value is ignored. Depends on nothing.

/// A kernel family. `Avx512` implies AVX2 is present as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Portable Rust, the reference.
    Scalar,
    /// x86-64 AVX2 + FMA + F16C (every AVX2 CPU has the latter two).
    Avx2,
    /// x86-64 AVX-512 F + BW (+ VL); `vnni`: AVX512-VNNI (`vpdpbusd`) is usable too.
    Avx512 { vnni: bool },
    /// aarch64 Advanced SIMD; `dotprod`: the SDOT/UDOT extension is usable too.
    Neon { dotprod: bool },
}

impl Isa {
    /// The best level the machine supports, capped by `BITMOE_ISA` if set.
    pub fn detect() -> Isa {
        Isa::detect_with(std::env::var("BITMOE_ISA").ok().as_deref())
    }

    /// [`Isa::detect`] with the value of `BITMOE_ISA` given (`None`: unset). Unknown
    /// values are ignored.
    ///
    /// AVX-512 is used where present: its kernels pass the same tests as every other
    /// level on an emulated AVX-512 CPU (`tools/avx512_bochs.sh`, Bochs' Tiger Lake model,
    /// with and without VNNI). They have not been timed on hardware yet; `BITMOE_ISA=avx2`
    /// caps a machine to the AVX2 kernels.
    pub fn detect_with(cap: Option<&str>) -> Isa {
        let hw = Isa::hardware();
        match cap.and_then(Isa::parse) {
            Some(cap) => hw.capped(cap),
            None => hw,
        }
    }

    /// Parses a `BITMOE_ISA` value (`scalar`, `avx2`, `avx512`, `neon`) into the level it
    /// names (with every optional extension allowed).
    pub fn parse(s: &str) -> Option<Isa> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" => Some(Isa::Scalar),
            "avx2" => Some(Isa::Avx2),
            "avx512" => Some(Isa::Avx512 { vnni: true }),
            "neon" => Some(Isa::Neon { dotprod: true }),
            _ => None,
        }
    }

    /// The best level this machine supports, ignoring the environment.
    pub fn hardware() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma")
                && std::is_x86_feature_detected!("f16c");
            let avx512 = avx2
                && std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx512bw")
                && std::is_x86_feature_detected!("avx512vl");
            if avx512 {
                return Isa::Avx512 {
                    vnni: std::is_x86_feature_detected!("avx512vnni"),
                };
            }
            if avx2 {
                return Isa::Avx2;
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            return Isa::Neon {
                dotprod: std::arch::is_aarch64_feature_detected!("dotprod"),
            };
        }
        #[allow(unreachable_code)]
        Isa::Scalar
    }

    /// Whether this machine can run kernels of level `self`.
    pub fn is_supported(self) -> bool {
        self.capped(Isa::hardware()) == self
    }

    /// The highest level that is at most `self` and at most `cap` (different
    /// architectures meet at `Scalar`; optional extensions are the AND of both).
    pub fn capped(self, cap: Isa) -> Isa {
        use Isa::*;
        match (self, cap) {
            (Avx512 { vnni: a }, Avx512 { vnni: b }) => Avx512 { vnni: a && b },
            (Avx512 { .. }, Avx2) | (Avx2, Avx512 { .. }) | (Avx2, Avx2) => Avx2,
            (Neon { dotprod: a }, Neon { dotprod: b }) => Neon { dotprod: a && b },
            _ => Scalar,
        }
    }

    /// Every level this machine supports, lowest first (for tests and benchmarks).
    pub fn all_supported() -> Vec<Isa> {
        let mut out = vec![Isa::Scalar];
        let hw = Isa::hardware();
        for isa in [
            Isa::Avx2,
            Isa::Avx512 { vnni: false },
            Isa::Avx512 { vnni: true },
            Isa::Neon { dotprod: false },
            Isa::Neon { dotprod: true },
        ] {
            if hw.capped(isa) == isa {
                out.push(isa);
            }
        }
        out
    }

    /// Short name for reports and benchmark ids (`scalar`, `avx2`, `avx512vnni`, …).
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 { vnni: false } => "avx512",
            Isa::Avx512 { vnni: true } => "avx512vnni",
            Isa::Neon { dotprod: false } => "neon",
            Isa::Neon { dotprod: true } => "neon-dotprod",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capping_never_raises_and_crosses_architectures_at_scalar() {
        let levels = [
            Isa::Scalar,
            Isa::Avx2,
            Isa::Avx512 { vnni: false },
            Isa::Avx512 { vnni: true },
            Isa::Neon { dotprod: false },
            Isa::Neon { dotprod: true },
        ];
        for a in levels {
            assert_eq!(a.capped(a), a);
            assert_eq!(a.capped(Isa::Scalar), Isa::Scalar);
            for b in levels {
                assert_eq!(a.capped(b), b.capped(a), "{a:?} {b:?}");
                assert_eq!(a.capped(b).capped(a), a.capped(b));
            }
        }
        assert_eq!(Isa::Avx512 { vnni: true }.capped(Isa::Avx2), Isa::Avx2);
        assert_eq!(Isa::Avx2.capped(Isa::Neon { dotprod: true }), Isa::Scalar);
    }

    #[test]
    fn parse_names_and_hardware_is_supported() {
        assert_eq!(Isa::parse("AVX2"), Some(Isa::Avx2));
        assert_eq!(Isa::parse("sse"), None);
        assert!(Isa::hardware().is_supported());
        assert!(Isa::all_supported().iter().all(|i| i.is_supported()));
        assert!(Isa::detect().is_supported());
    }

    #[test]
    fn the_environment_caps_but_never_raises() {
        let hw = Isa::hardware();
        // Every level is used as detected.
        assert_eq!(Isa::detect_with(None), hw);
        assert_eq!(Isa::detect_with(Some("bogus")), hw);
        if let Isa::Avx512 { .. } = hw {
            assert_eq!(Isa::detect_with(Some("avx512")), hw);
        }
        assert_eq!(Isa::detect_with(Some("scalar")), Isa::Scalar);
        for v in ["avx2", "avx512", "neon"] {
            let got = Isa::detect_with(Some(v));
            assert!(got.is_supported());
            assert_eq!(got, got.capped(hw));
            assert_eq!(got, got.capped(Isa::parse(v).unwrap()));
        }
        if hw == Isa::Avx2 {
            assert_eq!(Isa::detect_with(Some("avx512")), Isa::Avx2);
            assert_eq!(Isa::detect_with(Some("neon")), Isa::Scalar);
        }
    }
}
