using System.Text.Json;
using QuantTrader.Alert.Notifications;

namespace QuantTrader.Alert.Channels;

/// <summary>
/// What Telegram, Discord and Slack sends share: the outbox target is the user's channel id, whose settings are read
/// and decrypted at send time (a deleted channel refuses); one POST of JSON; 2xx delivered; any other answer refused
/// with how long the service asked us to wait — the <c>Retry-After</c> header or the body's <c>retry_after</c>
/// (Discord: seconds at the top level; Telegram: <c>parameters.retry_after</c>), the longer of the two — which the
/// worker waits at least before the next attempt. None of these APIs takes an idempotency key, so a retry after a
/// lost answer can show a message twice (at least once).
/// </summary>
public abstract class ChatChannel(ChannelStore channels, TimeProvider time) : INotificationChannel
{
    public abstract string Name { get; }

    protected TimeProvider Time { get; } = time;

    /// <summary>Each channel its own queue and breaker (a Telegram chat, a Discord or Slack webhook).</summary>
    public string DestinationOf(string target) => $"{Name}:{Guid.Parse(target):N}";

    public async Task<ChannelResult> SendAsync(OutboxDelivery delivery, CancellationToken ct)
    {
        if (!Guid.TryParse(delivery.Target, out var id) || await channels.FindAsync(delivery.UserId, id, ct) is not { } channel)
        {
            return new ChannelResult(AttemptOutcome.Refused, Error: "the notification channel was deleted");
        }

        try
        {
            using var request = await RequestAsync(channel, ChannelMessages.Text(delivery, Markup), ct);
            using var response = await Http.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new ChannelResult(AttemptOutcome.Delivered, status);
            }

            var retryAfter = RetryAfter(response, await response.Content.ReadAsStringAsync(ct));
            if (retryAfter is { } wait)
            {
                OnRateLimited(channel, wait);
            }

            return new ChannelResult(AttemptOutcome.Refused, status, $"HTTP {status}", retryAfter);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new ChannelResult(AttemptOutcome.Unreachable, Error: ex is TaskCanceledException ? "no answer in time" : ex.Message);
        }
    }

    protected abstract Markup Markup { get; }

    protected abstract HttpClient Http { get; }

    /// <summary>The request that posts <paramref name="text"/> (after any spacing the service's limits need).</summary>
    protected abstract Task<HttpRequestMessage> RequestAsync(UserChannel channel, string text, CancellationToken ct);

    /// <summary>The service said to wait: later sends to the same place should wait too.</summary>
    protected virtual void OnRateLimited(UserChannel channel, TimeSpan wait)
    {
    }

    protected static HttpRequestMessage PostJson(string url, object body) => new(HttpMethod.Post, url)
    {
        Content = JsonContent.Create(body),
    };

    private TimeSpan? RetryAfter(HttpResponseMessage response, string body)
    {
        TimeSpan? header = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - Time.GetUtcNow(),
            _ => null,
        };
        TimeSpan? fromBody = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && (root.TryGetProperty("retry_after", out var seconds)
                    || (root.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
                        && parameters.TryGetProperty("retry_after", out seconds)))
                && seconds.ValueKind == JsonValueKind.Number)
            {
                fromBody = TimeSpan.FromSeconds(seconds.GetDouble());
            }
        }
        catch (JsonException)
        {
            // Not JSON (Slack answers plain text): the header is all there is.
        }

        return (header, fromBody) switch
        {
            ({ } h, { } b) => h > b ? h : b,
            _ => header ?? fromBody,
        };
    }
}
