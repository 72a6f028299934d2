//! Every use of plotters lives in this module: the rest of the crate
//! describes charts with the plain types below and asks for SVG text or PNG
//! bytes. plotters' font API is expected to change in 0.4; only this file
//! will have to follow.
//!
//! No system font or package is needed. SVG leaves the drawing of text to
//! the viewer (`font-family="sans-serif"`); PNG draws it with ab_glyph from
//! DejaVu Sans, embedded from `reports/assets` (licence beside it). The
//! same font gives both backends their text measurements, so the layout of
//! an SVG and of its PNG is the same.
//!
//! Colours are Okabe–Ito (categorical) and viridis (sequential): both stay
//! distinguishable with the common colour-vision deficiencies, and the
//! series that need telling apart also differ in lightness or dash.

use std::io;
use std::ops::Range;
use std::sync::Once;

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};

// ---------------------------------------------------------------------------
// Chart descriptions (no plotters types)

/// A colour, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, for HTML.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
    fn c(self) -> RGBColor {
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
const CATEGORICAL: [Rgb; 7] = [BLUE, ORANGE, BLACK, GREEN, PURPLE, SKY, VERMILLION];
const INK: Rgb = Rgb(34, 34, 34);
const MUTED: Rgb = Rgb(90, 90, 90);
const GRID: Rgb = Rgb(226, 226, 226);
const FAULT: Rgb = Rgb(213, 94, 0);
const FAULT_INK: Rgb = Rgb(150, 55, 0);

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

/// Axis scale. `Auto` picks log when the data span more than a factor 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    Log,
    Auto,
}

/// How tick labels read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    Number,
    /// Values are fractions, shown as percentages.
    Percent,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandKind {
    Fault,
    Warmup,
}

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

/// One row per name, one cell per window, coloured by value (viridis).
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

/// Small multiples: one line chart per panel, stacked, sharing x.
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

#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    pub title: String,
    pub subtitle: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Caption of the node colour scale.
    pub node_scale: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    /// Second line under the name.
    pub detail: String,
    /// Column, left to right.
    pub layer: usize,
    /// `None`: an entry point (drawn white).
    pub utilization: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// The caller holds a thread while it waits: solid.
    Sync,
    /// Fire and forget through a queue: dashed.
    Async,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// failed ÷ calls.
    pub failure_rate: f64,
    pub label: String,
}

/// Anything this module can draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    Lines(LineChart),
    Stacked(StackedChart),
    Heat(HeatStrip),
    Panels(Panels),
    Topology(Topology),
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Lines(c) => &c.title,
            Chart::Stacked(c) => &c.title,
            Chart::Heat(c) => &c.title,
            Chart::Panels(c) => &c.title,
            Chart::Topology(c) => &c.title,
        }
    }

    /// Size in pixels (SVG user units and PNG pixels alike).
    pub fn size(&self) -> (u32, u32) {
        let w = WIDTH;
        match self {
            Chart::Lines(_) | Chart::Stacked(_) => (w, 460),
            Chart::Heat(h) => (w, 190 + 34 * h.rows.len().max(1) as u32),
            Chart::Panels(p) => (w, 150 + 150 * p.panels.len().max(1) as u32),
            Chart::Topology(t) => {
                let (layers, _) = topology_layers(t);
                (
                    w,
                    190 + TOPO_ROW as u32 * layers as u32 - (TOPO_ROW - TOPO_BOX_H) as u32,
                )
            }
        }
    }
}

const WIDTH: u32 = 1000;

// ---------------------------------------------------------------------------
// Output

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            panic!("the embedded DejaVu Sans is not a valid font");
        }
    });
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("cannot draw chart: {e}"))
}

