using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.ServiceDefaults.Queries;

/// <summary>
/// The plan's <c>HistoryDays</c> (<see cref="Contracts.Accounts.PlanLimits.HistoryDays"/>): a caller reads a market's
/// history back to its <b>horizon</b> = the market's newest stored row − HistoryDays days (for a live market that is
/// now − HistoryDays). A request that names an earlier time (<c>from</c>, or <c>to</c>) is refused with 403
/// <c>plan-limit</c>, <c>limit: "historyDays"</c>; a request without <c>from</c> gets the newest rows, none older than
/// the horizon. Callers without a key (public market data) get <see cref="AnonymousDaysConfigKey"/> days, by default
/// the free plan's 30. Counting from the market's newest row rather than the clock keeps the rule the same for a
/// market that stopped trading: its last HistoryDays days stay readable.
/// </summary>
public static class HistoryWindow
{
    public const string AnonymousDaysConfigKey = "QuantTrader:AnonymousHistoryDays";
    public const int DefaultAnonymousDays = 30;

    /// <summary>The caller's HistoryDays, or the anonymous allowance when the request carries no identity.</summary>
    public static int DaysFor(Caller? caller, IConfiguration configuration) =>
        caller?.Limits.HistoryDays ?? configuration.GetValue(AnonymousDaysConfigKey, DefaultAnonymousDays);

    /// <summary>The horizon for a market whose newest row is <paramref name="newest"/>; null when the market has no rows.</summary>
    public static DateTimeOffset? Horizon(DateTimeOffset? newest, int days) =>
        newest is not { } n ? null
        : days <= 0 ? n
        : n - DateTimeOffset.MinValue <= TimeSpan.FromDays(days) ? DateTimeOffset.MinValue
        : n.AddDays(-days);

    /// <summary>403 naming <c>historyDays</c> when <paramref name="requested"/> (the request's <paramref name="field"/>) is before the horizon.</summary>
    public static IResult? Refusal(string field, DateTimeOffset? requested, DateTimeOffset? horizon, int days, Caller? caller)
    {
        if (requested is not { } time || horizon is not { } h || time >= h)
        {
            return null;
        }

        var who = caller is null ? "Without an API key you can" : $"Your {caller.Plan} plan lets you";
        return ProblemResults.PlanLimit("historyDays", string.Create(CultureInfo.InvariantCulture,
            $"{who} read {days} days of history, back to {h:O} for this market (its newest data minus {days} days); '{field}' ({time:O}) is earlier. Use a later '{field}' or upgrade."));
    }
}
