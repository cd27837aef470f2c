using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Alert.Notifications;

/// <summary>
/// Delivers the outbox (docs/notifications.md): claims due rows (any replica may deliver any row; the claim, a lease
/// of <see cref="DeliveryOptions.ClaimTimeout"/>, makes one worker at a time attempt a row), hands each attempt to its
/// <see cref="INotificationChannel"/>, and writes the outcome back — delivered; pending again after a backoff with
/// jitter; or, after the last attempt (or one the receiver rejected for good), failed with a dead letter. A kill -9 loses nothing: what it held is due again
/// when its claims lapse (at once when the same replica starts again).
/// <para>Fairness: every destination has its own queue here, at most <see cref="DeliveryOptions.PerDestinationConcurrency"/>
/// attempts in flight and a <see cref="DestinationBreaker"/>. A slow or black-hole endpoint holds only its own slots;
/// once its breaker opens its rows go back to the outbox until the probe time and are not claimed meanwhile, and a
/// destination holding <see cref="DeliveryOptions.MaxHeldPerDestination"/> rows is not claimed from either — so other
/// destinations' rows are claimed and sent as if it were not there. A retry waits its backoff in the outbox.</para>
/// </summary>
public sealed class DeliveryWorker : BackgroundService
{
    private static readonly Counter<long> DeliveredCounter = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.notifications.delivered", description: "Notifications delivered");
    private static readonly Counter<long> FailedCounter = QuantTraderTelemetry.Meter.CreateCounter<long>(
        "quanttrader.notifications.failed", description: "Notifications failed after their last attempt");

    private readonly OutboxStore _store;
    private readonly NotificationOutbox _outbox;
    private readonly Dictionary<string, INotificationChannel> _channels;
    private readonly DeadLetters _deadLetters;
    private readonly DeliveryOptions _options;
    private readonly string _claimer;
    private readonly TimeProvider _time;
    private readonly ILogger<DeliveryWorker> _logger;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Destination> _destinations = new(StringComparer.Ordinal);
    private readonly HashSet<Task> _running = [];
    private readonly List<(OutboxDelivery, bool)> _cutOff = [];
    private readonly CancellationTokenSource _abort = new();
    private int _held;
    private bool _draining;

