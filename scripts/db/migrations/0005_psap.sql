-- The PSAP endpoint (ng911-psap): its calls, their history, text conversations, the
-- call-takers and their sessions, and an audit log of every action taken through the console.
--
-- ng911-psap keeps the live state of a call in memory and writes each change here as it
-- happens, so that a restart loses no call: calls still open when the process stopped are
-- marked 'interrupted' on the next start (psap.call.state), with an event saying so.
CREATE SCHEMA IF NOT EXISTS psap;

CREATE TABLE psap.call (
    id                bigserial   PRIMARY KEY,
    kind              text        NOT NULL CHECK (kind IN ('voice', 'text')),
    queue_uri         text        NOT NULL,
    sip_call_id       text        NOT NULL,
    state             text        NOT NULL CHECK (state IN ('ringing', 'answered', 'on_hold', 'ended',
                                                            'abandoned', 'transferred', 'interrupted')),
    caller_uri        text        NOT NULL DEFAULT '',
    caller_name       text        NOT NULL DEFAULT '',
    callback          text        NOT NULL DEFAULT '',   -- the number or URI to call back
    service           text        NOT NULL DEFAULT '',   -- urn:service:sos[.police|.fire|.ambulance]
    emergency_call_id text,                              -- Call-Info purpose=emergency-CallId
    incident_id       text,                              -- Call-Info purpose=emergency-IncidentId
    location          jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- the call view's location
    additional_data   jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- Call-Info purposes with their URIs
    history           jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- History-Info entries (the routes)
    answered_by       text,
    arrived_at        timestamptz NOT NULL DEFAULT now(),
    answered_at       timestamptz,
    ended_at          timestamptz,
    end_reason        text
);
CREATE INDEX call_state_idx ON psap.call (state) WHERE state IN ('ringing', 'answered', 'on_hold');
CREATE INDEX call_arrived_idx ON psap.call (arrived_at);
CREATE INDEX call_sip_call_id_idx ON psap.call (sip_call_id);

-- What happened to a call, in order: arrival, ringing, answer, hold, transfer attempts and
-- their outcome, rebids, the end. Never changed, only appended.
CREATE TABLE psap.call_event (
    id      bigserial   PRIMARY KEY,
    call_id bigint      NOT NULL REFERENCES psap.call (id),
    at      timestamptz NOT NULL DEFAULT now(),
    kind    text        NOT NULL CHECK (kind <> ''),
    actor   text,       -- the call-taker, or NULL for the caller / the network
    detail  jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX call_event_call_idx ON psap.call_event (call_id, id);

CREATE TABLE psap.text_message (
    id        bigserial   PRIMARY KEY,
    call_id   bigint      NOT NULL REFERENCES psap.call (id),
    at        timestamptz NOT NULL DEFAULT now(),
    direction text        NOT NULL CHECK (direction IN ('in', 'out')),
    sender    text        NOT NULL,
    body      text        NOT NULL,
    status    text        NOT NULL DEFAULT 'received'   -- out: sending, delivered, failed
);
CREATE INDEX text_message_call_idx ON psap.text_message (call_id, id);

CREATE TABLE psap.app_user (
    name          text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9._-]{1,64}$'),
    role          text        NOT NULL CHECK (role IN ('call-taker', 'supervisor')),
    password_hash text        NOT NULL,  -- "pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX"
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled      boolean     NOT NULL DEFAULT false
);

-- A session token is stored hashed (SHA-256): reading this table does not let anyone log in.
CREATE TABLE psap.session (
    token_sha256 text        PRIMARY KEY,
    user_name    text        NOT NULL REFERENCES psap.app_user (name),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);

-- Every action, allowed or refused, with who asked and what came of it. Append-only.
CREATE TABLE psap.audit_log (
    id        bigserial   PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    user_name text,
    action    text        NOT NULL,
    call_id   bigint,
    outcome   text        NOT NULL,   -- ok, or the HTTP status and error refused with
    detail    jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON psap.audit_log (at);

CREATE FUNCTION psap.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER call_event_append_only BEFORE UPDATE OR DELETE ON psap.call_event
    FOR EACH ROW EXECUTE FUNCTION psap.refuse_change();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON psap.audit_log
    FOR EACH ROW EXECUTE FUNCTION psap.refuse_change();
