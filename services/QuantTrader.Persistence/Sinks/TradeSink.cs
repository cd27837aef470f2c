using System.Text.Json;
using NATS.Client.JetStream.Models;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Persistence.Ingest;

namespace QuantTrader.Persistence.Sinks;

/// <summary>
/// Trades: live ones from MARKET_RAW (<c>market.raw.&gt;</c>) and imported history from MARKET_HISTORY
/// (<c>market.history.&gt;</c>; <see cref="History"/>), one sink per stream, into the same table.
/// MARKET_RAW also carries <c>market.gap.&gt;</c> notices, which are not trades: acked and skipped.
/// Unique by (exchange, symbol, trade id): a redelivered trade is ignored.
/// </summary>
/// <param name="durable">The consumer name (another one only for tests that run a second saver).</param>
/// <param name="filterSubject">All of the stream by default: NATS 2.9 takes one filter, so gap notices are skipped in <see cref="Decode"/>.</param>
/// <param name="stream">MARKET_RAW by default.</param>
public sealed class TradeSink(string durable = "persistence-trades", string? filterSubject = null, Func<StreamConfig>? stream = null) : CopySink<Trade>
{
    /// <summary>Imported trades, from MARKET_HISTORY.</summary>
    public static TradeSink History() => new("persistence-history-trades", stream: Streams.MarketHistory);

    public override string Table => "trades";
    public override string Durable => durable;
    public override string? FilterSubject => filterSubject;
    public override StreamConfig Stream() => stream?.Invoke() ?? Streams.MarketRaw();

    protected override string Columns => "exchange, symbol, trade_id, time, price, quantity, side, count";
    protected override string OnConflict => "ON CONFLICT DO NOTHING";

    // A trade is stored once and never updated; a batch meets a stored key only after a redelivery or a replay.
    protected override bool CopyDirectlyFirst => true;

    public override Decoded<Trade> Decode(string subject, byte[]? data)
    {
        if (subject.StartsWith("market.gap.", StringComparison.Ordinal))
        {
            return Decoded<Trade>.Ignore();
        }
        if (data is null || data.Length == 0)
        {
            return Decoded<Trade>.Poison("empty payload");
        }

        // One trade, or several of one market (TradeMessages): a message is stored whole or dead-lettered whole, so an
        // invalid trade in a batch sends the batch to the dead-letter subject with the reason, like a single one.
        Trade[] trades;
        try
        {
            trades = TradeMessages.Decode(data);
        }
        catch (JsonException ex)
        {
            return Decoded<Trade>.Poison($"not a valid Trade: {ex.Message}");
        }
        for (var i = 0; i < trades.Length; i++)
        {
            if (Validate(trades[i]) is { } problem)
            {
                return Decoded<Trade>.Poison(trades.Length == 1 ? problem : $"trade {i + 1} of {trades.Length}: {problem}");
            }
            if (trades[i].Time.Offset != TimeSpan.Zero)
            {
                trades[i] = trades[i] with { Time = trades[i].Time.ToUniversalTime() }; // as stored: UTC (decoding gives UTC already)
            }
        }
        return trades.Length == 1 ? Decoded<Trade>.Store(trades[0]) : Decoded<Trade>.StoreAll(trades);
    }

    private static string? Validate(Trade t)
    {
        if (string.IsNullOrWhiteSpace(t.Exchange) || string.IsNullOrWhiteSpace(t.Symbol))
        {
            return "trade without exchange or symbol";
        }
        if (t.Price <= 0m || t.Quantity < 0m)
        {
            return $"trade {t.MessageId} has price {t.Price} and quantity {t.Quantity}: the price must be positive and the quantity not negative";
        }
        if (t.Time == default)
        {
            return $"trade {t.MessageId} has no time";
        }
        return null;
    }

    protected override void WriteRow(NpgsqlBinaryImporter w, Trade t)
    {
        w.Write(t.Exchange, NpgsqlDbType.Text);
        w.Write(t.Symbol, NpgsqlDbType.Text);
        w.Write(t.TradeId, NpgsqlDbType.Bigint);
        w.Write(t.Time, NpgsqlDbType.TimestampTz);
        w.Write(t.Price, NpgsqlDbType.Numeric);
        w.Write(t.Quantity, NpgsqlDbType.Numeric);
        w.Write(Wire(t.Side), NpgsqlDbType.Text);
        w.Write(t.Count, NpgsqlDbType.Integer);
    }
}
