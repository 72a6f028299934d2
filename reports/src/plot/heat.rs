//! The heat strip: one row per name, one cell per window, coloured by
//! value (viridis), fault windows outlined on their target's row (service
//! saturation, sweep heat maps).
//!
//! Owns the cell layout (windows bucketed to pixel columns, equal neighbours
//! merged) and the colour scale. Must not choose the rows or their order.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, Fmt};
use super::bands::{Band, BandKind, LABEL_ROW, label_bands, label_layout, label_rows};
use super::frame::{
    LABEL, Swatch, TICK, anchored, bucket_means, build, fit_text, font, frame, outline, planned_x,
    plot_rect,
};
use super::palette::{FAULT_INK, INK, MUTED, Rgb, viridis};
use super::{Area, Res};
use crate::numbers::short;

#[derive(Debug, Clone, PartialEq)]
pub struct HeatStrip {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    /// What the colour means, with its unit.
    pub value_label: String,
    pub starts: Vec<f64>,
    pub ends: Vec<f64>,
    /// Top row first.
    pub rows: Vec<(String, Vec<f64>)>,
    /// Value at the top of the colour scale (bottom is 0).
    pub max: f64,
    pub value_fmt: Fmt,
    pub bands: Vec<Band>,
}

/// Height in pixels: a fixed frame and a row per name.
pub(super) fn height(c: &HeatStrip) -> u32 {
    190 + 34 * c.rows.len().max(1) as u32
}

