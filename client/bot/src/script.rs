//! Bot scripts (TOML): actions at given times, and expectations checked at
//! the end of the run. See the README for an example.

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// Timed actions, in any order.
    #[serde(default, rename = "at")]
    pub steps: Vec<Step>,
    #[serde(default, rename = "expect")]
    pub expectations: Vec<Expectation>,
}

/// One timed step: an action, a chat message or a host action (or several).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds since the bot joined.
    pub time: f64,
    #[serde(default)]
    pub action: Option<Action>,
    #[serde(default)]
    pub chat: Option<String>,
    /// As the meeting's host or a co-host: `host = { mute = "Test
    /// Corporate" }`, `host = "lock"`.
    #[serde(default)]
    pub host: Option<HostStep>,
    /// As a host: let this participant in from the lobby (now, or as soon
    /// as they knock).
    #[serde(default)]
    pub admit: Option<String>,
    /// As a host: turn this participant away from the lobby.
    #[serde(default)]
    pub deny: Option<String>,
    /// Raise (`true`) or lower this bot's hand.
    #[serde(default)]
    pub raise_hand: Option<bool>,
    /// Send a reaction: `thumbs_up`, `clap`, `laugh`, `heart`, `surprised`, `party`.
    #[serde(default)]
    pub react: Option<shared::Reaction>,
}

/// A host action, naming the participant it is done to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HostStep {
    Mute(String),
    AskUnmute(String),
    AskVideo(String),
    StopVideo(String),
    StopScreen(String),
    Remove(String),
    /// Lets someone removed earlier (seen by this bot) back in.
    Readmit(String),
    LowerHand(String),
    MakeCohost(String),
    RevokeCohost(String),
    Lock,
    Unlock,
    EndForAll,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Mute,
    Unmute,
    VideoOff,
    VideoOn,
    ShareStart,
    ShareStop,
    Leave,
}

/// Something the bot must have observed by the end of its run.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expectation {
    /// At least this many other participants were in the room at once.
    ParticipantsAtLeast(usize),
    /// A chat message with exactly this text arrived.
    ChatSeen(String),
    /// Video from the named participant was decoded.
    VideoFrom(String),
    /// A screen share from the named participant was decoded.
    ScreenFrom(String),
    /// The named participant was seen muted at some point.
    SeenMuted(String),
    /// The named participant was seen with the camera off at some point.
    SeenVideoOff(String),
    /// The named participant was seen leaving the meeting.
    SeenLeave(String),
    /// The named participant's audio had this dominant frequency (±10 Hz).
    AudioFrom { name: String, hz: f32 },
    /// A host removed this bot from the meeting (`true`), or did not (`false`).
    Removed(bool),
    /// A host told this bot something containing this text ("muted your
    /// microphone", "ended the meeting for everyone").
    HostNotice(String),
    /// As a host: the named participant was seen waiting in the lobby.
    Knocked(String),
    /// The named participant was seen with a raised hand.
    HandRaisedBy(String),
    /// A reaction from the named participant arrived.
    ReactionFrom(String),
}

impl Expectation {
    /// How the expectation is named in the report.
    pub fn describe(&self) -> String {
        match self {
            Expectation::ParticipantsAtLeast(n) => format!("sees {n} participants"),
            Expectation::ChatSeen(text) => format!("chat {text:?} seen"),
            Expectation::VideoFrom(name) => format!("video from {name}"),
            Expectation::ScreenFrom(name) => format!("screen from {name}"),
            Expectation::SeenMuted(name) => format!("{name} seen muted"),
            Expectation::SeenVideoOff(name) => format!("{name} seen with camera off"),
            Expectation::SeenLeave(name) => format!("{name} seen leaving"),
            Expectation::AudioFrom { name, hz } => format!("{hz} Hz from {name}"),
            Expectation::Removed(true) => "removed by a host".into(),
            Expectation::Removed(false) => "not removed".into(),
            Expectation::HostNotice(text) => format!("a host notice {text:?}"),
            Expectation::Knocked(name) => format!("{name} seen knocking"),
            Expectation::HandRaisedBy(name) => format!("{name}'s hand seen raised"),
            Expectation::ReactionFrom(name) => format!("a reaction from {name}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot read the script {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the script {path} is not valid: {reason}")]
    Invalid { path: String, reason: String },
}

impl Script {
    pub fn load(path: &Path) -> Result<Script, ScriptError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            path: shown.clone(),
            source,
        })?;
        Script::parse(&text).map_err(|reason| ScriptError::Invalid {
            path: shown,
            reason,
        })
    }

    pub fn parse(text: &str) -> Result<Script, String> {
        let mut script: Script = toml::from_str(text).map_err(|e| e.to_string())?;
        for step in &script.steps {
            let lobby = step.admit.is_some() || step.deny.is_some();
            let gesture = step.raise_hand.is_some() || step.react.is_some();
            let talk = step.action.is_some() || step.chat.is_some();
            if !talk && step.host.is_none() && !lobby && !gesture {
                return Err(format!(
                    "the step at {} s has neither an action, a chat nor a host action",
                    step.time
                ));
            }
            if !step.time.is_finite() || step.time < 0.0 {
                return Err(format!(
                    "step time {} must be zero or more seconds",
                    step.time
                ));
            }
        }
        script.steps.sort_by(|a, b| a.time.total_cmp(&b.time));
        Ok(script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_reads_as_written() {
        let script = Script::parse(
            r#"
[[at]]
time = 3.0
chat = "hello"
[[at]]
time = 1.5
action = "mute"
[[expect]]
participants_at_least = 2
[[expect]]
audio_from = { name = "Test Corporate", hz = 660 }
[[at]]
time = 4.0
host = { mute = "Test Corporate" }
[[at]]
time = 5.0
host = "lock"
[[expect]]
removed = true
"#,
        )
        .unwrap();
        let host = |i: usize| script.steps[i].host.clone();
        assert_eq!(host(2), Some(HostStep::Mute("Test Corporate".into())));
        assert_eq!(host(3), Some(HostStep::Lock));
        assert_eq!(script.expectations[2], Expectation::Removed(true));
        assert_eq!(script.steps[0].action, Some(Action::Mute), "sorted by time");
        assert_eq!(script.steps[1].chat.as_deref(), Some("hello"));
        assert_eq!(script.expectations[0], Expectation::ParticipantsAtLeast(2));
        assert_eq!(
            script.expectations[1].describe(),
            "660 Hz from Test Corporate"
        );
    }

    #[test]
    fn mistakes_are_named() {
        let err = Script::parse("[[at]]\ntime = 1\naction = \"dance\"\n").unwrap_err();
        assert!(err.contains("dance"), "{err}");
        let err = Script::parse("[[at]]\ntime = 1\n").unwrap_err();
        assert!(err.contains("neither"), "{err}");
        let err = Script::parse("[[expect]]\nvideo_frm = \"x\"\n").unwrap_err();
        assert!(err.contains("video_frm"), "{err}");
    }
}
