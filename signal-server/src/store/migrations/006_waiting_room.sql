-- Who waits in a meeting's lobby until a host lets them in: 'off',
-- 'uninvited' or 'everyone' (see shared::api::WaitingRoom).
ALTER TABLE meetings ADD COLUMN waiting_room TEXT NOT NULL DEFAULT 'off';
