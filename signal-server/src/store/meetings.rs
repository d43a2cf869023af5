//! Scheduled meetings and who may see them.

use super::{Result, from_millis, now_millis, to_millis};
use rusqlite::{Connection, OptionalExtension, Row, params};
use shared::api::{UserRef, Visibility, WaitingRoom};
use shared::{MeetingId, Topology, User, UserId};
use time::OffsetDateTime;

/// A stored meeting; the HTTP layer adds how many are in its room now.
#[derive(Debug, Clone)]
pub struct MeetingRecord {
    pub id: MeetingId,
    pub title: String,
    pub host: UserRef,
    pub starts_at: OffsetDateTime,
    pub duration_minutes: u32,
    pub visibility: Visibility,
    pub topology: Topology,
    pub waiting_room: WaitingRoom,
}

pub struct NewMeeting<'a> {
    pub title: &'a str,
    pub host: &'a User,
    pub starts_at: OffsetDateTime,
    pub duration_minutes: u32,
    pub visibility: Visibility,
    pub topology: Topology,
    pub waiting_room: WaitingRoom,
    pub invitees: &'a [UserId],
}

fn visibility_name(v: Visibility) -> &'static str {
    match v {
        Visibility::Organisation => "organisation",
        Visibility::AllUsers => "all_users",
        Visibility::InviteOnly => "invite_only",
    }
}

fn visibility_from_name(name: &str) -> Visibility {
    match name {
        "all_users" => Visibility::AllUsers,
        "invite_only" => Visibility::InviteOnly,
        _ => Visibility::Organisation,
    }
}

const COLUMNS: &str = "m.id, m.title, m.host_id, h.name, m.starts_at, m.duration_minutes, \
     m.visibility, m.topology, m.waiting_room";

fn waiting_room_name(waiting_room: WaitingRoom) -> &'static str {
    match waiting_room {
        WaitingRoom::Off => "off",
        WaitingRoom::Uninvited => "uninvited",
        WaitingRoom::Everyone => "everyone",
    }
}

fn waiting_room_from_name(name: &str) -> WaitingRoom {
    match name {
        "uninvited" => WaitingRoom::Uninvited,
        "everyone" => WaitingRoom::Everyone,
        _ => WaitingRoom::Off,
    }
}

fn topology_name(topology: Topology) -> &'static str {
    match topology {
        Topology::Mesh => "mesh",
        Topology::Sfu => "sfu",
    }
}

/// The rule for who may see (and so join) a meeting, as SQL over `m` and `?1` = user id, `?2` = organisation id.
const VISIBLE_TO_USER: &str = "(m.host_id = ?1
     OR m.visibility = 'all_users'
     OR (m.visibility = 'organisation' AND m.organisation_id IS NOT NULL AND m.organisation_id = ?2)
     OR EXISTS (SELECT 1 FROM meeting_invitees i WHERE i.meeting_id = m.id AND i.user_id = ?1))";

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<MeetingRecord> {
    Ok(MeetingRecord {
        id: MeetingId(row.get(0)?),
        title: row.get(1)?,
        host: UserRef {
            id: UserId(row.get(2)?),
            name: row.get(3)?,
        },
        starts_at: from_millis(row.get(4)?),
        duration_minutes: row.get(5)?,
        visibility: visibility_from_name(&row.get::<_, String>(6)?),
        topology: match row.get::<_, String>(7)?.as_str() {
            "sfu" => Topology::Sfu,
            _ => Topology::Mesh,
        },
        waiting_room: waiting_room_from_name(&row.get::<_, String>(8)?),
    })
}

/// Stores a meeting and its invitees; run it inside a transaction.
pub fn create(tx: &Connection, new: &NewMeeting<'_>) -> Result<MeetingId> {
    tx.execute(
        "INSERT INTO meetings (title, host_id, organisation_id, visibility, starts_at, duration_minutes, created_at, topology, waiting_room)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            new.title.trim(),
            new.host.id.0,
            new.host.organisation.as_ref().map(|o| o.id.0),
            visibility_name(new.visibility),
            to_millis(new.starts_at),
            new.duration_minutes,
            now_millis(),
            topology_name(new.topology),
            waiting_room_name(new.waiting_room)
        ],
    )?;
    let id = MeetingId(tx.last_insert_rowid());
    for invitee in new.invitees {
        tx.execute(
            "INSERT OR IGNORE INTO meeting_invitees (meeting_id, user_id) VALUES (?1, ?2)",
            params![id.0, invitee.0],
        )?;
    }
    Ok(id)
}

/// Meetings the user may see, by start time.
pub fn list_visible(conn: &Connection, user: &User) -> Result<Vec<MeetingRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM meetings m JOIN users h ON h.id = m.host_id
         WHERE {VISIBLE_TO_USER} ORDER BY m.starts_at, m.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![user.id.0, user.organisation.as_ref().map(|o| o.id.0)],
        record_from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Whether a meeting exists, and if so whether this user may see it.
pub enum Lookup {
    Missing,
    Hidden,
    Visible(MeetingRecord),
}

