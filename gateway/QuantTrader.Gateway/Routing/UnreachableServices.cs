using QuantTrader.ServiceDefaults.Problems;
using Yarp.ReverseProxy.Forwarder;

namespace QuantTrader.Gateway.Routing;

/// <summary>
/// A service behind the gateway that cannot be reached (starting, restarting after a crash, or down) is a 503 problem
/// that names it, with <c>Retry-After</c>: the proxy's own answer was a bare 502 "Bad Gateway" that told a client
/// neither what failed nor that trying again shortly is the right move. A service that took too long is a 504.
/// </summary>
public static class UnreachableServices
{
    /// <summary>Seconds a client is asked to wait: about what a service needs to start again.</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>The proxy pipeline: this answer, then YARP's default steps.</summary>
    public static void Pipeline(IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(async (context, next) =>
        {
            await next();
            // Only failures on the service's side: the client's own (a body over the limit is Kestrel's 413, a client that
            // went away) keep YARP's answer, and so does a response already on its way.
            if (context.GetForwarderErrorFeature() is not { } failure || context.Response.HasStarted
                || failure.Error is not (ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.NoAvailableDestinations))
            {
                return;
            }

            var service = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
            context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var problem = failure.Error == ForwarderError.RequestTimedOut
                ? ProblemResults.Problem(StatusCodes.Status504GatewayTimeout, "service-timeout", "The service did not answer in time.",
                    $"The {service} service did not answer in time; try again in a few seconds.")
                : ProblemResults.Unavailable("service-unavailable",
                    $"The {service} service cannot be reached right now (starting, restarting or down); try again in {RetryAfterSeconds} seconds.");
            await problem.ExecuteAsync(context);
        });
        proxy.UseSessionAffinity();
        proxy.UseLoadBalancing();
        proxy.UsePassiveHealthChecks();
    }
}
