-- A user's partition (QuantTrader.Contracts.Messaging.Partitions.OfUser): FNV-1a (32 bit) of the id's 32 lower-case hex
-- digits, modulo 16 (Partitions.Count). Must stay identical to the C# function: the analytics replica that owns a
-- partition rebuilds that partition's accounts from the rows this selects (AnalyticsReplicaTests checks they agree).
CREATE OR REPLACE FUNCTION quanttrader_user_partition(user_id uuid) RETURNS smallint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    hex  text   := replace(user_id::text, '-', '');
    hash bigint := 2166136261;
BEGIN
    FOR i IN 1..32 LOOP
        hash := ((hash # ascii(substr(hex, i, 1))) * 16777619) & 4294967295;
    END LOOP;
    RETURN (hash % 16)::smallint;
END
$$;

-- Analytics' ledger by user partition: the owner of a partition replays only its users' fills (docs/analytics.md).
ALTER TABLE analytics_fills ADD COLUMN IF NOT EXISTS user_partition smallint
    GENERATED ALWAYS AS (quanttrader_user_partition(user_id)) STORED;
CREATE INDEX IF NOT EXISTS analytics_fills_partition ON analytics_fills (user_partition, position);
