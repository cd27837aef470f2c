using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace QuantTrader.Alert.Webhooks;

/// <summary>
/// Webhook signatures (docs/alerts.md): <c>X-QuantTrader-Signature: sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))</c>
/// with <c>X-QuantTrader-Timestamp</c> = Unix seconds. The key is the UTF-8 bytes of the whole secret (<c>whsec_…</c>).
/// Signing the timestamp with the body lets a receiver reject replays older than its tolerance.
/// </summary>
public static class WebhookSigner
{
    public const string SignatureHeader = "X-QuantTrader-Signature";
    public const string TimestampHeader = "X-QuantTrader-Timestamp";
    public const string EventIdHeader = "X-QuantTrader-Event-Id";

    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <summary>The receiver's check: right signature (constant-time) and a timestamp within <paramref name="tolerance"/> of now.</summary>
    public static bool Verify(string secret, string? timestampHeader, string? signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (!long.TryParse(timestampHeader, NumberStyles.Integer, CultureInfo.InvariantCulture, out var timestamp) || signatureHeader is null)
        {
            return false;
        }

        if (Math.Abs(now.ToUnixTimeSeconds() - timestamp) > tolerance.TotalSeconds)
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(secret, timestamp, body));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signatureHeader));
    }
}
