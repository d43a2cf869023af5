//! Getting back into the meeting after the signaling connection drops: retry
//! with backoff until the server answers, the server says no for good, or the
//! time runs out. Media between peers is not the server's business and keeps
//! flowing meanwhile.

use crate::error::{Error, Result};
use crate::signaling::{Joined, SignalSession};
use shared::{ErrorCode, MeetingId};
use std::time::{Duration, Instant};

/// Where to reconnect to, and as whom.
#[derive(Debug, Clone)]
pub struct RejoinTarget {
    pub ws_url: String,
    pub token: String,
    pub trust: crate::tls::Trust,
    pub meeting: MeetingId,
    /// The last welcome's resume token: back under the same peer id.
    pub resume: Option<String>,
}

/// How long to keep trying before the call ends. A server restart takes a
/// couple of seconds; a laptop changing networks may take tens.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

const FIRST_DELAY: Duration = Duration::from_millis(250);
const LONGEST_DELAY: Duration = Duration::from_secs(4);

/// Why rejoining stopped for good.
#[derive(Debug)]
pub enum RejoinFailure {
    /// The meeting is gone (deleted while we were away) or no longer ours to see.
    MeetingGone(Error),
    /// Anything else: the login was revoked, or the server stayed away too long.
    GaveUp(Error),
}

/// Connects, says hello and joins again, retrying what may pass.
pub async fn rejoin(
    target: &RejoinTarget,
    give_up_after: Duration,
) -> Result<(SignalSession, Joined), RejoinFailure> {
    let started = Instant::now();
    let mut delay = FIRST_DELAY;
    loop {
        tokio::time::sleep(delay).await;
        let attempt = async {
            let resume = target.resume.as_deref();
            let mut session =
                SignalSession::resume(&target.ws_url, &target.token, &target.trust, resume).await?;
            let joined = session.join(target.meeting).await?;
            Ok::<_, Error>((session, joined))
        };
        match attempt.await {
            Ok(rejoined) => return Ok(rejoined),
            Err(err) => match err.code() {
                Some(ErrorCode::NotFound | ErrorCode::Forbidden) => {
                    return Err(RejoinFailure::MeetingGone(err));
                }
                Some(ErrorCode::Unauthorized | ErrorCode::UnsupportedVersion) => {
                    return Err(RejoinFailure::GaveUp(err));
                }
                _ if started.elapsed() >= give_up_after => {
                    return Err(RejoinFailure::GaveUp(err));
                }
                _ => {
                    tracing::debug!("rejoin attempt failed: {err}");
                    delay = (delay * 2).min(LONGEST_DELAY);
                }
            },
        }
    }
}
