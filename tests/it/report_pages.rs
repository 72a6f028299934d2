//! What every report page must be, whichever command wrote it: one file
//! that stands on its own (no script, no stylesheet, image or font from
//! anywhere else, no URL at all), with its charts inline as SVG.

/// Asserts `page` is whole on its own, and returns how many charts it
/// holds inline.
pub fn assert_self_contained(page: &str) -> usize {
    assert!(page.starts_with("<!DOCTYPE html>"), "not an HTML page");
    assert!(page.trim_end().ends_with("</html>"), "the page is cut");
    for outside in [
        "http://", "https://", "<script", "<link", "<img", "<iframe", "src=", "url(", "@import",
    ] {
        assert!(
            !page.contains(outside),
            "the page refers outside itself: `{outside}`"
        );
    }
    let charts = page.matches("<svg role=\"img\"").count();
    assert_eq!(
        charts,
        page.matches("</svg>").count(),
        "every chart is a whole inline SVG"
    );
    charts
}
