-- The kline service runs as N replicas, each aggregating the markets of the partitions it holds a lease on
-- (docs/klines.md, docs/scaling.md): one restart point per partition instead of the one row kline_checkpoint id = 1.
-- stream_seq / history_seq: the last MARKET_RAW / MARKET_HISTORY message of the partition's subjects that its
-- snapshots include. fence: the lease revision of the owner that wrote the row; a write from an owner with a smaller
-- fence (superseded by a later owner) is refused, so a replica that lost its lease cannot move the restart point
-- back or forth under the new owner.
CREATE TABLE IF NOT EXISTS kline_partition_checkpoint (
    partition    smallint    PRIMARY KEY CHECK (partition >= 0 AND partition < 16),
    stream_seq   bigint      NOT NULL,
    history_seq  bigint      NOT NULL DEFAULT 0,
    fence        bigint      NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- An upgraded system continues where the single aggregator stopped: every partition starts from its sequences. The
-- old consumer read every subject up to them, so each partition's filtered replay from there misses and repeats
-- nothing. A fresh system has no row there and none here (first start: from UTC midnight).
INSERT INTO kline_partition_checkpoint (partition, stream_seq, history_seq, fence, updated_at)
SELECT p, c.stream_seq, c.history_seq, 0, c.updated_at
FROM kline_checkpoint c CROSS JOIN generate_series(0, 15) AS p
WHERE c.id = 1
ON CONFLICT (partition) DO NOTHING;

-- A partition loads only its markets' snapshots. Rows written before this migration have no partition yet (its hash
-- is computed in the service, Partitions.OfMarket); the service reads those too and keeps the ones of its markets,
-- and sets the column on its next write of them.
ALTER TABLE kline_aggregator_snapshots ADD COLUMN IF NOT EXISTS partition smallint;
CREATE INDEX IF NOT EXISTS kline_aggregator_snapshots_partition ON kline_aggregator_snapshots (partition);
