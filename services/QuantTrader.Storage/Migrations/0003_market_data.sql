-- Trades and klines: the two big, time-ordered tables. With TimescaleDB (the opt-in container image) they are
-- hypertables; on plain PostgreSQL they are natively range-partitioned by time (pg_partman manages the
-- partitions and retention, see the persistence migrations), with a default partition so no row is ever refused.
-- The same queries serve both. Keys make every write idempotent: a trade is unique by (exchange, symbol,
-- trade id) — its time is part of the key only because a partitioned table's keys must contain the partition
-- column, and a trade id always comes with the same time.
DO $$
DECLARE
    timescale boolean := EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb');
    partitioning text := CASE WHEN timescale THEN '' ELSE ' PARTITION BY RANGE (time)' END;
    kline_partitioning text := CASE WHEN timescale THEN '' ELSE ' PARTITION BY RANGE (open_time)' END;
BEGIN
    IF timescale THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
    END IF;

    EXECUTE 'CREATE TABLE IF NOT EXISTS trades (
        exchange  text        NOT NULL,
        symbol    text        NOT NULL,
        trade_id  bigint      NOT NULL,
        time      timestamptz NOT NULL,
        price     numeric     NOT NULL,
        quantity  numeric     NOT NULL,
        side      text        NOT NULL,
        count     integer     NOT NULL DEFAULT 1,
        PRIMARY KEY (exchange, symbol, trade_id, time)
    )' || partitioning;

    EXECUTE 'CREATE TABLE IF NOT EXISTS klines (
        exchange               text        NOT NULL,
        symbol                 text        NOT NULL,
        interval               text        NOT NULL,
        open_time              timestamptz NOT NULL,
        close_time             timestamptz NOT NULL,
        open                   numeric     NOT NULL,
        high                   numeric     NOT NULL,
        low                    numeric     NOT NULL,
        close                  numeric     NOT NULL,
        volume                 numeric     NOT NULL,
        quote_volume           numeric     NOT NULL,
        trades                 bigint      NOT NULL,
        taker_buy_volume       numeric     NOT NULL,
        taker_buy_quote_volume numeric     NOT NULL,
        closed                 boolean     NOT NULL,
        PRIMARY KEY (exchange, symbol, interval, open_time)
    )' || kline_partitioning;

    IF timescale THEN
        PERFORM create_hypertable('trades', 'time', chunk_time_interval => interval '1 day', if_not_exists => true);
        PERFORM create_hypertable('klines', 'open_time', chunk_time_interval => interval '7 days', if_not_exists => true);
    ELSE
        CREATE TABLE IF NOT EXISTS trades_default PARTITION OF trades DEFAULT;
        CREATE TABLE IF NOT EXISTS klines_default PARTITION OF klines DEFAULT;
    END IF;
END $$;

-- Range queries by market and time, oldest first (API.md): served by these indexes.
CREATE INDEX IF NOT EXISTS trades_market_time ON trades (exchange, symbol, time);
