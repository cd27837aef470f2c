using System.Globalization;
using System.Threading.RateLimiting;
using QuantTrader.Gateway.ClientAddresses;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Gateway.Authentication;

/// <summary>
/// Failed key checks per client address and minute (<c>QuantTrader:Gateway:AuthenticationFailuresPerMinute</c>,
/// default 20): past that, the address gets 429 with Retry-After until the window ends, before its key is even
/// looked at. Guessing keys, or flooding the accounts service with unknown ones, costs an attacker a minute per 20.
/// A valid key from an address that is not blocked is never refused here.
/// </summary>
public sealed class AuthenticationFailureLimits : IDisposable
{
    public const string SettingName = "QuantTrader:Gateway:AuthenticationFailuresPerMinute";
    public const int DefaultPerMinute = 20;

    private readonly PartitionedRateLimiter<string> _failures;

    public AuthenticationFailureLimits(IConfiguration configuration)
    {
        var perMinute = Math.Max(1, configuration.GetValue(SettingName, DefaultPerMinute));
        _failures = PartitionedRateLimiter.Create<string, string>(address =>
            RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = perMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            }));
    }

    /// <summary>Null while the address may still try; otherwise the 429 to answer with.</summary>
    public IResult? Refusal(HttpContext context)
    {
        // Zero permits only asks whether any are left.
        using var lease = _failures.AttemptAcquire(ClientAddress.PartitionKey(context), 0);
        return lease.IsAcquired ? null : TooMany(context, lease);
    }

    public void RecordFailure(HttpContext context)
    {
        using var _ = _failures.AttemptAcquire(ClientAddress.PartitionKey(context), 1);
    }

    private static IResult TooMany(HttpContext context, RateLimitLease lease)
    {
        var wait = lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromMinutes(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return ProblemResults.Problem(StatusCodes.Status429TooManyRequests, "authentication-rate-limited", "Too many failed authentications.",
            $"This address sent too many unknown or malformed API keys; retry after {seconds} s.",
            new Dictionary<string, object?> { ["limit"] = "authenticationFailuresPerMinute" });
    }

    public void Dispose() => _failures.Dispose();
}
