using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using QuantTrader.Alert.Notifications;
using QuantTrader.Alert.Webhooks;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Alert.Channels;

/// <summary>The caller's notification channels (docs/notifications.md § Channels). Another user's channel is a 404.</summary>
public static partial class ChannelsApi
{
    public const int MaxNameLength = 100;

    public static WebApplication MapChannelsApi(this WebApplication app)
    {
        var channels = app.MapGroup("/api/v1/notification-channels").WithTags("Notifications").RequireCaller();
        channels.MapPost("", CreateAsync).WithSummary("Add a channel (webhook, telegram, discord, slack, email); its secrets are stored encrypted.");
        channels.MapGet("", ListAsync).WithSummary("The caller's channels; secrets only as their last characters.");
        channels.MapDelete("/{id:guid}", DeleteAsync).WithSummary("Remove one of the caller's channels.");
        channels.MapPost("/{id:guid}/test", TestAsync).WithSummary("Send a test message through the outbox.");
        return app;
    }

    private static async Task<IResult> CreateAsync(
        CreateChannelRequest request, HttpContext http, ChannelStore store, IOptions<WebhookOptions> webhookOptions, TimeProvider time, CancellationToken ct)
    {
        var type = request.Type?.ToLowerInvariant();
        if (type is null || !ChannelTypes.All.Contains(type))
        {
            return ProblemResults.Validation("type", $"type must be one of {string.Join(", ", ChannelTypes.All)}.");
        }

        var name = string.IsNullOrWhiteSpace(request.Name) ? type : request.Name.Trim();
        if (name.Length > MaxNameLength)
        {
            return ProblemResults.Validation("name", $"name must be at most {MaxNameLength} characters.");
        }

        ChannelSettings settings;
        string hint;
        if (type == ChannelTypes.Telegram)
        {
            if (request.BotToken is not { } token || !BotTokenPattern().IsMatch(token))
            {
                return ProblemResults.Validation("botToken", "botToken must be a Telegram bot token (123456:ABC…).");
            }

            if (request.ChatId is not { } chat || !ChatIdPattern().IsMatch(chat))
            {
                return ProblemResults.Validation("chatId", "chatId must be a numeric chat id or an @channel username.");
            }

            settings = new ChannelSettings(BotToken: token, ChatId: chat);
            hint = $"chat {chat}, token …{token[^4..]}";
        }
        else if (type == ChannelTypes.Email)
        {
            var (email, problem) = await EmailChannelRequest.ValidateAsync(request, webhookOptions.Value.AllowPrivateNetworks, ct);
            if (email is null)
            {
                return problem!;
            }

            settings = new ChannelSettings(Email: email);
            hint = EmailChannelRequest.Hint(email);
        }
        else
        {
            if (request.Url is not { } url)
            {
                return ProblemResults.Validation("url", "url is required.");
            }

            // The same SSRF rules as a rule's webhook, checked again on every connection.
            if (await WebhookAddressPolicy.CheckAsync(url, webhookOptions.Value.AllowPrivateNetworks, ct) is { } refused)
            {
                return ProblemResults.Validation("url", refused.Replace("webhookUrl", "url", StringComparison.Ordinal));
            }

            settings = new ChannelSettings(Url: url);
            hint = $"…{url[^Math.Min(4, url.Length)..]}";
        }

        var view = await store.CreateAsync(http.GetCaller().UserId, type, name, settings, hint, time.GetUtcNow(), ct);
        return TypedResults.Created($"/api/v1/notification-channels/{view.Id}", view);
    }

    private static async Task<IResult> ListAsync(HttpContext http, ChannelStore store, CancellationToken ct) =>
        TypedResults.Ok(await store.ListAsync(http.GetCaller().UserId, ct));

    private static async Task<IResult> DeleteAsync(Guid id, HttpContext http, ChannelStore store, CancellationToken ct) =>
        await store.DeleteAsync(http.GetCaller().UserId, id, ct) ? TypedResults.NoContent() : ProblemResults.NotFound("The notification channel");

    private static async Task<IResult> TestAsync(
        Guid id, HttpContext http, ChannelStore store, NotificationOutbox outbox, TimeProvider time, CancellationToken ct)
    {
        var userId = http.GetCaller().UserId;
        if (await store.FindAsync(userId, id, ct) is not { } channel)
        {
            return ProblemResults.NotFound("The notification channel");
        }

        var now = time.GetUtcNow();
        var eventId = Guid.CreateVersion7(now);
        var payload = JsonSerializer.Serialize(new { eventId, message = $"Test message from QuantTrader: channel '{channel.Name}' works.", time = now },
            new JsonSerializerOptions(JsonSerializerDefaults.Web));
        var entry = outbox.ChannelEntry(eventId, NotificationOutbox.ChannelTestKind, channel.Id, channel.Type, payload);
        await store.EnqueueAsync(userId, eventId, entry, now, ct);
        outbox.Notify();
        return TypedResults.Accepted("/api/v1/notifications?status=pending", new { notificationId = entry.Id, eventId });
    }

    [GeneratedRegex(@"^\d{1,20}:[A-Za-z0-9_-]{20,100}$")]
    private static partial Regex BotTokenPattern();

    [GeneratedRegex(@"^(-?\d{1,20}|@[A-Za-z0-9_]{5,32})$")]
    private static partial Regex ChatIdPattern();
}
