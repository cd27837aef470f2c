using System.Text.Json;
using Microsoft.Extensions.Options;
using QuantTrader.Alert.Rules;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.Alert.Notifications;

/// <summary>
/// What the rest of the service knows of notifications: which outbox rows an event gets (<see cref="EntriesFor"/>,
/// written by the event's own recording statement), and a nudge that wakes this replica's delivery worker when rows
/// were written (<see cref="Notify"/>) instead of waiting for its next poll. No caller depends on a channel.
/// </summary>
public sealed class NotificationOutbox(IEnumerable<INotificationChannel> channels, IOptions<DeliveryOptions> options)
{
    public const string AlertFiredKind = "alert.fired";
    public const string ChannelTestKind = "channel.test";

    private static readonly JsonSerializerOptions Json = CreateJson();
    private readonly Dictionary<string, INotificationChannel> _channels = channels.ToDictionary(c => c.Name, StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>The deliveries of an alert firing: the rule's own webhook, if it has one, and one per channel it names.</summary>
    public IReadOnlyList<OutboxEntry> EntriesFor(Guid eventId, Firing firing)
    {
        var rule = firing.Rule;
        var payload = JsonSerializer.Serialize(
            new FiredAlertPayload(eventId, rule.Id, rule.UserId, rule.Exchange, rule.Symbol, firing.Time, firing.Price, firing.Value, firing.Message), Json);
        var entries = new List<OutboxEntry>();
        if (rule.WebhookUrl is { } url && _channels.TryGetValue("webhook", out var webhook))
        {
            entries.Add(new OutboxEntry(NotificationKeys.For(eventId, NotificationKeys.RuleWebhook), AlertFiredKind, webhook.Name, url, webhook.DestinationOf(url),
                payload, options.Value.MaxAttempts));
        }

        entries.AddRange(rule.Channels.Select(channel => ChannelEntry(eventId, AlertFiredKind, channel.Id, channel.Type, payload)));
        return entries;
    }

    /// <summary>
    /// The delivery of an event to one of the user's channels: the outbox's <c>channel</c> is its type, the target its
    /// id (the settings are read, decrypted, at send time, so no secret is copied into the outbox), its own queue, and
    /// the key <c>channel:{id}</c> — one key per event and channel, the same on every replay, attempt and resend.
    /// </summary>
    public OutboxEntry ChannelEntry(Guid eventId, string kind, Guid channelId, string type, string payload) =>
        new(NotificationKeys.For(eventId, NotificationKeys.OfChannel(channelId)), kind, type, channelId.ToString(), $"{type}:{channelId:N}", payload,
            options.Value.MaxAttempts);

    /// <summary>Rows were written (or made due): the worker looks at the outbox now.</summary>
    public void Notify()
    {
        if (_wake.CurrentCount == 0)
        {
            try
            {
                _wake.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another nudge got there first: one wake-up covers both.
            }
        }
    }

    /// <summary>Until nudged or <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        try
        {
            await _wake.WaitAsync(either.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The poll interval passed.
        }
    }

    private static JsonSerializerOptions CreateJson()
    {
        // The API's JSON conventions (camelCase, UTC times with Z): the payload is what receivers read.
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ContractsJsonContext.Configure(json);
        return json;
    }
}

/// <summary>What an <c>alert.fired</c> notification says: the firing (the webhook body, with its key and timestamp).</summary>
public sealed record FiredAlertPayload(
    Guid EventId, Guid AlertId, Guid UserId, string Exchange, string Symbol, DateTimeOffset Time, decimal Price, decimal? Value, string Message);
