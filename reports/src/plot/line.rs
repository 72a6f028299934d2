//! The line chart: several named series on the same axes (every time
//! chart of a run, the latency CDF, overlays of several runs, sweeps).
//!
//! Owns the legend, axes and strokes of a line chart. Must not choose the
//! series, their names or their scale (`Scale::Auto` is decided here only
//! when the caller asks for it).

use plotters::prelude::*;

use super::axis::{Axis, Fmt, Scale, x_axis_for};
use super::bands::{Band, band_legend, banded_chart, label_bands, shade_bands};
use super::frame::{Swatch, draw_line, envelope_note, frame, legend_names, plot_rect, with_note};
use super::palette::{Dash, Rgb, line_styles};
use super::{Area, Res};

/// One named series of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    /// (x, y); a non-finite y (or y ≤ 0 on a log axis) leaves a gap.
    pub points: Vec<(f64, f64)>,
    /// Colour and dash; `None` takes `series_style(index)`.
    pub style: Option<(Rgb, Dash)>,
}

impl Line {
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.into(),
            points,
            style: None,
        }
    }
    pub fn styled(mut self, color: Rgb, dash: Dash) -> Line {
        self.style = Some((color, dash));
        self
    }
}

/// Several named series on the same axes. Used for every time chart of a
/// run and meant for overlays of several runs (`cascade compare`).
#[derive(Debug, Clone, PartialEq)]
pub struct LineChart {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub x_scale: Scale,
    pub y_scale: Scale,
    pub x_fmt: Fmt,
    pub y_fmt: Fmt,
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    /// Fixed x range; `None` fits the data.
    pub x_range: Option<(f64, f64)>,
    /// Fixed y range; `None` fits the data (from 0 on a linear axis).
    pub y_range: Option<(f64, f64)>,
}

impl LineChart {
    /// A linear chart with the given title and axis labels and no series.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        LineChart {
            title: title.into(),
            subtitle: String::new(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            x_fmt: Fmt::Number,
            y_fmt: Fmt::Number,
            lines: Vec::new(),
            bands: Vec::new(),
            x_range: None,
            y_range: None,
        }
    }
}

pub(super) fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &LineChart) -> Res<DB> {
    let styles = line_styles(&c.lines);
    let mut legend: Vec<(String, Swatch)> = legend_names(&[&c.lines])
        .into_iter()
        .zip(&styles)
        .map(|(name, s)| (name, Swatch::Line(s.0, s.1)))
        .collect();
    legend.extend(band_legend(&c.bands));
    let lines: Vec<&Line> = c.lines.iter().collect();
    let subtitle = with_note(&c.subtitle, envelope_note(&lines));
    let top = frame(root, &c.title, &subtitle, &legend)?;
    let (_, area) = root.split_vertically(top);
    let xs = c.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let xa = x_axis_for(c.x_range, xs, c.x_scale, c.x_fmt);
    let ys = c.lines.iter().flat_map(|l| {
        l.points
            .iter()
            .filter(|p| p.0 >= xa.lo && p.0 <= xa.hi)
            .map(|p| p.1)
    });
    let ya = match c.y_range {
        Some((lo, hi)) if c.y_scale == Scale::Log => Axis::log(lo, hi, c.y_fmt),
        Some((lo, hi)) => Axis::linear(lo, hi, 8, c.y_fmt),
        None => Axis::fit(ys, c.y_scale, true, c.y_fmt, 7),
    };
    let (chart, layout) =
        banded_chart(root, &area, (&xa, &ya), &c.bands, (&c.x_label, &c.y_label))?;
    shade_bands(root, &chart, &c.bands)?;
    label_bands(root, plot_rect(&chart).1, &c.bands, &layout)?;
    for (line, style) in c.lines.iter().zip(&styles) {
        draw_line(root, &chart, &xa, &ya, line, *style, 2)?;
    }
    Ok(())
}
