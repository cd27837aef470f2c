-- A running strategy's checkpoint in MARKET_KLINE: the stream sequence of the last closed kline whose step was
-- committed (or, right after a start, of the stream's last message: it trades from then on). Whichever strategy-runner
-- replica owns the strategy's user partition reads its klines from here with an ordered consumer, so a hand-over or a
-- crash resumes exactly after the last committed step (docs/strategies.md in README, "Replicas").
ALTER TABLE strategies ADD COLUMN IF NOT EXISTS kline_sequence bigint;

-- The order's deterministic clientOrderId (strategy, kline open time or fill, index in the step): an order sent again
-- after a crash is recognised by the paper engine as the same order. An order still 'pending' was committed with its
-- step but maybe never sent: the next owner sends it again with the same id.
ALTER TABLE strategy_orders ADD COLUMN IF NOT EXISTS client_order_id text;
CREATE INDEX IF NOT EXISTS strategy_orders_pending ON strategy_orders (strategy_id) WHERE status = 'pending';
