//! The points chart: a metric measured at a few values of a parameter
//! (sweeps). Each series is a line through its points with a marker on
//! every measured point, and, where the points carry a confidence
//! interval, a shaded band from its low to its high end.
//!
//! Owns the markers and the bands of intervals. Must not decide whether an
//! interval exists (a point without one gets no band) nor pick the series.

use plotters::prelude::*;

use super::axis::{Axis, Fmt, Scale};
use super::frame::{Swatch, build, frame, mesh, stroke_px};
use super::palette::{Dash, Rgb, series_style};
use super::{Area, Res};

/// One measured point: x, the value, and the half-width of its
/// confidence interval when there is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub x: f64,
    pub y: f64,
    pub half: Option<f64>,
}

/// One series of a points chart.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSeries {
    pub name: String,
    pub points: Vec<Measured>,
}

/// Series of measured points against a numeric parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct PointsChart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub y_fmt: Fmt,
    pub series: Vec<PointSeries>,
    /// What the shaded bands are, for the legend (`None`: no band drawn).
    pub band_label: Option<String>,
}

pub(super) fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &PointsChart) -> Res<DB> {
    let styles: Vec<(Rgb, Dash)> = (0..c.series.len()).map(series_style).collect();
    let mut legend: Vec<(String, Swatch)> = c
        .series
        .iter()
        .zip(&styles)
        .map(|(s, st)| (s.name.clone(), Swatch::Line(st.0, st.1)))
        .collect();
    let banded = c.band_label.is_some() && has_bands(c);
    if let (true, Some(label)) = (banded, &c.band_label) {
        legend.push((label.clone(), Swatch::Block(Rgb(215, 215, 215))));
    }
    let top = frame(root, &c.title, &c.subtitle, &legend)?;
    let (_, area) = root.split_vertically(top);
    let all = || c.series.iter().flat_map(|s| s.points.iter());
    let xa = padded_x(all().map(|p| p.x));
    let ys = all()
        .flat_map(|p| {
            let h = if banded { p.half.unwrap_or(0.0) } else { 0.0 };
            [p.y - h, p.y + h]
        })
        .collect::<Vec<f64>>();
    let ya = Axis::fit(ys.iter().copied(), Scale::Linear, true, c.y_fmt, 7);
    let mut chart = build(&area, xa.clone(), ya.clone(), 28, 12, 56)?;
    mesh(&mut chart, &c.x_label, &c.y_label, true)?;
    let clamp = |y: f64| y.clamp(ya.lo, ya.hi);
    if banded {
        for (s, st) in c.series.iter().zip(&styles) {
            let pts: Vec<&Measured> = s
                .points
                .iter()
                .filter(|p| p.y.is_finite() && p.half.is_some_and(f64::is_finite))
                .collect();
            if pts.len() >= 2 {
                let mut poly: Vec<(i32, i32)> = pts
                    .iter()
                    .map(|p| chart.backend_coord(&(p.x, clamp(p.y + p.half.unwrap_or(0.0)))))
                    .collect();
                poly.extend(
                    pts.iter()
                        .rev()
                        .map(|p| chart.backend_coord(&(p.x, clamp(p.y - p.half.unwrap_or(0.0))))),
                );
                root.draw(&Polygon::new(poly, st.0.c().mix(0.16).filled()))?;
            }
            // Whiskers too: a lone point's interval has no band to show it.
            for p in &pts {
                let h = p.half.unwrap_or(0.0);
                let a = chart.backend_coord(&(p.x, clamp(p.y - h)));
                let b = chart.backend_coord(&(p.x, clamp(p.y + h)));
                stroke_px(root, &[a, b], st.0, 1, Dash::Solid)?;
                for y in [a.1, b.1] {
                    stroke_px(root, &[(a.0 - 5, y), (a.0 + 5, y)], st.0, 1, Dash::Solid)?;
                }
            }
        }
    }
    for (s, st) in c.series.iter().zip(&styles) {
        let px: Vec<(i32, i32)> = s
            .points
            .iter()
            .filter(|p| p.y.is_finite())
            .map(|p| chart.backend_coord(&(p.x, clamp(p.y))))
            .collect();
        if px.len() >= 2 {
            stroke_px(root, &px, st.0, 2, st.1)?;
        }
        for p in &px {
            root.draw(&Circle::new(*p, 5, WHITE.filled()))?;
            root.draw(&Circle::new(*p, 5, st.0.c().stroke_width(2)))?;
            root.draw(&Circle::new(*p, 3, st.0.c().filled()))?;
        }
    }
    Ok(())
}

fn has_bands(c: &PointsChart) -> bool {
    c.series
        .iter()
        .flat_map(|s| &s.points)
        .any(|p| p.half.is_some_and(|h| h.is_finite() && h > 0.0))
}

/// An x axis over the measured values with a margin on each side, so the
/// markers at the ends are not cut by the frame.
fn padded_x(xs: impl Iterator<Item = f64>) -> Axis {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for x in xs.filter(|x| x.is_finite()) {
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if !lo.is_finite() {
        return Axis::linear(0.0, 1.0, 10, Fmt::Number);
    }
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 0.5 };
    Axis::linear(lo - pad, hi + pad, 10, Fmt::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(half: Option<f64>) -> PointsChart {
        PointsChart {
            title: "p99 vs threads".into(),
            subtitle: String::new(),
            x_label: "threads".into(),
            y_label: "p99 (ms)".into(),
            y_fmt: Fmt::Number,
            series: vec![PointSeries {
                name: "mean".into(),
                points: [4.0, 8.0, 12.0]
                    .iter()
                    .map(|&x| Measured {
                        x,
                        y: 100.0 / x,
                        half,
                    })
                    .collect(),
            }],
            band_label: Some("95 % confidence interval".into()),
        }
    }

    #[test]
    fn every_point_gets_a_marker_and_bands_only_with_intervals() {
        let with = super::super::svg(&super::super::Chart::Points(chart(Some(2.0)))).unwrap();
        let without = super::super::svg(&super::super::Chart::Points(chart(None))).unwrap();
        // Three markers of three circles each.
        assert_eq!(without.matches("<circle").count(), 9, "{without}");
        assert!(!without.contains("<polygon"));
        assert!(!without.contains("95 % confidence interval"));
        assert!(with.contains("<polygon"));
        assert!(with.contains("95 % confidence interval"));
    }
}