pub(super) fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &HeatStrip) -> Res<DB> {
    let mut legend = Vec::new();
    if c.bands.iter().any(|b| b.kind == BandKind::Fault) {
        legend.push((
            "fault window (outlined on its target)".to_string(),
            Swatch::Band(BandKind::Fault),
        ));
    }
    let top = frame(root, &c.title, &c.subtitle, &legend)?;
    let (_, area) = root.split_vertically(top);
    let rows = c.rows.len().max(1);
    let lo = c.starts.first().copied().unwrap_or(0.0);
    let hi = c.ends.last().copied().unwrap_or(1.0);
    let xa = Axis::linear(lo, hi, 12, Fmt::Number);
    let mut ya = Axis::linear(0.0, rows as f64, 1, Fmt::Number);
    ya.ticks.clear();
    let layout = label_layout(
        root,
        &c.bands,
        (lo, hi),
        planned_x(area.dim_in_pixel().0, 120),
    );
    let mut chart = build(&area, xa, ya, 120, 10 + LABEL_ROW * label_rows(&layout), 56)?;
    {
        let mut m = chart.configure_mesh();
        m.disable_y_mesh()
            .disable_x_mesh()
            .axis_style(Rgb(120, 120, 120).c().stroke_width(1))
            .label_style(font(TICK, MUTED))
            .axis_desc_style(font(LABEL, INK))
            .x_labels(12)
            .y_labels(0)
            .x_desc(c.x_label.as_str());
        m.draw()?;
    }
    let (l, t, r, b) = plot_rect(&chart);
    // Cells: buckets of windows no narrower than a pixel, neighbours of the
    // same colour merged into one rectangle.
    let refs: Vec<&[f64]> = c.rows.iter().map(|(_, v)| v.as_slice()).collect();
    let columns = (r - l).max(1) as usize;
    let (starts, _) = bucket_edges(&c.starts, columns);
    let (_, ends) = bucket_edges(&c.ends, columns);
    let (_, values) = bucket_means(&c.starts, &refs, columns);
    let name_style = anchored(LABEL, INK, HPos::Right, VPos::Center);
    for (i, (name, _)) in c.rows.iter().enumerate() {
        let y1 = (rows - i) as f64;
        let y0 = y1 - 1.0;
        let vals = &values[i];
        let mut k = 0;
        while k < vals.len() {
            let color = viridis(vals[k] / c.max);
            let mut j = k + 1;
            while j < vals.len() && viridis(vals[j] / c.max) == color {
                j += 1;
            }
            let p0 = chart.backend_coord(&(starts[k], y1));
            let p1 = chart.backend_coord(&(ends[j - 1], y0));
            // A pixel wider than its window (but not past the plot): no
            // hairline gaps between cells once a viewer anti-aliases.
            let right = if j < vals.len() {
                (p1.0 + 1).min(r)
            } else {
                p1.0
            };
            root.draw(&Rectangle::new([p0, (right, p1.1 - 2)], color.c().filled()))?;
            k = j;
        }
        let (_, cy) = chart.backend_coord(&(lo, y0 + 0.5));
        let name = fit_text(root, name, &name_style, 150);
        root.draw_text(&name, &name_style, (l - 8, cy - 1))?;
    }
    // Fault windows: an outline around the target's row (or all rows) and a
    // label above the strip; the end of the warm-up as a dashed line.
    for band in &c.bands {
        let (x0, _) = chart.backend_coord(&(band.start, 0.0));
        let (x1, _) = chart.backend_coord(&(band.end, 0.0));
        let (x0, x1) = (x0.clamp(l, r), x1.clamp(l, r));
        if x1 <= x0 {
            continue;
        }
        if band.kind == BandKind::Warmup {
            root.draw(&DashedPathElement::new(
                [(x1, t - 4), (x1, b)],
                4,
                4,
                MUTED.c().stroke_width(1),
            ))?;
            continue;
        }
        let row = band
            .row
            .as_ref()
            .and_then(|n| c.rows.iter().position(|(rn, _)| rn == n));
        let (y0, y1) = match row {
            Some(i) => {
                let (_, a) = chart.backend_coord(&(0.0, (rows - i) as f64));
                let (_, b) = chart.backend_coord(&(0.0, (rows - i - 1) as f64));
                (a - 1, b)
            }
            None => (t, b),
        };
        outline(root, (x0, y0, x1, y1), Rgb(255, 255, 255), 5)?;
        outline(root, (x0, y0, x1, y1), FAULT_INK, 3)?;
        for xe in [x0, x1] {
            root.draw(&DashedPathElement::new(
                [(xe, t - 4), (xe, b)],
                4,
                4,
                FAULT_INK.c().stroke_width(1),
            ))?;
        }
    }
    label_bands(root, t, &c.bands, &layout)?;
    // Colour scale.
    let bx = r + 34;
    let steps = 60;
    for s in 0..steps {
        let v0 = s as f64 / steps as f64;
        let ya0 = b - ((b - t) as f64 * v0) as i32;
        let ya1 = b - ((b - t) as f64 * (s + 1) as f64 / steps as f64) as i32;
        // Each step overlaps the next by a pixel: no hairline between them
        // once a viewer anti-aliases the SVG.
        root.draw(&Rectangle::new(
            [(bx, ya1 - 1), (bx + 16, ya0)],
            viridis(v0 + 0.5 / steps as f64).c().filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(bx, t), (bx + 16, b)],
        Rgb(120, 120, 120).c().stroke_width(1),
    ))?;
    let tick = anchored(TICK - 1.0, MUTED, HPos::Left, VPos::Center);
    for f in [0.0, 0.5, 1.0] {
        let y = b - ((b - t) as f64 * f) as i32;
        let v = c.max * f;
        let text = match c.value_fmt {
            Fmt::Percent => format!("{}%", short(v * 100.0)),
            Fmt::Number => short(v),
        };
        root.draw_text(&text, &tick, (bx + 21, y))?;
    }
    let cap = anchored(TICK - 1.0, MUTED, HPos::Right, VPos::Top);
    let cap_text = fit_text(root, &c.value_label, &cap, 230);
    root.draw_text(&cap_text, &cap, (r + 110, b + 30))?;
    Ok(())
}

/// Starts and ends of the buckets `bucket_means` makes of windows.
fn bucket_edges(v: &[f64], columns: usize) -> (Vec<f64>, Vec<f64>) {
    if v.len() <= columns * 2 || columns == 0 {
        return (v.to_vec(), v.to_vec());
    }
    let per = v.len().div_ceil(columns);
    (
        v.chunks(per).map(|c| c[0]).collect(),
        v.chunks(per).map(|c| c[c.len() - 1]).collect(),
    )
}