/// The chart as a standalone SVG document.
pub fn svg(chart: &Chart) -> io::Result<String> {
    register_font();
    let size = chart.size();
    let mut buf = String::with_capacity(64 * 1024);
    {
        let backend = Fonted {
            inner: SVGBackend::with_string(&mut buf, size),
            draw_glyphs: false,
        };
        let root = backend.into_drawing_area();
        draw(&root, chart).map_err(io_err)?;
        root.present().map_err(io_err)?;
    }
    Ok(buf)
}

/// The chart as PNG bytes (RGB, 8 bits).
pub fn png(chart: &Chart) -> io::Result<Vec<u8>> {
    register_font();
    let (w, h) = chart.size();
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    {
        let backend = Fonted {
            inner: BitMapBackend::with_buffer(&mut pixels, (w, h)),
            draw_glyphs: true,
        };
        let root = backend.into_drawing_area();
        draw(&root, chart).map_err(io_err)?;
        root.present().map_err(io_err)?;
    }
    let mut out = Vec::with_capacity(pixels.len() / 8);
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(io_err)?;
        wr.write_image_data(&pixels).map_err(io_err)?;
        wr.finish().map_err(io_err)?;
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Text

/// The embedded face, parsed once.
fn face() -> &'static FontRef<'static> {
    static FACE: std::sync::OnceLock<FontRef<'static>> = std::sync::OnceLock::new();
    FACE.get_or_init(|| FontRef::try_from_slice(FONT).expect("the embedded DejaVu Sans parses"))
}

/// The em of a plotters text size: what the SVG backend writes as
/// `font-size`.
fn em(size: f64) -> f32 {
    (size / 1.24) as f32
}

fn scale_for(em: f32) -> PxScale {
    let f = face();
    let upem = f.units_per_em().unwrap_or(2048.0);
    PxScale::from(em * f.height_unscaled() / upem)
}

/// Advance width of `text` in pixels.
fn advance(text: &str, size: f64) -> f32 {
    let f = face().as_scaled(scale_for(em(size)));
    let mut x = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern(p, id);
        }
        x += f.h_advance(id);
        prev = Some(id);
    }
    x
}

/// Wraps a plotters backend so that both backends measure text alike, with
/// the embedded font, and the bitmap draws it the way a browser places the
/// SVG's `<text>` (same anchors, same baseline offsets). plotters 0.3.7's
/// own ab_glyph drawing drops each glyph's left side bearing, which spaces
/// letters unevenly.
struct Fonted<B> {
    inner: B,
    /// Draw text as glyph coverage (bitmap); else hand it to `inner` (SVG).
    draw_glyphs: bool,
}

impl<B: DrawingBackend> DrawingBackend for Fonted<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.present()
    }
    fn draw_pixel(
        &mut self,
        p: BackendCoord,
        c: BackendColor,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_pixel(p, c)
    }
    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        ul: BackendCoord,
        br: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_rect(ul, br, style, fill)
    }
    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let width = style.stroke_width();
        if !self.draw_glyphs || width <= 1 {
            return self.inner.draw_path(path, style);
        }
        // plotters' bitmap joins wide polylines with unlimited mitres, which
        // shoot spikes far out of the plot where a line turns back sharply
        // (as thinned series do). Segment by segment, with round joins.
        let pts: Vec<BackendCoord> = path.into_iter().collect();
        for (k, pair) in pts.windows(2).enumerate() {
            self.inner.draw_line(pair[0], pair[1], style)?;
            if width >= 3 && k > 0 {
                self.inner
                    .draw_circle(pair[0], width / 2, &style.color(), true)?;
            }
        }
        Ok(())
    }
    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }
    fn estimate_text_size<T: BackendTextStyle>(
        &self,
        text: &str,
        style: &T,
    ) -> Result<(u32, u32), DrawingErrorKind<B::ErrorType>> {
        Ok((
            advance(text, style.size()).ceil() as u32,
            em(style.size()).ceil() as u32,
        ))
    }
    fn draw_text<T: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &T,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        if !self.draw_glyphs {
            return self.inner.draw_text(text, style, pos);
        }
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let em = em(style.size());
        let scale = scale_for(em);
        let f = face().as_scaled(scale);
        // The SVG backend's anchors: `text-anchor` start/middle/end and
        // `dy` 0.76em / 0.5ex / -0.5ex (DejaVu's x-height is 0.547 em).
        let width = advance(text, style.size());
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let baseline = match style.anchor().v_pos {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.2735 * em,
            VPos::Bottom => -0.2735 * em,
        };
        let trans = style.transform();
        let mut pen = dx;
        let mut prev = None;
        let mut result = Ok(());
        for c in text.chars() {
            let id = f.glyph_id(c);
            if let Some(p) = prev {
                pen += f.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scale, point(pen, baseline));
            pen += f.h_advance(id);
            let Some(outline) = face().outline_glyph(glyph) else {
                continue;
            };
            let b = outline.px_bounds();
            outline.draw(|gx, gy, cov| {
                if result.is_err() || cov <= 0.0 {
                    return;
                }
                let (x, y) =
                    trans.transform(b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                let px = BackendColor {
                    alpha: color.alpha * f64::from(cov.min(1.0)),
                    rgb: color.rgb,
                };
                result = self.inner.draw_pixel((pos.0 + x, pos.1 + y), px);
            });
            result.as_ref().map_err(|_| {
                DrawingErrorKind::FontError(Box::new(io::Error::other("cannot draw a glyph")))
            })?;
        }
        Ok(())
    }
}

