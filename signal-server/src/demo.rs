//! Demo data, seeded once with `--demo`: two organisations, a user in each,
//! and meetings a new user can join at once.

use crate::passwords;
use crate::store::{self, Db, StoreError, meetings, users};
use shared::api::Visibility;
use time::{Duration, OffsetDateTime, Time};

pub const DEMO_PASSWORD: &str = "password123";
pub const ALL_USERS_MEETING: &str = "All Users Weekly Sync";

/// (email, display name, organisation)
pub const DEMO_USERS: [(&str, &str, &str); 2] = [
    ("test@startup.com", "Test Startup", "Startup"),
    ("test@corporate.com", "Test Corporate", "Corporate"),
];

const SEEDED_FLAG: &str = "demo_seeded_at";

/// Seeds the demo data unless this database was seeded before. Returns whether it seeded.
pub fn seed_once(db: &Db) -> Result<bool, StoreError> {
    if db.call_blocking(|c| store::flag(c, SEEDED_FLAG))?.is_some() {
        return Ok(false);
    }
    // Hash before taking the database lock: argon2 is slow on purpose.
    let password_hash = passwords::hash(DEMO_PASSWORD);
    db.call_blocking(|conn| {
        let tx = conn.transaction()?;
        let today_9am =
            OffsetDateTime::now_utc().replace_time(Time::from_hms(9, 0, 0).expect("valid time"));
        let mut hosts = Vec::new();
        for (email, name, organisation) in DEMO_USERS {
            let org = match users::organisation_by_name(&tx, organisation)? {
                Some(id) => id,
                None => users::create_organisation(&tx, organisation)?,
            };
            let id = match users::id_by_email(&tx, email)? {
                Some(id) => id,
                None => users::create(&tx, email, name, &password_hash, Some(org))?,
            };
            hosts.push(users::get(&tx, id)?.expect("user just created"));
        }
        let (startup, corporate) = (&hosts[0], &hosts[1]);
        let demo_meetings = [
            (
                ALL_USERS_MEETING,
                startup,
                Visibility::AllUsers,
                today_9am,
                45,
            ),
            (
                "Startup Standup",
                startup,
                Visibility::Organisation,
                today_9am + Duration::hours(1),
                15,
            ),
            (
                "Corporate Quarterly Review",
                corporate,
                Visibility::Organisation,
                today_9am + Duration::hours(5),
                60,
            ),
        ];
        for (title, host, visibility, starts_at, duration_minutes) in demo_meetings {
            if meetings::id_by_title(&tx, title)?.is_none() {
                meetings::create(
                    &tx,
                    &meetings::NewMeeting {
                        title,
                        host,
                        starts_at,
                        duration_minutes,
                        visibility,
                        topology: shared::Topology::Mesh,
                        waiting_room: Default::default(),
                        invitees: &[],
                    },
                )?;
            }
        }
        store::set_flag(&tx, SEEDED_FLAG, &store::now_millis().to_string())?;
        tx.commit()?;
        Ok(true)
    })
}
