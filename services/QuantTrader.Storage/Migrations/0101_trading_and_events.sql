-- What the persistence service stores from the TRADING and ALERTS streams, plus the analytics service's equity
-- curve. Enums are stored exactly as on the wire (snake_case: 'buy', 'stop_limit', 'partially_filled').
-- No foreign keys to users: events are stored as they come, in whatever order the streams deliver them.

-- The latest state of each order (upserted from trading.order.* events; an older event never overwrites a newer one).
CREATE TABLE IF NOT EXISTS orders (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL,
    client_order_id text,
    strategy_id     uuid,
    exchange        text        NOT NULL,
    symbol          text        NOT NULL,
    side            text        NOT NULL,
    type            text        NOT NULL,
    time_in_force   text        NOT NULL,
    quantity        numeric     NOT NULL,
    price           numeric,
    stop_price      numeric,
    status          text        NOT NULL,
    filled_quantity numeric     NOT NULL,
    average_price   numeric     NOT NULL,
    fees            numeric     NOT NULL,
    reject_reason   text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_user_created ON orders (user_id, created_at);
CREATE INDEX IF NOT EXISTS orders_strategy ON orders (strategy_id) WHERE strategy_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS fills (
    id          uuid        PRIMARY KEY,
    order_id    uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    strategy_id uuid,
    exchange    text        NOT NULL,
    symbol      text        NOT NULL,
    side        text        NOT NULL,
    price       numeric     NOT NULL,
    quantity    numeric     NOT NULL,
    fee         numeric     NOT NULL,
    fee_asset   text        NOT NULL,
    liquidity   text        NOT NULL,
    trade_id    bigint      NOT NULL,
    time        timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS fills_user_time ON fills (user_id, time);
CREATE INDEX IF NOT EXISTS fills_order ON fills (order_id);

CREATE TABLE IF NOT EXISTS alert_events (
    event_id uuid        PRIMARY KEY,
    alert_id uuid        NOT NULL,
    user_id  uuid        NOT NULL,
    exchange text        NOT NULL,
    symbol   text        NOT NULL,
    time     timestamptz NOT NULL,
    price    numeric     NOT NULL,
    value    numeric,
    message  text        NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_events_user_time ON alert_events (user_id, time);
CREATE INDEX IF NOT EXISTS alert_events_alert_time ON alert_events (alert_id, time);

-- Mark-to-market equity of each user's paper account (analytics writes it every minute and on every fill).
CREATE TABLE IF NOT EXISTS equity_snapshots (
    user_id uuid        NOT NULL,
    time    timestamptz NOT NULL,
    equity  numeric     NOT NULL,
    PRIMARY KEY (user_id, time)
);
