//! Problems in words for the person at the screen: an engine error as a
//! sentence, and device errors starting with a capital.

/// An engine error in words for the person at the screen.
pub fn describe(err: &huddle_engine::Error) -> String {
    use shared::ErrorCode;
    match err {
        huddle_engine::Error::Unreachable { url, .. } => {
            format!("Cannot reach the server at {url}. Is it running?")
        }
        huddle_engine::Error::Api {
            code: ErrorCode::RateLimited,
            ..
        } => "Too many attempts. Wait a minute and try again.".into(),
        huddle_engine::Error::Api { message, .. } => capitalise(message),
        other => capitalise(&other.to_string()),
    }
}

pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}
