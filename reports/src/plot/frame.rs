//! What every chart shares: text styles, the title/subtitle/legend frame,
//! the plot area (`build`, `mesh`), strokes, and fitting many points into
//! few pixel columns (`thin`, `bucket_means`).
//!
//! Must not know which chart it frames: each figure module composes these.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::Axis;
use super::palette::{BandKind, Dash, GRID, INK, MUTED, Rgb, band_colors};
use super::{Area, Line, Res};

pub(super) fn font(size: f64, color: Rgb) -> TextStyle<'static> {
    FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal).color(&color.c())
}

pub(super) fn anchored(size: f64, color: Rgb, h: HPos, v: VPos) -> TextStyle<'static> {
    font(size, color).pos(Pos::new(h, v))
}

const TITLE: f64 = 26.0;
const SUBTITLE: f64 = 17.0;
pub(super) const LABEL: f64 = 16.0;
pub(super) const TICK: f64 = 15.0;
pub(super) const PAD: i32 = 18;

/// A legend entry.
pub(super) enum Swatch {
    Line(Rgb, Dash),
    Block(Rgb),
    Band(BandKind),
}

pub(super) fn text_width<DB: DrawingBackend>(
    area: &Area<DB>,
    text: &str,
    style: &TextStyle,
) -> i32 {
    area.estimate_text_size(text, style)
        .map(|(w, _)| w as i32)
        .unwrap_or(8 * text.len() as i32)
}

/// Draws title, subtitle and legend at the top of `root`; returns the
/// height they take.
pub(super) fn frame<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
    legend: &[(String, Swatch)],
) -> Result<i32, DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = root.dim_in_pixel();
    let mut y = 14;
    root.draw_text(
        title,
        &anchored(TITLE, INK, HPos::Left, VPos::Top),
        (PAD, y),
    )?;
    y += 32;
    if !subtitle.is_empty() {
        // Wrapped at word boundaries rather than cut at the right edge.
        let style = anchored(SUBTITLE, MUTED, HPos::Left, VPos::Top);
        let room = w as i32 - 2 * PAD;
        let mut line = String::new();
        for word in subtitle.split(' ') {
            let longer = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && text_width(root, &longer, &style) > room {
                root.draw_text(&line, &style, (PAD, y))?;
                y += 22;
                line = word.to_owned();
            } else {
                line = longer;
            }
        }
        root.draw_text(&line, &style, (PAD, y))?;
        y += 24;
    }
    if legend.is_empty() {
        return Ok(y + 6);
    }
    y += 6;
    let style = anchored(LABEL, INK, HPos::Left, VPos::Center);
    let mut x = PAD;
    for (name, sw) in legend {
        let tw = text_width(root, name, &style);
        let item = 30 + tw + 22;
        if x + item > w as i32 - PAD && x > PAD {
            x = PAD;
            y += 24;
        }
        let cy = y + 9;
        match sw {
            Swatch::Line(c, d) => {
                let pts = vec![(x, cy), (x + 24, cy)];
                stroke_px(root, &pts, *c, 3, *d)?;
            }
            Swatch::Block(c) => {
                root.draw(&Rectangle::new(
                    [(x, cy - 7), (x + 24, cy + 7)],
                    c.c().filled(),
                ))?;
            }
            Swatch::Band(kind) => {
                let (fill, edge) = band_colors(*kind);
                root.draw(&Rectangle::new(
                    [(x, cy - 8), (x + 24, cy + 8)],
                    fill.filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(x, cy - 8), (x + 24, cy + 8)],
                    edge.stroke_width(1),
                ))?;
            }
        }
        root.draw_text(name, &style, (x + 30, cy))?;
        x += item;
    }
    Ok(y + 28)
}

