using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.Messaging;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.Kline.Aggregation;

/// <summary>One saved aggregator: which source (live or history) it belongs to and its state.</summary>
public sealed record SavedAggregator(string Source, KlineAggregatorSnapshot Snapshot);

/// <summary>A partition's restart point: its aggregators and the stream sequences they include (0: none yet).</summary>
public sealed record PartitionCheckpoint(ulong StreamSeq, ulong HistorySeq, IReadOnlyList<SavedAggregator> Aggregators);

/// <summary>
/// Persists a partition's aggregators and the MARKET_RAW and MARKET_HISTORY sequences they are consistent with, in one
/// transaction (tables of migrations 0300 and 0303). Only aggregators that changed since the last checkpoint are
/// written: the others had no input since, so their saved state is still the state at the new sequences. A write from
/// an owner whose lease fence is below the row's is refused (the partition has a newer owner).
/// </summary>
public sealed class CheckpointStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<PartitionCheckpoint> LoadAsync(int partition, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        ulong seq = 0, historySeq = 0;
        await using (var command = new NpgsqlCommand("SELECT stream_seq, history_seq FROM kline_partition_checkpoint WHERE partition = $1", connection))
        {
            command.Parameters.Add(new() { Value = (short)partition });
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                seq = (ulong)reader.GetInt64(0);
                historySeq = (ulong)reader.GetInt64(1);
            }
        }

        var aggregators = new List<SavedAggregator>();
        // Rows saved before migration 0303 have no partition: computed here, like every partition of a market.
        await using (var command = new NpgsqlCommand(
            "SELECT source, snapshot::text FROM kline_aggregator_snapshots WHERE partition = $1 OR partition IS NULL", connection))
        {
            command.Parameters.Add(new() { Value = (short)partition });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var snapshot = JsonSerializer.Deserialize<KlineAggregatorSnapshot>(reader.GetString(1), Json)
                    ?? throw new InvalidDataException("empty kline snapshot");
                if (Partitions.OfMarket(snapshot.Exchange, snapshot.Symbol) == partition)
                {
                    aggregators.Add(new SavedAggregator(reader.GetString(0), snapshot));
                }
            }
        }

        return new PartitionCheckpoint(seq, historySeq, aggregators);
    }

    /// <summary>Saves the checkpoint; false (nothing written) when a newer owner (a larger fence) has written one.</summary>
    public async Task<bool> SaveAsync(int partition, ulong fence, ulong streamSeq, ulong historySeq, IReadOnlyList<SavedAggregator> changed, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // The fenced row first: it locks the partition's checkpoint, so a refused writer never touches the snapshots.
        await using (var command = new NpgsqlCommand("""
            INSERT INTO kline_partition_checkpoint (partition, stream_seq, history_seq, fence, updated_at) VALUES ($1, $2, $3, $4, now())
            ON CONFLICT (partition) DO UPDATE
                SET stream_seq = EXCLUDED.stream_seq, history_seq = EXCLUDED.history_seq, fence = EXCLUDED.fence, updated_at = now()
                WHERE kline_partition_checkpoint.fence <= EXCLUDED.fence
            """, connection, tx))
        {
            command.Parameters.Add(new() { Value = (short)partition });
            command.Parameters.Add(new() { Value = (long)streamSeq });
            command.Parameters.Add(new() { Value = (long)historySeq });
            command.Parameters.Add(new() { Value = (long)fence });
            if (await command.ExecuteNonQueryAsync(ct) == 0)
            {
                await tx.RollbackAsync(ct);
                return false;
            }
        }

        if (changed.Count > 0)
        {
            var batch = new NpgsqlBatch(connection, tx);
            foreach (var saved in changed)
            {
                var command = new NpgsqlBatchCommand("""
                    INSERT INTO kline_aggregator_snapshots (source, exchange, symbol, partition, snapshot, updated_at)
                    VALUES ($1, $2, $3, $4, $5, now())
                    ON CONFLICT (source, exchange, symbol) DO UPDATE SET partition = EXCLUDED.partition, snapshot = EXCLUDED.snapshot, updated_at = now()
                    """);
                command.Parameters.Add(new() { Value = saved.Source });
                command.Parameters.Add(new() { Value = saved.Snapshot.Exchange });
                command.Parameters.Add(new() { Value = saved.Snapshot.Symbol });
                command.Parameters.Add(new() { Value = (short)partition });
                command.Parameters.Add(new() { Value = JsonSerializer.Serialize(saved.Snapshot, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
                batch.BatchCommands.Add(command);
            }

            await using (batch)
            {
                await batch.ExecuteNonQueryAsync(ct);
            }
        }

        await tx.CommitAsync(ct);
        return true;
    }
}
