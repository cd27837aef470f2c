-- Amended closes (docs/klines.md, "Closing and the late-trade rule"): the kline service re-publishes a recent closed
-- kline with late trades added, numbered 1, 2, … (header QuantTrader-Amendment). The stored row remembers which
-- version it holds, so a later amendment replaces it and an older one (a redelivered original close, a replayed
-- earlier amendment) never does. NULL (rows stored before this migration) and 0 are the original close. Nullable and
-- without a default, so adding it is a catalog change only (also on a compressed TimescaleDB hypertable).
ALTER TABLE klines ADD COLUMN IF NOT EXISTS amendment integer;
