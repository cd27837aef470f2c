using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using QuantTrader.Alert.Channels;
using QuantTrader.Alert.Notifications;
using QuantTrader.Alert.Rules;

namespace QuantTrader.Alert.Webhooks;

/// <summary>
/// The signed webhook (docs/alerts.md § Webhooks): one POST of the notification's payload with its idempotency key and
/// a timestamp added, signed with the user's secret (<see cref="WebhookSigner"/> — the signature covers the body, so
/// the key in it), the key also in <c>Idempotency-Key</c> and the event id in <c>X-QuantTrader-Event-Id</c>. Redirects
/// are not followed; the SSRF policy is applied to the address actually dialled. Retries, fairness and the breaker
/// are the delivery worker's.
/// </summary>
public sealed class WebhookChannel : INotificationChannel, IDisposable
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private readonly HttpClient _http;
    private readonly WebhookOptions _options;
    private readonly RuleStore _secrets;
    private readonly TimeProvider _time;

    private readonly ChannelStore? _channels;

    public WebhookChannel(IOptions<WebhookOptions> options, RuleStore secrets, TimeProvider time, ChannelStore? channels = null)
    {
        _channels = channels;
        _options = options.Value;
        _secrets = secrets;
        _time = time;
        // Not from IHttpClientFactory: the default handlers add their own retries and service discovery, and these
        // URLs are the users', not ours. The connect callback applies the SSRF policy to the address actually dialled.
        // Not from IHttpClientFactory: the default handlers add their own retries and service discovery, and these
        // URLs are the users', not ours.
        _http = new HttpClient(WebhookAddressPolicy.GuardedHandler(_options.AllowPrivateNetworks)) { Timeout = _options.Timeout };
    }

    public string Name => "webhook";

    /// <summary>The destination a URL delivers to: host and port, whatever the path or scheme.</summary>
    public string DestinationOf(string target)
    {
        if (Guid.TryParse(target, out var channelId))
        {
            // A user's webhook channel: its URL is a secret read at send time; its own queue.
            return $"webhook:{channelId:N}";
        }

        var uri = new Uri(target);
        return $"{uri.IdnHost}:{uri.Port}".ToLowerInvariant();
    }

    public async Task<ChannelResult> SendAsync(OutboxDelivery delivery, CancellationToken ct)
    {
        var url = delivery.Target;
        if (Guid.TryParse(url, out var channelId))
        {
            if (_channels is null || await _channels.FindAsync(delivery.UserId, channelId, ct) is not { Settings.Url: { } channelUrl })
            {
                return new ChannelResult(AttemptOutcome.Refused, Error: "the notification channel was deleted");
            }

            url = channelUrl;
        }

        var secret = await _secrets.SecretAsync(delivery.UserId, ct);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var body = Body(delivery, timestamp);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add(WebhookSigner.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSigner.SignatureHeader, WebhookSigner.Sign(secret, timestamp, body));
        request.Headers.Add(WebhookSigner.EventIdHeader, delivery.EventId.ToString());
        request.Headers.Add(IdempotencyKeyHeader, delivery.Id.ToString());
        try
        {
            using var response = await _http.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? new ChannelResult(AttemptOutcome.Delivered, status)
                : new ChannelResult(AttemptOutcome.Refused, status, $"HTTP {status}", RetryAfter(response));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new ChannelResult(AttemptOutcome.Unreachable, Error: ex is TaskCanceledException ? $"no answer within {_options.Timeout}" : ex.Message);
        }
    }

    /// <summary>The payload's fields, then <c>idempotencyKey</c> and <c>timestamp</c> (Unix seconds, as in the header).</summary>
    private static byte[] Body(OutboxDelivery delivery, long timestamp)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var property in delivery.Payload.EnumerateObject())
            {
                if (property.Name is not ("idempotencyKey" or "timestamp"))
                {
                    property.WriteTo(json);
                }
            }

            json.WriteString("idempotencyKey", delivery.Id);
            json.WriteNumber("timestamp", timestamp);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A 429 or 503's <c>Retry-After</c>, in seconds or as a date.</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _time.GetUtcNow(),
        _ => null,
    };

    public void Dispose() => _http.Dispose();
}
