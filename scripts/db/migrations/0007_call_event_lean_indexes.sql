-- The call log keeps only the index entries its lookups use. Each call writes about seven
-- events, and every index entry of every event cost PostgreSQL about a microsecond or more: with
-- the primary key, event_uid, three identifier indexes and `at`, the call log was the largest
-- cost of a busy ESRP's peers (scripts/bench/esrp/README.md).
--
-- * The emergency call id and the incident id are the same on every event of a call, and the
--   ESRP writes both on the call's call_start (it makes them when the caller sent none, NENA i3).
--   A story by either id finds the call's Call-IDs through the call_start rows, then every event
--   by Call-ID (ng911-calllog), so only call_start rows need those two entries.
-- * `at` is sorted on only by the recent-calls list, which lists call_start rows.
-- * Nothing looks an event up by `id`: it orders events of the same instant in the order they
--   reached the log, and stays filled by its sequence. event_uid is the key (the spool's replay
--   relies on its uniqueness), and it is an identifier, compared byte by byte (COLLATE "C").
DROP INDEX esrp.call_event_emergency_call_id_idx;
DROP INDEX esrp.call_event_incident_id_idx;
DROP INDEX esrp.call_event_at_idx;
CREATE INDEX call_event_start_emergency_call_id_idx ON esrp.call_event USING hash (emergency_call_id)
    WHERE kind = 'call_start';
CREATE INDEX call_event_start_incident_id_idx ON esrp.call_event USING hash (incident_id)
    WHERE kind = 'call_start';
CREATE INDEX call_event_start_at_idx ON esrp.call_event (at, id) WHERE kind = 'call_start';
ALTER TABLE esrp.call_event DROP CONSTRAINT call_event_pkey;
ALTER TABLE esrp.call_event DROP CONSTRAINT call_event_event_uid_key;
ALTER TABLE esrp.call_event ALTER COLUMN event_uid TYPE text COLLATE "C";
ALTER TABLE esrp.call_event ADD CONSTRAINT call_event_pkey PRIMARY KEY (event_uid);
