-- The analytics service's record of the fills it has applied to each user's cash and positions, in apply order.
-- It is how analytics rebuilds its state after a restart (its JetStream consumer does not redeliver acked fills)
-- and where each closing fill's realized PnL (the closed-trade PnLs of the performance statistics) is kept.
CREATE TABLE IF NOT EXISTS analytics_fills (
    fill_id      uuid        PRIMARY KEY,
    position     bigint      GENERATED ALWAYS AS IDENTITY,
    user_id      uuid        NOT NULL,
    strategy_id  uuid,
    exchange     text        NOT NULL,
    symbol       text        NOT NULL,
    side         text        NOT NULL,
    price        numeric     NOT NULL,
    quantity     numeric     NOT NULL,
    fee          numeric     NOT NULL,
    time         timestamptz NOT NULL,
    closes       boolean     NOT NULL,
    realized_pnl numeric     NOT NULL
);
CREATE INDEX IF NOT EXISTS analytics_fills_user_time ON analytics_fills (user_id, time);
