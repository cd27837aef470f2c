using System.Globalization;
using System.Threading.RateLimiting;
using QuantTrader.Gateway.Authentication;
using QuantTrader.Gateway.ClientAddresses;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Gateway.RateLimiting;

/// <summary>
/// Requests per minute: per user by their plan's limit, per client address on anonymous routes
/// (<c>QuantTrader:Gateway:AnonymousRequestsPerMinute</c>). Over the limit: 429 with Retry-After.
/// Each gateway replica counts on its own, so it enforces its share of a limit (<see cref="Share"/>) for the
/// <c>QuantTrader:Replicas</c> gateways behind the load balancer: N replicas together allow the plan's rate, not N times it.
/// </summary>
public static class PlanRateLimits
{
    public static IHostApplicationBuilder AddPlanRateLimits(this IHostApplicationBuilder builder)
    {
        var anonymousPerMinute = builder.Configuration.GetValue("QuantTrader:Gateway:AnonymousRequestsPerMinute", 300);
        var replicas = builder.Configuration.GetValue("QuantTrader:Replicas", 1);
        builder.Services.AddRateLimiter(options =>
        {
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (context.Request.Path.StartsWithSegments("/health") || context.Request.Path.StartsWithSegments("/alive"))
                {
                    return RateLimitPartition.GetNoLimiter("health");
                }
                var caller = context.AuthenticatedCaller();
                // The limit is part of the key: a plan change starts a fresh window at the new rate.
                var (key, limit) = caller is null
                    ? ($"ip:{ClientAddress.PartitionKey(context)}", anonymousPerMinute)
                    : ($"user:{caller.UserId:N}:{caller.Limits.RequestsPerMinute}", caller.Limits.RequestsPerMinute);
                return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Share(limit, replicas),
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            options.OnRejected = async (rejected, ct) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await ProblemResults.Problem(StatusCodes.Status429TooManyRequests, "rate-limited", "Too many requests.",
                    $"Slow down: retry after {Math.Ceiling(retryAfter.TotalSeconds)} s, or move to a plan with a higher request rate.")
                    .ExecuteAsync(rejected.HttpContext);
            };
        });
        return builder;
    }

    /// <summary>
    /// One replica's share of a per-minute limit, rounded up so a small limit still admits a request on every replica.
    /// A load balancer that spreads a client's requests evenly gives it the whole limit; a sticky one gives it less, never more.
    /// </summary>
    public static int Share(int limit, int replicas) => Math.Max(1, (limit + Math.Max(1, replicas) - 1) / Math.Max(1, replicas));
}
