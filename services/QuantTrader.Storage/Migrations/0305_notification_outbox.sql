-- The durable notification outbox (docs/notifications.md): one row per (event, channel) delivery, inserted in the same
-- statement that records the event (an alert firing: RuleStore.RecordFiringAsync), so a delivery exists exactly when
-- its event does, and a kill -9 at any point loses none. Delivery workers of any replica claim due rows with
-- FOR UPDATE SKIP LOCKED; a claim is a lease: a claimed row whose worker died is due again at next_attempt_at.
--
-- id is the idempotency key: a name-based UUID of the event id and the channel (NotificationKeys), the same on every
-- attempt and every resend, sent as the Idempotency-Key header and signed in the body; receivers de-duplicate on it.
-- A step replayed after a hand-over computes the same key and inserts nothing (ON CONFLICT DO NOTHING).
CREATE TABLE IF NOT EXISTS notification_outbox (
    id               uuid        PRIMARY KEY,
    user_id          uuid        NOT NULL,
    event_id         uuid        NOT NULL,                 -- what notifies: the alert firing's event id
    kind             text        NOT NULL,                 -- alert.fired (later: order.filled, …)
    channel          text        NOT NULL,                 -- webhook (later: telegram, discord, slack, email)
    target           text        NOT NULL,                 -- where, in the channel's terms: the webhook URL
    destination      text        NOT NULL,                 -- fairness key (queue, concurrency, breaker): host:port
    market_partition smallint,                             -- the partition of the rule that fired (informational)
    payload          jsonb       NOT NULL,                 -- what to say, channel-independent
    status           text        NOT NULL DEFAULT 'pending', -- pending | delivering | delivered | failed
    attempts         integer     NOT NULL DEFAULT 0,       -- attempts started, over the row's whole life
    max_attempts     integer     NOT NULL,                 -- failed once attempts reaches it; a resend raises it
    -- pending: when the next attempt is due; delivering: when the claim lapses and the row is due again.
    next_attempt_at  timestamptz NOT NULL,
    claimed_by       text,                                 -- the replica (instance name) holding the claim
    claim_token      uuid,                                 -- one claim: a worker acts on the row only while it is its own
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz
);
CREATE INDEX IF NOT EXISTS notification_outbox_due ON notification_outbox (next_attempt_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX IF NOT EXISTS notification_outbox_user ON notification_outbox (user_id, status, created_at);
CREATE INDEX IF NOT EXISTS notification_outbox_claimer ON notification_outbox (claimed_by) WHERE status = 'delivering';

-- Attempts of outbox deliveries are recorded where webhook attempts always were, now naming their delivery.
ALTER TABLE alert_webhook_deliveries ADD COLUMN IF NOT EXISTS notification_id uuid;
CREATE INDEX IF NOT EXISTS alert_webhook_deliveries_notification ON alert_webhook_deliveries (notification_id, attempt);
