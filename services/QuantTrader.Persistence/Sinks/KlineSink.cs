using NATS.Client.Core;
using NATS.Client.JetStream.Models;
using Npgsql;
using NpgsqlTypes;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Persistence.Ingest;

namespace QuantTrader.Persistence.Sinks;

/// <summary>A kline to store and which version of its close it is: 0 the original (or an open kline), n its n-th amendment.</summary>
public sealed record StoredKline(Kline Kline, int Amendment);

/// <summary>
/// Klines from MARKET_KLINE, closed and in-progress. Unique by (exchange, symbol, interval, open time): each update
/// of the open kline replaces the stored one, and the closed kline replaces the last open update. A closed kline is
/// never replaced by an open one (a late redelivery of an old update), and an amended close (header
/// <see cref="KlineHeaders.Amendment"/>, docs/klines.md) replaces the closed kline only when its number is at least the
/// stored one's: the newest amendment wins, whatever order a redelivery brings them in.
/// </summary>
public sealed class KlineSink : CopySink<StoredKline>
{
    public override string Table => "klines";
    public override string Durable => "persistence-klines";
    public override string? FilterSubject => null;
    public override StreamConfig Stream() => Streams.MarketKline();

    protected override string Columns =>
        "exchange, symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume, trades, taker_buy_volume, taker_buy_quote_volume, closed, amendment";

    protected override string OnConflict => """
        ON CONFLICT (exchange, symbol, interval, open_time) DO UPDATE SET
            close_time = EXCLUDED.close_time, open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
            close = EXCLUDED.close, volume = EXCLUDED.volume, quote_volume = EXCLUDED.quote_volume,
            trades = EXCLUDED.trades, taker_buy_volume = EXCLUDED.taker_buy_volume,
            taker_buy_quote_volume = EXCLUDED.taker_buy_quote_volume, closed = EXCLUDED.closed,
            amendment = EXCLUDED.amendment
        WHERE NOT klines.closed OR (EXCLUDED.closed AND EXCLUDED.amendment >= COALESCE(klines.amendment, 0))
        """;

    public override Decoded<StoredKline> Decode(string subject, byte[]? data) => Decode(subject, headers: null, data);

    public override Decoded<StoredKline> Decode(string subject, NatsHeaders? headers, byte[]? data)
    {
        var amendment = headers?.TryGetValue(KlineHeaders.Amendment, out var value) == true ? KlineHeaders.AmendmentOf(value) : 0;
        return Parse(data, ContractsJsonContext.Wire.Kline, Validate,
            k => new StoredKline(k with { OpenTime = k.OpenTime.ToUniversalTime(), CloseTime = k.CloseTime.ToUniversalTime() }, amendment));
    }

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

    protected override IReadOnlyList<StoredKline> Deduplicate(IReadOnlyList<StoredKline> rows)
    {
        var latest = new Dictionary<(string, string, string, DateTimeOffset), StoredKline>(rows.Count);
        foreach (var row in rows)
        {
            var k = row.Kline;
            var key = (k.Exchange, k.Symbol, k.Interval, k.OpenTime);
            // Later in the stream is newer, except that an open update never replaces the closed kline, and a close never
            // replaces a later amendment of it (the same rule as the upsert's).
            if (!latest.TryGetValue(key, out var seen) || !seen.Kline.Closed || (k.Closed && row.Amendment >= seen.Amendment))
            {
                latest[key] = row;
            }
        }
        return latest.Count == rows.Count ? rows : [.. latest.Values];
    }

    protected override void WriteRow(NpgsqlBinaryImporter w, StoredKline row)
    {
        var k = row.Kline;
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
        w.Write(row.Amendment, NpgsqlDbType.Integer);
    }
}
