using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using QuantTrader.Contracts.MarketData;
using KlineRecord = QuantTrader.Contracts.MarketData.Kline;

namespace QuantTrader.Alert.Evaluation;

/// <summary>
/// Names of what makes a rule fire, and the firing ids derived from them. A firing's id is a name-based UUID of the
/// rule and its trigger, so the same step evaluated again — after a hand-over, a crash or a retry — produces the same
/// id: the bus drops the second publish (<c>Nats-Msg-Id</c>), <c>alert_firings</c> the second row, and no second
/// webhook is sent (docs/alerts.md § Replicas).
/// </summary>
public static class Triggers
{
    /// <summary>A trade: <c>{exchange}:{SYMBOL}:{tradeId}</c>, its id on the bus.</summary>
    public static string Trade(Trade trade) => trade.MessageId;

    /// <summary>A closed kline: <c>{exchange}:{SYMBOL}:{interval}:{open time, Unix ms}</c>.</summary>
    public static string Kline(KlineRecord kline) => string.Create(CultureInfo.InvariantCulture,
        $"{kline.Exchange}:{kline.Symbol}:{kline.Interval}:{kline.OpenTime.ToUnixTimeMilliseconds()}");

    /// <summary>
    /// UUID version 8 (RFC 9562 § 5.8) from the first 16 bytes of SHA-256 over the rule id and the trigger: stable across
    /// processes and versions, and never equal for two rules or two triggers.
    /// </summary>
    public static Guid FiringId(Guid ruleId, string trigger)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"quanttrader.alert.firing:{ruleId:N}:{trigger}"), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
