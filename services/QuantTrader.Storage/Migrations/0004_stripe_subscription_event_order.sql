-- Stripe delivers events out of order (and retries them late): per subscription, the creation time of the newest
-- event applied, so an older event — a late customer.subscription.updated after ...deleted — never overrides a newer
-- state. A deleted (canceled) subscription is final: Stripe never reactivates one, a new subscription has a new id.
CREATE TABLE IF NOT EXISTS stripe_subscriptions (
    subscription_id    text PRIMARY KEY,
    user_id            uuid REFERENCES users (id) ON DELETE CASCADE,
    last_event_id      text NOT NULL,
    last_event_type    text NOT NULL,
    last_event_created timestamptz NOT NULL,
    ended              boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