/// Legend names of lines shown in one or more groups (panels) that share
/// their names: a line equal to an earlier one in every group is hidden
/// by it, so its name says "(same as …)"; one at zero all along says
/// "(0 throughout)".
pub(super) fn legend_names(groups: &[&[Line]]) -> Vec<String> {
    let Some(first) = groups.first() else {
        return Vec::new();
    };
    let same = |a: &Line, b: &Line| {
        a.points.len() == b.points.len()
            && a.points
                .iter()
                .zip(&b.points)
                .all(|(p, q)| p.0 == q.0 && (p.1 == q.1 || (!p.1.is_finite() && !q.1.is_finite())))
    };
    let find = |g: &[Line], name: &str| g.iter().position(|l| l.name == name);
    let flat = |name: &str| {
        groups.iter().all(|g| {
            find(g, name).is_none_or(|i| g[i].points.iter().all(|p| p.1 == 0.0 || !p.1.is_finite()))
        })
    };
    first
        .iter()
        .enumerate()
        .map(|(j, line)| {
            // Lines at zero all along hide each other too; say so plainly.
            if flat(&line.name) && first.len() > 1 {
                return format!("{} (0 throughout)", line.name);
            }
            let twin = first[..j].iter().find(|earlier| {
                groups
                    .iter()
                    .all(|g| match (find(g, &earlier.name), find(g, &line.name)) {
                        (Some(a), Some(b)) => same(&g[a], &g[b]),
                        (None, None) => true,
                        _ => false,
                    })
            });
            match twin {
                Some(t) => format!("{} (same as {})", line.name, t.name),
                None => line.name.clone(),
            }
        })
        .collect()
}

/// A polyline in pixels, solid or dashed.
pub(super) fn stroke_px<DB: DrawingBackend>(
    area: &Area<DB>,
    pts: &[(i32, i32)],
    c: Rgb,
    width: u32,
    dash: Dash,
) -> Res<DB> {
    let style = c.c().stroke_width(width);
    match dash {
        Dash::Solid => area.draw(&PathElement::new(pts.to_vec(), style)),
        Dash::Dashed => area.draw(&DashedPathElement::new(pts.iter().copied(), 9, 5, style)),
        Dash::Dotted => area.draw(&DashedPathElement::new(pts.iter().copied(), 3, 4, style)),
    }
}

/// A rectangle's outline `width` pixels wide (the SVG backend ignores the
/// stroke width of a `Rectangle`, not of a path).
pub(super) fn outline<DB: DrawingBackend>(
    area: &Area<DB>,
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    c: Rgb,
    width: u32,
) -> Res<DB> {
    area.draw(&PathElement::new(
        vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
        c.c().stroke_width(width),
    ))
}

pub(super) type Cart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

pub(super) fn build<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    x: Axis,
    y: Axis,
    right: i32,
    top: i32,
    x_label_area: i32,
) -> Result<Cart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    ChartBuilder::on(area)
        .margin_left(6)
        .margin_right(right)
        .margin_top(top)
        .margin_bottom(4)
        .x_label_area_size(x_label_area)
        .y_label_area_size(82)
        .build_cartesian_2d(x, y)
}

pub(super) fn mesh<DB: DrawingBackend>(
    chart: &mut Cart<'_, DB>,
    x_desc: &str,
    y_desc: &str,
    y_mesh: bool,
) -> Res<DB> {
    let mut m = chart.configure_mesh();
    m.bold_line_style(GRID.c().stroke_width(1))
        .axis_style(Rgb(120, 120, 120).c().stroke_width(1))
        .label_style(font(TICK, MUTED))
        .axis_desc_style(font(LABEL, INK))
        .x_labels(12)
        .y_labels(8)
        .x_desc(x_desc)
        .y_desc(y_desc);
    if !y_mesh {
        m.disable_y_mesh();
    }
    m.draw()
}

/// Plot area of a chart in backend pixels: (left, top, right, bottom).
pub(super) fn plot_rect<DB: DrawingBackend>(chart: &Cart<'_, DB>) -> (i32, i32, i32, i32) {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    (xr.start, yr.start, xr.end, yr.end)
}

/// Pixel span of the plot area a chart built by `build` will get.
pub(super) fn planned_x(area_width: u32, right: i32) -> (i32, i32) {
    (6 + 82, area_width as i32 - right)
}

/// At most about two points per pixel column: each bucket keeps its lowest
/// and highest point, in order, so peaks survive.
pub(super) fn thin(points: &[(f64, f64)], columns: usize) -> Vec<(f64, f64)> {
    if points.len() <= columns * 2 || columns == 0 {
        return points.to_vec();
    }
    let per = points.len().div_ceil(columns);
    let mut out = Vec::with_capacity(columns * 2 + 2);
    for chunk in points.chunks(per) {
        let (mut lo, mut hi) = (0, 0);
        for (i, p) in chunk.iter().enumerate() {
            if p.1 < chunk[lo].1 {
                lo = i;
            }
            if p.1 > chunk[hi].1 {
                hi = i;
            }
        }
        let (a, b) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.push(chunk[a]);
        if b != a {
            out.push(chunk[b]);
        }
    }
    out
}

