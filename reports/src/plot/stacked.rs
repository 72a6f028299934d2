//! The stacked area chart: layers on a shared x with lines over them
//! (an entry's outcomes under its offered load).
//!
//! Owns the stacking (layers summed bottom up, non-finite values as 0) and
//! the averaging of layers and overlays per pixel column. Must not choose
//! the layers or their colours.

use plotters::prelude::*;

use super::axis::{Axis, Fmt, Scale, x_axis_for};
use super::bands::{Band, band_edges, band_legend, banded_chart, label_bands, shade_bands};
use super::frame::{Swatch, bucket_means, draw_line, frame, plot_rect};
use super::palette::{Rgb, line_styles};
use super::{Area, Line, Res};

/// Areas stacked on a shared x, with lines drawn over them.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedChart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub x: Vec<f64>,
    /// Bottom first.
    pub layers: Vec<Layer>,
    pub overlays: Vec<Line>,
    pub bands: Vec<Band>,
    pub x_range: Option<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub name: String,
    pub values: Vec<f64>,
    pub color: Rgb,
}

pub(super) fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &StackedChart) -> Res<DB> {
    let overlay_styles = line_styles(&c.overlays);
    let mut legend: Vec<(String, Swatch)> = c
        .layers
        .iter()
        .map(|l| (l.name.clone(), Swatch::Block(l.color)))
        .collect();
    legend.extend(
        c.overlays
            .iter()
            .zip(&overlay_styles)
            .map(|(l, s)| (l.name.clone(), Swatch::Line(s.0, s.1))),
    );
    legend.extend(band_legend(&c.bands));
    let top = frame(root, &c.title, &c.subtitle, &legend)?;
    let (_, area) = root.split_vertically(top);
    let n = c.x.len();
    let mut cum = vec![0.0; n];
    let mut tops: Vec<Vec<f64>> = Vec::new();
    for layer in &c.layers {
        for (i, v) in layer.values.iter().enumerate().take(n) {
            if v.is_finite() {
                cum[i] += v;
            }
        }
        tops.push(cum.clone());
    }
    let xa = x_axis_for(c.x_range, c.x.iter().copied(), Scale::Linear, Fmt::Number);
    let ymax = cum
        .iter()
        .copied()
        .chain(c.overlays.iter().flat_map(|l| l.points.iter().map(|p| p.1)))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let ya = Axis::linear_fit(0.0, ymax, 7, Fmt::Number);
    let (chart, layout) =
        banded_chart(root, &area, (&xa, &ya), &c.bands, (&c.x_label, &c.y_label))?;
    let (l, _, r, _) = plot_rect(&chart);
    let refs: Vec<&[f64]> = tops.iter().map(|v| v.as_slice()).collect();
    let (xs, tops) = bucket_means(&c.x, &refs, (r - l).max(1) as usize);
    // Bands under the areas (so the areas keep their legend colours), their
    // edges over them.
    shade_bands(root, &chart, &c.bands)?;
    let zero = vec![0.0; xs.len()];
    for (k, layer) in c.layers.iter().enumerate() {
        let lower = if k == 0 { &zero } else { &tops[k - 1] };
        let upper = &tops[k];
        if upper.iter().zip(lower).all(|(u, d)| u <= d) {
            continue;
        }
        let mut poly: Vec<(i32, i32)> = xs
            .iter()
            .zip(upper)
            .map(|(x, y)| chart.backend_coord(&(*x, *y)))
            .collect();
        poly.extend(
            xs.iter()
                .zip(lower)
                .rev()
                .map(|(x, y)| chart.backend_coord(&(*x, *y))),
        );
        root.draw(&Polygon::new(poly, layer.color.c().filled()))?;
    }
    // A thin white edge on each layer keeps neighbours apart in greyscale.
    for upper in tops.iter().take(c.layers.len().saturating_sub(1)) {
        let px: Vec<(i32, i32)> = xs
            .iter()
            .zip(upper)
            .map(|(x, y)| chart.backend_coord(&(*x, *y)))
            .collect();
        root.draw(&PathElement::new(px, WHITE.stroke_width(1)))?;
    }
    band_edges(root, &chart, &c.bands)?;
    label_bands(root, plot_rect(&chart).1, &c.bands, &layout)?;
    for (line, style) in c.overlays.iter().zip(&overlay_styles) {
        // Means per pixel column, like the areas under them.
        let x: Vec<f64> = line.points.iter().map(|p| p.0).collect();
        let y: Vec<f64> = line.points.iter().map(|p| p.1).collect();
        let (bx, by) = bucket_means(&x, &[&y], (r - l).max(1) as usize);
        let mean = Line {
            points: bx.into_iter().zip(by[0].iter().copied()).collect(),
            ..line.clone()
        };
        draw_line(root, &chart, &xa, &ya, &mean, *style, 2)?;
    }
    Ok(())
}
