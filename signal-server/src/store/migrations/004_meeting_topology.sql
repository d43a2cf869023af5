-- How a meeting's media travels from its first join: 'mesh' (moved to the
-- SFU past [sfu] mesh_max) or 'sfu' (on the SFU from the start).
ALTER TABLE meetings ADD COLUMN topology TEXT NOT NULL DEFAULT 'mesh';
