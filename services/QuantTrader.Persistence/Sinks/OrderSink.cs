using NATS.Client.JetStream.Models;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.Persistence.Ingest;

namespace QuantTrader.Persistence.Sinks;

/// <summary>
/// The latest state of each order, from <c>trading.order.&gt;</c>: upserted by id; an event older than the stored
/// state (by <c>updatedAt</c>) changes nothing, so redelivery out of order cannot move an order back in time.
/// </summary>
public sealed class OrderSink : CopySink<OrderEvent>
{
    public override string Table => "orders";
    public override string Durable => "persistence-orders";
    public override string? FilterSubject => "trading.order.>";
    public override StreamConfig Stream() => Streams.Trading();

    protected override string Columns =>
        "id, user_id, client_order_id, strategy_id, exchange, symbol, side, type, time_in_force, quantity, price, stop_price, status, filled_quantity, average_price, fees, reject_reason, created_at, updated_at";

    protected override string OnConflict => """
        ON CONFLICT (id) DO UPDATE SET
            client_order_id = EXCLUDED.client_order_id, strategy_id = EXCLUDED.strategy_id,
            exchange = EXCLUDED.exchange, symbol = EXCLUDED.symbol, side = EXCLUDED.side, type = EXCLUDED.type,
            time_in_force = EXCLUDED.time_in_force, quantity = EXCLUDED.quantity, price = EXCLUDED.price,
            stop_price = EXCLUDED.stop_price, status = EXCLUDED.status, filled_quantity = EXCLUDED.filled_quantity,
            average_price = EXCLUDED.average_price, fees = EXCLUDED.fees, reject_reason = EXCLUDED.reject_reason,
            created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
        WHERE orders.updated_at <= EXCLUDED.updated_at
        """;

    public override Decoded<OrderEvent> Decode(string subject, byte[]? data) =>
        Parse(data, ContractsJsonContext.Wire.OrderEvent, Validate, o => o);

    private static string? Validate(OrderEvent o)
    {
        if (o.Id == Guid.Empty || o.UserId == Guid.Empty)
        {
            return "order event without order id or user id";
        }
        if (string.IsNullOrWhiteSpace(o.Exchange) || string.IsNullOrWhiteSpace(o.Symbol))
        {
            return $"order {o.Id} without exchange or symbol";
        }
        return o.UpdatedAt == default ? $"order {o.Id} has no updatedAt" : null;
    }

    protected override IReadOnlyList<OrderEvent> Deduplicate(IReadOnlyList<OrderEvent> rows)
    {
        var latest = new Dictionary<Guid, OrderEvent>(rows.Count);
        foreach (var o in rows)
        {
            if (!latest.TryGetValue(o.Id, out var seen) || seen.UpdatedAt <= o.UpdatedAt)
            {
                latest[o.Id] = o;
            }
        }
        return latest.Count == rows.Count ? rows : [.. latest.Values];
    }

    protected override void WriteRow(NpgsqlBinaryImporter w, OrderEvent o)
    {
        w.Write(o.Id, NpgsqlDbType.Uuid);
        w.Write(o.UserId, NpgsqlDbType.Uuid);
        WriteNullable(w, o.ClientOrderId, NpgsqlDbType.Text);
        WriteNullable(w, o.StrategyId, NpgsqlDbType.Uuid);
        w.Write(o.Exchange, NpgsqlDbType.Text);
        w.Write(o.Symbol, NpgsqlDbType.Text);
        w.Write(Wire(o.Side), NpgsqlDbType.Text);
        w.Write(Wire(o.Type), NpgsqlDbType.Text);
        w.Write(Wire(o.TimeInForce), NpgsqlDbType.Text);
        w.Write(o.Quantity, NpgsqlDbType.Numeric);
        WriteNullable(w, o.Price, NpgsqlDbType.Numeric);
        WriteNullable(w, o.StopPrice, NpgsqlDbType.Numeric);
        w.Write(Wire(o.Status), NpgsqlDbType.Text);
        w.Write(o.FilledQuantity, NpgsqlDbType.Numeric);
        w.Write(o.AveragePrice, NpgsqlDbType.Numeric);
        w.Write(o.Fees, NpgsqlDbType.Numeric);
        WriteNullable(w, o.RejectReason, NpgsqlDbType.Text);
        w.Write(o.CreatedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz);
        w.Write(o.UpdatedAt.ToUniversalTime(), NpgsqlDbType.TimestampTz);
    }

    internal static void WriteNullable<T>(NpgsqlBinaryImporter w, T? value, NpgsqlDbType type) where T : class
    {
        if (value is null) { w.WriteNull(); } else { w.Write(value, type); }
    }

    internal static void WriteNullable<T>(NpgsqlBinaryImporter w, T? value, NpgsqlDbType type) where T : struct
    {
        if (value is { } v) { w.Write(v, type); } else { w.WriteNull(); }
    }
}
