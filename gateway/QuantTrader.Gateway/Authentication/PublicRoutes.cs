namespace QuantTrader.Gateway.Authentication;

/// <summary>Routes anyone may call without a key (rate limited by client address instead).</summary>
public static class PublicRoutes
{
    public static bool IsPublic(HttpRequest request)
    {
        var path = request.Path;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        {
            // The stream authenticates in a message after the upgrade (docs/streaming.md), never in the URL.
            return path.StartsWithSegments("/api/v1/markets")
                || path.Equals("/api/v1/stream", StringComparison.OrdinalIgnoreCase)
                || path.Equals("/api/v1/billing/plans", StringComparison.OrdinalIgnoreCase)
                || !path.StartsWithSegments("/api"); // health, OpenAPI, API reference
        }
        return HttpMethods.IsPost(request.Method)
            && (path.Equals("/api/v1/accounts", StringComparison.OrdinalIgnoreCase)
                || path.Equals("/api/v1/billing/webhook", StringComparison.OrdinalIgnoreCase));
    }
}
