using Microsoft.Extensions.Options;
using Npgsql;

namespace QuantTrader.Persistence.Partitions;

/// <summary>
/// Keeps the time partitions of trades and klines in shape (migration 0100 set them up):
/// <list type="bullet">
/// <item>pg_partman (plain PostgreSQL): every <see cref="RetentionOptions.MaintenanceInterval"/> it applies the
/// configured retention, moves rows that landed in the DEFAULT partition (history older than the premade partitions)
/// into partitions of their own, and calls <c>partman.run_maintenance()</c>, which premakes future partitions and
/// drops the expired ones.</item>
/// <item>TimescaleDB: at start-up it replaces the retention policies with the configured ages; TimescaleDB's own
/// job scheduler runs them.</item>
/// </list>
/// </summary>
public sealed class PartitionMaintenance(NpgsqlDataSource dataSource, IOptions<RetentionOptions> options, ILogger<PartitionMaintenance> logger)
    : BackgroundService
{
    private static readonly string[] Parents = ["public.trades", "public.klines"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(settings, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogError(ex, "Partition maintenance failed; trying again in {Interval}", settings.MaintenanceInterval);
            }
            try
            {
                await Task.Delay(settings.MaintenanceInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private bool _timescaleConfigured;

    public async Task RunOnceAsync(RetentionOptions settings, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (await ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')", ct))
        {
            if (!_timescaleConfigured)
            {
                await ConfigureTimescaleAsync(connection, settings, ct);
                _timescaleConfigured = true;
            }
            return;
        }
        if (!await ScalarAsync<bool>(connection, "SELECT to_regclass('partman.part_config') IS NOT NULL", ct))
        {
            logger.LogWarning("pg_partman is not installed: trades and klines have no time partitions and no retention " +
                "(apt-get install postgresql-15-partman, then recreate the database)");
            return;
        }

        foreach (var parent in Parents)
        {
            var retention = parent == "public.trades" ? settings.Trades : settings.Klines;
            await using (var update = new NpgsqlCommand(
                "UPDATE partman.part_config SET retention = ($1::interval)::text, retention_keep_table = false, infinite_time_partitions = true WHERE parent_table = $2",
                connection))
            {
                update.Parameters.Add(new() { Value = retention });
                update.Parameters.Add(new() { Value = parent });
                await update.ExecuteNonQueryAsync(ct);
            }

            // Rows older than the premade partitions wait in DEFAULT; give them partitions of their own (retention
            // then drops those that are already too old). One partition interval per call, until DEFAULT is empty.
            long moved = 0, step;
            do
            {
                await using var move = new NpgsqlCommand("SELECT partman.partition_data_time($1, p_batch_count => 10, p_analyze => false)", connection);
                move.Parameters.Add(new() { Value = parent });
                step = Convert.ToInt64(await move.ExecuteScalarAsync(ct) ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
                moved += step;
            }
            while (step > 0);
            if (moved > 0)
            {
                logger.LogInformation("Moved {Rows} rows of {Parent} out of the default partition", moved, parent);
            }
        }

        var before = await PartitionCountsAsync(connection, ct);
        await using (var maintain = new NpgsqlCommand("SELECT partman.run_maintenance(p_analyze => false, p_jobmon => false)", connection))
        {
            await maintain.ExecuteNonQueryAsync(ct);
        }
        var after = await PartitionCountsAsync(connection, ct);
        logger.LogInformation("Partition maintenance done: trades {TradesBefore} → {TradesAfter} partitions (retention {TradesRetention}), klines {KlinesBefore} → {KlinesAfter} (retention {KlinesRetention})",
            before.Trades, after.Trades, settings.Trades, before.Klines, after.Klines, settings.Klines);
    }

    private async Task ConfigureTimescaleAsync(NpgsqlConnection connection, RetentionOptions settings, CancellationToken ct)
    {
        foreach (var (table, retention) in new[] { ("trades", settings.Trades), ("klines", settings.Klines) })
        {
            await using (var remove = new NpgsqlCommand($"SELECT remove_retention_policy('{table}', if_exists => true)", connection))
            {
                await remove.ExecuteNonQueryAsync(ct);
            }
            await using var add = new NpgsqlCommand($"SELECT add_retention_policy('{table}', $1::interval)", connection);
            add.Parameters.Add(new() { Value = retention });
            await add.ExecuteNonQueryAsync(ct);
        }
        logger.LogInformation("TimescaleDB retention: trades {Trades}, klines {Klines}", settings.Trades, settings.Klines);
    }

    private static async Task<(long Trades, long Klines)> PartitionCountsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT (SELECT count(*) FROM partman.show_partitions('public.trades')), (SELECT count(*) FROM partman.show_partitions('public.klines'))",
            connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }
}
