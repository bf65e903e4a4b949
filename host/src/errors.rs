//! Small helpers for rendering errors.

/// An error and all its sources on one line, `outer: inner: root`, since
/// reqwest and io errors hide the useful part in their sources.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}
