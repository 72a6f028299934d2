//! Small multiples: one line chart per panel, stacked, sharing x (failures
//! per call edge, queue throughput).
//!
//! Owns the split of the height between panels and each panel's own y
//! scale. Must not choose the panels or their order.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, Fmt, Scale, x_axis_for};
use super::bands::{
    Band, LABEL_ROW, band_legend, label_bands, label_layout, label_rows, shade_bands,
};
use super::frame::{
    LABEL, Swatch, TICK, anchored, build, draw_line, envelope_note, font, frame, legend_names,
    planned_x, plot_rect, with_note,
};
use super::palette::{GRID, INK, MUTED, Rgb, line_styles};
use super::{Area, Line, Res};

#[derive(Debug, Clone, PartialEq)]
pub struct Panels {
    pub title: String,
    pub subtitle: String,
    pub x_label: String,
    pub y_label: String,
    pub panels: Vec<(String, Vec<Line>)>,
    pub bands: Vec<Band>,
    pub x_range: Option<(f64, f64)>,
}

/// Height in pixels: a fixed frame and 150 pixels per panel.
pub(super) fn height(c: &Panels) -> u32 {
    150 + 150 * c.panels.len().max(1) as u32
}

pub(super) fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &Panels) -> Res<DB> {
    let first: &[Line] = c.panels.first().map(|p| p.1.as_slice()).unwrap_or(&[]);
    let styles = line_styles(first);
    let groups: Vec<&[Line]> = c.panels.iter().map(|p| p.1.as_slice()).collect();
    let mut legend: Vec<(String, Swatch)> = legend_names(&groups)
        .into_iter()
        .zip(&styles)
        .map(|(name, s)| (name, Swatch::Line(s.0, s.1)))
        .collect();
    legend.extend(band_legend(&c.bands));
    let all: Vec<&Line> = c.panels.iter().flat_map(|p| &p.1).collect();
    let subtitle = with_note(&c.subtitle, envelope_note(&all));
    let top = frame(root, &c.title, &subtitle, &legend)?;
    let (_, area) = root.split_vertically(top);
    let n = c.panels.len().max(1);
    let xs = c
        .panels
        .iter()
        .flat_map(|p| p.1.iter().flat_map(|l| l.points.iter().map(|q| q.0)));
    let xa = x_axis_for(c.x_range, xs, Scale::Linear, Fmt::Number);
    let (_, h) = area.dim_in_pixel();
    let layout = label_layout(
        root,
        &c.bands,
        (xa.lo, xa.hi),
        planned_x(area.dim_in_pixel().0, 28),
    );
    let first_top = 26 + LABEL_ROW * label_rows(&layout);
    let ph = (h as i32 - 30 - (first_top - 26)) / n as i32;
    let mut rest = area;
    for (k, (title, lines)) in c.panels.iter().enumerate() {
        let is_last = k + 1 == c.panels.len();
        let (panel, below) = if is_last {
            (rest.clone(), rest.clone())
        } else {
            rest.split_vertically(ph + if k == 0 { first_top - 26 } else { 0 })
        };
        let ys = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
        let ya = Axis::fit(ys, Scale::Linear, true, Fmt::Number, 3);
        let top = if k == 0 { first_top } else { 26 };
        let mut chart = build(
            &panel,
            xa.clone(),
            ya.clone(),
            28,
            top,
            if is_last { 56 } else { 26 },
        )?;
        {
            let mut m = chart.configure_mesh();
            m.bold_line_style(GRID.c().stroke_width(1))
                .axis_style(Rgb(120, 120, 120).c().stroke_width(1))
                .label_style(font(TICK, MUTED))
                .axis_desc_style(font(LABEL, INK))
                .x_labels(12)
                .y_labels(4)
                .y_desc(c.y_label.as_str());
            if is_last {
                m.x_desc(c.x_label.as_str());
            }
            m.draw()?;
        }
        let (l, t, _, _) = plot_rect(&chart);
        shade_bands(root, &chart, &c.bands)?;
        if k == 0 {
            label_bands(root, t - 24, &c.bands, &layout)?;
        }
        root.draw_text(
            title,
            &anchored(LABEL, INK, HPos::Left, VPos::Bottom),
            (l, t - 6),
        )?;
        for (line, style) in lines.iter().zip(line_styles(lines)) {
            draw_line(root, &chart, &xa, &ya, line, style, 2)?;
        }
        rest = below;
    }
    Ok(())
}
