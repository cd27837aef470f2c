-- Alert rules, their firings and webhook deliveries (owned by the alert service, docs/alerts.md).
-- alert_firings is the alert service's own, authoritative record of what fired: it is written in the same
-- transaction that disarms the rule (so a restart never re-fires a once-alert) and doubles as the outbox for
-- publishing on alerts.fired.{userId}. GET /api/v1/alerts/events reads it. Persistence's alert_events (the bus
-- archive) is a copy of the same events keyed by the same event id.
CREATE TABLE IF NOT EXISTS alert_rules (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL,
    exchange         text        NOT NULL,
    symbol           text        NOT NULL,
    condition        jsonb       NOT NULL,
    webhook_url      text,
    repeat           text        NOT NULL,
    cooldown_seconds integer     NOT NULL DEFAULT 0,
    status           text        NOT NULL DEFAULT 'active', -- active | fired (a once-rule that fired)
    armed            boolean     NOT NULL DEFAULT true,
    last_fired_at    timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alert_rules_user ON alert_rules (user_id, created_at);
CREATE INDEX IF NOT EXISTS alert_rules_active ON alert_rules (status) WHERE status = 'active';

-- One webhook signing secret per user, created with the user's first webhook rule.
CREATE TABLE IF NOT EXISTS alert_webhook_secrets (
    user_id    uuid        PRIMARY KEY,
    secret     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS alert_firings (
    event_id     uuid        PRIMARY KEY,
    alert_id     uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    exchange     text        NOT NULL,
    symbol       text        NOT NULL,
    time         timestamptz NOT NULL,
    price        numeric     NOT NULL,
    value        numeric,
    message      text        NOT NULL,
    webhook_url  text,
    published    boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alert_firings_user_time ON alert_firings (user_id, time);
CREATE INDEX IF NOT EXISTS alert_firings_unpublished ON alert_firings (created_at) WHERE NOT published;

-- Every webhook attempt; the last failed try of an event is marked dead_letter (and published on deadletter.alert-webhook).
CREATE TABLE IF NOT EXISTS alert_webhook_deliveries (
    id           bigserial   PRIMARY KEY,
    event_id     uuid        NOT NULL,
    attempt      integer     NOT NULL,
    time         timestamptz NOT NULL DEFAULT now(),
    status_code  integer,
    error        text,
    succeeded    boolean     NOT NULL,
    dead_letter  boolean     NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS alert_webhook_deliveries_event ON alert_webhook_deliveries (event_id, attempt);
