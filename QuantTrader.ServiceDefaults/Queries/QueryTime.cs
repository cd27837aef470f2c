using System.Globalization;

namespace QuantTrader.ServiceDefaults.Queries;

/// <summary>
/// Query-string times per API.md: ISO-8601 (UTC when no offset is given) or epoch milliseconds, between
/// <see cref="Earliest"/> and <see cref="Latest"/>. The window keeps every date computation a route does with a
/// time (minus a warm-up, plus an interval) far from <see cref="DateTimeOffset"/>'s ends, which throw.
/// </summary>
public static class QueryTime
{
    public static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch;
    public static readonly DateTimeOffset Latest = new(3000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const string Accepted = "an ISO-8601 time (2024-03-01T00:01:00Z) or epoch milliseconds, from 1970-01-01 to 3000-01-01";

    public static bool TryParse(string? text, out DateTimeOffset? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        DateTimeOffset time;
        if (text.Length > 64)
        {
            return false;
        }
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
        {
            if (ms < Earliest.ToUnixTimeMilliseconds() || ms >= Latest.ToUnixTimeMilliseconds())
            {
                return false;
            }
            time = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }
        else if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            time = parsed.ToUniversalTime();
        }
        else
        {
            return false;
        }

        if (time < Earliest || time >= Latest)
        {
            return false;
        }
        value = time;
        return true;
    }
}
