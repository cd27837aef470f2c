using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Alert.Evaluation;

namespace QuantTrader.Alert.Partitioning;

/// <summary>Where a partition's evaluation stands (<c>alert_partition_checkpoints</c>, migration 0304).</summary>
/// <param name="TradesSeq">The last MARKET_RAW sequence whose effects are durable; the owner resumes after it.</param>
/// <param name="KlinesSeq">The same for MARKET_KLINE.</param>
/// <param name="Memory">What the engine remembered of the partition's markets at that point.</param>
public sealed record PartitionCheckpoint(ulong TradesSeq, ulong KlinesSeq, EngineMemory Memory);

/// <summary>
/// The checkpoint of each partition, fenced by its owner: <see cref="ClaimAsync"/> stamps the row with the new owner's
/// lease fence, and <see cref="SaveAsync"/> changes the row only while that stamp is still its own, so an owner that
/// has been superseded (its lease lapsed, another replica took over) can never move the checkpoint back or forward.
/// </summary>
public sealed class PartitionCheckpoints(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Takes the partition's checkpoint for the owner with <paramref name="fence"/>; the first owner ever starts at
    /// <paramref name="tradesSeq"/>/<paramref name="klinesSeq"/> (the streams' ends: a new deployment evaluates from now).
    /// </summary>
    public async Task<PartitionCheckpoint> ClaimAsync(int partition, ulong fence, ulong tradesSeq, ulong klinesSeq, CancellationToken ct)
    {
        // The fence is stamped whatever it was before: only the lease decides who owns the partition (a NATS whose
        // lease bucket was recreated starts its revisions again), the stamp only locks out earlier owners' writes.
        await using var command = dataSource.CreateCommand("""
            INSERT INTO alert_partition_checkpoints (partition, trades_seq, klines_seq, owner_fence)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (partition) DO UPDATE SET owner_fence = EXCLUDED.owner_fence, updated_at = now()
            RETURNING trades_seq, klines_seq, memory::text
            """);
        command.Parameters.Add(new() { Value = (short)partition });
        command.Parameters.Add(new() { Value = (long)tradesSeq });
        command.Parameters.Add(new() { Value = (long)klinesSeq });
        command.Parameters.Add(new() { Value = (long)fence });
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var memory = reader.IsDBNull(2) ? EngineMemory.Empty : JsonSerializer.Deserialize<EngineMemory>(reader.GetString(2), Json) ?? EngineMemory.Empty;
        return new PartitionCheckpoint((ulong)reader.GetInt64(0), (ulong)reader.GetInt64(1), memory);
    }

    /// <summary>Saves the checkpoint; false when another owner has claimed the partition since (nothing is written).</summary>
    public async Task<bool> SaveAsync(int partition, ulong fence, PartitionCheckpoint checkpoint, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE alert_partition_checkpoints SET trades_seq = $3, klines_seq = $4, memory = $5, updated_at = now()
            WHERE partition = $1 AND owner_fence = $2
            """);
        command.Parameters.Add(new() { Value = (short)partition });
        command.Parameters.Add(new() { Value = (long)fence });
        command.Parameters.Add(new() { Value = (long)checkpoint.TradesSeq });
        command.Parameters.Add(new() { Value = (long)checkpoint.KlinesSeq });
        command.Parameters.Add(new() { Value = JsonSerializer.Serialize(checkpoint.Memory, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }
}
