//! Shaded spans of time (fault windows, the warm-up): their colours, their
//! legend entries, their shading over a plot and their labels above it,
//! placed so that no two overlap.
//!
//! Must not decide which bands a run has (`charts` does).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::Axis;
use super::frame::{Cart, Swatch, TICK, anchored, build, mesh, planned_x, plot_rect, text_width};
use super::palette::{FAULT_INK, MUTED, band_colors};
use super::{Area, Res};

/// A shaded span of time: a fault window or the warm-up.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub start: f64,
    pub end: f64,
    pub label: String,
    pub kind: BandKind,
    /// The row it concerns in a heat strip (the fault's target), if any.
    pub row: Option<String>,
}

pub use super::palette::BandKind;

pub(super) fn band_legend(bands: &[Band]) -> Vec<(String, Swatch)> {
    let mut out = Vec::new();
    if bands.iter().any(|b| b.kind == BandKind::Fault) {
        out.push(("fault window".to_string(), Swatch::Band(BandKind::Fault)));
    }
    if bands.iter().any(|b| b.kind == BandKind::Warmup) {
        out.push((
            "warm-up (not measured)".to_string(),
            Swatch::Band(BandKind::Warmup),
        ));
    }
    out
}

/// The plot of a single-panel time chart (line or stacked) in `area`,
/// with room above it for the band labels: where the labels go, the chart
/// built with that room, and its mesh drawn.
pub(super) type Banded<'a, DB> = (Cart<'a, DB>, Vec<Option<(usize, i32)>>);

pub(super) fn banded_chart<'a, DB: DrawingBackend>(
    root: &Area<DB>,
    area: &'a Area<DB>,
    (xa, ya): (&Axis, &Axis),
    bands: &[Band],
    (x_label, y_label): (&str, &str),
) -> Result<Banded<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let layout = label_layout(
        root,
        bands,
        (xa.lo, xa.hi),
        planned_x(area.dim_in_pixel().0, 28),
    );
    let mut chart = build(
        area,
        xa.clone(),
        ya.clone(),
        28,
        8 + LABEL_ROW * label_rows(&layout),
        56,
    )?;
    mesh(&mut chart, x_label, y_label, true)?;
    Ok((chart, layout))
}

/// Where each band's label goes above a plot spanning pixels `l..r` for
/// x in `lo..hi`: (row, left x), rows counted upward from the plot's top
/// edge, so that no two labels overlap. `None` for an unlabelled band.
pub(super) fn label_layout<DB: DrawingBackend>(
    root: &Area<DB>,
    bands: &[Band],
    (lo, hi): (f64, f64),
    (l, r): (i32, i32),
) -> Vec<Option<(usize, i32)>> {
    let style = anchored(TICK, FAULT_INK, HPos::Left, VPos::Bottom);
    let px = |x: f64| (f64::from(l) + (x - lo) / (hi - lo) * f64::from(r - l)).round() as i32;
    let mut rows: Vec<Vec<(i32, i32)>> = Vec::new();
    bands
        .iter()
        .map(|band| {
            let (x0, x1) = (px(band.start).clamp(l, r), px(band.end).clamp(l, r));
            if band.label.is_empty() || x1 <= x0 {
                return None;
            }
            let tw = text_width(root, &band.label, &style);
            let lx = match band.kind {
                BandKind::Fault => x0 + 3,
                BandKind::Warmup => x1 - tw - 4,
            }
            .min(r - tw)
            .max(l);
            let span = (lx - 4, lx + tw + 10);
            let row = rows
                .iter()
                .position(|u| u.iter().all(|s| span.1 <= s.0 || span.0 >= s.1))
                .unwrap_or_else(|| {
                    rows.push(Vec::new());
                    rows.len() - 1
                });
            rows[row].push(span);
            Some((row, lx))
        })
        .collect()
}

pub(super) fn label_rows(layout: &[Option<(usize, i32)>]) -> i32 {
    layout
        .iter()
        .flatten()
        .map(|(r, _)| *r as i32 + 1)
        .max()
        .unwrap_or(0)
}

pub(super) const LABEL_ROW: i32 = 20;

/// Shades `bands` over the plot area of `chart`.
pub(super) fn shade_bands<DB: DrawingBackend>(
    root: &Area<DB>,
    chart: &Cart<'_, DB>,
    bands: &[Band],
) -> Res<DB> {
    let (l, t, r, b) = plot_rect(chart);
    for band in bands {
        let (x0, _) = chart.backend_coord(&(band.start, 0.0));
        let (x1, _) = chart.backend_coord(&(band.end, 0.0));
        let (x0, x1) = (x0.clamp(l, r), x1.clamp(l, r));
        if x1 < x0 || (x1 == x0 && band.end <= band.start) {
            continue;
        }
        // A fault of seconds in a run of hours still shows: 3 pixels at
        // least.
        let x1 = x1.max((x0 + 3).min(r));
        let (fill, edge) = band_colors(band.kind);
        root.draw(&Rectangle::new([(x0, t), (x1, b)], fill.filled()))?;
        for xe in [x0, x1] {
            if xe > l && xe < r {
                root.draw(&PathElement::new(
                    vec![(xe, t), (xe, b)],
                    edge.stroke_width(1),
                ))?;
            }
        }
    }
    Ok(())
}

/// The start and end of each band as lines, for drawing over opaque areas.
pub(super) fn band_edges<DB: DrawingBackend>(
    root: &Area<DB>,
    chart: &Cart<'_, DB>,
    bands: &[Band],
) -> Res<DB> {
    let (l, t, r, b) = plot_rect(chart);
    for band in bands {
        let (_, edge) = band_colors(band.kind);
        for x in [band.start, band.end] {
            let (px, _) = chart.backend_coord(&(x, 0.0));
            if px > l && px < r {
                root.draw(&PathElement::new(
                    vec![(px, t), (px, b)],
                    edge.stroke_width(1),
                ))?;
            }
        }
    }
    Ok(())
}

/// Names the bands above the plot area, as `label_layout` placed them.
pub(super) fn label_bands<DB: DrawingBackend>(
    root: &Area<DB>,
    top: i32,
    bands: &[Band],
    layout: &[Option<(usize, i32)>],
) -> Res<DB> {
    for (band, place) in bands.iter().zip(layout) {
        let Some((row, x)) = place else { continue };
        let ink = if band.kind == BandKind::Fault {
            FAULT_INK
        } else {
            MUTED
        };
        let style = anchored(TICK, ink, HPos::Left, VPos::Bottom);
        root.draw_text(&band.label, &style, (*x, top - 5 - LABEL_ROW * *row as i32))?;
    }
    Ok(())
}