    /// <param name="claimer">This replica's stable name (its partition-lease instance name), written on its claims.</param>
    public DeliveryWorker(OutboxStore store, NotificationOutbox outbox, IEnumerable<INotificationChannel> channels, DeadLetters deadLetters,
        IOptions<DeliveryOptions> options, string claimer, TimeProvider time, ILogger<DeliveryWorker> logger)
    {
        _store = store;
        _outbox = outbox;
        _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);
        _deadLetters = deadLetters;
        _options = options.Value;
        _claimer = claimer;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await RecoverOwnClaimsAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                more = await ClaimAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                _logger.LogWarning(ex, "Claiming due notifications failed; trying again in {Delay}", _options.PollInterval);
            }

            if (!more)
            {
                await _outbox.WaitAsync(_options.PollInterval, _time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// SIGTERM: no more claims; rows queued here go back to the outbox at once (another replica may take them);
    /// attempts in flight get <see cref="DeliveryOptions.DrainTimeout"/> to finish and record their outcome, then are cut
    /// off and go back too, not counted. Within the host's shutdown timeout, nothing claimed stays claimed.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        List<(OutboxDelivery, bool)> queued;
        Task[] running;
        lock (_lock)
        {
            _draining = true;
            queued = [.. _destinations.Values.SelectMany(d => d.Queue).Select(d => (d, false))];
            foreach (var destination in _destinations.Values)
            {
                _held -= destination.Queue.Count;
                destination.Queue.Clear();
            }

            running = [.. _running];
        }

        await ReleaseAsync(queued, _time.GetUtcNow());
        if (!await FinishedWithinAsync(running, _options.DrainTimeout))
        {
            _logger.LogInformation("{Count} notification attempts still in flight after the drain; cut off, they go back to the outbox", running.Count(t => !t.IsCompleted));
            await _abort.CancelAsync();
            await FinishedWithinAsync(running, TimeSpan.FromSeconds(2));
        }

        List<(OutboxDelivery, bool)> cutOff;
        lock (_lock)
        {
            cutOff = [.. _cutOff];
        }

        await ReleaseAsync(cutOff, _time.GetUtcNow());
    }

    private async Task<bool> FinishedWithinAsync(Task[] attempts, TimeSpan patience)
    {
        try
        {
            await Task.WhenAll(attempts).WaitAsync(patience, _time);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Claims what this worker has room for; true when the batch was full (more may be due at once).</summary>
    private async Task<bool> ClaimAsync(CancellationToken ct)
    {
        int room;
        string[] skip;
        lock (_lock)
        {
            room = Math.Min(_options.ClaimBatch, _options.MaxHeld - _held);
            skip = [.. _destinations.Values.Where(d => !d.Accepting(_options.MaxHeldPerDestination)).Select(d => d.Key)];
        }

        if (room <= 0)
        {
            return false;
        }

        var now = _time.GetUtcNow();
        var claimed = await _store.ClaimAsync(_claimer, room, skip, now, now + _options.ClaimTimeout, ct);
        foreach (var delivery in claimed)
        {
            Submit(delivery);
        }

        return claimed.Count == room;
    }

    private void Submit(OutboxDelivery delivery)
    {
        if (!_channels.ContainsKey(delivery.Channel))
        {
            // A row of a channel this version does not have (written by a newer one): left to a replica that has it.
            _logger.LogWarning("Notification {NotificationId} is for channel {Channel}, unknown here; given back for a minute", delivery.Id, delivery.Channel);
            _ = ReleaseAsync([(delivery, false)], _time.GetUtcNow() + TimeSpan.FromMinutes(1));
            return;
        }

        lock (_lock)
        {
            if (!_destinations.TryGetValue(delivery.Destination, out var destination))
            {
                _destinations[delivery.Destination] = destination = new Destination(
                    delivery.Destination, new DestinationBreaker(_options.BreakerFailureThreshold, _options.BreakerOpenFor, _time));
            }

            destination.Queue.Enqueue(delivery);
            _held++;
            Pump(destination);
        }
    }

    /// <summary>
    /// Starts what the destination's slots and breaker allow. While its breaker is open its queued rows go back to the
    /// outbox, due when a probe may go out. Under the lock.
    /// </summary>
    private void Pump(Destination destination)
    {
        if (destination.Breaker.RetryAfter > TimeSpan.Zero && destination.Queue.Count > 0)
        {
            var waiting = destination.Queue.Select(d => (d, false)).ToList();
            _held -= waiting.Count;
            destination.Queue.Clear();
            _ = ReleaseAsync(waiting, _time.GetUtcNow() + destination.Breaker.RetryAfter);
        }

        while (!_draining && destination.InFlight < _options.PerDestinationConcurrency && destination.Queue.Count > 0 && destination.Breaker.TryAcquire())
        {
            var delivery = destination.Queue.Dequeue();
            destination.InFlight++;
            Task? attempt = null;
            attempt = Task.Run(async () =>
            {
                await AttemptAsync(destination, delivery);
                lock (_lock)
                {
                    _running.Remove(attempt!);
                }
            }, CancellationToken.None);
            _running.Add(attempt);
        }

        if (destination.IsIdle)
        {
            _destinations.Remove(destination.Key);
        }
    }

    private async Task AttemptAsync(Destination destination, OutboxDelivery delivery)
    {
        var begun = false;
        ChannelResult result;
        try
        {
            var now = _time.GetUtcNow();
            if (await _store.BeginAttemptAsync(delivery, now, now + _options.ClaimTimeout, _abort.Token) is not { } attempt)
            {
                // The claim lapsed while the row waited here and another worker has it now: it attempts, not this one.
                Settle(destination, outcome: null);
                return;
            }

            delivery.Attempt = attempt;
            begun = true;
            result = await _channels[delivery.Channel].SendAsync(delivery, _abort.Token);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Cut off by shutdown: given back (not counted) when the drain ends.
            lock (_lock)
            {
                _cutOff.Add((delivery, begun));
            }

            Settle(destination, outcome: null);
            return;
        }
        catch (Exception ex)
        {
            // Ours, not the destination's (the database unreachable: the claim, or the signing secret). Not an attempt.
            _logger.LogWarning(ex, "Notification {NotificationId} (event {EventId}) could not be sent from here; due again in {Delay}",
                delivery.Id, delivery.EventId, _options.BaseDelay);
            Settle(destination, outcome: null);
            await ReleaseAsync([(delivery, begun)], _time.GetUtcNow() + _options.BaseDelay);
            return;
        }

        Settle(destination, result.Outcome);
        await FinishAsync(delivery, result);
    }

    /// <summary>An attempt is over: its slot is free, the breaker learns what it showed.</summary>
    private void Settle(Destination destination, AttemptOutcome? outcome)
    {
        lock (_lock)
        {
            destination.InFlight--;
            _held--;
            switch (outcome)
            {
                case AttemptOutcome.Unreachable:
                    var wasOpen = destination.Breaker.State == DestinationBreaker.BreakerState.Open;
                    destination.Breaker.OnUnreachable();
                    if (!wasOpen && destination.Breaker.State == DestinationBreaker.BreakerState.Open)
                    {
                        _logger.LogWarning("Notification destination {Destination} is unreachable; its breaker is open, its deliveries wait {OpenFor} in the outbox for a probe",
                            destination.Key, _options.BreakerOpenFor);
                    }

                    break;
                case AttemptOutcome.Delivered or AttemptOutcome.Refused or AttemptOutcome.Rejected:
                    destination.Breaker.OnReachable();
                    break;
                default:
                    destination.Breaker.OnNotAttempted();
                    break;
            }

            Pump(destination);
        }

        // Room for more, and this destination may have been skipped by the last claim.
        _outbox.Notify();
    }

    /// <summary>Writes the attempt's outcome (and the claim's end); a dead letter first when it was the last.</summary>
    private async Task FinishAsync(OutboxDelivery delivery, ChannelResult result)
    {
        string status;
        DateTimeOffset? next = null;
        if (result.Outcome == AttemptOutcome.Delivered)
        {
            status = OutboxStore.Delivered;
        }
        else if (result.Outcome == AttemptOutcome.Rejected)
        {
            status = OutboxStore.Failed;
            await _deadLetters.PublishAsync(delivery, $"{delivery.Channel} refused for good on attempt {delivery.Attempt}: {result.Error}", CancellationToken.None);
        }
        else if (delivery.Attempt >= delivery.MaxAttempts)
        {
            status = OutboxStore.Failed;
            await _deadLetters.PublishAsync(delivery, $"{delivery.Channel} failed after {delivery.Attempt} attempts: {result.Error}", CancellationToken.None);
        }
        else
        {
            status = OutboxStore.Pending;
            var wait = Backoff(delivery.Attempt);
            if (result.RetryAfter is { } asked && asked > wait)
            {
                wait = asked;
            }

            next = _time.GetUtcNow() + wait;
            _ = WakeAfterAsync(wait);
        }

        // The send happened: its outcome is written even on shutdown. Until it is, the row stays claimed; if it never is
        // (the database gone for longer than the claim), the row is attempted again after its claim lapses — a second
        // request the receiver recognises by its key.
        for (var tries = 1; ; tries++)
        {
            try
            {
                if (!await _store.FinishAttemptAsync(delivery, status, next, result, _time.GetUtcNow(), CancellationToken.None))
                {
                    _logger.LogWarning("Notification {NotificationId}: its claim lapsed during attempt {Attempt}; the outcome ({Status}) is not recorded", delivery.Id, delivery.Attempt, status);
                }

                break;
            }
            catch (Exception ex) when (tries < 5)
            {
                _logger.LogWarning(ex, "Recording attempt {Attempt} of notification {NotificationId} failed; retrying", delivery.Attempt, delivery.Id);
                await Task.Delay(_options.BaseDelay * tries, _time);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "Could not record attempt {Attempt} of notification {NotificationId}; it is attempted again when its claim lapses", delivery.Attempt, delivery.Id);
                return;
            }
        }

        switch (status)
        {
            case OutboxStore.Delivered:
                DeliveredCounter.Add(1);
                _logger.LogInformation("Notification {NotificationId} ({Channel}, event {EventId}) delivered on attempt {Attempt}",
                    delivery.Id, delivery.Channel, delivery.EventId, delivery.Attempt);
                break;
            case OutboxStore.Failed:
                FailedCounter.Add(1);
                _logger.LogWarning("Notification {NotificationId} ({Channel}, event {EventId}) failed after {Attempts} attempts ({Error}); dead-lettered",
                    delivery.Id, delivery.Channel, delivery.EventId, delivery.Attempt, result.Error);
                break;
        }
    }

    /// <summary>The delay after attempt <paramref name="attempt"/>: the base delay doubled per attempt, ±20 % jitter.</summary>
    private TimeSpan Backoff(int attempt) =>
        _options.BaseDelay * Math.Pow(2, attempt - 1) * (0.8 + (0.4 * Random.Shared.NextDouble()));

    /// <summary>A retry due sooner than the next poll is claimed when due, not a poll later.</summary>
    private async Task WakeAfterAsync(TimeSpan delay)
    {
        if (delay >= _options.PollInterval)
        {
            return;
        }

        try
        {
            await Task.Delay(delay, _time, _abort.Token);
            _outbox.Notify();
        }
        catch (OperationCanceledException)
        {
            // shutting down
        }
    }

    /// <summary>Gives rows back to the outbox; a failure leaves them claimed until their claims lapse (logged).</summary>
    private async Task ReleaseAsync(IReadOnlyCollection<(OutboxDelivery Delivery, bool Begun)> deliveries, DateTimeOffset dueAt)
    {
        if (deliveries.Count == 0)
        {
            return;
        }

        try
        {
            await _store.ReleaseAsync(deliveries, dueAt, _time.GetUtcNow(), CancellationToken.None);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "Could not give {Count} notifications back to the outbox; they are due again when their claims lapse", deliveries.Count);
        }
    }

    private async Task RecoverOwnClaimsAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                var recovered = await _store.RecoverClaimsOfAsync(_claimer, _time.GetUtcNow(), ct);
                if (recovered > 0)
                {
                    _logger.LogInformation("{Count} notifications claimed by this replica ({Claimer}) before it stopped are due again", recovered, _claimer);
                }

                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                _logger.LogWarning(ex, "Recovering this replica's earlier claims failed; retrying");
                await Task.Delay(_options.PollInterval, _time, ct);
            }
        }
    }

    public override void Dispose()
    {
        _abort.Dispose();
        base.Dispose();
    }

    /// <summary>One destination: its queue of claimed rows, its attempts in flight, its breaker. Guarded by the worker's lock.</summary>
    private sealed class Destination(string key, DestinationBreaker breaker)
    {
        public string Key { get; } = key;

        public Queue<OutboxDelivery> Queue { get; } = new();

        public DestinationBreaker Breaker { get; } = breaker;

        public int InFlight { get; set; }

        /// <summary>Whether a claim may bring it more rows: its breaker lets a probe through, and it holds fewer than the bound.</summary>
        public bool Accepting(int maxHeld) => Breaker.RetryAfter == TimeSpan.Zero && Queue.Count + InFlight < maxHeld;

        /// <summary>Nothing held and nothing worth remembering: the entry can go.</summary>
        public bool IsIdle => Queue.Count == 0 && InFlight == 0 && Breaker.IsPristine;
    }
}
