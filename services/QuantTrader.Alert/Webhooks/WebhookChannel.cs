using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.Options;
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

    public WebhookChannel(IOptions<WebhookOptions> options, RuleStore secrets, TimeProvider time)
    {
        _options = options.Value;
        _secrets = secrets;
        _time = time;
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

    public string Name => "webhook";

    /// <summary>The destination a URL delivers to: host and port, whatever the path or scheme.</summary>
    public string DestinationOf(string target)
    {
        var uri = new Uri(target);
        return $"{uri.IdnHost}:{uri.Port}".ToLowerInvariant();
    }

    public async Task<ChannelResult> SendAsync(OutboxDelivery delivery, CancellationToken ct)
    {
        var secret = await _secrets.SecretAsync(delivery.UserId, ct);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        var body = Body(delivery, timestamp);
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Target) { Content = new ByteArrayContent(body) };
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
