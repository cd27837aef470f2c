using NATS.Client.JetStream.Models;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;
using QuantTrader.Persistence.Ingest;

namespace QuantTrader.Persistence.Sinks;

/// <summary>Fills from <c>trading.fill.&gt;</c>, unique by fill id.</summary>
public sealed class FillSink : CopySink<FillEvent>
{
    public override string Table => "fills";
    public override string Durable => "persistence-fills";
    public override string? FilterSubject => "trading.fill.>";
    public override StreamConfig Stream() => Streams.Trading();

    protected override string Columns =>
        "id, order_id, user_id, strategy_id, exchange, symbol, side, price, quantity, fee, fee_asset, liquidity, trade_id, time";

    protected override string OnConflict => "ON CONFLICT (id) DO NOTHING";

    public override Decoded<FillEvent> Decode(string subject, byte[]? data) =>
        Parse(data, ContractsJsonContext.Wire.FillEvent, Validate, f => f);

    private static string? Validate(FillEvent f)
    {
        if (f.Id == Guid.Empty || f.OrderId == Guid.Empty || f.UserId == Guid.Empty)
        {
            return "fill without id, order id or user id";
        }
        if (string.IsNullOrWhiteSpace(f.Exchange) || string.IsNullOrWhiteSpace(f.Symbol) || string.IsNullOrWhiteSpace(f.FeeAsset))
        {
            return $"fill {f.Id} without exchange, symbol or fee asset";
        }
        if (f.Price <= 0m || f.Quantity <= 0m || f.Fee < 0m)
        {
            return $"fill {f.Id} has price {f.Price}, quantity {f.Quantity}, fee {f.Fee}: price and quantity must be positive, the fee not negative";
        }
        return f.Time == default ? $"fill {f.Id} has no time" : null;
    }

    protected override void WriteRow(NpgsqlBinaryImporter w, FillEvent f)
    {
        w.Write(f.Id, NpgsqlDbType.Uuid);
        w.Write(f.OrderId, NpgsqlDbType.Uuid);
        w.Write(f.UserId, NpgsqlDbType.Uuid);
        OrderSink.WriteNullable(w, f.StrategyId, NpgsqlDbType.Uuid);
        w.Write(f.Exchange, NpgsqlDbType.Text);
        w.Write(f.Symbol, NpgsqlDbType.Text);
        w.Write(Wire(f.Side), NpgsqlDbType.Text);
        w.Write(f.Price, NpgsqlDbType.Numeric);
        w.Write(f.Quantity, NpgsqlDbType.Numeric);
        w.Write(f.Fee, NpgsqlDbType.Numeric);
        w.Write(f.FeeAsset, NpgsqlDbType.Text);
        w.Write(Wire(f.Liquidity), NpgsqlDbType.Text);
        w.Write(f.TradeId, NpgsqlDbType.Bigint);
        w.Write(f.Time.ToUniversalTime(), NpgsqlDbType.TimestampTz);
    }
}
