//! Meetings in time as a person sees them: in their own time zone, those
//! on now and those starting soon first.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use shared::api::Meeting;

/// How soon "starting soon" is.
const SOON_SECONDS: i64 = 60 * 60;

/// Where a meeting is in time, in the order the dashboard lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum When {
    Now,
    Soon,
    Later,
    Over,
}

impl When {
    pub fn of(meeting: &Meeting, now: Timestamp) -> When {
        let now = now.as_second();
        let starts = meeting.starts_at.unix_timestamp();
        let ends = starts + i64::from(meeting.duration_minutes) * 60;
        if now >= ends {
            When::Over
        } else if now >= starts {
            When::Now
        } else if starts - now <= SOON_SECONDS {
            When::Soon
        } else {
            When::Later
        }
    }

    /// The word shown beside the meeting, if any.
    pub fn tag(self) -> &'static str {
        match self {
            When::Now => "Now",
            When::Soon => "Starting soon",
            When::Later | When::Over => "",
        }
    }
}

/// The meetings in the order to list them: on now, starting soon, later
/// (each by start), and those over last.
pub fn in_order(meetings: &[Meeting], now: Timestamp) -> Vec<(&Meeting, When)> {
    let mut listed: Vec<(&Meeting, When)> =
        meetings.iter().map(|m| (m, When::of(m, now))).collect();
    listed.sort_by_key(|(m, when)| (*when, m.starts_at, m.id));
    listed
}

/// When it starts, in `zone`: "Mon 7 Dec 14:30 (45 min)".
pub fn local_start(meeting: &Meeting, zone: &TimeZone) -> String {
    let Ok(starts) = Timestamp::from_second(meeting.starts_at.unix_timestamp()) else {
        return String::new();
    };
    let local = starts.to_zoned_datetime(zone.clone());
    format!(
        "{} ({} min)",
        local.strftime("%a %-d %b %H:%M"),
        meeting.duration_minutes
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::api::{UserRef, Visibility};
    use shared::{MeetingId, UserId};

    fn meeting(id: i64, starts_unix: i64, minutes: u32) -> Meeting {
        Meeting {
            id: MeetingId(id),
            title: format!("M{id}"),
            host: UserRef {
                id: UserId(1),
                name: "Ann".into(),
            },
            starts_at: time::OffsetDateTime::from_unix_timestamp(starts_unix).unwrap(),
            duration_minutes: minutes,
            visibility: Visibility::AllUsers,
            participants_now: 0,
            people_now: vec![],
            topology: Default::default(),
            waiting_room: Default::default(),
        }
    }

    #[test]
    fn on_now_and_starting_soon_come_first_and_those_over_last() {
        let now = Timestamp::from_second(1_000_000).unwrap();
        let meetings = [
            meeting(1, 1_000_000 - 7_200, 30),  // over
            meeting(2, 1_000_000 + 86_400, 30), // tomorrow
            meeting(3, 1_000_000 + 1_800, 30),  // in half an hour
            meeting(4, 1_000_000 - 600, 30),    // on now
        ];
        let order: Vec<(i64, When)> = in_order(&meetings, now)
            .into_iter()
            .map(|(m, when)| (m.id.0, when))
            .collect();
        assert_eq!(
            order,
            [
                (4, When::Now),
                (3, When::Soon),
                (2, When::Later),
                (1, When::Over)
            ]
        );
    }

    #[test]
    fn a_start_is_shown_in_the_local_zone() {
        // 2026-12-07 09:00 UTC.
        let nine_utc = meeting(1, 1_796_634_000, 45);
        let india = TimeZone::fixed(jiff::tz::Offset::from_seconds(5 * 3600 + 1800).unwrap());
        assert_eq!(
            local_start(&nine_utc, &TimeZone::UTC),
            "Mon 7 Dec 09:00 (45 min)"
        );
        assert_eq!(local_start(&nine_utc, &india), "Mon 7 Dec 14:30 (45 min)");
    }
}
