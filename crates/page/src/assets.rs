//! The page, bundled into the binary: one HTML file, its script and its
//! style, read at compile time from `assets/`. No build step, nothing
//! fetched from elsewhere.

/// The page: a shell the script fills.
pub(crate) const INDEX_HTML: &str = include_str!("../assets/index.html");

/// The script: follows `/events`, builds the DOM with `textContent` only.
pub(crate) const APP_JS: &str = include_str!("../assets/app.js");

/// The style.
pub(crate) const STYLE_CSS: &str = include_str!("../assets/style.css");

/// The page's content security policy: its own script, style and event
/// stream, nothing else; so even a string that slipped into the DOM as
/// markup could not run.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

#[cfg(test)]
mod tests {
    use super::*;

    /// Data reaches the DOM as text only: the script never parses markup.
    #[test]
    fn the_script_never_parses_markup() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
            "createContextualFragment",
            "DOMParser",
        ] {
            assert!(!APP_JS.contains(sink), "app.js uses {sink}");
        }
        assert!(APP_JS.contains("textContent"));
    }

    /// The page loads only what it is served with: no inline script or
    /// style (the policy forbids them), nothing from another origin.
    #[test]
    fn the_page_is_self_contained() {
        assert!(INDEX_HTML.contains(r#"<script src="/app.js" defer></script>"#));
        assert!(INDEX_HTML.contains(r#"<link rel="stylesheet" href="/style.css">"#));
        for text in [INDEX_HTML, APP_JS, STYLE_CSS] {
            assert!(
                !text.contains("//cdn"),
                "something is fetched from elsewhere"
            );
            assert!(!text.contains("@import"));
        }
        assert_eq!(INDEX_HTML.matches("<script").count(), 1);
        assert!(!INDEX_HTML.contains("style="));
    }
}
