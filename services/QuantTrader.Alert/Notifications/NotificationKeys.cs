using System.Security.Cryptography;
using System.Text;

namespace QuantTrader.Alert.Notifications;

/// <summary>
/// Idempotency keys: a delivery's key is a name-based UUID (version 8, RFC 9562 § 5.8, from SHA-256) of the event that
/// notifies and the channel it goes to. The event id is itself deterministic (an alert firing's from rule + trigger),
/// so a step replayed after a hand-over or crash computes the same key — the outbox insert finds the row and adds
/// nothing — and every attempt and resend of one delivery carries the same key, which receivers de-duplicate on.
/// </summary>
public static class NotificationKeys
{
    /// <summary>The rule's own webhook (today's one channel per rule); a user's channels will be <c>channel:{id}</c>.</summary>
    public const string RuleWebhook = "webhook";

    /// <summary>A user's notification channel.</summary>
    public static string OfChannel(Guid channelId) => $"channel:{channelId}";

    public static Guid For(Guid eventId, string channel)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"quanttrader.notification:{eventId:N}:{channel}"), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