/// Past this many points a line is drawn as the means of buckets of
/// consecutive points over a lighter band from their minimum to their
/// maximum (a long run would otherwise be a solid band).
pub const MAX_POINTS: usize = 1000;

/// A bucket of consecutive points: mean x, and mean, min and max of the
/// finite y (NaN when it has none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Bucket {
    pub x: f64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
}

/// `points` in at most `MAX_POINTS` buckets; `None` when they fit.
pub(super) fn envelope(points: &[(f64, f64)]) -> Option<Vec<Bucket>> {
    if points.len() <= MAX_POINTS {
        return None;
    }
    let per = points.len().div_ceil(MAX_POINTS);
    Some(
        points
            .chunks(per)
            .map(|c| {
                let x = c.iter().map(|p| p.0).sum::<f64>() / c.len() as f64;
                let ys: Vec<f64> = c.iter().map(|p| p.1).filter(|y| y.is_finite()).collect();
                if ys.is_empty() {
                    return Bucket {
                        x,
                        mean: f64::NAN,
                        min: f64::NAN,
                        max: f64::NAN,
                    };
                }
                Bucket {
                    x,
                    mean: ys.iter().sum::<f64>() / ys.len() as f64,
                    min: ys.iter().copied().fold(f64::INFINITY, f64::min),
                    max: ys.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                }
            })
            .collect(),
    )
}

/// The note a chart's subtitle gets when its lines are bucketed.
pub(super) fn envelope_note(lines: &[&Line]) -> Option<String> {
    let n = lines.iter().map(|l| l.points.len()).max()?;
    (n > MAX_POINTS).then(|| {
        format!(
            "each point: the mean of {} windows, the light band their min to max",
            n.div_ceil(MAX_POINTS)
        )
    })
}

/// `subtitle`, with `note` after it when there is one.
pub(super) fn with_note(subtitle: &str, note: Option<String>) -> String {
    match note {
        Some(n) if subtitle.is_empty() => n,
        Some(n) => format!("{subtitle}; {n}"),
        None => subtitle.to_owned(),
    }
}

/// Draws a series on `chart`, broken where it cannot be shown; past
/// `MAX_POINTS` points, as bucket means over a min–max band.
pub(super) fn draw_line<DB: DrawingBackend>(
    root: &Area<DB>,
    chart: &Cart<'_, DB>,
    xa: &Axis,
    ya: &Axis,
    line: &Line,
    style: (Rgb, Dash),
    width: u32,
) -> Res<DB> {
    if let Some(buckets) = envelope(&line.points) {
        let clamp = |y: f64| y.clamp(ya.lo, ya.hi);
        let mut run: Vec<Bucket> = Vec::new();
        let flush = |run: &mut Vec<Bucket>| -> Res<DB> {
            if run.len() >= 2 {
                let mut poly: Vec<(i32, i32)> = run
                    .iter()
                    .map(|b| chart.backend_coord(&(b.x, clamp(b.max))))
                    .collect();
                poly.extend(
                    run.iter()
                        .rev()
                        .map(|b| chart.backend_coord(&(b.x, clamp(b.min)))),
                );
                root.draw(&Polygon::new(poly, style.0.c().mix(0.25).filled()))?;
            }
            run.clear();
            Ok(())
        };
        for b in &buckets {
            if xa.shows(b.x) && ya.shows(b.min) && ya.shows(b.max) {
                run.push(*b);
            } else {
                flush(&mut run)?;
            }
        }
        flush(&mut run)?;
        let means = Line {
            points: buckets.iter().map(|b| (b.x, b.mean)).collect(),
            ..line.clone()
        };
        return draw_plain(root, chart, xa, ya, &means, style, width);
    }
    draw_plain(root, chart, xa, ya, line, style, width)
}

