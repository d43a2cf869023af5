-- Users a host sent out of a meeting: refused at its door, even once its
-- room has emptied, until a host readmits them.
CREATE TABLE meeting_removals (
    meeting_id  INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    removed_at  INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
) WITHOUT ROWID;
