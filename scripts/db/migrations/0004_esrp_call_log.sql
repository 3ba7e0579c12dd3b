-- The ESRP's call log (the NENA i3 logging service): every step of every call, append-only.
--
-- Rows come from ng911_esrp_calllog's writer, which spools each event to disk first and may
-- send it again after a restart; event_uid (ESRP id, boot id, sequence) makes that replay
-- idempotent (INSERT ... ON CONFLICT (event_uid) DO NOTHING). `at` is when the event
-- happened at the ESRP; logged_at when the row reached the database, which can be much later
-- if PostgreSQL was down. The call's three identifiers are NULL when the event had none.
CREATE SCHEMA IF NOT EXISTS esrp;

CREATE TABLE esrp.call_event (
    id                bigserial   PRIMARY KEY,
    event_uid         text        NOT NULL UNIQUE,
    esrp_id           text        NOT NULL,
    at                timestamptz NOT NULL,
    logged_at         timestamptz NOT NULL DEFAULT now(),
    sip_call_id       text,
    emergency_call_id text,       -- urn:emergency:uid:callid:...
    incident_id       text,       -- urn:emergency:uid:incidentid:...
    kind              text        NOT NULL CHECK (kind <> ''),
    detail            jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX call_event_sip_call_id_idx ON esrp.call_event (sip_call_id);
CREATE INDEX call_event_emergency_call_id_idx ON esrp.call_event (emergency_call_id);
CREATE INDEX call_event_incident_id_idx ON esrp.call_event (incident_id);
CREATE INDEX call_event_at_idx ON esrp.call_event (at);

-- A log that can be edited is no evidence. Retention is a deliberate act of the operator
-- (ALTER TABLE ... DISABLE TRIGGER, or dropping a whole partition once there are partitions),
-- never something a program does by accident.
CREATE FUNCTION esrp.refuse_call_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'esrp.call_event is append-only (i3 call log): % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'log events are never changed or removed; add a new event instead';
END;
$$;
CREATE TRIGGER call_event_append_only BEFORE UPDATE OR DELETE ON esrp.call_event
    FOR EACH ROW EXECUTE FUNCTION esrp.refuse_call_event_change();
CREATE TRIGGER call_event_no_truncate BEFORE TRUNCATE ON esrp.call_event
    FOR EACH STATEMENT EXECUTE FUNCTION esrp.refuse_call_event_change();