type Res<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
type Area<DB> = DrawingArea<DB, Shift>;

fn draw<DB: DrawingBackend>(root: &Area<DB>, chart: &Chart) -> Res<DB> {
    root.fill(&WHITE)?;
    match chart {
        Chart::Lines(c) => draw_lines(root, c),
        Chart::Stacked(c) => draw_stacked(root, c),
        Chart::Heat(c) => draw_heat(root, c),
        Chart::Panels(c) => draw_panels(root, c),
        Chart::Topology(c) => draw_topology(root, c),
    }
}

// ---------------------------------------------------------------------------
// Axes

/// A numeric axis, linear or logarithmic, with ticks chosen here (1-2-5
/// steps) rather than by plotters.
#[derive(Debug, Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    fmt: Fmt,
}

impl Axis {
    fn linear(lo: f64, hi: f64, n: usize, fmt: Fmt) -> Axis {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
        Axis {
            lo,
            hi,
            log: false,
            ticks: linear_ticks(lo, hi, n),
            fmt,
        }
    }

    /// A linear axis from `lo` up to a round number above `max`.
    fn linear_fit(lo: f64, max: f64, n: usize, fmt: Fmt) -> Axis {
        let max = if max.is_finite() && max > lo {
            max
        } else {
            lo + 1.0
        };
        let step = nice_step((max - lo) / n as f64);
        let hi = lo + ((max - lo) / step * 1.0001).ceil() * step;
        Axis::linear(lo, hi, n, fmt)
    }

    fn log(min: f64, max: f64, fmt: Fmt) -> Axis {
        let min = if min > 0.0 && min.is_finite() {
            min
        } else {
            1.0
        };
        let max = if max > min { max } else { min * 10.0 };
        let lo = step125_below(min);
        let hi = step125_above(max);
        let mut ticks = Vec::new();
        let mut decade = 10f64.powi(lo.log10().floor() as i32);
        while decade <= hi * 1.0001 {
            for m in [1.0, 2.0, 5.0] {
                let v = decade * m;
                if v >= lo * 0.9999 && v <= hi * 1.0001 {
                    ticks.push(v);
                }
            }
            decade *= 10.0;
        }
        if ticks.len() > 10 {
            ticks.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
        }
        Axis {
            lo,
            hi,
            log: true,
            ticks,
            fmt,
        }
    }

