-- Per-user risk limits set through PUT /api/v1/risk/limits; users without a row get the configured defaults.
-- The operator's ceiling is configuration, applied when a limit is set and again when an order is checked.
CREATE TABLE IF NOT EXISTS risk_limits (
    user_id               uuid        PRIMARY KEY,
    max_order_notional    numeric     NOT NULL CHECK (max_order_notional >= 0),
    max_position_notional numeric     NOT NULL CHECK (max_position_notional >= 0),
    max_daily_loss        numeric     NOT NULL CHECK (max_daily_loss >= 0),
    max_open_orders       integer     NOT NULL CHECK (max_open_orders >= 0),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
