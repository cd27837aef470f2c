-- History imports (POST /api/v1/imports): one row per uploaded Binance public-data CSV, owned by the user who sent it.
-- rows = rows published (trades) or stored (klines); rejected_rows = rows skipped as malformed; first_error names the
-- first of them with its line number.
CREATE TABLE IF NOT EXISTS market_imports (
    id            uuid PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exchange      text        NOT NULL,
    symbol        text        NOT NULL,
    format        text        NOT NULL,
    status        text        NOT NULL,
    rows          bigint      NOT NULL DEFAULT 0,
    rejected_rows bigint      NOT NULL DEFAULT 0,
    first_error   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT market_imports_status CHECK (status IN ('queued', 'running', 'completed', 'failed'))
);
CREATE INDEX IF NOT EXISTS market_imports_user ON market_imports (user_id, created_at);
