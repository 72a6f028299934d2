//! Text: the embedded DejaVu Sans, its measurements, and `Fonted`, the
//! backend wrapper that makes SVG and PNG measure and place text alike.
//!
//! No system font or package is needed. SVG leaves the drawing of text to
//! the viewer (`font-family="sans-serif"`); PNG draws it with ab_glyph from
//! DejaVu Sans, embedded from `reports/assets` (licence beside it). The
//! same font gives both backends their text measurements, so the layout of
//! an SVG and of its PNG is the same. Must not know about charts.

use std::io;
use std::sync::Once;

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

pub(super) fn register_font() {
    REGISTER.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            panic!("the embedded DejaVu Sans is not a valid font");
        }
    });
}

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

/// Width in pixels of `text` at plotters text size `size`, as both
/// backends measure it: what layouts size their boxes with.
pub(super) fn text_px(text: &str, size: f64) -> f64 {
    f64::from(advance(text, size).ceil())
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
pub(super) struct Fonted<B> {
    pub(super) inner: B,
    /// Draw text as glyph coverage (bitmap); else hand it to `inner` (SVG).
    pub(super) draw_glyphs: bool,
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
