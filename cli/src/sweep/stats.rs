//! Mean and 95 % confidence interval (Student t) over replications, folded
//! sequentially in the order given (never a parallel float reduction), so
//! the same values always give the same bits.

/// Mean and the half-width of the 95 % confidence interval of the mean
/// (`None` with fewer than two values).
pub fn mean_ci95(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len();
    let (mean, sd) = mean_sd(xs);
    (mean, sd.map(|sd| t975(n - 1) * sd / (n as f64).sqrt()))
}

/// Mean and sample standard deviation (n − 1; `None` with fewer than two
/// values).
pub fn mean_sd(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len();
    if n == 0 {
        return (f64::NAN, None);
    }
    let mut sum = 0.0;
    for x in xs {
        sum += x;
    }
    let mean = sum / n as f64;
    if n < 2 {
        return (mean, None);
    }
    let mut ss = 0.0;
    for x in xs {
        ss += (x - mean) * (x - mean);
    }
    (mean, Some((ss / (n - 1) as f64).sqrt()))
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706_204_736_174_707,
        4.302_652_729_749_464,
        3.182_446_305_284_263,
        2.776_445_105_197_793,
        2.570_581_835_636_314,
        2.446_911_851_144_969,
        2.364_624_251_592_785,
        2.306_004_135_204_166,
        2.262_157_162_798_205,
        2.228_138_851_986_274,
        2.200_985_160_091_638,
        2.178_812_829_667_228,
        2.160_368_656_462_793,
        2.144_786_687_917_804,
        2.131_449_545_559_774,
        2.119_905_299_221_253,
        2.109_815_577_833_316,
        2.100_922_040_241_038,
        2.093_024_054_408_31,
        2.085_963_447_265_865,
        2.079_613_844_727_663,
        2.073_873_067_904_026,
        2.068_657_610_419_049,
        2.063_898_561_628_025,
        2.059_538_552_753_298,
        2.055_529_438_642_871,
        2.051_830_516_480_286,
        2.048_407_141_795_245,
        2.045_229_642_132_703,
        2.042_272_456_301_238,
    ];
    assert!(df >= 1, "t quantile needs at least one degree of freedom");
    if df <= TABLE.len() {
        return TABLE[df - 1];
    }
    // Cornish-Fisher expansion around the normal quantile; error < 1e-8
    // beyond 30 degrees of freedom.
    let z: f64 = 1.959_963_984_540_054;
    let n = df as f64;
    let (z3, z5, z7, z9) = (z.powi(3), z.powi(5), z.powi(7), z.powi(9));
    z + (z3 + z) / (4.0 * n)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * n * n)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * n.powi(3))
        + (79.0 * z9 + 776.0 * z7 + 1482.0 * z5 - 1920.0 * z3 - 945.0 * z) / (92160.0 * n.powi(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// P(T ≤ t) for Student's t, by Simpson's rule on the density.
    fn t_cdf(t: f64, df: usize) -> f64 {
        let v = df as f64;
        let ln_gamma = |x: f64| {
            // Lanczos (g = 7, n = 9).
            const C: [f64; 9] = [
                0.999_999_999_999_809_9,
                676.520_368_121_885_1,
                -1_259.139_216_722_402_8,
                771.323_428_777_653_1,
                -176.615_029_162_140_6,
                12.507_343_278_686_905,
                -0.138_571_095_265_720_12,
                9.984_369_578_019_572e-6,
                1.505_632_735_149_311_6e-7,
            ];
            let x = x - 1.0;
            let mut a = C[0];
            let t = x + 7.5;
            for (i, c) in C.iter().enumerate().skip(1) {
                a += c / (x + i as f64);
            }
            0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
        };
        let k = (ln_gamma((v + 1.0) / 2.0) - ln_gamma(v / 2.0)).exp()
            / (v * std::f64::consts::PI).sqrt();
        let f = |x: f64| k * (1.0 + x * x / v).powf(-(v + 1.0) / 2.0);
        let steps = 20_000;
        let h = t / steps as f64;
        let mut s = f(0.0) + f(t);
        for i in 1..steps {
            s += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        0.5 + s * h / 3.0
    }

    #[test]
    fn t_quantiles_are_right() {
        for df in [1, 2, 3, 5, 9, 10, 20, 29, 30, 31, 40, 60, 120, 1000] {
            let p = t_cdf(t975(df), df);
            assert!((p - 0.975).abs() < 1e-7, "df {df}: P = {p}");
        }
    }

    #[test]
    fn mean_and_interval() {
        let (m, ci) = mean_ci95(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        // sd = 1, t(2) = 4.3027, /sqrt(3)
        assert!((ci.unwrap() - 4.302_652_729_749_464 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(mean_ci95(&[5.0]), (5.0, None));
    }
}
