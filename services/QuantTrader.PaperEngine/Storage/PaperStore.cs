using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.PaperEngine.Storage;

/// <summary>The paper engine's tables (migration 0400): written by the engine loop, read by the API.</summary>
public sealed class PaperStore(NpgsqlDataSource db) : Engine.IStepStore
{
    /// <summary>SQLSTATE of a step refused because another replica took the engine over (migration 0402).</summary>
    public const string SupersededState = "QT001";

    private long? _fence;

    /// <summary>
    /// Makes this replica the engine's writer under <paramref name="fence"/> (its lease's fence): refused when a later
    /// owner already claimed it. From here on every step checks the fence in its own transaction.
    /// </summary>
    public async Task<bool> ClaimAsync(ulong fence, string owner, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            UPDATE paper_engine_owner SET fence = $1, owner = $2, updated_at = now() WHERE id = 1 AND fence < $1
            """);
        command.Parameters.Add(new() { Value = (long)fence });
        command.Parameters.Add(new() { Value = owner });
        if (await command.ExecuteNonQueryAsync(ct) != 1)
        {
            return false;
        }
        _fence = (long)fence;
        return true;
    }

    private const string OrderColumns = """
        id, user_id, client_order_id, strategy_id, exchange, symbol, side, type, time_in_force, quantity, price, stop_price,
        status, filled_quantity, average_price, fees, reject_reason, created_at, updated_at
        """;

    private const string FillColumns = "id, order_id, user_id, strategy_id, exchange, symbol, side, price, quantity, fee, fee_asset, liquidity, trade_id, time";

    /// <summary>Writes one engine step atomically, in one round trip.</summary>
    /// <remarks>
    /// No explicit transaction: an <see cref="NpgsqlBatch"/> goes to the server as one pipeline ending in a single Sync,
    /// and PostgreSQL runs everything before a Sync as one implicit transaction — all statements commit together at
    /// the end (durably, with the server's synchronous_commit), or the first error rolls back all of them. The same
    /// atomicity as BEGIN … COMMIT without the separate COMMIT round trip, which was in every order's latency.
    /// </remarks>
    public async Task SaveAsync(PersistBatch batch, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var commands = new NpgsqlBatch(connection);
        if (_fence is { } fence)
        {
            // First in the step's implicit transaction: a superseded writer's step fails whole (SupersededState).
            Add(commands, "SELECT paper_engine_check_fence($1)", fence);
        }

        foreach (var a in batch.Accounts)
        {
            Add(commands, """
                INSERT INTO paper_accounts (user_id, maker_fee_rate, taker_fee_rate, portfolio) VALUES ($1, $2, $3, $4)
                ON CONFLICT (user_id) DO UPDATE SET maker_fee_rate = $2, taker_fee_rate = $3, portfolio = $4, updated_at = now()
                """, a.UserId, a.MakerFeeRate, a.TakerFeeRate, Json(a.PortfolioJson));
            foreach (var b in a.Balances)
            {
                Add(commands, """
                    INSERT INTO paper_balances (user_id, asset, free, locked, fees_paid) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (user_id, asset) DO UPDATE SET free = $3, locked = $4, fees_paid = $5
                    """, a.UserId, b.Asset, b.Free, b.Locked, a.FeesPaid.GetValueOrDefault(b.Asset));
            }
        }

        foreach (var (orderId, reservation) in batch.Reservations)
        {
            if (reservation is null)
            {
                Add(commands, "DELETE FROM paper_reservations WHERE order_id = $1", orderId);
            }
            else
            {
                Add(commands, """
                    INSERT INTO paper_reservations (order_id, user_id, asset, amount) VALUES ($1, $2, $3, $4)
                    ON CONFLICT (order_id) DO UPDATE SET amount = $4
                    """, orderId, reservation.UserId, reservation.Asset, reservation.Amount);
            }
        }

        foreach (var (o, version) in batch.Orders)
        {
            Add(commands, $"""
                INSERT INTO paper_orders ({OrderColumns}, version)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
                ON CONFLICT (id) DO UPDATE SET status = $13, filled_quantity = $14, average_price = $15, fees = $16,
                    reject_reason = $17, updated_at = $19, version = $20
                """,
                o.Id, o.UserId, Nullable(o.ClientOrderId), Nullable(o.StrategyId), o.Exchange, o.Symbol, WireNames.Of(o.Side), WireNames.Of(o.Type),
                WireNames.Of(o.TimeInForce), o.Quantity, Nullable(o.Price), Nullable(o.StopPrice), WireNames.Of(o.Status), o.FilledQuantity,
                o.AveragePrice, o.Fees, Nullable(o.RejectReason), o.CreatedAt, o.UpdatedAt, version);
        }

        foreach (var f in batch.Fills)
        {
            Add(commands, $"""
                INSERT INTO paper_fills ({FillColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                ON CONFLICT (id) DO NOTHING
                """,
                f.Id, f.OrderId, f.UserId, Nullable(f.StrategyId), f.Exchange, f.Symbol, WireNames.Of(f.Side), f.Price, f.Quantity, f.Fee,
                f.FeeAsset, WireNames.Of(f.Liquidity), f.TradeId, f.Time);
        }

        foreach (var b in batch.Books)
        {
            Add(commands, """
                INSERT INTO paper_books (exchange, symbol, stream_sequence, snapshot) VALUES ($1, $2, $3, $4)
                ON CONFLICT (exchange, symbol) DO UPDATE SET stream_sequence = $3, snapshot = $4, updated_at = now()
                """, b.Exchange, b.Symbol, (long)b.StreamSequence, Json(b.SnapshotJson));
        }

        foreach (var m in batch.Outbox)
        {
            Add(commands, "INSERT INTO paper_outbox (subject, message_id, payload) VALUES ($1, $2, $3)", m.Subject, m.MessageId, m.Payload);
        }

        if (commands.BatchCommands.Count > 0)
        {
            await commands.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>Everything the engine needs to come back exactly as it was.</summary>
    public async Task<StoredState> LoadAsync(CancellationToken ct)
    {
        var state = new StoredState();
        await using var connection = await db.OpenConnectionAsync(ct);
        await using (var cmd = new NpgsqlCommand("SELECT user_id, maker_fee_rate, taker_fee_rate, portfolio::text FROM paper_accounts", connection))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                state.Accounts.Add(new StoredAccount(r.GetGuid(0), r.GetDecimal(1), r.GetDecimal(2), r.GetString(3)));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT user_id, asset, free, locked, fees_paid FROM paper_balances", connection))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                state.Balances.Add(new StoredBalance(r.GetGuid(0), r.GetString(1), r.GetDecimal(2), r.GetDecimal(3), r.GetDecimal(4)));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT order_id, user_id, asset, amount FROM paper_reservations", connection))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                state.Reservations.Add(new Trading.Accounts.Reservation(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetDecimal(3)));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT exchange, symbol, stream_sequence, snapshot::text FROM paper_books", connection))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                state.Books.Add(new BookRow(r.GetString(0), r.GetString(1), (ulong)r.GetInt64(2), r.GetString(3)));
            }
        }

        await using (var cmd = new NpgsqlCommand("SELECT id, version FROM paper_orders WHERE status IN ('new', 'partially_filled')", connection))
        await using (var r = await cmd.ExecuteReaderAsync(ct))
        {
            while (await r.ReadAsync(ct))
            {
                state.OpenOrderVersions[r.GetGuid(0)] = r.GetInt32(1);
            }
        }

        return state;
    }

    public async Task<OrderEvent?> FindOrderAsync(Guid userId, Guid orderId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {OrderColumns} FROM paper_orders WHERE id = $1 AND user_id = $2");
        cmd.Parameters.Add(new() { Value = orderId });
        cmd.Parameters.Add(new() { Value = userId });
        return (await ReadOrdersAsync(cmd, ct)).FirstOrDefault();
    }

    public async Task<OrderEvent?> FindByClientOrderIdAsync(Guid userId, string clientOrderId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {OrderColumns} FROM paper_orders WHERE user_id = $1 AND client_order_id = $2");
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = clientOrderId });
        return (await ReadOrdersAsync(cmd, ct)).FirstOrDefault();
    }

    /// <summary>The newest <paramref name="limit"/> orders matching the filters, returned oldest first.</summary>
    public async Task<IReadOnlyList<OrderEvent>> ListOrdersAsync(Guid userId, OrderStatus? status, string? symbol, int limit, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            SELECT * FROM (
                SELECT {OrderColumns} FROM paper_orders
                WHERE user_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR symbol = $3)
                ORDER BY created_at DESC, id DESC LIMIT $4) newest
            ORDER BY created_at, id
            """);
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = status is { } s ? WireNames.Of(s) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)symbol ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit });
        return await ReadOrdersAsync(cmd, ct);
    }

    /// <summary>Fills in [from, to): from <paramref name="from"/> on when given, else the newest; always oldest first.</summary>
    public async Task<IReadOnlyList<FillEvent>> ListFillsAsync(Guid userId, DateTimeOffset? from, DateTimeOffset? to, int limit, CancellationToken ct)
    {
        var sql = from is null
            ? $"""
               SELECT * FROM (SELECT {FillColumns} FROM paper_fills WHERE user_id = $1 AND ($3::timestamptz IS NULL OR time < $3)
                              ORDER BY time DESC, id DESC LIMIT $4) newest ORDER BY time, id
               """
            : $"""
               SELECT {FillColumns} FROM paper_fills WHERE user_id = $1 AND time >= $2 AND ($3::timestamptz IS NULL OR time < $3)
               ORDER BY time, id LIMIT $4
               """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(new() { Value = userId });
        cmd.Parameters.Add(new() { Value = (object?)from ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)to ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = limit });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var fills = new List<FillEvent>();
        while (await r.ReadAsync(ct))
        {
            fills.Add(new FillEvent(r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.IsDBNull(3) ? null : r.GetGuid(3), r.GetString(4), r.GetString(5),
                WireNames.Parse<OrderSide>(r.GetString(6)), r.GetDecimal(7), r.GetDecimal(8), r.GetDecimal(9), r.GetString(10),
                WireNames.Parse<Liquidity>(r.GetString(11)), r.GetInt64(12), r.GetFieldValue<DateTimeOffset>(13)));
        }

        return fills;
    }

    /// <summary>The oldest unpublished events (outbox), in the order they were written.</summary>
    public async Task<IReadOnlyList<(long Id, OutboxMessage Message)>> ReadOutboxAsync(int max, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT id, subject, message_id, payload FROM paper_outbox ORDER BY id LIMIT $1");
        cmd.Parameters.Add(new() { Value = max });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<(long, OutboxMessage)>();
        while (await r.ReadAsync(ct))
        {
            list.Add((r.GetInt64(0), new OutboxMessage(r.GetString(1), r.GetString(2), r.GetFieldValue<byte[]>(3))));
        }

        return list;
    }

    public async Task DeleteOutboxAsync(IReadOnlyList<long> ids, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("DELETE FROM paper_outbox WHERE id = ANY($1)");
        cmd.Parameters.Add(new() { Value = ids.ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Deletes published events by their message ids (unique per event: order id and version, or fill id).</summary>
    /// <remarks>
    /// Committed without waiting for the WAL flush (synchronous_commit off for this transaction only): a delete lost to
    /// a crash only re-publishes events JetStream drops as duplicates, and the flush wait here competed with the
    /// engine's own commits, whose durability does matter.
    /// </remarks>
    public async Task DeleteOutboxByMessageIdAsync(IReadOnlyList<string> messageIds, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT set_config('synchronous_commit', 'off', true)"));
        var delete = new NpgsqlBatchCommand("DELETE FROM paper_outbox WHERE message_id = ANY($1)");
        delete.Parameters.Add(new() { Value = messageIds.ToArray() });
        batch.BatchCommands.Add(delete);
        await batch.ExecuteNonQueryAsync(ct);
    }

    private static async Task<IReadOnlyList<OrderEvent>> ReadOrdersAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var orders = new List<OrderEvent>();
        while (await r.ReadAsync(ct))
        {
            orders.Add(new OrderEvent(
                r.GetGuid(0), r.GetGuid(1), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetGuid(3),
                r.GetString(4), r.GetString(5), WireNames.Parse<OrderSide>(r.GetString(6)), WireNames.Parse<OrderType>(r.GetString(7)),
                WireNames.Parse<TimeInForce>(r.GetString(8)), r.GetDecimal(9), r.IsDBNull(10) ? null : r.GetDecimal(10),
                r.IsDBNull(11) ? null : r.GetDecimal(11), WireNames.Parse<OrderStatus>(r.GetString(12)), r.GetDecimal(13), r.GetDecimal(14),
                r.GetDecimal(15), r.IsDBNull(16) ? null : r.GetString(16), r.GetFieldValue<DateTimeOffset>(17), r.GetFieldValue<DateTimeOffset>(18)));
        }

        return orders;
    }

    private static void Add(NpgsqlBatch batch, string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var v in values)
        {
            command.Parameters.Add(v as NpgsqlParameter ?? new NpgsqlParameter { Value = v });
        }

        batch.BatchCommands.Add(command);
    }

    private static NpgsqlParameter Json(string json) => new() { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb };

    private static object Nullable<T>(T? value) where T : struct => value is { } v ? v : DBNull.Value;

    private static object Nullable(string? value) => (object?)value ?? DBNull.Value;
}

public sealed record StoredAccount(Guid UserId, decimal MakerFeeRate, decimal TakerFeeRate, string PortfolioJson);

public sealed record StoredBalance(Guid UserId, string Asset, decimal Free, decimal Locked, decimal FeesPaid);

public sealed class StoredState
{
    public List<StoredAccount> Accounts { get; } = [];

    public List<StoredBalance> Balances { get; } = [];

    public List<Trading.Accounts.Reservation> Reservations { get; } = [];

    public List<BookRow> Books { get; } = [];

    public Dictionary<Guid, int> OpenOrderVersions { get; } = [];
}
