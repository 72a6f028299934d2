//! Rendering a scenario error for a person: one plain line naming file,
//! line, column and key, then the offending line with a caret (miette).

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NamedSource, SourceSpan};
use sim_core::ScenarioError;
use std::fmt;

#[derive(Debug)]
struct Snippet {
    src: NamedSource<String>,
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
        let len = loc.span.len().max(1);
        let snippet = Snippet {
            src: NamedSource::new(&e.file, e.source_text.clone()),
            span: SourceSpan::new(loc.span.start.into(), len),
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
