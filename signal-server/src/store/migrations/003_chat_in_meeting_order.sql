-- Chat kept in meeting order: the table is keyed by (meeting, id), so a
-- message is one row in one page (there is no separate index to update: a
-- commit writes half the pages it did) and a meeting's history is read from
-- neighbouring rows. Ids stay unique and increasing across all meetings; the
-- server hands them out (it reads the largest at start-up).
CREATE TABLE chat_in_meeting_order (
    meeting_id  INTEGER NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
    id          INTEGER NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    text        TEXT NOT NULL,
    sent_at     INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, id)
) WITHOUT ROWID;
INSERT INTO chat_in_meeting_order (meeting_id, id, user_id, name, text, sent_at)
    SELECT meeting_id, id, user_id, name, text, sent_at FROM chat_messages;
DROP TABLE chat_messages;
ALTER TABLE chat_in_meeting_order RENAME TO chat_messages;
