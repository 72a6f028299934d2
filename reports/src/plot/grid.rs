//! The grid heat map: a metric over the combinations of two parameters
//! (two-parameter sweeps). One cell per combination, coloured by value
//! (viridis) and labelled with it; the values of each parameter label the
//! columns and rows, whatever their spacing.
//!
//! Owns the cell layout, the cell labels' contrast and the colour scale.
//! Must not choose the parameters or the metric.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::Fmt;
use super::frame::{LABEL, PAD, TICK, anchored, fit_text, frame, outline};
use super::palette::{INK, MUTED, Rgb, viridis};
use super::{Area, Res};
use crate::numbers::{pct, sig3};

/// Values over columns × rows of text-labelled parameter values.
#[derive(Debug, Clone, PartialEq)]
pub struct GridHeat {
    pub title: String,
    pub subtitle: String,
    /// The column parameter, and its values left to right.
    pub x_label: String,
    pub columns: Vec<String>,
    /// The row parameter, and its values top to bottom.
    pub y_label: String,
    pub rows: Vec<String>,
    /// `values[row][column]`; NaN for a combination without a value.
    pub values: Vec<Vec<f64>>,
    /// What the colour means, with its unit.
    pub value_label: String,
    pub value_fmt: Fmt,
}

const CELL_H: i32 = 46;
const LEFT: i32 = 170;
const SCALE: i32 = 120;

/// Height in pixels: the frame, a row of cells per row value, the labels.
pub(super) fn height(c: &GridHeat) -> u32 {
    (100 + CELL_H * c.rows.len().max(1) as i32 + 66) as u32
}

fn label(v: f64, fmt: Fmt) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    match fmt {
        Fmt::Number => sig3(v),
        Fmt::Percent => pct(v),
    }
}

/// The colour scale's bottom and top: the smallest and largest value, so
/// the cells use the whole scale (their values are written in them),
/// never empty.
fn scale_range(values: &[Vec<f64>]) -> (f64, f64) {
    let finite = values.iter().flatten().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi > lo { (lo, hi) } else { (lo, lo + 1.0) }
}

