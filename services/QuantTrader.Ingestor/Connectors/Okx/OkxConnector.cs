using System.Text.Json;
using QuantTrader.Ingestor.Diagnostics;
using QuantTrader.Ingestor.Markets;
using QuantTrader.Ingestor.Publishing;
using QuantTrader.MarketData.Normalization;
using QuantTrader.MarketData.Parsing;

namespace QuantTrader.Ingestor.Connectors.Okx;

/// <summary>
/// OKX v5 public <c>trades</c> channel: subscribes after connecting, sends the text <c>ping</c> when the connection has
/// been silent for <see cref="MarketDataOptions.OkxOptions.PingAfterIdle"/> (OKX drops it after 30 s), and on notice
/// 64008 (upgrade disconnect in about 60 s) moves to a new connection ahead of time. Aggregated entries are expanded
/// by the parser (<c>count</c> trades ending at <c>tradeId</c>).
/// </summary>
public sealed class OkxConnector(
    MarketDataOptions.OkxOptions options,
    IReadOnlyList<Market> markets,
    OkxMessageParser parser,
    TradePipeline pipeline,
    IngestorMetrics metrics,
    ILogger logger,
    TimeProvider time)
    : ExchangeConnector(Exchanges.Okx, markets, options, pipeline, metrics, logger, time)
{
    /// <summary>OKX limits one request's size; subscriptions go in chunks.</summary>
    private const int ArgsPerSubscribe = 100;

    protected override IReadOnlyList<FeedShard> Shards() =>
        Markets.Count == 0 ? [] : [new FeedShard(new Uri(options.StreamUrl), Markets)];

    protected override async Task OnOpenedAsync(FeedConnection connection, CancellationToken ct)
    {
        foreach (var chunk in Markets.Chunk(ArgsPerSubscribe))
        {
            var request = new
            {
                op = "subscribe",
                args = chunk.Select(m => new { channel = "trades", instId = m.ExchangeSymbol }),
            };
            await connection.SendTextAsync(JsonSerializer.Serialize(request), ct);
        }
    }

    protected override ParseResult Parse(ReadOnlySpan<byte> frame) => parser.Parse(frame);

    protected override async Task OnIdleAsync(FeedConnection connection, TimeSpan idle, CancellationToken ct)
    {
        var ping = options.PingAfterIdle;
        var sinceLastPing = connection.LastPingSent is { } sent ? Time.GetUtcNow() - sent : TimeSpan.MaxValue;
        if (idle >= ping && sinceLastPing >= ping)
        {
            // The answer is the text "pong": any frame resets the idle clock, and if none comes the watchdog reconnects.
            await connection.SendTextAsync("ping", ct);
        }
    }

    protected override void OnExchangeEvent(FeedConnection connection, ExchangeEvent e)
    {
        if (e is { Kind: ExchangeEventKind.Notice, Code: "64008" })
        {
            Logger.LogWarning("OKX connection #{Number}: notice 64008 ({Message}); reconnecting ahead of the upgrade", connection.Number, e.Message);
            connection.RequestRotation($"notice 64008: {e.Message}");
            return;
        }

        base.OnExchangeEvent(connection, e);
    }
}
