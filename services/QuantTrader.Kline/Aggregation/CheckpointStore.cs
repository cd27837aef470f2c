using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.MarketData.Klines;

namespace QuantTrader.Kline.Aggregation;

/// <summary>One saved aggregator: which source (live or history) it belongs to and its state.</summary>
public sealed record SavedAggregator(string Source, KlineAggregatorSnapshot Snapshot);

/// <summary>
/// Persists the aggregators and the MARKET_RAW and MARKET_HISTORY sequences they are consistent with, in one
/// transaction (tables from migrations 0300 and 0302). Only aggregators that changed since the last checkpoint are written: the others
/// had no input since, so their saved state is still the state at the new sequence.
/// </summary>
public sealed class CheckpointStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<(ulong StreamSeq, ulong HistorySeq, IReadOnlyList<SavedAggregator> Aggregators)> LoadAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        ulong seq = 0, historySeq = 0;
        await using (var command = new NpgsqlCommand("SELECT stream_seq, history_seq FROM kline_checkpoint WHERE id = 1", connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            if (await reader.ReadAsync(ct))
            {
                seq = (ulong)reader.GetInt64(0);
                historySeq = (ulong)reader.GetInt64(1);
            }
        }

        var aggregators = new List<SavedAggregator>();
        await using (var command = new NpgsqlCommand("SELECT source, snapshot::text FROM kline_aggregator_snapshots", connection))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var snapshot = JsonSerializer.Deserialize<KlineAggregatorSnapshot>(reader.GetString(1), Json)
                    ?? throw new InvalidDataException("empty kline snapshot");
                aggregators.Add(new SavedAggregator(reader.GetString(0), snapshot));
            }
        }

        return (seq, historySeq, aggregators);
    }

    public async Task SaveAsync(ulong streamSeq, ulong historySeq, IReadOnlyList<SavedAggregator> changed, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (changed.Count > 0)
        {
            var batch = new NpgsqlBatch(connection, tx);
            foreach (var saved in changed)
            {
                var command = new NpgsqlBatchCommand("""
                    INSERT INTO kline_aggregator_snapshots (source, exchange, symbol, snapshot, updated_at)
                    VALUES ($1, $2, $3, $4, now())
                    ON CONFLICT (source, exchange, symbol) DO UPDATE SET snapshot = EXCLUDED.snapshot, updated_at = now()
                    """);
                command.Parameters.Add(new() { Value = saved.Source });
                command.Parameters.Add(new() { Value = saved.Snapshot.Exchange });
                command.Parameters.Add(new() { Value = saved.Snapshot.Symbol });
                command.Parameters.Add(new() { Value = JsonSerializer.Serialize(saved.Snapshot, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
                batch.BatchCommands.Add(command);
            }

            await using (batch)
            {
                await batch.ExecuteNonQueryAsync(ct);
            }
        }

        await using (var command = new NpgsqlCommand("""
            INSERT INTO kline_checkpoint (id, stream_seq, history_seq, updated_at) VALUES (1, $1, $2, now())
            ON CONFLICT (id) DO UPDATE SET stream_seq = EXCLUDED.stream_seq, history_seq = EXCLUDED.history_seq, updated_at = now()
            """, connection, tx))
        {
            command.Parameters.Add(new() { Value = (long)streamSeq });
            command.Parameters.Add(new() { Value = (long)historySeq });
            await command.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
    }
}