pub(super) fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &GridHeat) -> Res<DB> {
    let top = frame(root, &c.title, &c.subtitle, &[])? + 8;
    let (w, _) = root.dim_in_pixel();
    let (l, r) = (LEFT, w as i32 - SCALE);
    let n_cols = c.columns.len().max(1) as i32;
    let n_rows = c.rows.len().max(1) as i32;
    let cell_w = (r - l) / n_cols;
    let r = l + cell_w * n_cols;
    let b = top + CELL_H * n_rows;
    let (lo, hi) = scale_range(&c.values);
    let t_of = |v: f64| (v - lo) / (hi - lo);
    let cell_text = anchored(LABEL, INK, HPos::Center, VPos::Center);
    for (i, row) in c.values.iter().enumerate() {
        let y0 = top + CELL_H * i as i32;
        for (j, &v) in row.iter().enumerate() {
            let x0 = l + cell_w * j as i32;
            let fill = if v.is_finite() {
                viridis(t_of(v))
            } else {
                Rgb(235, 235, 235)
            };
            root.draw(&Rectangle::new(
                [(x0, y0), (x0 + cell_w, y0 + CELL_H)],
                fill.c().filled(),
            ))?;
            outline(
                root,
                (x0, y0, x0 + cell_w, y0 + CELL_H),
                Rgb(255, 255, 255),
                2,
            )?;
            // Light text on dark cells, dark on light ones.
            let ink = if fill.luma() < 140.0 {
                Rgb(255, 255, 255)
            } else {
                INK
            };
            let ink = ink.c();
            let style = cell_text.color(&ink);
            let text = fit_text(root, &label(v, c.value_fmt), &style, cell_w - 6);
            root.draw_text(&text, &style, (x0 + cell_w / 2, y0 + CELL_H / 2))?;
        }
    }
    // Row values on the left, the row parameter above them.
    let row_style = anchored(TICK, INK, HPos::Right, VPos::Center);
    for (i, name) in c.rows.iter().enumerate() {
        let y = top + CELL_H * i as i32 + CELL_H / 2;
        let name = fit_text(root, name, &row_style, LEFT - PAD - 12);
        root.draw_text(&name, &row_style, (l - 10, y))?;
    }
    let axis_name = anchored(LABEL, INK, HPos::Right, VPos::Bottom);
    let y_name = fit_text(root, &format!("{} ↓", c.y_label), &axis_name, LEFT - PAD);
    root.draw_text(&y_name, &axis_name, (l - 10, top - 4))?;
    // Column values below, the column parameter under them.
    let col_style = anchored(TICK, INK, HPos::Center, VPos::Top);
    for (j, name) in c.columns.iter().enumerate() {
        let x = l + cell_w * j as i32 + cell_w / 2;
        let name = fit_text(root, name, &col_style, cell_w - 4);
        root.draw_text(&name, &col_style, (x, b + 8))?;
    }
    let x_name = anchored(LABEL, INK, HPos::Center, VPos::Top);
    let x_text = fit_text(root, &format!("{} →", c.x_label), &x_name, r - l);
    root.draw_text(&x_text, &x_name, ((l + r) / 2, b + 34))?;
    // Colour scale.
    let bx = r + 24;
    let steps = 60;
    for s in 0..steps {
        let ya0 = b - ((b - top) as f64 * s as f64 / steps as f64) as i32;
        let ya1 = b - ((b - top) as f64 * (s + 1) as f64 / steps as f64) as i32;
        root.draw(&Rectangle::new(
            [(bx, ya1 - 1), (bx + 16, ya0)],
            viridis((s as f64 + 0.5) / steps as f64).c().filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(bx, top), (bx + 16, b)],
        Rgb(120, 120, 120).c().stroke_width(1),
    ))?;
    let tick = anchored(TICK - 1.0, MUTED, HPos::Left, VPos::Center);
    for f in [0.0, 0.5, 1.0] {
        let y = b - ((b - top) as f64 * f) as i32;
        root.draw_text(&label(lo + (hi - lo) * f, c.value_fmt), &tick, (bx + 21, y))?;
    }
    // What the colour means, above its scale.
    let cap = anchored(TICK - 1.0, MUTED, HPos::Right, VPos::Bottom);
    let cap_text = fit_text(root, &format!("colour: {}", c.value_label), &cap, 400);
    root.draw_text(&cap_text, &cap, (w as i32 - PAD, top - 11))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_is_labelled_with_its_value() {
        let g = GridHeat {
            title: "p99".into(),
            subtitle: String::new(),
            x_label: "threads".into(),
            columns: vec!["4".into(), "8".into()],
            y_label: "rate".into(),
            rows: vec!["200".into(), "400".into()],
            values: vec![vec![12.5, 7.25], vec![f64::NAN, 1234.0]],
            value_label: "p99 (ms)".into(),
            value_fmt: Fmt::Number,
        };
        let svg = super::super::svg(&super::super::Chart::Grid(g)).unwrap();
        for text in ["12.5", "7.25", "–", "1234", "threads →", "rate ↓"] {
            // plotters writes a text element's content on a line of its own.
            let element = format!(">\n{text}\n</text>");
            assert!(svg.contains(&element), "{text} missing");
        }
    }

    #[test]
    fn the_colour_scale_spans_the_values() {
        assert_eq!(scale_range(&[vec![1.0, 10.0]]), (1.0, 10.0));
        assert_eq!(scale_range(&[vec![8.0, 10.0]]), (8.0, 10.0));
        assert_eq!(scale_range(&[vec![f64::NAN]]), (0.0, 1.0));
        assert_eq!(scale_range(&[vec![3.0]]), (3.0, 4.0));
    }
}
