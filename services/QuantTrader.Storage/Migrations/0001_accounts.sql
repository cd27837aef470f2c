-- Users, their API keys (stored hashed: only the prefix is kept readable) and their plan.
CREATE TABLE IF NOT EXISTS users (
    id                 uuid PRIMARY KEY,
    email              text NOT NULL UNIQUE,
    plan               text NOT NULL DEFAULT 'free',
    stripe_customer_id text UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS api_keys (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    prefix     text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX IF NOT EXISTS api_keys_user ON api_keys (user_id);
