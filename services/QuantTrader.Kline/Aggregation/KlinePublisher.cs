using System.Diagnostics.Metrics;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;
using QuantTrader.MarketData.Klines;
using QuantTrader.ServiceDefaults.Messaging;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Kline.Aggregation;

/// <summary>
/// Sends klines out, on the publishing connection (publishes run between the trades of a consumer, whose backlog must not
/// hold up their acks): closed klines into MARKET_KLINE, once each by their deterministic message id; open-kline
/// updates on core NATS.
/// </summary>
public sealed class KlinePublisher(
    [FromKeyedServices(NatsClientExtensions.Publisher)] INatsJSContext publisher,
    ILogger<KlinePublisher> logger)
{
    private static readonly Counter<long> ClosedCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.closed", description: "Closed klines published");
    private static readonly Counter<long> AmendedCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.kline.amended", description: "Closed klines re-published with late trades added (amendments)");

    /// <summary>
    /// The closed kline's message id: the same for every replay of the trades that closed it, by any owner of its
    /// partition, so JetStream's duplicate window drops a re-publish after a restart or a hand-over.
    /// </summary>
    public static string ClosedMessageId(KlineRecord kline) =>
        $"{kline.Exchange}:{kline.Symbol}:{kline.Interval}:{kline.OpenTime.ToUnixTimeMilliseconds()}:closed";

    /// <summary>
    /// An amendment's message id: its own (the closed kline's id and the amendment number), so the duplicate window drops
    /// a replay of the same amendment but not the amendment after the original close.
    /// </summary>
    public static string AmendmentMessageId(KlineRecord kline, int number) =>
        $"{ClosedMessageId(kline)}:{number.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    public async Task PublishClosedAsync(string source, KlineRecord kline, CancellationToken ct)
    {
        await PublishStoredAsync(source, kline, ClosedMessageId(kline), amendment: 0, ct);
        ClosedCounter.Add(1);
    }

    /// <summary>A closed kline again, with late trades added: marked by <see cref="KlineHeaders.Amendment"/>.</summary>
    public async Task PublishAmendmentAsync(KlineAmendment amendment, CancellationToken ct)
    {
        var kline = amendment.Kline;
        await PublishStoredAsync(KlineSources.Live, kline, AmendmentMessageId(kline, amendment.Number), amendment.Number, ct);
        AmendedCounter.Add(1);
        logger.LogInformation(
            "Amended closed kline {Exchange}:{Symbol} {Interval} {OpenTime:O} (amendment {Amendment}) with {LateTrades} late trades: now {Trades} trades, volume {Volume}, close {Close}",
            kline.Exchange, kline.Symbol, kline.Interval, kline.OpenTime, amendment.Number, amendment.LateTrades, kline.Trades, kline.Volume, kline.Close);
    }

    /// <summary>A history kline still open when its import went idle: stored, without a message id (it is not final).</summary>
    public Task PublishIdleHistoryAsync(KlineRecord kline, CancellationToken ct) =>
        PublishStoredAsync(KlineSources.History, kline, msgId: null, amendment: 0, ct);

    /// <summary>
    /// An open-kline update on core NATS (<see cref="Subjects.MarketCandle"/>), not in MARKET_KLINE: every consumer of
    /// that stream (alert, strategy runner, analytics) acts on closed klines only, and 160 stored updates a second they
    /// then discarded were the largest recurring load on a small machine (docs/benchmarks.md section 11); the update
    /// is superseded a second later anyway, so no stream ack is awaited either.
    /// </summary>
    public async Task PublishOpenAsync(KlineRecord kline, CancellationToken ct)
    {
        var subject = Subjects.MarketCandle(kline.Exchange, kline.Interval, kline.Symbol);
        var headers = new NatsHeaders();
        using var activity = NatsTracing.StartPublish(subject, headers);
        var payload = JsonSerializer.SerializeToUtf8Bytes(kline, ContractsJsonContext.Wire.Kline);
        try
        {
            await publisher.Connection.PublishAsync(subject, payload, headers, cancellationToken: ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // NATS away: the next period's update carries the same state and more.
            logger.LogDebug(ex, "Open kline update on {Subject} not sent", subject);
        }
    }

    private async Task PublishStoredAsync(string source, KlineRecord kline, string? msgId, int amendment, CancellationToken ct)
    {
        var subject = Subjects.MarketKline(kline.Exchange, kline.Interval, kline.Symbol);
        var headers = new NatsHeaders();
        if (source == KlineSources.History)
        {
            headers[KlineSources.Header] = KlineSources.History;
        }

        if (amendment > 0)
        {
            headers[KlineHeaders.Amendment] = amendment.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        using var activity = NatsTracing.StartPublish(subject, headers);
        var payload = JsonSerializer.SerializeToUtf8Bytes(kline, ContractsJsonContext.Wire.Kline);
        await publisher.PublishStoredAsync(subject, payload, msgId, headers, logger, ct);
    }
}
