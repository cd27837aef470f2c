-- User strategies (WebAssembly modules) and what the runner records about them.
-- The module is stored as uploaded (binary .wasm or WAT text) so a restart recompiles exactly what was validated.
CREATE TABLE IF NOT EXISTS strategies (
    id                   uuid        PRIMARY KEY,
    user_id              uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                 text        NOT NULL,
    exchange             text        NOT NULL,
    symbol               text        NOT NULL,
    interval             text        NOT NULL,
    parameters           text        NOT NULL,
    module               bytea       NOT NULL,
    module_format        text        NOT NULL,             -- wasm | wat
    module_sha256        bytea       NOT NULL,
    status               text        NOT NULL DEFAULT 'stopped', -- running | stopped | faulted
    fault_reason         text,                              -- trap | fuel | memory | timeout | init_failed
    fault_message        text,
    fault_call           text,
    faulted_at           timestamptz,
    -- Base-asset position built from this strategy's fills (long > 0); the strategy reads it through qt.position.
    position             numeric     NOT NULL DEFAULT 0,
    -- Open time of the last closed kline delivered: a redelivered or older kline is skipped, so delivery stays in order.
    last_kline_open_time timestamptz,
    next_handle          bigint      NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS strategies_user ON strategies (user_id, created_at);
CREATE INDEX IF NOT EXISTS strategies_running ON strategies (status) WHERE status = 'running';

-- What a strategy logged through qt.log, and what the runner did for it (orders, fills, faults, start/stop).
CREATE TABLE IF NOT EXISTS strategy_logs (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    strategy_id uuid        NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    time        timestamptz NOT NULL DEFAULT now(),
    source      text        NOT NULL,                       -- strategy | runner
    message     text        NOT NULL
);
CREATE INDEX IF NOT EXISTS strategy_logs_strategy ON strategy_logs (strategy_id, id);

-- The handles a strategy got from qt.place_order and the paper engine's order ids behind them, so fills reach
-- on_fill with the right handle and cancels reach the right order, also after a restart of the runner.
CREATE TABLE IF NOT EXISTS strategy_orders (
    strategy_id uuid        NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    handle      bigint      NOT NULL,
    order_id    uuid,
    side        text        NOT NULL,
    type        text        NOT NULL,
    quantity    numeric     NOT NULL,
    price       numeric,
    status      text        NOT NULL,                       -- pending | accepted | rejected | failed
    detail      text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (strategy_id, handle)
);
CREATE UNIQUE INDEX IF NOT EXISTS strategy_orders_order ON strategy_orders (order_id) WHERE order_id IS NOT NULL;

-- Fills already applied to a strategy's position: a redelivered fill event changes nothing.
CREATE TABLE IF NOT EXISTS strategy_fills (
    fill_id     uuid        PRIMARY KEY,
    strategy_id uuid        NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
    order_id    uuid        NOT NULL,
    side        text        NOT NULL,
    price       numeric     NOT NULL,
    quantity    numeric     NOT NULL,
    fee         numeric     NOT NULL,
    time        timestamptz NOT NULL
);
