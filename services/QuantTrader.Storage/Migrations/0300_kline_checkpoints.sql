-- The kline service's restart point (docs/klines.md): one row per aggregator (live or history source, exchange,
-- symbol) with its KlineAggregator snapshot, plus one row holding the MARKET_RAW stream sequence that every
-- snapshot is consistent with. Written in one transaction, so a restart restores all aggregators and replays
-- MARKET_RAW from exactly the next message.
CREATE TABLE IF NOT EXISTS kline_aggregator_snapshots (
    source     text        NOT NULL,
    exchange   text        NOT NULL,
    symbol     text        NOT NULL,
    snapshot   jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, exchange, symbol)
);

CREATE TABLE IF NOT EXISTS kline_checkpoint (
    id           smallint    PRIMARY KEY CHECK (id = 1),
    stream_seq   bigint      NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
