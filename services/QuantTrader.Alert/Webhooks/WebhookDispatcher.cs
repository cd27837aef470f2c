using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Polly;
using Polly.Retry;
using QuantTrader.Alert.Rules;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Alert.Webhooks;

/// <summary>The JSON body POSTed to a webhook.</summary>
public sealed record WebhookPayload(
    Guid EventId, Guid AlertId, Guid UserId, string Exchange, string Symbol, DateTimeOffset Time, decimal Price, decimal? Value, string Message, long Timestamp);

/// <summary>
/// Delivers fired alerts to their webhook URLs in the background: signed (<see cref="WebhookSigner"/>), retried with
/// exponential backoff and jitter (Polly) on network errors and non-2xx answers, every attempt recorded in
/// <c>alert_webhook_deliveries</c>; after the last try a dead-letter row and a message on <c>deadletter.alert-webhook</c>.
/// </summary>
public sealed class WebhookDispatcher : BackgroundService
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    private readonly Channel<RuleStore.StoredFiring> _queue = Channel.CreateUnbounded<RuleStore.StoredFiring>();
    private readonly SemaphoreSlim _concurrency = new(16);
    private readonly HttpClient _http;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly WebhookOptions _options;
    private readonly RuleStore _store;
    private readonly INatsJSContext _js;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDispatcher> _logger;

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
                var allowed = addresses.Where(a => allowPrivate || !WebhookAddressPolicy.IsForbidden(a)).ToArray();
                if (allowed.Length == 0)
                {
                    throw new HttpRequestException($"webhook host {context.DnsEndPoint.Host} resolves only to forbidden (loopback/private/link-local) addresses");
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
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(0, _options.MaxAttempts - 1),
                Delay = _options.BaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TaskCanceledException>()
                    .HandleResult(r => !r.IsSuccessStatusCode),
            })
            .Build();
    }

    public void Enqueue(RuleStore.StoredFiring firing)
    {
        if (firing.WebhookUrl is not null)
        {
            _queue.Writer.TryWrite(firing);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var firing in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            await _concurrency.WaitAsync(stoppingToken);
            _ = Task.Run(async () =>
            {
                try
                {
                    await DeliverAsync(firing, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    _logger.LogError(ex, "Webhook delivery of event {EventId} failed unexpectedly", firing.EventId);
                }
                finally
                {
                    _concurrency.Release();
                }
            }, stoppingToken);
        }
    }

    private async Task DeliverAsync(RuleStore.StoredFiring firing, CancellationToken ct)
    {
        var secret = await _store.SecretAsync(firing.UserId, ct);
        var attempt = 0;
        string? lastError = null;
        int? lastStatus = null;
        try
        {
            using var final = await _retry.ExecuteAsync(async token =>
            {
                attempt++;
                var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
                var body = JsonSerializer.SerializeToUtf8Bytes(
                    new WebhookPayload(firing.EventId, firing.AlertId, firing.UserId, firing.Exchange, firing.Symbol, firing.Time, firing.Price, firing.Value, firing.Message, timestamp),
                    Json);
                using var request = new HttpRequestMessage(HttpMethod.Post, firing.WebhookUrl) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Add(WebhookSigner.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
                request.Headers.Add(WebhookSigner.SignatureHeader, WebhookSigner.Sign(secret, timestamp, body));
                request.Headers.Add(WebhookSigner.EventIdHeader, firing.EventId.ToString());
                try
                {
                    var response = await _http.SendAsync(request, token);
                    lastStatus = (int)response.StatusCode;
                    lastError = response.IsSuccessStatusCode ? null : $"HTTP {lastStatus}";
                    await _store.RecordDeliveryAsync(firing.EventId, attempt, lastStatus, lastError, response.IsSuccessStatusCode, deadLetter: false, ct);
                    return response;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
                {
                    lastStatus = null;
                    lastError = ex.Message;
                    await _store.RecordDeliveryAsync(firing.EventId, attempt, null, lastError, false, deadLetter: false, ct);
                    throw;
                }
            }, ct);
            if (final.IsSuccessStatusCode)
            {
                _logger.LogInformation("Webhook for alert event {EventId} delivered on attempt {Attempt}", firing.EventId, attempt);
                return;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // The last attempt threw; recorded above.
        }

        _logger.LogWarning("Webhook for alert event {EventId} failed after {Attempts} attempts ({Error}); dead-lettered", firing.EventId, attempt, lastError);
        await _store.RecordDeliveryAsync(firing.EventId, attempt, lastStatus, lastError, false, deadLetter: true, ct);
        var subject = Subjects.DeadLetter("alert-webhook");
        // The project's dead-letter headers (Contracts), so one tool can read every dead letter.
        var headers = new NatsHeaders
        {
            [DeadLetterHeaders.Reason] = $"webhook failed after {attempt} attempts: {lastError}",
            [DeadLetterHeaders.Consumer] = "alert-webhook",
            [DeadLetterHeaders.OriginalSubject] = Subjects.AlertsFired(firing.UserId),
        };
        using var activity = NatsTracing.StartPublish(subject, headers);
        var ack = await _js.PublishAsync(subject, JsonSerializer.SerializeToUtf8Bytes(firing, Json), headers: headers, cancellationToken: ct);
        ack.EnsureStored();
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
        _concurrency.Dispose();
        base.Dispose();
    }
}
