-- A counter that moves whenever a login may have ended: a session deleted or
-- changed, or a user removed, by this server or by anyone else (another
-- process, an administrator's shell). The server looks at its live logins
-- again only when it has moved, not whenever anything at all was written:
-- chat is written all the time.
CREATE TABLE login_changes (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO login_changes (id, generation) VALUES (1, 0);

CREATE TRIGGER login_changes_on_session_delete AFTER DELETE ON sessions
BEGIN
    UPDATE login_changes SET generation = generation + 1;
END;

CREATE TRIGGER login_changes_on_session_update AFTER UPDATE ON sessions
BEGIN
    UPDATE login_changes SET generation = generation + 1;
END;

CREATE TRIGGER login_changes_on_user_delete AFTER DELETE ON users
BEGIN
    UPDATE login_changes SET generation = generation + 1;
END;
