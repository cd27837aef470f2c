-- Stripe webhook events already handled: a replayed event id changes nothing.
CREATE TABLE IF NOT EXISTS stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Plan changes are kept, so a user (and support) can see why the plan is what it is.
CREATE TABLE IF NOT EXISTS plan_changes (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    from_plan  text NOT NULL,
    to_plan    text NOT NULL,
    reason     text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
