using Npgsql;

namespace QuantTrader.Ingestor.Imports;

/// <summary>
/// Imports in progress per user (<c>PlanLimits.ConcurrentImports</c>), counted across every ingestor replica: an
/// import holds one of its user's numbered slots — a PostgreSQL session advisory lock — from the first byte of its
/// upload until it completed or failed, whichever replica received it. The lock lives on a connection the import
/// keeps open (<see cref="ImportSlot"/>), so a replica that dies gives its slots back as soon as PostgreSQL sees the
/// connection close: nothing has to expire, and no slot outlives its process.
/// <para>
/// A database outage closes that connection too: the slot is free from then on while the import still finishes, so
/// right after an outage a user may run one import more than the plan allows — uploads themselves need the database
/// (the daily quota), so none is accepted during it.
/// </para>
/// </summary>
public sealed class ImportSlots(NpgsqlDataSource db, ILogger<ImportSlots> logger)
{
    /// <summary>Slots tried per user at most (plans allow a handful).</summary>
    private const int MaxSlots = 1000;

    /// <summary>A free slot of the user's <paramref name="limit"/>, or null when all are held (by this replica or any other).</summary>
    public async Task<ImportSlot?> TryTakeAsync(Guid userId, int limit, CancellationToken ct)
    {
        if (limit <= 0)
        {
            return null;
        }

        var connection = await db.OpenConnectionAsync(ct);
        try
        {
            // Two-int advisory keys (user, slot number): a key space apart from the one-bigint locks (schema migrations).
            // generate_series stops at the first slot whose lock it gets.
            await using var take = new NpgsqlCommand("""
                SELECT s FROM generate_series(0, $2 - 1) AS s
                WHERE pg_try_advisory_lock(hashtext($1::text), s)
                LIMIT 1
                """, connection);
            take.Parameters.Add(new() { Value = userId });
            take.Parameters.Add(new() { Value = Math.Min(limit, MaxSlots) });
            if (await take.ExecuteScalarAsync(ct) is int)
            {
                return new ImportSlot(connection, logger);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }
}

/// <summary>
/// One held import slot: its connection keeps the slot's lock, and — once the import has an id — the import's own lock
/// (<see cref="HoldImportAsync"/>), which tells an import some live replica is working on from one whose replica died
/// (<see cref="ImportStore.FailInterruptedAsync"/>). Disposing gives both back.
/// </summary>
public sealed class ImportSlot : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly ILogger _logger;
    private int _disposed;

    internal ImportSlot(NpgsqlConnection connection, ILogger logger)
    {
        _connection = connection;
        _logger = logger;
    }

    /// <summary>Takes the import's lock (key: <see cref="ImportStore.ImportLockSql"/>) before its row exists, so no sweep can take it for an orphan.</summary>
    public async Task HoldImportAsync(Guid importId, CancellationToken ct)
    {
        await using var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({ImportStore.ImportLockSql("$1")})", _connection);
        hold.Parameters.Add(new() { Value = importId });
        await hold.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            // Explicitly: a pooled connection would otherwise keep its session locks until it is next used.
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", _connection);
            release.CommandTimeout = 5;
            await release.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // A broken connection has lost its locks already; anything else must not go back to the pool holding them.
            _logger.LogWarning("Releasing an import slot failed ({Error}); its connection is discarded", ex.Message);
            NpgsqlConnection.ClearPool(_connection);
        }

        await _connection.DisposeAsync();
    }
}
