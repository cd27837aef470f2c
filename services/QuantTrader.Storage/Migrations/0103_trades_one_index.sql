-- trades: one B-tree instead of two. 0003 gave trades a primary key (exchange, symbol, trade_id, time) for
-- idempotent writes and a second index trades_market_time (exchange, symbol, time) for the range queries. Every
-- stored trade paid for both, and index maintenance is most of what the batch saver costs in PostgreSQL
-- (docs/benchmarks.md, batch saver). One key in the order (exchange, symbol, time, trade_id) does both jobs:
--   * uniqueness is the same: the key's columns are the same set, and a trade id always comes with the same time,
--     so a trade is still unique by (exchange, symbol, trade id) and ON CONFLICT DO NOTHING still finds a redelivery;
--   * "trades of a market in a time range, oldest (or newest) first" (MarketDataQueries.TradesAsync: ORDER BY time,
--     trade_id) is an index range scan on the key's prefix, already in the requested order.
-- On a partitioned table (pg_partman) the new key is created on every partition and inherited by future ones
-- (partman's template table carries no keys); DROP INDEX on the parent drops the partitions' copies.
-- TimescaleDB (opt-in image) may refuse to change the key of a hypertable with compression enabled: then the old
-- key and index stay (the queries and writes work with either) and a NOTICE says so.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'public.trades'::regclass AND contype = 'p'
               AND conname = 'trades_pkey'
               AND pg_get_constraintdef(oid) = 'PRIMARY KEY (exchange, symbol, "time", trade_id)') THEN
        RETURN; -- already in the new shape
    END IF;
    BEGIN
        ALTER TABLE trades DROP CONSTRAINT trades_pkey;
        ALTER TABLE trades ADD CONSTRAINT trades_pkey PRIMARY KEY (exchange, symbol, time, trade_id);
        DROP INDEX IF EXISTS trades_market_time;
    EXCEPTION WHEN feature_not_supported OR object_not_in_prerequisite_state THEN
        RAISE NOTICE 'trades keeps its primary key (exchange, symbol, trade_id, time) and trades_market_time: %', SQLERRM;
    END;
END $$;
