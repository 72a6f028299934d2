//! Rendering a scenario error for a person: one plain line naming file,
//! line, column and key, then the offending line with a caret (miette).
//! A very long line (a one-line JSON file) is shown as a window around the
//! column: miette cannot pad past 65,535 columns, and nobody reads that far.

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use sim_core::ScenarioError;
use std::fmt;

/// Bytes shown either side of the error on a line too long to show whole.
const WINDOW: usize = 80;

/// The scenario text, read by miette through a window on long lines.
#[derive(Debug)]
struct Windowed {
    name: String,
    text: String,
}

impl SourceCode for Windowed {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let full = self.text.read_span(span, before, after)?;
        let too_long = full
            .data()
            .split(|b| *b == b'\n')
            .any(|l| l.len() > 2 * WINDOW);
        let (data, at, line, lines) = if too_long {
            let (start, end) = window(&self.text, span.offset(), span.len());
            let line = self.text[..start].matches('\n').count();
            (&self.text.as_bytes()[start..end], start, line, 1)
        } else {
            (
                full.data(),
                full.span().offset(),
                full.line(),
                full.line_count(),
            )
        };
        // Columns in characters, as the first line of the message counts them.
        let line_start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..at].chars().count();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            SourceSpan::new(at.into(), data.len()),
            line,
            column,
            lines,
        )))
    }
}

/// Byte range of at most `WINDOW` bytes either side of `offset..offset+len`,
/// on the line of `offset`, on character boundaries.
fn window(text: &str, offset: usize, len: usize) -> (usize, usize) {
    let offset = floor_char(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let start = floor_char(text, offset.saturating_sub(WINDOW).max(line_start));
    let end = ceil_char(text, (offset + len.min(WINDOW) + WINDOW).min(line_end));
    (start, end)
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[derive(Debug)]
struct Snippet {
    src: Windowed,
    span: SourceSpan,
    label: String,
    help: Option<String>,
}

impl fmt::Display for Snippet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("here")
    }
}
impl std::error::Error for Snippet {}

impl Diagnostic for Snippet {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(self.label.clone()), self.span),
        )))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
}

pub fn render(e: &ScenarioError) -> String {
    let mut out = format!("error: {e}\n");
    if let Some(loc) = &e.location {
        // At most a window's width underlined, ending on a character.
        let text = &e.source_text;
        let start = floor_char(text, loc.span.start.min(text.len()));
        let end = ceil_char(
            text,
            (start + loc.span.len().clamp(1, WINDOW)).min(text.len()),
        );
        let snippet = Snippet {
            src: Windowed {
                name: e.file.clone(),
                text: text.clone(),
            },
            span: SourceSpan::new(start.into(), end - start),
            label: if e.key.is_empty() {
                "here".into()
            } else {
                format!("`{}`", e.key)
            },
            help: e.note.clone(),
        };
        let theme = if crate::term::colour_on_stderr() {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let mut s = String::new();
        if GraphicalReportHandler::new_themed(theme)
            .with_context_lines(1)
            .render_report(&mut s, &snippet)
            .is_ok()
        {
            // Drop miette's own "× here" headline: our first line says it.
            let body: Vec<&str> = s.lines().skip_while(|l| !l.contains('[')).collect();
            out.push_str(&body.join("\n"));
            out.push('\n');
        }
    }
    out
}
