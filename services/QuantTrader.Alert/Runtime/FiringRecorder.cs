using System.Diagnostics.Metrics;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Alert.Evaluation;
using QuantTrader.Alert.Notifications;
using QuantTrader.Alert.Rules;
using QuantTrader.Contracts.Alerts;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;
using QuantTrader.ServiceDefaults.Storage;

namespace QuantTrader.Alert.Runtime;

/// <summary>
/// What happens when rules fire or re-arm: record (rule state + event + its notifications in the outbox, one
/// statement), publish <see cref="AlertFired"/> on <c>alerts.fired.{userId}</c> under the firing's deterministic id,
/// mark it published — in that order, so a step replayed after a hand-over or crash (same rule, same trigger, same id)
/// finds its firing recorded and published and neither publishes again nor adds a delivery (the outbox rows' keys
/// derive from the firing id). Delivering is the outbox's (<see cref="NotificationOutbox"/>), durable from the record on.
/// <para>The engine moves a rule's state in memory when it fires, before the firing is recorded; so recording is
/// retried until it succeeds (<see cref="UntilDoneAsync"/>) while the database is unreachable, with backoff up to
/// <see cref="MaxRetryDelay"/>, and the consumer that delivered the trade or kline waits meanwhile (JetStream keeps the
/// rest). A database outage delays firings; it never loses one, and never stops the service.</para>
/// </summary>
public sealed class FiringRecorder(
    RuleStore store,
    // The publishing connection: fired alerts are published from the consumers' loops, whose backlog must not hold up
    // their own traffic (NatsClientExtensions.Publisher).
    [FromKeyedServices(NatsClientExtensions.Publisher)] INatsJSContext js,
    NotificationOutbox outbox,
    TimeProvider time,
    ILogger<FiringRecorder> logger)
{
    public static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private static readonly Counter<long> FiredCounter = QuantTraderTelemetry.Meter.CreateCounter<long>("quanttrader.alert.fired", description: "Alerts fired");
    private static readonly Counter<long> ReplayedCounter = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.alert.replayed", description: "Firings evaluated again after a hand-over or crash and recognised by their id");

    public async Task RecordAsync(IReadOnlyList<Firing> firings, IReadOnlyList<Guid> rearmed, CancellationToken ct)
    {
        if (rearmed.Count > 0)
        {
            await UntilDoneAsync(token => store.SetArmedAsync([.. rearmed], token), $"re-arming {rearmed.Count} rule(s)", ct);
        }

        foreach (var firing in firings)
        {
            var rule = firing.Rule;
            if (firing.Trigger.Length == 0)
            {
                throw new ArgumentException($"The firing of alert {rule.Id} names no trigger: its id would not be unique.", nameof(firings));
            }

            var eventId = Triggers.FiringId(rule.Id, firing.Trigger);
            var outcome = RuleStore.RecordOutcome.RuleInactive;
            var notifications = outbox.EntriesFor(eventId, firing);
            await UntilDoneAsync(async token => outcome = await store.RecordFiringAsync(eventId, firing, notifications, time.GetUtcNow(), token),
                $"recording firing {eventId} of alert {rule.Id}", ct);
            if (notifications.Count > 0)
            {
                outbox.Notify();
            }

            if (outcome != RuleStore.RecordOutcome.ToPublish)
            {
                ReplayedCounter.Add(1);
                logger.LogInformation("Alert {AlertId} on {Trigger}: {Outcome}, not published again", rule.Id, firing.Trigger,
                    outcome == RuleStore.RecordOutcome.AlreadyPublished ? "already fired and published (a replayed step)" : "no longer active");
                continue;
            }

            FiredCounter.Add(1);
            logger.LogInformation("Alert {AlertId} of user {UserId} fired on {Trigger}: {Message}", rule.Id, rule.UserId, firing.Trigger, firing.Message);
            var stored = new RuleStore.StoredFiring(eventId, rule.Id, rule.UserId, rule.Exchange, rule.Symbol, firing.Time, firing.Price, firing.Value, firing.Message, rule.WebhookUrl);
            await UntilDoneAsync(token => PublishAsync(stored, token), $"publishing firing {eventId}", ct);
        }
    }

    /// <summary>
    /// Firings of the partition an earlier owner recorded but did not publish (it stopped in between): published now,
    /// before the new owner evaluates anything, so a replayed step finds them published.
    /// </summary>
    public async Task PublishUnpublishedAsync(int partition, CancellationToken ct)
    {
        foreach (var firing in await store.UnpublishedAsync(partition, ct))
        {
            await UntilDoneAsync(token => PublishAsync(firing, token), $"publishing firing {firing.EventId}", ct);
        }
    }

    /// <summary>
    /// Publishes (the bus drops a second publish of the id within ALERTS' duplicate window) and marks the row published:
    /// a crash before the mark publishes again, de-duplicated. The notifications are in the outbox already.
    /// </summary>
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
}