    /// Fits `values` on `scale`.
    fn fit(
        values: impl Iterator<Item = f64> + Clone,
        scale: Scale,
        from_zero: bool,
        fmt: Fmt,
        n: usize,
    ) -> Axis {
        let finite = values.filter(|v| v.is_finite());
        let max = finite.clone().fold(f64::NEG_INFINITY, f64::max);
        let min = finite.clone().fold(f64::INFINITY, f64::min);
        let min_pos = finite.filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        let log = match scale {
            Scale::Linear => false,
            Scale::Log => true,
            Scale::Auto => min_pos.is_finite() && max / min_pos > 30.0,
        };
        if log {
            Axis::log(min_pos, max, fmt)
        } else if !max.is_finite() {
            Axis::linear(0.0, 1.0, n, fmt)
        } else if from_zero || min >= 0.0 && min < max * 0.5 {
            Axis::linear_fit(0.0_f64.min(min), max, n, fmt)
        } else {
            let step = nice_step((max - min) / n as f64);
            Axis::linear_fit((min / step).floor() * step, max, n, fmt)
        }
    }

    fn t(&self, v: f64) -> f64 {
        if self.log {
            let v = v.max(self.lo * 1e-3);
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// Whether `v` can be drawn on this axis.
    fn shows(&self, v: f64) -> bool {
        v.is_finite() && (!self.log || v > 0.0)
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = self.t(*value);
        (f64::from(limit.0) + t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, v: &f64) -> String {
        match self.fmt {
            Fmt::Number => fmt_num(*v),
            Fmt::Percent => format!("{}%", fmt_num(*v * 100.0)),
        }
    }
}

fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nf = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nf * mag
}

fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = nice_step((hi - lo) / n.max(1) as f64);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn step125_below(v: f64) -> f64 {
    let mag = 10f64.powf(v.log10().floor());
    let f = v / mag;
    mag * if f >= 5.0 {
        5.0
    } else if f >= 2.0 {
        2.0
    } else {
        1.0
    }
}

fn step125_above(v: f64) -> f64 {
    let mag = 10f64.powf(v.log10().floor());
    let f = v / mag;
    mag * if f <= 1.0001 {
        1.0
    } else if f <= 2.0001 {
        2.0
    } else if f <= 5.0001 {
        5.0
    } else {
        10.0
    }
}

/// A short number: `0`, `0.25`, `12`, `1500`, `25k`, `1.5M`.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6, 2))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3, 1))
    } else if a >= 100.0 {
        trim(v, 0)
    } else if a >= 1.0 {
        trim(v, 2)
    } else {
        trim(v, 3)
    }
}

fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

// ---------------------------------------------------------------------------
// Text and the frame every chart shares

fn font(size: f64, color: Rgb) -> TextStyle<'static> {
    FontDesc::new(FontFamily::SansSerif, size, FontStyle::Normal).color(&color.c())
}

fn anchored(size: f64, color: Rgb, h: HPos, v: VPos) -> TextStyle<'static> {
    font(size, color).pos(Pos::new(h, v))
}

const TITLE: f64 = 26.0;
const SUBTITLE: f64 = 17.0;
const LABEL: f64 = 16.0;
const TICK: f64 = 15.0;
const PAD: i32 = 18;

/// A legend entry.
enum Swatch {
    Line(Rgb, Dash),
    Block(Rgb),
    Band(BandKind),
}

fn text_width<DB: DrawingBackend>(area: &Area<DB>, text: &str, style: &TextStyle) -> i32 {
    area.estimate_text_size(text, style)
        .map(|(w, _)| w as i32)
        .unwrap_or(8 * text.len() as i32)
}

