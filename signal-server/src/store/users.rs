//! Users and organisations.

use super::{Result, now_millis};
use rusqlite::{Connection, OptionalExtension, Row, params};
use shared::{Organisation, OrganisationId, User, UserId};

/// A user with the password hash, for login only.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

const USER_COLUMNS: &str = "u.id, u.email, u.name, o.id, o.name";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let organisation = match row.get::<_, Option<i64>>(3)? {
        Some(id) => Some(Organisation {
            id: OrganisationId(id),
            name: row.get(4)?,
        }),
        None => None,
    };
    Ok(User {
        id: UserId(row.get(0)?),
        email: row.get(1)?,
        name: row.get(2)?,
        organisation,
    })
}

pub fn get(conn: &Connection, id: UserId) -> Result<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id WHERE u.id = ?1"
    );
    Ok(conn.query_row(&sql, [id.0], user_from_row).optional()?)
}

/// Emails compare case-insensitively (the column is `COLLATE NOCASE`).
pub fn credentials_by_email(conn: &Connection, email: &str) -> Result<Option<Credentials>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, u.password_hash FROM users u
         LEFT JOIN organisations o ON o.id = u.organisation_id WHERE u.email = ?1"
    );
    Ok(conn
        .query_row(&sql, [email.trim()], |row| {
            Ok(Credentials {
                user: user_from_row(row)?,
                password_hash: row.get(5)?,
            })
        })
        .optional()?)
}

pub fn id_by_email(conn: &Connection, email: &str) -> Result<Option<UserId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM users WHERE email = ?1",
            [email.trim()],
            |row| row.get(0).map(UserId),
        )
        .optional()?)
}

/// Creates a user. Fails with a constraint error if the email is taken.
pub fn create(
    conn: &Connection,
    email: &str,
    name: &str,
    password_hash: &str,
    organisation: Option<OrganisationId>,
) -> Result<UserId> {
    conn.execute(
        "INSERT INTO users (email, name, password_hash, organisation_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![email.trim(), name.trim(), password_hash, organisation.map(|o| o.0), now_millis()],
    )?;
    Ok(UserId(conn.last_insert_rowid()))
}

pub fn rename(conn: &Connection, id: UserId, name: &str) -> Result<()> {
    conn.execute(
        "UPDATE users SET name = ?2 WHERE id = ?1",
        params![id.0, name.trim()],
    )?;
    Ok(())
}

pub fn organisation_by_name(conn: &Connection, name: &str) -> Result<Option<OrganisationId>> {
    Ok(conn
        .query_row(
            "SELECT id FROM organisations WHERE name = ?1",
            [name.trim()],
            |row| row.get(0).map(OrganisationId),
        )
        .optional()?)
}

pub fn create_organisation(conn: &Connection, name: &str) -> Result<OrganisationId> {
    conn.execute(
        "INSERT INTO organisations (name, created_at) VALUES (?1, ?2)",
        params![name.trim(), now_millis()],
    )?;
    Ok(OrganisationId(conn.last_insert_rowid()))
}

/// True when an insert failed because a unique value (email, organisation name) exists.
pub fn is_unique_violation(err: &super::StoreError) -> bool {
    matches!(
        err,
        super::StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}
