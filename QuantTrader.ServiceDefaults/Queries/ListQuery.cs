using System.Globalization;
using Microsoft.AspNetCore.Http;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.ServiceDefaults.Queries;

/// <summary>
/// The list conventions of API.md for <c>from</c>, <c>to</c> and <c>limit</c>: times as ISO-8601 (UTC, or with an
/// offset) or epoch milliseconds; both bounds inclusive; <c>limit</c> defaults to <see cref="DefaultLimit"/> and a
/// larger value is clamped to <see cref="MaxLimit"/>, not refused. Errors are 400 problems naming the field.
/// </summary>
public sealed record ListQuery(DateTimeOffset? From, DateTimeOffset? To, int Limit)
{
    public const int DefaultLimit = 500;
    public const int MaxLimit = 1000;

    public static bool TryParse(string? from, string? to, string? limit, out ListQuery query, out IResult? problem)
    {
        query = new ListQuery(null, null, DefaultLimit);
        if (!TryParseTime(from, "from", out var fromTime, out problem) || !TryParseTime(to, "to", out var toTime, out problem))
        {
            return false;
        }
        if (fromTime is { } f && toTime is { } t && t < f)
        {
            problem = ProblemResults.Validation("to", $"'to' ({t:O}) is before 'from' ({f:O}).");
            return false;
        }
        var count = DefaultLimit;
        if (!string.IsNullOrEmpty(limit))
        {
            if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1)
            {
                // A huge number that overflows int is still "larger than the maximum": clamp it.
                if (limit.All(char.IsAsciiDigit) && limit.TrimStart('0').Length > 0)
                {
                    count = MaxLimit;
                }
                else
                {
                    problem = ProblemResults.Validation("limit", $"'limit' must be a positive integer (default {DefaultLimit}, at most {MaxLimit}); got '{limit}'.");
                    return false;
                }
            }
        }
        query = new ListQuery(fromTime, toTime, Math.Min(count, MaxLimit));
        return true;
    }

    /// <summary>ISO-8601 (<c>2024-03-01T00:01:00Z</c>; no offset means UTC) or epoch milliseconds, within <see cref="QueryTime"/>'s window.</summary>
    public static bool TryParseTime(string? value, string field, out DateTimeOffset? time, out IResult? problem)
    {
        problem = null;
        if (QueryTime.TryParse(value, out time))
        {
            return true;
        }
        var shown = value!.Length > 40 ? value[..40] + "…" : value;
        problem = ProblemResults.Validation(field, $"'{field}' must be {QueryTime.Accepted}; got '{shown}'.");
        return false;
    }
}