/// Draws title, subtitle and legend at the top of `root`; returns the
/// height they take.
fn frame<DB: DrawingBackend>(
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
        root.draw_text(
            subtitle,
            &anchored(SUBTITLE, MUTED, HPos::Left, VPos::Top),
            (PAD, y),
        )?;
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

fn band_colors(kind: BandKind) -> (RGBAColor, RGBAColor) {
    match kind {
        BandKind::Fault => (FAULT.c().mix(0.13), FAULT.c().mix(0.55)),
        BandKind::Warmup => (RGBColor(0, 0, 0).mix(0.05), RGBColor(0, 0, 0).mix(0.2)),
    }
}

fn band_legend(bands: &[Band]) -> Vec<(String, Swatch)> {
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

/// A polyline in pixels, solid or dashed.
fn stroke_px<DB: DrawingBackend>(
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
fn outline<DB: DrawingBackend>(
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

type Cart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

fn build<'a, DB: DrawingBackend>(
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

fn mesh<DB: DrawingBackend>(
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
fn plot_rect<DB: DrawingBackend>(chart: &Cart<'_, DB>) -> (i32, i32, i32, i32) {
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    (xr.start, yr.start, xr.end, yr.end)
}

/// Where each band's label goes above a plot spanning pixels `l..r` for
/// x in `lo..hi`: (row, left x), rows counted upward from the plot's top
/// edge, so that no two labels overlap. `None` for an unlabelled band.
fn label_layout<DB: DrawingBackend>(
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

fn label_rows(layout: &[Option<(usize, i32)>]) -> i32 {
    layout
        .iter()
        .flatten()
        .map(|(r, _)| *r as i32 + 1)
        .max()
        .unwrap_or(0)
}

const LABEL_ROW: i32 = 20;

/// Shades `bands` over the plot area of `chart`.
fn shade_bands<DB: DrawingBackend>(
    root: &Area<DB>,
    chart: &Cart<'_, DB>,
    bands: &[Band],
) -> Res<DB> {
    let (l, t, r, b) = plot_rect(chart);
    for band in bands {
        let (x0, _) = chart.backend_coord(&(band.start, 0.0));
        let (x1, _) = chart.backend_coord(&(band.end, 0.0));
        let (x0, x1) = (x0.clamp(l, r), x1.clamp(l, r));
        if x1 <= x0 {
            continue;
        }
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
fn band_edges<DB: DrawingBackend>(
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
fn label_bands<DB: DrawingBackend>(
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

/// Pixel span of the plot area a chart built by `build` will get.
fn planned_x(area_width: u32, right: i32) -> (i32, i32) {
    (6 + 82, area_width as i32 - right)
}

/// At most about two points per pixel column: each bucket keeps its lowest
/// and highest point, in order, so peaks survive.
fn thin(points: &[(f64, f64)], columns: usize) -> Vec<(f64, f64)> {
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

/// Draws a series on `chart`, broken where it cannot be shown.
fn draw_line<DB: DrawingBackend>(
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

fn x_axis_for(
    range: Option<(f64, f64)>,
    xs: impl Iterator<Item = f64> + Clone,
    scale: Scale,
    fmt: Fmt,
) -> Axis {
    match range {
        Some((lo, hi)) if scale == Scale::Log => {
            let mut a = Axis::log(lo, hi, fmt);
            a.lo = lo;
            a.hi = hi;
            a.ticks.retain(|v| *v >= lo && *v <= hi);
            a
        }
        Some((lo, hi)) => Axis::linear(lo, hi, 12, fmt),
        None => {
            let min = xs
                .clone()
                .filter(|v| v.is_finite())
                .fold(f64::INFINITY, f64::min);
            let max = xs
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            match scale {
                Scale::Log => Axis::log(min, max, fmt),
                Scale::Auto if min > 0.0 && max / min > 30.0 => Axis::log(min, max, fmt),
                _ if min.is_finite() && max > min => Axis::linear(min, max, 12, fmt),
                _ => Axis::linear(0.0, 1.0, 12, fmt),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Line chart

fn line_styles(lines: &[Line]) -> Vec<(Rgb, Dash)> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| l.style.unwrap_or_else(|| series_style(i)))
        .collect()
}

fn draw_lines<DB: DrawingBackend>(root: &Area<DB>, c: &LineChart) -> Res<DB> {
    let styles = line_styles(&c.lines);
    let mut legend: Vec<(String, Swatch)> = c
        .lines
        .iter()
        .zip(&styles)
        .map(|(l, s)| (l.name.clone(), Swatch::Line(s.0, s.1)))
        .collect();
    legend.extend(band_legend(&c.bands));
    let top = frame(root, &c.title, &c.subtitle, &legend)?;
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
    let layout = label_layout(
        root,
        &c.bands,
        (xa.lo, xa.hi),
        planned_x(area.dim_in_pixel().0, 28),
    );
    let mut chart = build(
        &area,
        xa.clone(),
        ya.clone(),
        28,
        8 + LABEL_ROW * label_rows(&layout),
        56,
    )?;
    mesh(&mut chart, &c.x_label, &c.y_label, true)?;
    shade_bands(root, &chart, &c.bands)?;
    label_bands(root, plot_rect(&chart).1, &c.bands, &layout)?;
    for (line, style) in c.lines.iter().zip(&styles) {
        draw_line(root, &chart, &xa, &ya, line, *style, 2)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Stacked areas

/// Means of consecutive buckets so that at most `columns` remain.
fn bucket_means(x: &[f64], ys: &[&[f64]], columns: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
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

fn draw_stacked<DB: DrawingBackend>(root: &Area<DB>, c: &StackedChart) -> Res<DB> {
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
    let layout = label_layout(
        root,
        &c.bands,
        (xa.lo, xa.hi),
        planned_x(area.dim_in_pixel().0, 28),
    );
    let mut chart = build(
        &area,
        xa.clone(),
        ya.clone(),
        28,
        8 + LABEL_ROW * label_rows(&layout),
        56,
    )?;
    mesh(&mut chart, &c.x_label, &c.y_label, true)?;
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

// ---------------------------------------------------------------------------
// Heat strip

fn draw_heat<DB: DrawingBackend>(root: &Area<DB>, c: &HeatStrip) -> Res<DB> {
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
            Fmt::Percent => format!("{}%", fmt_num(v * 100.0)),
            Fmt::Number => fmt_num(v),
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

/// `text`, cut with an ellipsis to fit `max` pixels.
fn fit_text<DB: DrawingBackend>(
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

// ---------------------------------------------------------------------------
// Small multiples

fn draw_panels<DB: DrawingBackend>(root: &Area<DB>, c: &Panels) -> Res<DB> {
    let first: &[Line] = c.panels.first().map(|p| p.1.as_slice()).unwrap_or(&[]);
    let styles = line_styles(first);
    let mut legend: Vec<(String, Swatch)> = first
        .iter()
        .zip(&styles)
        .map(|(l, s)| (l.name.clone(), Swatch::Line(s.0, s.1)))
        .collect();
    legend.extend(band_legend(&c.bands));
    let top = frame(root, &c.title, &c.subtitle, &legend)?;
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

// ---------------------------------------------------------------------------
// Topology

const TOPO_ROW: i32 = 112;
const TOPO_BOX_H: i32 = 56;

fn topology_layers(c: &Topology) -> (usize, usize) {
    let layers = c.nodes.iter().map(|n| n.layer).max().map_or(1, |m| m + 1);
    let widest = (0..layers)
        .map(|l| c.nodes.iter().filter(|n| n.layer == l).count())
        .max()
        .unwrap_or(1);
    (layers, widest)
}

/// Layers run top to bottom, entries first, like the rows of the
/// saturation strip; an edge's label sits beside the middle of its arrow.
fn draw_topology<DB: DrawingBackend>(root: &Area<DB>, c: &Topology) -> Res<DB> {
    let top = frame(root, &c.title, &c.subtitle, &[])?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let (layers, widest) = topology_layers(c);
    let slot = (w - 2 * PAD) / widest.max(1) as i32;
    let box_w = (slot - 24).clamp(40, 200);
    let box_h = TOPO_BOX_H;
    let mut centres = vec![(0, 0); c.nodes.len()];
    for layer in 0..layers {
        let members: Vec<usize> = (0..c.nodes.len())
            .filter(|&i| c.nodes[i].layer == layer)
            .collect();
        let k = members.len() as i32;
        for (j, &i) in members.iter().enumerate() {
            let cx = PAD + (w - 2 * PAD) * (2 * j as i32 + 1) / (2 * k.max(1));
            let cy = top + 20 + box_h / 2 + TOPO_ROW * layer as i32;
            centres[i] = (cx, cy);
        }
    }
    // Edges first, under the boxes; their labels last, over everything.
    let mut labels = Vec::new();
    for e in &c.edges {
        if e.from >= centres.len() || e.to >= centres.len() {
            continue;
        }
        let (a, b) = (centres[e.from], centres[e.to]);
        let p0 = box_exit(a, b, box_w, box_h);
        let p1 = box_exit(b, a, box_w, box_h);
        let (color, width) = failure_style(e.failure_rate);
        let dash = match e.kind {
            EdgeKind::Sync => Dash::Solid,
            EdgeKind::Async => Dash::Dashed,
        };
        let (dx, dy) = (f64::from(p1.0 - p0.0), f64::from(p1.1 - p0.1));
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        let head = 10.0 + f64::from(width) * 1.5;
        // Stop the shaft short of the tip so the arrowhead stays sharp.
        let shaft_end = (
            p1.0 - (ux * head * 0.8) as i32,
            p1.1 - (uy * head * 0.8) as i32,
        );
        stroke_px(root, &[p0, shaft_end], color, width, dash)?;
        let base = (f64::from(p1.0) - ux * head, f64::from(p1.1) - uy * head);
        let half = head * 0.5;
        let arrow = vec![
            p1,
            ((base.0 - uy * half) as i32, (base.1 + ux * half) as i32),
            ((base.0 + uy * half) as i32, (base.1 - ux * half) as i32),
        ];
        root.draw(&Polygon::new(arrow, color.c().filled()))?;
        if !e.label.is_empty() {
            labels.push((((p0.0 + p1.0) / 2, (p0.1 + p1.1) / 2), ux, e.label.clone()));
        }
    }
    let name_dark = anchored(LABEL + 1.0, INK, HPos::Center, VPos::Center);
    let name_light = anchored(LABEL + 1.0, Rgb(255, 255, 255), HPos::Center, VPos::Center);
    let detail_dark = anchored(TICK - 1.0, INK, HPos::Center, VPos::Center);
    let detail_light = anchored(TICK - 1.0, Rgb(255, 255, 255), HPos::Center, VPos::Center);
    for (i, n) in c.nodes.iter().enumerate() {
        let (cx, cy) = centres[i];
        let (x0, y0, x1, y1) = (
            cx - box_w / 2,
            cy - box_h / 2,
            cx + box_w / 2,
            cy + box_h / 2,
        );
        let fill = n.utilization.map_or(Rgb(255, 255, 255), viridis);
        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.c().filled()))?;
        let border = if n.utilization.is_none() { 2 } else { 1 };
        outline(root, (x0, y0, x1, y1), INK, border)?;
        let (ns, ds) = if fill.luma() < 128.0 {
            (&name_light, &detail_light)
        } else {
            (&name_dark, &detail_dark)
        };
        let name = fit_text(root, &n.name, ns, box_w - 12);
        let detail = fit_text(root, &n.detail, ds, box_w - 10);
        root.draw_text(&name, ns, (cx, cy - 10))?;
        root.draw_text(&detail, ds, (cx, cy + 13))?;
    }
    let label_style = anchored(TICK - 1.0, INK, HPos::Left, VPos::Center);
    for ((mx, my), ux, text) in labels {
        // Beside the arrow, on the side it does not lean to.
        let tw = text_width(root, &text, &label_style);
        let x = if ux > 0.3 { mx - tw - 10 } else { mx + 10 };
        root.draw(&Rectangle::new(
            [(x - 3, my - 10), (x + tw + 3, my + 10)],
            WHITE.mix(0.85).filled(),
        ))?;
        root.draw_text(&text, &label_style, (x, my))?;
    }
    // Legends: node colour scale, then edge bins.
    let ly = h - 62;
    let cap = anchored(TICK, INK, HPos::Left, VPos::Top);
    root.draw_text(&c.node_scale, &cap, (PAD, ly))?;
    let bar_w = 260;
    for s in 0..bar_w {
        let v = f64::from(s) / f64::from(bar_w);
        root.draw(&Rectangle::new(
            [(PAD + s, ly + 22), (PAD + (s + 2).min(bar_w), ly + 38)],
            viridis(v).c().filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(PAD, ly + 22), (PAD + bar_w, ly + 38)],
        Rgb(120, 120, 120).c().stroke_width(1),
    ))?;
    let tick = anchored(TICK - 2.0, MUTED, HPos::Center, VPos::Top);
    for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
        root.draw_text(
            &format!("{}%", fmt_num(f * 100.0)),
            &tick,
            (PAD + (f64::from(bar_w) * f) as i32, ly + 41),
        )?;
    }
    let ex = PAD + bar_w + 80;
    root.draw_text("arrow: share of calls that failed", &cap, (ex, ly))?;
    let mut x = ex;
    let item = anchored(TICK - 1.0, INK, HPos::Left, VPos::Center);
    for (_, name, color, width) in FAILURE_BINS {
        stroke_px(
            root,
            &[(x, ly + 30), (x + 30, ly + 30)],
            color,
            width,
            Dash::Solid,
        )?;
        root.draw_text(name, &item, (x + 36, ly + 30))?;
        x += 36 + text_width(root, name, &item) + 20;
    }
    if c.edges.iter().any(|e| e.kind == EdgeKind::Async) {
        stroke_px(
            root,
            &[(x, ly + 30), (x + 30, ly + 30)],
            MUTED,
            2,
            Dash::Dashed,
        )?;
        root.draw_text("asynchronous", &item, (x + 36, ly + 30))?;
    }
    Ok(())
}

/// Where the segment from the centre of box `a` towards `b` leaves the box.
fn box_exit(a: (i32, i32), b: (i32, i32), bw: i32, bh: i32) -> (i32, i32) {
    let (dx, dy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
    if dx == 0.0 && dy == 0.0 {
        return a;
    }
    let sx = if dx != 0.0 {
        (f64::from(bw) / 2.0 + 2.0) / dx.abs()
    } else {
        f64::INFINITY
    };
    let sy = if dy != 0.0 {
        (f64::from(bh) / 2.0 + 2.0) / dy.abs()
    } else {
        f64::INFINITY
    };
    let s = sx.min(sy);
    (a.0 + (dx * s).round() as i32, a.1 + (dy * s).round() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            linear_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        let a = Axis::linear_fit(0.0, 93.0, 7, Fmt::Number);
        assert_eq!((a.lo, a.hi), (0.0, 100.0));
        let l = Axis::log(3.2, 1300.0, Fmt::Number);
        assert_eq!((l.lo, l.hi), (2.0, 2000.0));
        assert_eq!(
            l.ticks,
            vec![
                2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0
            ]
        );
    }

    #[test]
    fn numbers_read_short() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(1500.0), "1500");
        assert_eq!(fmt_num(25000.0), "25k");
        assert_eq!(fmt_num(12.5), "12.5");
        assert_eq!(fmt_num(-0.0001), "0");
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

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), Rgb(68, 1, 84));
        assert_eq!(viridis(1.0), Rgb(253, 231, 37));
        assert!(viridis(0.3).luma() < viridis(0.7).luma());
    }
}
