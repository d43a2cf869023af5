//! The limits every side enforces on what people type: lengths in bytes of
//! UTF-8 (what travels and is stored), and which characters are refused.
//! A limit in characters would let 4000 CJK or escaped control characters
//! grow a message six-fold on the wire.

/// The longest chat text, in bytes of UTF-8.
pub const MAX_CHAT_BYTES: usize = 4096;
/// Display names, organisation names and meeting titles, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 200;
/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// What kind of text a field holds, which decides what it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// Chat: several lines; newline and tab are allowed.
    Multiline,
    /// Names, titles, emails: one line, shown in lists and tiles.
    SingleLine,
}

/// Why a text was refused, worded for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    Empty,
    TooLong {
        max_bytes: usize,
        bytes: usize,
    },
    /// A control character (or, in a single line, a line break or a
    /// direction override that could disguise what others read).
    ForbiddenCharacter(char),
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextError::Empty => write!(f, "is empty"),
            TextError::TooLong { max_bytes, bytes } => {
                write!(
                    f,
                    "is {bytes} bytes long; at most {max_bytes} bytes of UTF-8 are allowed"
                )
            }
            TextError::ForbiddenCharacter(c) => {
                write!(
                    f,
                    "contains the control character U+{:04X}, which is not allowed",
                    *c as u32
                )
            }
        }
    }
}

impl std::error::Error for TextError {}

/// Checks a text (already trimmed by the caller if it trims) against a limit.
pub fn check_text(text: &str, kind: TextKind, max_bytes: usize) -> Result<(), TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.len() > max_bytes {
        return Err(TextError::TooLong {
            max_bytes,
            bytes: text.len(),
        });
    }
    match text.chars().find(|&c| is_forbidden(c, kind)) {
        Some(c) => Err(TextError::ForbiddenCharacter(c)),
        None => Ok(()),
    }
}

fn is_forbidden(c: char, kind: TextKind) -> bool {
    let line_break_or_tab = c == '\n' || c == '\t';
    match kind {
        TextKind::Multiline => c.is_control() && !line_break_or_tab,
        TextKind::SingleLine => c.is_control() || is_direction_override(c),
    }
}

/// Bidirectional embeddings, overrides and isolates: in a name they can make
/// "evil" display as "live" next to someone else's text.
fn is_direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_count_bytes_not_characters() {
        let cjk = "会".repeat(1366); // 4098 bytes, 1366 characters
        assert_eq!(
            check_text(&cjk, TextKind::Multiline, MAX_CHAT_BYTES),
            Err(TextError::TooLong {
                max_bytes: 4096,
                bytes: 4098
            })
        );
        assert!(check_text(&"会".repeat(1365), TextKind::Multiline, MAX_CHAT_BYTES).is_ok());
    }

    #[test]
    fn chat_keeps_newlines_and_tabs_but_not_other_controls() {
        assert!(check_text("one\n\ttwo", TextKind::Multiline, 100).is_ok());
        assert_eq!(
            check_text("bell\u{7}", TextKind::Multiline, 100),
            Err(TextError::ForbiddenCharacter('\u{7}'))
        );
        assert_eq!(
            check_text("\u{1}", TextKind::Multiline, 100),
            Err(TextError::ForbiddenCharacter('\u{1}'))
        );
    }

    #[test]
    fn a_single_line_refuses_line_breaks_and_direction_overrides() {
        assert!(check_text("Zoë Ōtsuka", TextKind::SingleLine, 200).is_ok());
        for bad in ["a\nb", "a\tb", "admin\u{202E}txt", "x\u{2066}y"] {
            assert!(
                check_text(bad, TextKind::SingleLine, 200).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_error_says_what_is_wrong() {
        let err = check_text("a\u{1}", TextKind::Multiline, 10).unwrap_err();
        assert!(err.to_string().contains("U+0001"), "{err}");
        assert_eq!(
            check_text("", TextKind::SingleLine, 10),
            Err(TextError::Empty)
        );
    }
}
