using QuantTrader.ServiceDefaults.Storage;
using System.Diagnostics.Metrics;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Npgsql;
using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Rules;
using QuantTrader.Alert.Webhooks;
using QuantTrader.Contracts.Alerts;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Indicators;
using QuantTrader.ServiceDefaults.Messaging;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Alert.Runtime;

/// <summary>
/// The live engine and what happens when a rule fires: record (rule state + event, one transaction), publish
/// <see cref="AlertFired"/> on <c>alerts.fired.{userId}</c>, hand the webhook to the dispatcher. The engine is guarded
/// by one lock: trades, klines and API changes are serialized on it; I/O happens outside it.
/// <para>The engine moves a rule's state in memory when it fires, before the firing is recorded; so recording is
/// retried until it succeeds (<see cref="UntilDoneAsync"/>) while the database is unreachable, with backoff up to
/// <see cref="MaxRetryDelay"/>, and the consumer that delivered the trade or kline waits meanwhile (JetStream keeps the
/// rest). A database outage delays firings; it never loses one, and never stops the service.</para>
/// </summary>
public sealed class AlertRuntime(
    RuleStore store,
    StoredKlines klines,
    // The publishing connection: fired alerts are published from the trade consumer's loop, whose backlog must not
    // hold up their acks (NatsClientExtensions.Publisher).
    [FromKeyedServices(NatsClientExtensions.Publisher)] INatsJSContext js,
    WebhookDispatcher webhooks,
    TimeProvider time,
    ILogger<AlertRuntime> logger)
{
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private static readonly Counter<long> FiredCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.alert.fired", description: "Alerts fired");

    private readonly AlertEngine _engine = new();
    private readonly Lock _lock = new();
    private readonly EvaluationSink _sink = new();

    public bool Ready { get; private set; }

    public async Task LoadAsync(CancellationToken ct)
    {
        var rules = await store.LoadActiveAsync(ct);
        foreach (var (rule, _) in rules)
        {
            bool loaded;
            lock (_lock)
            {
                loaded = _engine.Contains(rule.Id);
            }

            if (loaded)
            {
                continue; // a retried start-up
            }

            var warmup = await WarmupAsync(rule, ct);
            lock (_lock)
            {
                _engine.Add(rule, warmup);
            }
        }

        foreach (var firing in await store.UnpublishedAsync(ct))
        {
            // Recorded before a stop but never published: finish the job (the bus de-duplicates by event id).
            await PublishAsync(firing, ct);
            webhooks.Enqueue(firing);
        }

        logger.LogInformation("Alert engine loaded {Count} active rules", rules.Count);
        Ready = true;
    }

    public async Task AddAsync(AlertRule rule, CancellationToken ct)
    {
        var warmup = await WarmupAsync(rule, ct);
        lock (_lock)
        {
            _engine.Add(rule, warmup);
        }
    }

    public void Remove(Guid id)
    {
        lock (_lock)
        {
            _engine.Remove(id);
        }
    }

    public Task OnTradeAsync(string exchange, string symbol, decimal price, DateTimeOffset time, CancellationToken ct)
    {
        Firing[] firings;
        Guid[] rearmed;
        lock (_lock)
        {
            _sink.Clear();
            _engine.OnTrade(exchange, symbol, price, time, _sink);
            if (_sink.IsEmpty)
            {
                return Task.CompletedTask;
            }

            firings = [.. _sink.Firings];
            rearmed = [.. _sink.Rearmed.Select(r => r.Id)];
        }

        return HandleAsync(firings, rearmed, ct);
    }

    public Task OnClosedKlineAsync(KlineRecord kline, CancellationToken ct)
    {
        Firing[] firings;
        Guid[] rearmed;
        lock (_lock)
        {
            _sink.Clear();
            _engine.OnClosedKline(kline, _sink);
            if (_sink.IsEmpty)
            {
                return Task.CompletedTask;
            }

            firings = [.. _sink.Firings];
            rearmed = [.. _sink.Rearmed.Select(r => r.Id)];
        }

        return HandleAsync(firings, rearmed, ct);
    }

    private async Task HandleAsync(Firing[] firings, Guid[] rearmed, CancellationToken ct)
    {
        if (rearmed.Length > 0)
        {
            await UntilDoneAsync(token => store.SetArmedAsync(rearmed, token), $"re-arming {rearmed.Length} rule(s)", ct);
        }

        foreach (var firing in firings)
        {
            var rule = firing.Rule;
            var eventId = Guid.CreateVersion7(firing.Time);
            // Idempotent (ON CONFLICT on the event id): a retry after a commit whose answer was lost changes nothing.
            await UntilDoneAsync(token => store.RecordFiringAsync(eventId, firing, token), $"recording firing {eventId} of alert {rule.Id}", ct);
            FiredCounter.Add(1);
            logger.LogInformation("Alert {AlertId} of user {UserId} fired: {Message}", rule.Id, rule.UserId, firing.Message);
            var stored = new RuleStore.StoredFiring(eventId, rule.Id, rule.UserId, rule.Exchange, rule.Symbol, firing.Time, firing.Price, firing.Value, firing.Message, rule.WebhookUrl);
            // Published under its event id (the bus de-duplicates a second publish); recorded, so a restart would
            // publish it too.
            await UntilDoneAsync(token => PublishAsync(stored, token), $"publishing firing {eventId}", ct);
            webhooks.Enqueue(stored);
        }
    }

    /// <summary>
    /// Runs <paramref name="step"/> until it succeeds, waiting (doubling from <see cref="FirstRetryDelay"/> to
    /// <see cref="MaxRetryDelay"/>) after each transient failure: the database or the bus unreachable, a timeout.
    /// Anything else is a bug, not an outage, and is thrown.
    /// </summary>
    private async Task UntilDoneAsync(Func<CancellationToken, Task> step, string what, CancellationToken ct)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await step(ct);
                if (attempt > 1)
                {
                    logger.LogInformation("Succeeded {What} after {Attempts} attempts", what, attempt);
                }

                return;
            }
            catch (Exception ex) when (IsTransient(ex) && !ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "{What} failed (attempt {Attempt}); retrying in {Delay} ms, nothing is dropped meanwhile",
                    what, attempt, (int)delay.TotalMilliseconds);
                await Task.Delay(delay, time, ct);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    private static bool IsTransient(Exception ex) => DatabaseOutage.Is(ex) || ex is NatsException;

    private async Task PublishAsync(RuleStore.StoredFiring firing, CancellationToken ct)
    {
        var subject = Subjects.AlertsFired(firing.UserId);
        var headers = new NatsHeaders();
        using var activity = NatsTracing.StartPublish(subject, headers);
        var payload = JsonSerializer.SerializeToUtf8Bytes(
            new AlertFired(firing.EventId, firing.AlertId, firing.UserId, firing.Exchange, firing.Symbol, firing.Time, firing.Price, firing.Value, firing.Message),
            ContractsJsonContext.Wire.AlertFired);
        await js.PublishStoredAsync(subject, payload, firing.EventId.ToString(), headers, logger, ct);
        await store.MarkPublishedAsync(firing.EventId, ct);
    }

    private async Task<IReadOnlyList<IndicatorBar>?> WarmupAsync(AlertRule rule, CancellationToken ct)
    {
        if (rule.Condition.Indicator is not { } spec)
        {
            return null;
        }

        lock (_lock)
        {
            // A rule joining an indicator group that already exists shares its live indicator: no query needed.
            if (!_engine.NeedsWarmup(rule))
            {
                return null;
            }
        }

        return await klines.LatestAsync(rule.Exchange, rule.Symbol, spec.Interval, StoredKlines.WarmupBars, ct);
    }
}
