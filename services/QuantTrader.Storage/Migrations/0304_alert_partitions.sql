-- The alert service as N replicas (docs/alerts.md § Replicas): rules and evaluation are split by market partition
-- (Partitions.OfMarket: FNV-1a of exchange + symbol, modulo 16), one owner per partition at a time.

-- Each rule's partition, so an owner loads only its own. Existing rules get it here, computed as Partitions.OfMarket
-- does (FNV-1a 32 bit over the bytes of exchange then symbol; both ASCII).
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS market_partition smallint;
DO $$
DECLARE
    market record;
    hash   bigint;
    b      integer;
BEGIN
    FOR market IN SELECT DISTINCT exchange, symbol FROM alert_rules WHERE market_partition IS NULL LOOP
        hash := 2166136261;
        FOR b IN SELECT get_byte(convert_to(market.exchange || market.symbol, 'UTF8'), i)
                 FROM generate_series(0, octet_length(market.exchange || market.symbol) - 1) AS i LOOP
            hash := ((hash # b) * 16777619) & 4294967295;
        END LOOP;
        UPDATE alert_rules SET market_partition = hash % 16
        WHERE exchange = market.exchange AND symbol = market.symbol AND market_partition IS NULL;
    END LOOP;
END $$;
ALTER TABLE alert_rules ALTER COLUMN market_partition SET NOT NULL;
CREATE INDEX IF NOT EXISTS alert_rules_partition_active ON alert_rules (market_partition) WHERE status = 'active';

-- Where each partition's evaluation stands: the last MARKET_RAW and MARKET_KLINE stream sequences whose effects
-- (firings recorded, rule states written) are durable, and, as of the same point, what the engine remembers of the
-- partition's markets that a replay could not rebuild (last prices, percent-change windows, indicator series ends).
-- owner_fence is the lease fence of the owner that claimed the row: a checkpoint write from any other (superseded)
-- owner changes nothing.
CREATE TABLE IF NOT EXISTS alert_partition_checkpoints (
    partition   smallint    PRIMARY KEY,
    trades_seq  bigint      NOT NULL,
    klines_seq  bigint      NOT NULL,
    owner_fence bigint      NOT NULL,
    memory      jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
