using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Gateway.Authentication;

public static class CallerAuthentication
{
    private static readonly object CallerKey = new();

    public static IHostApplicationBuilder AddCallerAuthentication(this IHostApplicationBuilder builder)
    {
        builder.AddGatewayIdentity();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<KeyResolver>();
        builder.Services.AddSingleton<IAccountChangeObserver>(sp => sp.GetRequiredService<KeyResolver>());
        builder.Services.AddSingleton<AuthenticationFailureLimits>();
        builder.Services.AddHostedService<AccountChangeListener>();
        builder.Services.AddHttpClient(KeyResolver.HttpClientName);
        return builder;
    }

    public static Caller? AuthenticatedCaller(this HttpContext context)
        => context.Items.TryGetValue(CallerKey, out var c) ? c as Caller : null;

    /// <summary>
    /// Turns <c>Authorization: Bearer &lt;apiKey&gt;</c> into a signed identity for the services. Whatever identity
    /// header a client sent is removed first, and the key itself never travels further than the gateway.
    /// </summary>
    public static WebApplication UseCallerAuthentication(this WebApplication app)
    {
        var tokens = app.Services.GetRequiredService<IdentityToken>();
        var keys = app.Services.GetRequiredService<KeyResolver>();
        var failures = app.Services.GetRequiredService<AuthenticationFailureLimits>();
        app.Use(async (context, next) =>
        {
            var headers = context.Request.Headers;
            headers.Remove(IdentityToken.HeaderName);
            var authorization = headers.Authorization.ToString();
            headers.Remove("Authorization");

            if (authorization.Length > 0)
            {
                if (failures.Refusal(context) is { } refusal)
                {
                    await refusal.ExecuteAsync(context);
                    return;
                }
                const string bearer = "Bearer ";
                if (!authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
                {
                    failures.RecordFailure(context);
                    await ProblemResults.Unauthorized("Use 'Authorization: Bearer <apiKey>'.").ExecuteAsync(context);
                    return;
                }
                Caller? caller;
                try
                {
                    caller = await keys.ResolveAsync(authorization[bearer.Length..].Trim(), context.RequestAborted);
                }
                catch (HttpRequestException)
                {
                    await ProblemResults.Unavailable("accounts-unavailable", "API keys cannot be checked right now; try again shortly.").ExecuteAsync(context);
                    return;
                }
                if (caller is null)
                {
                    failures.RecordFailure(context);
                    await ProblemResults.Unauthorized("The API key is unknown or revoked.").ExecuteAsync(context);
                    return;
                }
                context.Items[CallerKey] = caller;
                headers[IdentityToken.HeaderName] = tokens.Issue(caller);
            }
            else if (!PublicRoutes.IsPublic(context.Request))
            {
                await ProblemResults.Unauthorized("This route needs 'Authorization: Bearer <apiKey>' (create an account with POST /api/v1/accounts).").ExecuteAsync(context);
                return;
            }
            await next(context);
        });
        return app;
    }
}
