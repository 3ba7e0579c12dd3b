-- The call log's identifier indexes become hash indexes. Every lookup by Call-ID, emergency
-- call id or incident id is an equality (ng911-calllog's stories, the recent-calls list),
-- and the values are random text, so each B-tree insert landed on a random leaf page of three
-- growing trees for every one of the ~7 events of a call. A hash index stores the 4-byte hash
-- in a bucket: COPY of 140,000 call log rows took PostgreSQL 13 instead of 15.5 us a row
-- (scripts/bench/esrp/README.md). `at` keeps its B-tree: it is ordered and always appended to.
DROP INDEX esrp.call_event_sip_call_id_idx;
DROP INDEX esrp.call_event_emergency_call_id_idx;
DROP INDEX esrp.call_event_incident_id_idx;
CREATE INDEX call_event_sip_call_id_idx ON esrp.call_event USING hash (sip_call_id);
CREATE INDEX call_event_emergency_call_id_idx ON esrp.call_event USING hash (emergency_call_id);
CREATE INDEX call_event_incident_id_idx ON esrp.call_event USING hash (incident_id);
