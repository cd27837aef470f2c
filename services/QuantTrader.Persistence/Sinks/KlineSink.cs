using NATS.Client.JetStream.Models;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Persistence.Ingest;

namespace QuantTrader.Persistence.Sinks;

/// <summary>
/// Klines from MARKET_KLINE, closed and in-progress. Unique by (exchange, symbol, interval, open time): each update
/// of the open kline replaces the stored one, and the closed kline replaces the last open update. A closed kline is
/// never replaced by an open one (a late redelivery of an old update).
/// </summary>
public sealed class KlineSink : CopySink<Kline>
{
    public override string Table => "klines";
    public override string Durable => "persistence-klines";
    public override string? FilterSubject => null;
    public override StreamConfig Stream() => Streams.MarketKline();

    protected override string Columns =>
        "exchange, symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, closed";

    protected override string OnConflict => """
        ON CONFLICT (exchange, symbol, interval, open_time) DO UPDATE SET
            close_time = EXCLUDED.close_time, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
            close = EXCLUDED.close, volume = EXCLUDED.volume, quote_volume = EXCLUDED.quote_volume,
            trades = EXCLUDED.trades, taker_buy_volume = EXCLUDED.taker_buy_volume,
            taker_buy_quote_volume = EXCLUDED.taker_buy_quote_volume, closed = EXCLUDED.closed
        WHERE NOT klines.closed OR EXCLUDED.closed
        """;

    public override Decoded<Kline> Decode(string subject, byte[]? data) =>
        Parse(data, ContractsJsonContext.Wire.Kline, Validate,
            k => k with { OpenTime = k.OpenTime.ToUniversalTime(), CloseTime = k.CloseTime.ToUniversalTime() });

    private static string? Validate(Kline k)
    {
        if (string.IsNullOrWhiteSpace(k.Exchange) || string.IsNullOrWhiteSpace(k.Symbol))
        {
            return "kline without exchange or symbol";
        }
        if (!KlineIntervals.IsKnown(k.Interval))
        {
            return $"kline {k.Exchange}:{k.Symbol} has unknown interval '{k.Interval}'";
        }
        if (k.CloseTime < k.OpenTime || k.Low > k.High)
        {
            return $"kline {k.Exchange}:{k.Symbol}:{k.Interval}@{k.OpenTime:O} is inconsistent (close time before open time or low above high)";
        }
        return null;
    }

    protected override IReadOnlyList<Kline> Deduplicate(IReadOnlyList<Kline> rows)
    {
        var latest = new Dictionary<(string, string, string, DateTimeOffset), Kline>(rows.Count);
        foreach (var k in rows)
        {
            var key = (k.Exchange, k.Symbol, k.Interval, k.OpenTime);
            // Later in the stream is newer, except that an open update never replaces the closed kline.
            if (!latest.TryGetValue(key, out var seen) || !seen.Closed || k.Closed)
            {
                latest[key] = k;
            }
        }
        return latest.Count == rows.Count ? rows : [.. latest.Values];
    }

    protected override void WriteRow(NpgsqlBinaryImporter w, Kline k)
    {
        w.Write(k.Exchange, NpgsqlDbType.Text);
        w.Write(k.Symbol, NpgsqlDbType.Text);
        w.Write(k.Interval, NpgsqlDbType.Text);
        w.Write(k.OpenTime, NpgsqlDbType.TimestampTz);
        w.Write(k.CloseTime, NpgsqlDbType.TimestampTz);
        w.Write(k.Open, NpgsqlDbType.Numeric);
        w.Write(k.High, NpgsqlDbType.Numeric);
        w.Write(k.Low, NpgsqlDbType.Numeric);
        w.Write(k.Close, NpgsqlDbType.Numeric);
        w.Write(k.Volume, NpgsqlDbType.Numeric);
        w.Write(k.QuoteVolume, NpgsqlDbType.Numeric);
        w.Write(k.Trades, NpgsqlDbType.Bigint);
        w.Write(k.TakerBuyVolume, NpgsqlDbType.Numeric);
        w.Write(k.TakerBuyQuoteVolume, NpgsqlDbType.Numeric);
        w.Write(k.Closed, NpgsqlDbType.Boolean);
    }
}