fn draw_plain<DB: DrawingBackend>(
    root: &Area<DB>,
    chart: &Cart<'_, DB>,
    xa: &Axis,
    ya: &Axis,
    line: &Line,
    style: (Rgb, Dash),
    width: u32,
) -> Res<DB> {
    let (l, _, r, _) = plot_rect(chart);
    let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(x, y) in &line.points {
        if xa.shows(x) && ya.shows(y) {
            segments.last_mut().expect("one segment").push((x, y));
        } else if !segments.last().expect("one segment").is_empty() {
            segments.push(Vec::new());
        }
    }
    for seg in segments.iter().filter(|s| !s.is_empty()) {
        let seg = thin(seg, (r - l).max(1) as usize);
        let px: Vec<(i32, i32)> = seg.iter().map(|p| chart.backend_coord(p)).collect();
        if px.len() == 1 {
            root.draw(&Circle::new(px[0], 2, style.0.c().filled()))?;
        } else {
            stroke_px(root, &px, style.0, width, style.1)?;
        }
    }
    Ok(())
}

/// Means of consecutive buckets so that at most `columns` remain.
pub(super) fn bucket_means(x: &[f64], ys: &[&[f64]], columns: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    if x.len() <= columns * 2 || columns == 0 {
        return (x.to_vec(), ys.iter().map(|v| v.to_vec()).collect());
    }
    let per = x.len().div_ceil(columns);
    let xs = x
        .chunks(per)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let ys = ys
        .iter()
        .map(|v| {
            v.chunks(per)
                .map(|c| {
                    let f: Vec<f64> = c.iter().copied().filter(|v| v.is_finite()).collect();
                    if f.is_empty() {
                        f64::NAN
                    } else {
                        f.iter().sum::<f64>() / f.len() as f64
                    }
                })
                .collect()
        })
        .collect();
    (xs, ys)
}

/// `text`, cut with an ellipsis to fit `max` pixels.
pub(super) fn fit_text<DB: DrawingBackend>(
    area: &Area<DB>,
    text: &str,
    style: &TextStyle,
    max: i32,
) -> String {
    if text_width(area, text, style) <= max {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let s: String = chars.iter().collect::<String>() + "…";
        if text_width(area, &s, style) <= max {
            return s;
        }
    }
    "…".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_lines_are_named_as_such() {
        let a = Line::new("failed", vec![(0.0, 1.0), (1.0, f64::NAN)]);
        let b = Line::new("timeouts", vec![(0.0, 1.0), (1.0, f64::NAN)]);
        let c = Line::new("errors", vec![(0.0, 0.0), (1.0, 2.0)]);
        let one = [a.clone(), b.clone(), c.clone()];
        assert_eq!(
            legend_names(&[&one]),
            ["failed", "timeouts (same as failed)", "errors"]
        );
        // In panels, only when equal in every panel.
        let differs = [a, Line::new("timeouts", vec![(0.0, 0.5), (1.0, 1.0)]), c];
        assert_eq!(
            legend_names(&[&one, &differs]),
            ["failed", "timeouts", "errors"]
        );
        let zeros = [
            Line::new("a", vec![(0.0, 0.0), (1.0, 3.0)]),
            Line::new("b", vec![(0.0, 0.0), (1.0, 0.0)]),
            Line::new("c", vec![(0.0, 0.0), (1.0, 0.0)]),
        ];
        assert_eq!(
            legend_names(&[&zeros]),
            ["a", "b (0 throughout)", "c (0 throughout)"]
        );
    }

    #[test]
    fn long_lines_become_bucket_means_with_their_extremes() {
        let pts: Vec<(f64, f64)> = (0..36_000)
            .map(|i| (f64::from(i), if i == 20_000 { 500.0 } else { 1.0 }))
            .collect();
        let b = envelope(&pts).expect("bucketed");
        assert!(b.len() <= MAX_POINTS, "{}", b.len());
        let peak = b
            .iter()
            .find(|b| b.max == 500.0)
            .expect("the peak survives");
        assert!(peak.mean < 50.0 && peak.min == 1.0);
        assert!(envelope(&pts[..MAX_POINTS]).is_none());
    }

    #[test]
    fn thinning_keeps_peaks() {
        let pts: Vec<(f64, f64)> = (0..1000)
            .map(|i| (i as f64, if i == 537 { 99.0 } else { 1.0 }))
            .collect();
        let t = thin(&pts, 100);
        assert!(t.len() <= 200);
        assert!(t.contains(&(537.0, 99.0)));
    }
}
