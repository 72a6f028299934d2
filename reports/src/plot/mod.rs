//! Every use of plotters lives in this folder: the rest of the crate
//! describes charts with the plain types re-exported here and asks for SVG
//! text or PNG bytes. plotters' font API is expected to change in 0.4; only
//! `font.rs` and the drawing code here will have to follow.
//!
//! One figure per module, each owning its description type and its drawing:
//! `line` (lines on shared axes), `stacked` (stacked areas), `heat` (heat
//! strip), `panels` (small multiples), `topology` (boxes and arrows, placed by
//! `graph_layout`, a pure layered layout), `points` (measured points with
//! markers and confidence bands) and `grid` (a labelled two-parameter heat
//! map), the last two for sweeps. What
//! they share is in one place each: `axis` (ranges, ticks, tick labels),
//! `bands` (fault and warm-up spans), `frame` (title, legend, plot area,
//! strokes, thinning), `palette` (colours), `font` (the embedded font and
//! the backend wrapper that measures with it).
//!
//! Colours are Okabe–Ito (categorical) and viridis (sequential): both stay
//! distinguishable with the common colour-vision deficiencies, and the
//! series that need telling apart also differ in lightness or dash.
//!
//! Must not pick what to draw (that is `charts`), nor write files.

use std::io;

use plotters::coord::Shift;
use plotters::prelude::*;

mod axis;
mod bands;
mod font;
mod frame;
mod graph_layout;
mod grid;
mod heat;
mod line;
mod palette;
mod panels;
mod points;
mod stacked;
mod topology;

pub use axis::{Fmt, Scale};
pub use bands::{Band, BandKind};
pub use frame::MAX_POINTS;
pub use graph_layout::{Placement, Rect};
pub use grid::GridHeat;
pub use heat::HeatStrip;
pub use line::{Line, LineChart};
pub use palette::{
    BLACK, BLUE, Dash, FAILURE_BINS, GREEN, GREY, ORANGE, PURPLE, Rgb, SKY, VERMILLION, YELLOW,
    failure_style, series_style, viridis,
};
pub use panels::Panels;
pub use points::{Measured, PointSeries, PointsChart};
pub use stacked::{Layer, StackedChart};
pub use topology::{
    Edge, EdgeKind, Node, NodeKind, TextLine, Topology, TopologyLayout, layout as topology_layout,
};

use font::{Fonted, register_font};

type Res<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;
type Area<DB> = DrawingArea<DB, Shift>;

/// Anything this module can draw.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    Lines(LineChart),
    Stacked(StackedChart),
    Heat(HeatStrip),
    Panels(Panels),
    Topology(Topology),
    Points(PointsChart),
    Grid(GridHeat),
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Lines(c) => &c.title,
            Chart::Stacked(c) => &c.title,
            Chart::Heat(c) => &c.title,
            Chart::Panels(c) => &c.title,
            Chart::Topology(c) => &c.title,
            Chart::Points(c) => &c.title,
            Chart::Grid(c) => &c.title,
        }
    }

    /// Size in pixels (SVG user units and PNG pixels alike).
    pub fn size(&self) -> (u32, u32) {
        let w = WIDTH;
        match self {
            Chart::Lines(_) | Chart::Stacked(_) | Chart::Points(_) => (w, 460),
            Chart::Grid(g) => (w, grid::height(g)),
            Chart::Heat(h) => (w, heat::height(h)),
            Chart::Panels(p) => (w, panels::height(p)),
            Chart::Topology(t) => topology::size(t),
        }
    }
}

const WIDTH: u32 = 1000;

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
        // Charts are mostly flat colour: the fast (fdeflate) encoder makes
        // files a little larger and a large run's `--out` much quicker.
        enc.set_compression(png::Compression::Fast);
        let mut wr = enc.write_header().map_err(io_err)?;
        wr.write_image_data(&pixels).map_err(io_err)?;
        wr.finish().map_err(io_err)?;
    }
    Ok(out)
}

fn draw<DB: DrawingBackend>(root: &Area<DB>, chart: &Chart) -> Res<DB> {
    root.fill(&WHITE)?;
    match chart {
        Chart::Lines(c) => line::draw(root, c),
        Chart::Stacked(c) => stacked::draw(root, c),
        Chart::Heat(c) => heat::draw(root, c),
        Chart::Panels(c) => panels::draw(root, c),
        Chart::Topology(c) => topology::draw(root, c),
        Chart::Points(c) => points::draw(root, c),
        Chart::Grid(c) => grid::draw(root, c),
    }
}
