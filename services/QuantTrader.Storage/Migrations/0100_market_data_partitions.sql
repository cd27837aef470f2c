-- Time partitions and retention for trades and klines (0003 created them).
--
-- TimescaleDB (the opt-in container image): compression after a few days and a retention policy; the persistence
-- service re-applies the configured retention ages at start-up (Persistence:Retention:*).
--
-- Plain PostgreSQL with pg_partman (this machine, CI; scripts/setup.sh installs postgresql-15-partman): partman
-- takes over the native range partitioning — daily partitions for trades, weekly for klines, premade ahead of
-- time, and retention that drops whole partitions. PostgreSQL has no pg_cron here, so the persistence service
-- calls partman.run_maintenance() itself, periodically (PartitionMaintenance).
--
-- 0003 attached its own DEFAULT partitions (trades_default, klines_default). partman's create_parent creates a
-- default partition of the same name, so the old one is detached and renamed first; rows already in it are
-- moved into proper partitions (partition_data_time with it as the source), then it is dropped. Nothing is lost.
--
-- Without either extension the tables stay natively partitioned with only a DEFAULT partition (no retention):
-- the migration says so with a NOTICE and the persistence service logs a warning at every maintenance run.
DO $$
DECLARE
    timescale boolean := EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb');
    partman_available boolean := EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_partman');
    parent text;
    moved bigint;
BEGIN
    IF timescale THEN
        EXECUTE 'ALTER TABLE trades SET (timescaledb.compress, timescaledb.compress_segmentby = ''exchange, symbol'', timescaledb.compress_orderby = ''time'')';
        EXECUTE 'ALTER TABLE klines SET (timescaledb.compress, timescaledb.compress_segmentby = ''exchange, symbol, interval'', timescaledb.compress_orderby = ''open_time'')';
        PERFORM add_compression_policy('trades', interval '2 days', if_not_exists => true);
        PERFORM add_compression_policy('klines', interval '14 days', if_not_exists => true);
        PERFORM add_retention_policy('trades', interval '30 days', if_not_exists => true);
        PERFORM add_retention_policy('klines', interval '365 days', if_not_exists => true);
        RETURN;
    END IF;

    IF NOT partman_available THEN
        RAISE NOTICE 'pg_partman is not installed: trades and klines keep a single DEFAULT partition and no retention (apt-get install postgresql-15-partman)';
        RETURN;
    END IF;

    CREATE SCHEMA IF NOT EXISTS partman;
    CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman;

    FOREACH parent IN ARRAY ARRAY['trades', 'klines'] LOOP
        IF EXISTS (SELECT 1 FROM partman.part_config WHERE parent_table = 'public.' || parent) THEN
            CONTINUE;
        END IF;
        -- Step the pre-partman default partition out of the way (partman creates its own).
        IF to_regclass('public.' || parent || '_default') IS NOT NULL THEN
            EXECUTE format('ALTER TABLE public.%I DETACH PARTITION public.%I', parent, parent || '_default');
            EXECUTE format('ALTER TABLE public.%I RENAME TO %I', parent || '_default', parent || '_premigration');
        END IF;

        IF parent = 'trades' THEN
            PERFORM partman.create_parent('public.trades', 'time', 'native', 'daily', p_premake => 4);
        ELSE
            PERFORM partman.create_parent('public.klines', 'open_time', 'native', 'weekly', p_premake => 4);
        END IF;

        -- Keep partitions premade relative to now even when no data arrives; drop expired partitions outright.
        UPDATE partman.part_config
           SET infinite_time_partitions = true,
               retention = CASE WHEN parent = 'trades' THEN '30 days' ELSE '365 days' END,
               retention_keep_table = false,
               retention_keep_index = false
         WHERE parent_table = 'public.' || parent;

        -- Move rows stored before partman into their partitions (creating them as needed), then drop the old table.
        IF to_regclass('public.' || parent || '_premigration') IS NOT NULL THEN
            LOOP
                moved := partman.partition_data_time('public.' || parent, p_batch_count => 100,
                    p_source_table => 'public.' || parent || '_premigration');
                EXIT WHEN moved = 0;
            END LOOP;
            EXECUTE format('DROP TABLE public.%I', parent || '_premigration');
        END IF;
    END LOOP;
END $$;

-- Klines are read by market, interval and time: the primary key (exchange, symbol, interval, open_time) serves that.
