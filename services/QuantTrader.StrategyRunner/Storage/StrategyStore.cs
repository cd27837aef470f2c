using System.Security.Cryptography;
using Npgsql;
using QuantTrader.Contracts.Trading;
using QuantTrader.Strategies.Sandbox;

namespace QuantTrader.StrategyRunner.Storage;

public static class StrategyStatus
{
    public const string Running = "running";
    public const string Stopped = "stopped";
    public const string Faulted = "faulted";
}

/// <summary>A stored strategy without its module bytes (those are read only to compile).</summary>
public sealed record StoredStrategy(
    Guid Id,
    Guid UserId,
    string Name,
    string Exchange,
    string Symbol,
    string Interval,
    string Parameters,
    string ModuleFormat,
    int ModuleSize,
    byte[] ModuleSha256,
    string Status,
    string? FaultReason,
    string? FaultMessage,
    string? FaultCall,
    DateTimeOffset? FaultedAt,
    decimal Position,
    DateTimeOffset? LastKlineOpenTime,
    long NextHandle,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    ulong? KlineSequence);

public sealed record NewStrategy(Guid UserId, string Name, string Exchange, string Symbol, string Interval, string Parameters, byte[] Module, string ModuleFormat);

public sealed record StrategyLogLine(long Id, DateTimeOffset Time, string Source, string Message);

/// <summary>An order a strategy placed during one call, with the handle it was given.</summary>
public sealed record PendingOrder(long Handle, StrategyOrderRequest Request);

/// <summary>An order of a committed step with its deterministic clientOrderId (<see cref="Runner.ClientOrderIds"/>).</summary>
public sealed record StepOrder(long Handle, StrategyOrderRequest Request, string ClientOrderId);

/// <summary>
/// What one call into a strategy changed, committed at once: its log lines, its orders (pending until sent), the
/// handle counter and, for a kline, the strategy's checkpoint (open time and stream sequence).
/// </summary>
public sealed record StrategyStep(
    IReadOnlyList<(DateTimeOffset Time, string Source, string Message)> Logs,
    IReadOnlyList<StepOrder> Orders,
    long NextHandle,
    DateTimeOffset? KlineOpenTime,
    ulong? KlineSequence);

/// <summary>The result of applying a fill: whether it was new, the position after it and the strategy's handle.</summary>
public sealed record AppliedFill(bool Applied, decimal Position, long Handle);

/// <summary>Strategies, their logs, order handles and applied fills in PostgreSQL (migrations 0500, 0501).</summary>
public sealed class StrategyStore(NpgsqlDataSource db, StrategyEvents events)
{
    private const string Columns = """
        id, user_id, name, exchange, symbol, interval, parameters, module_format, octet_length(module), module_sha256,
        status, fault_reason, fault_message, fault_call, faulted_at, position, last_kline_open_time, next_handle, created_at, updated_at,
        kline_sequence
        """;

