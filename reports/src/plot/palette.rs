//! Colours and strokes: the Okabe–Ito categorical palette, viridis for
//! values, line dashes, and the bins an edge's failure rate is drawn in.
//!
//! Owns every colour a chart uses, so that the figures agree with each
//! other and with `report.html` (which reads `failure_style` and `viridis`
//! for its tables). Must not draw: no plotters type leaves this module but
//! through `Rgb::c`.

use plotters::style::{Color, RGBAColor, RGBColor};

/// A colour, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, for HTML.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
    pub(super) fn c(self) -> RGBColor {
        RGBColor(self.0, self.1, self.2)
    }
    /// Relative lightness 0–255 (Rec. 601 luma).
    pub fn luma(self) -> f64 {
        0.299 * f64::from(self.0) + 0.587 * f64::from(self.1) + 0.114 * f64::from(self.2)
    }
}

/// Okabe–Ito, ordered so that neighbours also differ in lightness.
pub const BLUE: Rgb = Rgb(0, 114, 178);
pub const ORANGE: Rgb = Rgb(230, 159, 0);
pub const GREEN: Rgb = Rgb(0, 158, 115);
pub const VERMILLION: Rgb = Rgb(213, 94, 0);
pub const PURPLE: Rgb = Rgb(204, 121, 167);
pub const SKY: Rgb = Rgb(86, 180, 233);
pub const YELLOW: Rgb = Rgb(240, 228, 66);
pub const BLACK: Rgb = Rgb(0, 0, 0);
/// Not a category: "others", the items a chart of many leaves out.
pub const GREY: Rgb = Rgb(128, 128, 128);
const CATEGORICAL: [Rgb; 7] = [BLUE, ORANGE, BLACK, GREEN, PURPLE, SKY, VERMILLION];
pub(super) const INK: Rgb = Rgb(34, 34, 34);
pub(super) const MUTED: Rgb = Rgb(90, 90, 90);
pub(super) const GRID: Rgb = Rgb(226, 226, 226);
pub(super) const FAULT: Rgb = Rgb(213, 94, 0);
pub(super) const FAULT_INK: Rgb = Rgb(150, 55, 0);

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// The default look of the `i`-th line of a chart: an Okabe–Ito colour,
/// dashed or dotted from the fourth on so that greyscale still tells them
/// apart.
pub fn series_style(i: usize) -> (Rgb, Dash) {
    let dash = match i % CATEGORICAL.len() {
        0..=2 => Dash::Solid,
        3 | 4 => Dash::Dashed,
        _ => Dash::Dotted,
    };
    (CATEGORICAL[i % CATEGORICAL.len()], dash)
}

/// Viridis at `t` in 0..=1 (clamped); grey for a missing value.
pub fn viridis(t: f64) -> Rgb {
    const V: [(u8, u8, u8); 11] = [
        (68, 1, 84),
        (72, 36, 117),
        (65, 68, 135),
        (53, 95, 141),
        (42, 120, 142),
        (33, 145, 140),
        (34, 168, 132),
        (68, 191, 112),
        (122, 209, 81),
        (189, 223, 38),
        (253, 231, 37),
    ];
    if !t.is_finite() {
        return Rgb(200, 200, 200);
    }
    let x = t.clamp(0.0, 1.0) * 10.0;
    let i = (x.floor() as usize).min(9);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (V[i], V[i + 1]);
    Rgb(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Bins of an edge's failure rate (failed ÷ calls), with their colour and
/// stroke width: grey when nothing failed, darker and wider as more did.
pub const FAILURE_BINS: [(f64, &str, Rgb, u32); 5] = [
    (0.0, "none", Rgb(187, 187, 187), 2),
    (0.001, "< 0.1%", ORANGE, 3),
    (0.01, "< 1%", VERMILLION, 3),
    (0.1, "< 10%", Rgb(150, 35, 0), 4),
    (f64::INFINITY, "≥ 10%", Rgb(55, 0, 0), 6),
];

/// Colour and width of an edge that failed `rate` of its calls.
pub fn failure_style(rate: f64) -> (Rgb, u32) {
    if rate.is_nan() || rate <= 0.0 {
        return (FAILURE_BINS[0].2, FAILURE_BINS[0].3);
    }
    for (limit, _, c, w) in &FAILURE_BINS[1..] {
        if rate < *limit {
            return (*c, *w);
        }
    }
    (FAILURE_BINS[4].2, FAILURE_BINS[4].3)
}

/// Each line's style: its own, or `series_style` of its position.
pub(super) fn line_styles(lines: &[super::Line]) -> Vec<(Rgb, Dash)> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| l.style.unwrap_or_else(|| series_style(i)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), Rgb(68, 1, 84));
        assert_eq!(viridis(1.0), Rgb(253, 231, 37));
        assert!(viridis(0.3).luma() < viridis(0.7).luma());
    }
}

/// What a shaded span of a time chart stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandKind {
    Fault,
    Warmup,
}

/// A span's fill and edge colours (here, not in `bands`, so the frame's
/// legend swatches and the bands share them without importing each other).
pub(super) fn band_colors(kind: BandKind) -> (RGBAColor, RGBAColor) {
    match kind {
        BandKind::Fault => (FAULT.c().mix(0.13), FAULT.c().mix(0.55)),
        BandKind::Warmup => (RGBColor(0, 0, 0).mix(0.05), RGBColor(0, 0, 0).mix(0.2)),
    }
}
