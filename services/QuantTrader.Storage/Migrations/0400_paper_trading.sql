-- Paper trading state, owned by the paper engine. The engine keeps its books in memory (one writer) and writes
-- every change that a client or a fill depends on here, in one transaction per change, before it acknowledges it:
-- this is what comes back after kill -9 (docs/paper-trading.md). Money is numeric, never floating point.

CREATE TABLE IF NOT EXISTS paper_accounts (
    user_id        uuid        PRIMARY KEY,
    maker_fee_rate numeric     NOT NULL,
    taker_fee_rate numeric     NOT NULL,
    -- Positions (average cost, fees included) and realized PnL per UTC day: QuantTrader.Trading's PortfolioSnapshot.
    portfolio      jsonb       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS paper_balances (
    user_id   uuid    NOT NULL REFERENCES paper_accounts (user_id),
    asset     text    NOT NULL,
    free      numeric NOT NULL CHECK (free >= 0),
    locked    numeric NOT NULL CHECK (locked >= 0),
    fees_paid numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, asset)
);

-- What each open order still locks (the sum per user and asset equals paper_balances.locked).
CREATE TABLE IF NOT EXISTS paper_reservations (
    order_id uuid    PRIMARY KEY,
    user_id  uuid    NOT NULL,
    asset    text    NOT NULL,
    amount   numeric NOT NULL CHECK (amount >= 0)
);

CREATE TABLE IF NOT EXISTS paper_orders (
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
    updated_at      timestamptz NOT NULL,
    -- Incremented on every change; the published event's Nats-Msg-Id is {id}:{version}.
    version         integer     NOT NULL
);
-- clientOrderId makes submission idempotent per user.
CREATE UNIQUE INDEX IF NOT EXISTS paper_orders_client_order_id ON paper_orders (user_id, client_order_id) WHERE client_order_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS paper_orders_user_created ON paper_orders (user_id, created_at);

CREATE TABLE IF NOT EXISTS paper_fills (
    id          uuid        PRIMARY KEY, -- derived from (order id, trade id): a replayed print cannot fill twice
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
CREATE INDEX IF NOT EXISTS paper_fills_user_time ON paper_fills (user_id, time);

-- One matching book per exchange and symbol: its open orders with their matching state, last trade, recently
-- processed trade ids, and the MARKET_RAW stream sequence of the last trade applied to it (the watermark the
-- engine resumes after).
CREATE TABLE IF NOT EXISTS paper_books (
    exchange        text        NOT NULL,
    symbol          text        NOT NULL,
    stream_sequence bigint      NOT NULL,
    snapshot        jsonb       NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange, symbol)
);

-- Transactional outbox: events written with the state change, published to TRADING afterwards (Nats-Msg-Id
-- de-duplicates a re-publish after a crash), then deleted.
CREATE TABLE IF NOT EXISTS paper_outbox (
    id         bigserial PRIMARY KEY,
    subject    text      NOT NULL,
    message_id text      NOT NULL,
    payload    bytea     NOT NULL
);