    /// <summary>Stores a new strategy unless the owner already has <paramref name="limit"/>; null when the limit is reached.</summary>
    public async Task<StoredStrategy?> CreateAsync(NewStrategy strategy, int limit, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Lock the owner's row so two concurrent uploads cannot both pass the plan-limit count.
        await using (var lockUser = new NpgsqlCommand("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", connection, tx))
        {
            lockUser.Parameters.Add(new() { Value = strategy.UserId });
            await lockUser.ExecuteScalarAsync(ct);
        }
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM strategies WHERE user_id = $1", connection, tx))
        {
            count.Parameters.Add(new() { Value = strategy.UserId });
            if ((long)(await count.ExecuteScalarAsync(ct))! >= limit)
            {
                return null;
            }
        }
        var id = Guid.CreateVersion7();
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO strategies (id, user_id, name, exchange, symbol, interval, parameters, module, module_format, module_sha256)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, connection, tx))
        {
            insert.Parameters.Add(new() { Value = id });
            insert.Parameters.Add(new() { Value = strategy.UserId });
            insert.Parameters.Add(new() { Value = strategy.Name });
            insert.Parameters.Add(new() { Value = strategy.Exchange });
            insert.Parameters.Add(new() { Value = strategy.Symbol });
            insert.Parameters.Add(new() { Value = strategy.Interval });
            insert.Parameters.Add(new() { Value = strategy.Parameters });
            insert.Parameters.Add(new() { Value = strategy.Module });
            insert.Parameters.Add(new() { Value = strategy.ModuleFormat });
            insert.Parameters.Add(new() { Value = SHA256.HashData(strategy.Module) });
            await insert.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return await GetAsync(id, ct);
    }

    /// <summary>The strategy if it exists and belongs to <paramref name="userId"/>.</summary>
    public async Task<StoredStrategy?> FindAsync(Guid userId, Guid id, CancellationToken ct)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM strategies WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = userId });
        return (await ReadAsync(command, ct)).FirstOrDefault();
    }

    public async Task<StoredStrategy?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM strategies WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        return (await ReadAsync(command, ct)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<StoredStrategy>> ListAsync(Guid userId, CancellationToken ct)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM strategies WHERE user_id = $1 ORDER BY created_at, id");
        command.Parameters.Add(new() { Value = userId });
        return await ReadAsync(command, ct);
    }

    /// <summary>The running strategies of the users in one partition (<see cref="Contracts.Messaging.Partitions.OfUser"/>).</summary>
    public async Task<IReadOnlyList<StoredStrategy>> ListRunningAsync(int partition, CancellationToken ct)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM strategies WHERE status = 'running' ORDER BY created_at, id");
        return [.. (await ReadAsync(command, ct)).Where(s => Contracts.Messaging.Partitions.OfUser(s.UserId) == partition)];
    }

    /// <summary>
    /// Moves a strategy that is not running to running, clearing any fault, with its kline checkpoint at
    /// <paramref name="fromSequence"/> (it trades from then on). False when it was already running (nothing changed).
    /// </summary>
    public async Task<bool> MarkStartedAsync(Guid id, ulong fromSequence, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            UPDATE strategies SET status = 'running', fault_reason = NULL, fault_message = NULL, fault_call = NULL, faulted_at = NULL,
                kline_sequence = $2, updated_at = now()
            WHERE id = $1 AND status <> 'running'
            RETURNING user_id
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = (long)fromSequence });
        if (await command.ExecuteScalarAsync(ct) is not Guid userId)
        {
            return false;
        }
        await events.StatusAsync(userId, id, StrategyStatus.Running);
        return true;
    }

    /// <summary>Commits one step (<see cref="StrategyStep"/>) in one transaction: all of it or nothing.</summary>
    public async Task CommitStepAsync(Guid id, StrategyStep step, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection);
        foreach (var (time, source, message) in step.Logs)
        {
            var log = new NpgsqlBatchCommand(InsertLog);
            log.Parameters.Add(new() { Value = id });
            log.Parameters.Add(new() { Value = time });
            log.Parameters.Add(new() { Value = source });
            log.Parameters.Add(new() { Value = message.Replace('\0', '\uFFFD') });
            batch.BatchCommands.Add(log);
        }
        foreach (var order in step.Orders)
        {
            var insert = new NpgsqlBatchCommand("""
                INSERT INTO strategy_orders (strategy_id, handle, side, type, quantity, price, status, client_order_id)
                VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)
                ON CONFLICT DO NOTHING
                """);
            insert.Parameters.Add(new() { Value = id });
            insert.Parameters.Add(new() { Value = order.Handle });
            insert.Parameters.Add(new() { Value = order.Request.Side == OrderSide.Buy ? "buy" : "sell" });
            insert.Parameters.Add(new() { Value = order.Request.Type == OrderType.Market ? "market" : "limit" });
            insert.Parameters.Add(new() { Value = order.Request.Quantity });
            insert.Parameters.Add(new() { Value = (object?)order.Request.Price ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Numeric });
            insert.Parameters.Add(new() { Value = order.ClientOrderId });
            batch.BatchCommands.Add(insert);
        }
        var checkpoint = new NpgsqlBatchCommand("""
            UPDATE strategies SET next_handle = GREATEST(next_handle, $2),
                last_kline_open_time = COALESCE($3, last_kline_open_time), kline_sequence = COALESCE($4, kline_sequence)
            WHERE id = $1
            """);
        checkpoint.Parameters.Add(new() { Value = id });
        checkpoint.Parameters.Add(new() { Value = step.NextHandle });
        checkpoint.Parameters.Add(new() { Value = (object?)step.KlineOpenTime ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        checkpoint.Parameters.Add(new() { Value = step.KlineSequence is { } seq ? (long)seq : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        batch.BatchCommands.Add(checkpoint);
        // One batch is one implicit transaction (one Sync): the step commits whole or not at all.
        await PublishLogsAsync(id, step.Logs, await ReadLogIdsAsync(batch, ct));
    }

    /// <summary>Each log line's id and its strategy's owner (for <see cref="StrategyEvents"/>).</summary>
    private const string InsertLog = """
        INSERT INTO strategy_logs (strategy_id, time, source, message) VALUES ($1, $2, $3, $4)
        RETURNING id, (SELECT user_id FROM strategies WHERE id = $1)
        """;

    /// <summary>Runs the batch to its end (its commit) and returns what its log inserts returned.</summary>
    private static async Task<List<(long Id, Guid UserId)>> ReadLogIdsAsync(NpgsqlBatch batch, CancellationToken ct)
    {
        var ids = new List<(long, Guid)>();
        await using var reader = await batch.ExecuteReaderAsync(ct);
        do
        {
            while (await reader.ReadAsync(ct))
            {
                if (reader.FieldCount == 2 && !reader.IsDBNull(1))
                {
                    ids.Add((reader.GetInt64(0), reader.GetGuid(1)));
                }
            }
        }
        while (await reader.NextResultAsync(ct));
        return ids;
    }

    /// <summary>After the commit: the lines in the order they were inserted, which is the order of their ids.</summary>
    private async Task PublishLogsAsync(Guid id, IReadOnlyList<(DateTimeOffset Time, string Source, string Message)> lines, List<(long Id, Guid UserId)> ids)
    {
        for (var i = 0; i < Math.Min(lines.Count, ids.Count); i++)
        {
            await events.LogAsync(ids[i].UserId, id, ids[i].Id, lines[i].Time, lines[i].Source, lines[i].Message);
        }
    }

    /// <summary>Orders committed with their step but with no answer from the engine recorded yet (sent or not before a crash).</summary>
    public async Task<IReadOnlyList<StepOrder>> PendingOrdersAsync(Guid id, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT handle, side, type, quantity, price, client_order_id FROM strategy_orders
            WHERE strategy_id = $1 AND status = 'pending' AND client_order_id IS NOT NULL ORDER BY handle
            """);
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var orders = new List<StepOrder>();
        while (await reader.ReadAsync(ct))
        {
            orders.Add(new StepOrder(reader.GetInt64(0), new StrategyOrderRequest(
                reader.GetString(1) == "buy" ? OrderSide.Buy : OrderSide.Sell,
                reader.GetString(2) == "market" ? OrderType.Market : OrderType.Limit,
                reader.GetDecimal(3), reader.IsDBNull(4) ? null : reader.GetDecimal(4)), reader.GetString(5)));
        }
        return orders;
    }

    public async Task<byte[]> GetModuleAsync(Guid id, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT module FROM strategies WHERE id = $1");
        command.Parameters.Add(new() { Value = id });
        return (byte[])(await command.ExecuteScalarAsync(ct) ?? throw new InvalidOperationException($"strategy {id} has no module"));
    }

    public async Task<bool> DeleteAsync(Guid userId, Guid id, CancellationToken ct)
    {
        await using var command = db.CreateCommand("DELETE FROM strategies WHERE id = $1 AND user_id = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = userId });
        return await command.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>Moves to running or stopped and clears any earlier fault.</summary>
    public async Task SetStatusAsync(Guid id, string status, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            UPDATE strategies SET status = $2, fault_reason = NULL, fault_message = NULL, fault_call = NULL, faulted_at = NULL, updated_at = now()
            WHERE id = $1
            RETURNING user_id
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = status });
        if (await command.ExecuteScalarAsync(ct) is Guid userId)
        {
            await events.StatusAsync(userId, id, status);
        }
    }

    public async Task SetFaultedAsync(Guid id, StrategyFault fault, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            UPDATE strategies SET status = 'faulted', fault_reason = $2, fault_message = $3, fault_call = $4, faulted_at = now(), updated_at = now()
            WHERE id = $1
            RETURNING user_id
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = FaultReasonName(fault.Reason) });
        command.Parameters.Add(new() { Value = fault.Message });
        command.Parameters.Add(new() { Value = fault.Call });
        if (await command.ExecuteScalarAsync(ct) is Guid userId)
        {
            await events.StatusAsync(userId, id, StrategyStatus.Faulted, FaultReasonName(fault.Reason), fault.Message);
        }
    }

    public static string FaultReasonName(StrategyFaultReason reason) => reason switch
    {
        StrategyFaultReason.Trap => "trap",
        StrategyFaultReason.Fuel => "fuel",
        StrategyFaultReason.Memory => "memory",
        StrategyFaultReason.Timeout => "timeout",
        StrategyFaultReason.InitFailed => "init_failed",
        _ => reason.ToString().ToLowerInvariant(),
    };

    public async Task AppendLogsAsync(Guid id, IReadOnlyList<(DateTimeOffset Time, string Source, string Message)> lines, CancellationToken ct)
    {
        if (lines.Count == 0)
        {
            return;
        }
        await using var batch = db.CreateBatch();
        foreach (var (time, source, message) in lines)
        {
            var command = new NpgsqlBatchCommand(InsertLog);
            command.Parameters.Add(new() { Value = id });
            command.Parameters.Add(new() { Value = time });
            command.Parameters.Add(new() { Value = source });
            // PostgreSQL text cannot hold NUL; a strategy may log anything.
            command.Parameters.Add(new() { Value = message.Replace('\0', '\uFFFD') });
            batch.BatchCommands.Add(command);
        }
        await PublishLogsAsync(id, lines, await ReadLogIdsAsync(batch, ct));
    }

    /// <summary>The newest <paramref name="limit"/> lines after <paramref name="afterId"/>, oldest first.</summary>
    public async Task<IReadOnlyList<StrategyLogLine>> ReadLogsAsync(Guid id, long afterId, int limit, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT id, time, source, message FROM (
                SELECT id, time, source, message FROM strategy_logs WHERE strategy_id = $1 AND id > $2 ORDER BY id DESC LIMIT $3
            ) newest ORDER BY id
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = afterId });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var lines = new List<StrategyLogLine>();
        while (await reader.ReadAsync(ct))
        {
            lines.Add(new StrategyLogLine(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3)));
        }
        return lines;
    }

    public async Task SetOrderOutcomeAsync(Guid id, long handle, Guid? orderId, string status, string? detail, CancellationToken ct)
    {
        await using var command = db.CreateCommand("UPDATE strategy_orders SET order_id = $3, status = $4, detail = $5 WHERE strategy_id = $1 AND handle = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = handle });
        command.Parameters.Add(new() { Value = (object?)orderId ?? DBNull.Value });
        command.Parameters.Add(new() { Value = status });
        command.Parameters.Add(new() { Value = (object?)detail ?? DBNull.Value });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The paper engine's order id behind a handle, if the engine accepted it.</summary>
    public async Task<Guid?> FindOrderIdAsync(Guid id, long handle, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT order_id FROM strategy_orders WHERE strategy_id = $1 AND handle = $2");
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = handle });
        return await command.ExecuteScalarAsync(ct) is Guid orderId ? orderId : null;
    }

    /// <summary>Applies a fill to the strategy's position once (by fill id), in one transaction.</summary>
    public async Task<AppliedFill> ApplyFillAsync(FillEvent fill, CancellationToken ct)
    {
        var strategyId = fill.StrategyId!.Value;
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        bool applied;
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO strategy_fills (fill_id, strategy_id, order_id, side, price, quantity, fee, time)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
            """, connection, tx))
        {
            insert.Parameters.Add(new() { Value = fill.Id });
            insert.Parameters.Add(new() { Value = strategyId });
            insert.Parameters.Add(new() { Value = fill.OrderId });
            insert.Parameters.Add(new() { Value = fill.Side == OrderSide.Buy ? "buy" : "sell" });
            insert.Parameters.Add(new() { Value = fill.Price });
            insert.Parameters.Add(new() { Value = fill.Quantity });
            insert.Parameters.Add(new() { Value = fill.Fee });
            insert.Parameters.Add(new() { Value = fill.Time });
            applied = await insert.ExecuteNonQueryAsync(ct) > 0;
        }
        decimal position;
        await using (var update = new NpgsqlCommand(applied
            ? "UPDATE strategies SET position = position + $2, updated_at = now() WHERE id = $1 RETURNING position"
            : "SELECT position FROM strategies WHERE id = $1", connection, tx))
        {
            update.Parameters.Add(new() { Value = strategyId });
            if (applied)
            {
                update.Parameters.Add(new() { Value = fill.Side == OrderSide.Buy ? fill.Quantity : -fill.Quantity });
            }
            position = await update.ExecuteScalarAsync(ct) is decimal p ? p : 0m;
        }
        long handle = 0;
        await using (var find = new NpgsqlCommand("SELECT handle FROM strategy_orders WHERE strategy_id = $1 AND order_id = $2", connection, tx))
        {
            find.Parameters.Add(new() { Value = strategyId });
            find.Parameters.Add(new() { Value = fill.OrderId });
            if (await find.ExecuteScalarAsync(ct) is long h)
            {
                handle = h;
            }
        }
        await tx.CommitAsync(ct);
        return new AppliedFill(applied, position, handle);
    }

    private static async Task<IReadOnlyList<StoredStrategy>> ReadAsync(NpgsqlCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        var list = new List<StoredStrategy>();
        while (await reader.ReadAsync(ct))
        {
            list.Add(new StoredStrategy(
                reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetString(6), reader.GetString(7), reader.GetInt32(8), reader.GetFieldValue<byte[]>(9), reader.GetString(10),
                NullableString(reader, 11), NullableString(reader, 12), NullableString(reader, 13),
                reader.IsDBNull(14) ? null : reader.GetFieldValue<DateTimeOffset>(14),
                reader.GetDecimal(15),
                reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16),
                reader.GetInt64(17),
                reader.GetFieldValue<DateTimeOffset>(18), reader.GetFieldValue<DateTimeOffset>(19),
                reader.IsDBNull(20) ? null : (ulong)reader.GetInt64(20)));
        }
        return list;
    }

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