pub fn lookup(conn: &Connection, id: MeetingId, user: &User) -> Result<Lookup> {
    let sql = format!(
        "SELECT {COLUMNS}, {VISIBLE_TO_USER} FROM meetings m JOIN users h ON h.id = m.host_id WHERE m.id = ?3"
    );
    let found = conn
        .query_row(
            &sql,
            params![user.id.0, user.organisation.as_ref().map(|o| o.id.0), id.0],
            |row| Ok((record_from_row(row)?, row.get::<_, bool>(9)?)),
        )
        .optional()?;
    Ok(match found {
        None => Lookup::Missing,
        Some((_, false)) => Lookup::Hidden,
        Some((record, true)) => Lookup::Visible(record),
    })
}

/// Whether `user` counts as invited to `meeting` (for its waiting room):
/// its host, an invitee, or, for a meeting of the organisation, a member.
pub fn is_invited(conn: &Connection, meeting: MeetingId, user: &User) -> Result<bool> {
    let invited = conn.query_row(
        "SELECT m.host_id = ?1
             OR (m.visibility = 'organisation' AND m.organisation_id IS NOT NULL AND m.organisation_id = ?2)
             OR EXISTS (SELECT 1 FROM meeting_invitees i WHERE i.meeting_id = m.id AND i.user_id = ?1)
         FROM meetings m WHERE m.id = ?3",
        params![user.id.0, user.organisation.as_ref().map(|o| o.id.0), meeting.0],
        |row| row.get(0),
    );
    // No such meeting: nobody is invited to it.
    Ok(invited.optional()?.unwrap_or(false))
}

pub fn exists(conn: &Connection, id: MeetingId) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM meetings WHERE id = ?1)",
        [id.0],
        |row| row.get(0),
    )?)
}

pub fn delete(conn: &Connection, id: MeetingId) -> Result<bool> {
    Ok(conn.execute("DELETE FROM meetings WHERE id = ?1", [id.0])? > 0)
}

/// Finds a meeting by exact title (used by the demo seed).
pub fn id_by_title(conn: &Connection, title: &str) -> Result<Option<MeetingId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM meetings WHERE title = ?1 ORDER BY id LIMIT 1",
            [title],
            |row| row.get(0).map(MeetingId),
        )
        .optional()?)
}

/// How many meetings `host` created since `since_ms`.
pub fn created_by_since(conn: &Connection, host: UserId, since_ms: i64) -> Result<u32> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM meetings WHERE host_id = ?1 AND created_at >= ?2",
        params![host.0, since_ms],
        |row| row.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Db, users};

    struct World {
        _dir: tempfile::TempDir,
        db: Db,
    }

    fn world() -> World {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("h.db")).unwrap();
        World { _dir: dir, db }
    }

    fn user(conn: &Connection, email: &str, org: Option<&str>) -> User {
        let org = org.map(
            |name| match users::organisation_by_name(conn, name).unwrap() {
                Some(id) => id,
                None => users::create_organisation(conn, name).unwrap(),
            },
        );
        let id = users::create(conn, email, email, "hash", org).unwrap();
        users::get(conn, id).unwrap().unwrap()
    }

    fn meeting(
        conn: &Connection,
        title: &str,
        host: &User,
        visibility: Visibility,
        invitees: &[UserId],
    ) -> MeetingId {
        create(
            conn,
            &NewMeeting {
                title,
                host,
                starts_at: OffsetDateTime::now_utc(),
                duration_minutes: 30,
                visibility,
                topology: Topology::Mesh,
                waiting_room: Default::default(),
                invitees,
            },
        )
        .unwrap()
    }

    fn titles(conn: &Connection, user: &User) -> Vec<String> {
        list_visible(conn, user)
            .unwrap()
            .into_iter()
            .map(|m| m.title)
            .collect()
    }

    #[test]
    fn who_sees_which_meeting() {
        let w = world();
        w.db.call_blocking(|conn| {
            let ann = user(conn, "ann@a.org", Some("A"));
            let amy = user(conn, "amy@a.org", Some("A"));
            let bob = user(conn, "bob@b.org", Some("B"));
            let lone = user(conn, "lone@x.org", None);
            meeting(conn, "A team", &ann, Visibility::Organisation, &[]);
            meeting(conn, "Everyone", &bob, Visibility::AllUsers, &[]);
            meeting(conn, "Secret", &ann, Visibility::InviteOnly, &[]);
            let invited = meeting(
                conn,
                "A with guest",
                &ann,
                Visibility::Organisation,
                &[lone.id],
            );
            assert_eq!(
                titles(conn, &ann),
                ["A team", "Everyone", "Secret", "A with guest"]
            );
            assert_eq!(
                titles(conn, &amy),
                ["A team", "Everyone", "A with guest"],
                "not the host's secret"
            );
            assert_eq!(titles(conn, &bob), ["Everyone"]);
            assert_eq!(titles(conn, &lone), ["Everyone", "A with guest"], "invited");
            assert!(matches!(
                lookup(conn, invited, &bob).unwrap(),
                Lookup::Hidden
            ));
            assert!(matches!(
                lookup(conn, invited, &lone).unwrap(),
                Lookup::Visible(_)
            ));
            assert!(matches!(
                lookup(conn, MeetingId(999), &ann).unwrap(),
                Lookup::Missing
            ));
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_user_without_organisation_does_not_see_other_orgless_meetings() {
        let w = world();
        w.db.call_blocking(|conn| {
            let one = user(conn, "one@x.org", None);
            let two = user(conn, "two@x.org", None);
            meeting(conn, "Mine", &one, Visibility::Organisation, &[]);
            assert_eq!(titles(conn, &two), Vec::<String>::new());
            Ok(())
        })
        .unwrap();
    }
}
