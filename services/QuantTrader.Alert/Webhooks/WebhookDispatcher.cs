using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Alert.Rules;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Alert.Webhooks;

/// <summary>The JSON body POSTed to a webhook.</summary>
public sealed record WebhookPayload(
    Guid EventId, Guid AlertId, Guid UserId, string Exchange, string Symbol, DateTimeOffset Time, decimal Price, decimal? Value, string Message, long Timestamp);

/// <summary>
/// Delivers fired alerts to their webhook URLs in the background: signed (<see cref="WebhookSigner"/>), retried with
/// exponential backoff and jitter on network errors and non-2xx answers, every attempt recorded in
/// <c>alert_webhook_deliveries</c>; after the last try a dead-letter row and a message on <c>deadletter.alert-webhook</c>.
/// <para>Fairness: every destination (host:port) has its own queue, at most
/// <see cref="WebhookOptions.PerDestinationConcurrency"/> attempts in flight and a <see cref="DestinationBreaker"/>.
/// A slow or black-hole endpoint therefore holds only its own slots, and once its breaker opens not even those: its
/// deliveries wait in its queue (not counted as attempts) until a probe gets through. A retry waits its backoff
/// outside any slot. Other destinations never wait for it.</para>
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    private readonly Channel<RuleStore.StoredFiring> _intake = Channel.CreateUnbounded<RuleStore.StoredFiring>();
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Destination> _destinations = new(StringComparer.Ordinal);
    private readonly HttpClient _http;
    private readonly WebhookOptions _options;
    private readonly RuleStore _store;
    private readonly INatsJSContext _js;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;
    private CancellationToken _stopping;

    public WebhookDispatcher(IOptions<WebhookOptions> options, RuleStore store, INatsJSContext js, TimeProvider time, ILogger<WebhookDispatcher> logger)
    {
        _options = options.Value;
        _store = store;
        _js = js;
        _time = time;
        _logger = logger;
        var allowPrivate = _options.AllowPrivateNetworks;
        // Not from IHttpClientFactory: the default handlers add their own retries and service discovery, and these
        // URLs are the users', not ours. The connect callback applies the SSRF policy to the address actually dialled.
        _http = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, ct) =>
            {
                var addresses = await Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, ct);
                var allowed = addresses.Where(a => WebhookAddressPolicy.IsAllowed(a, allowPrivate)).ToArray();
                if (allowed.Length == 0)
                {
                    throw new HttpRequestException($"webhook host {context.DnsEndPoint.Host} resolves only to forbidden (special-use, loopback or private) addresses");
                }

                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        {
            Timeout = _options.Timeout,
        };
    }

    public void Enqueue(RuleStore.StoredFiring firing)
    {
        if (firing.WebhookUrl is not null)
        {
            _intake.Writer.TryWrite(firing);
        }
    }

    /// <summary>The destination a URL delivers to: host and port, whatever the path or scheme.</summary>
    public static string DestinationOf(string url)
    {
        var uri = new Uri(url);
        return $"{uri.IdnHost}:{uri.Port}".ToLowerInvariant();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        await foreach (var firing in _intake.Reader.ReadAllAsync(stoppingToken))
        {
            Submit(new Delivery(firing, DestinationOf(firing.WebhookUrl!)));
        }
    }

    /// <summary>
    /// Shutdown: lets what is queued or in flight go out for up to <see cref="WebhookOptions.DrainTimeout"/> (the
    /// partitions, stopped before this, have recorded and queued their last firings), then cancels the rest. Deliveries
    /// still waiting then — retries in their backoff, destinations whose breaker is open — are lost with the process
    /// until issue #20's durable outbox.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + _options.DrainTimeout;
        while (_time.GetUtcNow() < deadline && !cancellationToken.IsCancellationRequested && Busy())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, CancellationToken.None);
        }

        await base.StopAsync(cancellationToken);
    }

    private bool Busy()
    {
        lock (_lock)
        {
            return _intake.Reader.Count > 0
                || _destinations.Values.Any(d => d.InFlight > 0 || (d.Queue.Count > 0 && d.Breaker.State != DestinationBreaker.BreakerState.Open));
        }
    }

    private void Submit(Delivery delivery)
    {
        lock (_lock)
        {
            if (!_destinations.TryGetValue(delivery.Destination, out var destination))
            {
                _destinations[delivery.Destination] = destination = new Destination(
                    delivery.Destination, new DestinationBreaker(_options.BreakerFailureThreshold, _options.BreakerOpenFor, _time));
            }

            // A dead destination's queue is bounded: a new delivery beyond the bound goes straight to the dead letters
            // (recorded and on the bus, like any undeliverable webhook). Retries already queued are always taken back.
            if (delivery.Attempt == 0 && destination.Queue.Count >= _options.MaxQueuedPerDestination)
            {
                delivery.LastError = $"destination {destination.Key} is not answering and already has {destination.Queue.Count} deliveries waiting";
                _ = DeadLetterAsync(delivery);
                return;
            }

            destination.Queue.Enqueue(delivery);
            Pump(destination);
        }
    }

    /// <summary>Starts what the destination's slots and breaker allow; wakes it later when its breaker is open. Under the lock.</summary>
    private void Pump(Destination destination)
    {
        while (destination.InFlight < _options.PerDestinationConcurrency && destination.Queue.Count > 0 && destination.Breaker.TryAcquire())
        {
            var delivery = destination.Queue.Dequeue();
            destination.InFlight++;
            _ = Task.Run(() => AttemptAsync(destination, delivery), CancellationToken.None);
        }

        if (destination.Queue.Count > 0 && destination.Breaker.State == DestinationBreaker.BreakerState.Open && !destination.WakeScheduled)
        {
            destination.WakeScheduled = true;
            _ = WakeAsync(destination, destination.Breaker.RetryAfter);
        }

        if (destination.IsIdle)
        {
            _destinations.Remove(destination.Key);
        }
    }

    private async Task WakeAsync(Destination destination, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _stopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        lock (_lock)
        {
            destination.WakeScheduled = false;
            Pump(destination);
        }
    }

    private async Task AttemptAsync(Destination destination, Delivery delivery)
    {
        Outcome outcome;
        try
        {
            outcome = await SendAsync(delivery);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            // Ours, not the destination's (the signing secret could not be read: database down). Not an attempt.
            _logger.LogWarning(ex, "Webhook for alert event {EventId} could not be prepared; trying again in {Delay}", delivery.Firing.EventId, _options.BaseDelay);
            outcome = Outcome.NotSent;
        }

        lock (_lock)
        {
            destination.InFlight--;
            if (outcome == Outcome.Unreachable)
            {
                var wasOpen = destination.Breaker.State == DestinationBreaker.BreakerState.Open;
                destination.Breaker.OnUnreachable();
                if (!wasOpen && destination.Breaker.State == DestinationBreaker.BreakerState.Open)
                {
                    _logger.LogWarning("Webhook destination {Destination} is unreachable; its breaker is open, its {Queued} queued deliveries wait {OpenFor} for a probe",
                        destination.Key, destination.Queue.Count, _options.BreakerOpenFor);
                }
            }
            else if (outcome is Outcome.Delivered or Outcome.Refused)
            {
                destination.Breaker.OnReachable();
            }

            Pump(destination);
        }

        switch (outcome)
        {
            case Outcome.Delivered:
                _logger.LogInformation("Webhook for alert event {EventId} delivered on attempt {Attempt}", delivery.Firing.EventId, delivery.Attempt);
                break;
            case Outcome.NotSent:
                _ = RetryLaterAsync(delivery, _options.BaseDelay);
                break;
            case var _ when delivery.Attempt < _options.MaxAttempts:
                _ = RetryLaterAsync(delivery, Backoff(delivery.Attempt));
                break;
            default:
                await DeadLetterAsync(delivery);
                break;
        }
    }

    /// <summary>The delay after attempt <paramref name="attempt"/>: the base delay doubled per attempt, ±20 % jitter.</summary>
    private TimeSpan Backoff(int attempt) =>
        _options.BaseDelay * Math.Pow(2, attempt - 1) * (0.8 + (0.4 * Random.Shared.NextDouble()));

    private async Task RetryLaterAsync(Delivery delivery, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _stopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Submit(delivery);
    }

    private async Task<Outcome> SendAsync(Delivery delivery)
    {
        var firing = delivery.Firing;
        delivery.Secret ??= await _store.SecretAsync(firing.UserId, _stopping);
        delivery.Attempt++;
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new WebhookPayload(firing.EventId, firing.AlertId, firing.UserId, firing.Exchange, firing.Symbol, firing.Time, firing.Price, firing.Value, firing.Message, timestamp),
            Json);
        using var request = new HttpRequestMessage(HttpMethod.Post, firing.WebhookUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add(WebhookSigner.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSigner.SignatureHeader, WebhookSigner.Sign(delivery.Secret, timestamp, body));
        request.Headers.Add(WebhookSigner.EventIdHeader, firing.EventId.ToString());
        try
        {
            using var response = await _http.SendAsync(request, _stopping);
            delivery.LastStatus = (int)response.StatusCode;
            delivery.LastError = response.IsSuccessStatusCode ? null : $"HTTP {delivery.LastStatus}";
            await RecordAsync(delivery, response.IsSuccessStatusCode, deadLetter: false);
            return response.IsSuccessStatusCode ? Outcome.Delivered : Outcome.Refused;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !_stopping.IsCancellationRequested)
        {
            delivery.LastStatus = null;
            delivery.LastError = ex is TaskCanceledException ? $"no answer within {_options.Timeout}" : ex.Message;
            await RecordAsync(delivery, succeeded: false, deadLetter: false);
            return Outcome.Unreachable;
        }
    }

    /// <summary>Records an attempt; a database error costs the row (logged), never the delivery.</summary>
    private async Task RecordAsync(Delivery delivery, bool succeeded, bool deadLetter)
    {
        try
        {
            await _store.RecordDeliveryAsync(delivery.Firing.EventId, delivery.Attempt, delivery.LastStatus, delivery.LastError, succeeded, deadLetter, _stopping);
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            _logger.LogWarning(ex, "Could not record attempt {Attempt} of the webhook for alert event {EventId}", delivery.Attempt, delivery.Firing.EventId);
        }
    }

    private async Task DeadLetterAsync(Delivery delivery)
    {
        var firing = delivery.Firing;
        _logger.LogWarning("Webhook for alert event {EventId} failed after {Attempts} attempts ({Error}); dead-lettered", firing.EventId, delivery.Attempt, delivery.LastError);
        await RecordAsync(delivery, succeeded: false, deadLetter: true);
        var subject = Subjects.DeadLetter("alert-webhook");
        // The project's dead-letter headers (Contracts), so one tool can read every dead letter.
        var headers = new NatsHeaders
        {
            [DeadLetterHeaders.Reason] = $"webhook failed after {delivery.Attempt} attempts: {delivery.LastError}",
            [DeadLetterHeaders.Consumer] = "alert-webhook",
            [DeadLetterHeaders.OriginalSubject] = Subjects.AlertsFired(firing.UserId),
        };
        try
        {
            using var activity = NatsTracing.StartPublish(subject, headers);
            var ack = await _js.PublishAsync(subject, JsonSerializer.SerializeToUtf8Bytes(firing, Json), headers: headers, cancellationToken: _stopping);
            ack.EnsureStored();
        }
        catch (Exception ex) when (!_stopping.IsCancellationRequested)
        {
            _logger.LogError(ex, "Could not publish the dead letter of the webhook for alert event {EventId} (its dead-letter row is recorded)", firing.EventId);
        }
    }

    private static JsonSerializerOptions CreateJson()
    {
        // The API's JSON conventions (camelCase, UTC times with Z), without the source-generated bus context.
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ContractsJsonContext.Configure(options);
        return options;
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private enum Outcome
    {
        /// <summary>2xx.</summary>
        Delivered,

        /// <summary>Another HTTP status: the destination is alive, the delivery is retried.</summary>
        Refused,

        /// <summary>Connection failure or no answer in time: counts against the destination's breaker.</summary>
        Unreachable,

        /// <summary>Nothing was sent (our side failed): retried, not counted as an attempt.</summary>
        NotSent,
    }

    /// <summary>One firing on its way to its webhook.</summary>
    private sealed class Delivery(RuleStore.StoredFiring firing, string destination)
    {
        public RuleStore.StoredFiring Firing { get; } = firing;

        public string Destination { get; } = destination;

        public string? Secret { get; set; }

        public int Attempt { get; set; }

        public int? LastStatus { get; set; }

        public string? LastError { get; set; }
    }

    /// <summary>One host:port: its queue, its attempts in flight, its breaker. Guarded by the dispatcher's lock.</summary>
    private sealed class Destination(string key, DestinationBreaker breaker)
    {
        public string Key { get; } = key;

        public Queue<Delivery> Queue { get; } = new();

        public DestinationBreaker Breaker { get; } = breaker;

        public int InFlight { get; set; }

        public bool WakeScheduled { get; set; }

        /// <summary>Nothing queued or in flight and nothing worth remembering: the entry can go.</summary>
        public bool IsIdle => Queue.Count == 0 && InFlight == 0 && !WakeScheduled && Breaker.IsPristine;
    }
}
