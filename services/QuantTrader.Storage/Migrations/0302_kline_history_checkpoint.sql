-- Imported history moved from MARKET_RAW to its own stream MARKET_HISTORY (issue 16): the kline checkpoint holds the
-- MARKET_HISTORY sequence beside the MARKET_RAW one, both consistent with the same aggregator snapshots.
ALTER TABLE kline_checkpoint ADD COLUMN IF NOT EXISTS history_seq bigint NOT NULL DEFAULT 0;
