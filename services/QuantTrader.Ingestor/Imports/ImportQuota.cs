using Npgsql;

namespace QuantTrader.Ingestor.Imports;

/// <summary>
/// The bytes a user may upload per UTC day (<c>PlanLimits.ImportBytesPerDay</c>), in <c>import_usage</c> (migration
/// 0201). An upload reserves its bytes in blocks before writing them, each reservation an atomic
/// check-and-add in PostgreSQL, so two uploads of one user at once cannot both take the last of the quota, and a
/// restart keeps what was used. What a finished upload reserved but did not use is given back.
/// </summary>
public sealed class ImportQuota(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>Reserved at a time: one statement per 4 MiB streamed instead of one per read.</summary>
    public const long Block = 4L << 20;

    public DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    /// <summary>When today's quota is renewed (next UTC midnight): the Retry-After of a refusal.</summary>
    public TimeSpan UntilRenewal
    {
        get
        {
            var now = time.GetUtcNow();
            return new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero) - now;
        }
    }

    public async Task<long> UsedAsync(Guid userId, DateOnly day, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT bytes FROM import_usage WHERE user_id = $1 AND day = $2");
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = day });
        return await cmd.ExecuteScalarAsync(ct) is long used ? used : 0;
    }

    /// <summary>Adds <paramref name="bytes"/> to the day's usage if the total stays within <paramref name="limit"/>.</summary>
    public async Task<bool> TryReserveAsync(Guid userId, DateOnly day, long bytes, long limit, CancellationToken ct)
    {
        if (bytes > limit)
        {
            return false;
        }

        await using var cmd = db.CreateCommand("""
            INSERT INTO import_usage (user_id, day, bytes) VALUES ($1, $2, $3)
            ON CONFLICT (user_id, day) DO UPDATE SET bytes = import_usage.bytes + EXCLUDED.bytes
            WHERE import_usage.bytes + EXCLUDED.bytes <= $4
            RETURNING bytes
            """);
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = day });
        cmd.Parameters.Add(new() { Value = bytes });
        cmd.Parameters.Add(new() { Value = limit });
        return await cmd.ExecuteScalarAsync(ct) is not null;
    }

    public async Task ReleaseAsync(Guid userId, DateOnly day, long bytes, CancellationToken ct)
    {
        if (bytes <= 0)
        {
            return;
        }

        await using var cmd = db.CreateCommand("UPDATE import_usage SET bytes = greatest(bytes - $3, 0) WHERE user_id = $1 AND day = $2");
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = day });
        cmd.Parameters.Add(new() { Value = bytes });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
