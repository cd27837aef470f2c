using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.ServiceDefaults.Identity;

public static class CallerExtensions
{
    private static readonly object CallerKey = new();

    /// <summary>Services trust only identities signed by the gateway (see <see cref="IdentityToken"/>).</summary>
    public static IHostApplicationBuilder AddGatewayIdentity(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new IdentityToken(
            sp.GetRequiredService<IConfiguration>()[IdentityToken.SigningKeyConfigKey] ?? "",
            sp.GetService<TimeProvider>()));
        return builder;
    }

    /// <summary>Reads and verifies the gateway's identity header; an invalid one is treated as absent.</summary>
    public static WebApplication UseGatewayIdentity(this WebApplication app)
    {
        var tokens = app.Services.GetRequiredService<IdentityToken>();
        app.Use((context, next) =>
        {
            if (tokens.TryValidate(context.Request.Headers[IdentityToken.HeaderName], out var caller))
            {
                context.Items[CallerKey] = caller;
            }
            return next(context);
        });
        return app;
    }

    public static Caller? FindCaller(this HttpContext context) => context.Items.TryGetValue(CallerKey, out var c) ? c as Caller : null;

    /// <summary>The caller of an endpoint guarded by <see cref="RequireCaller{TBuilder}"/>.</summary>
    public static Caller GetCaller(this HttpContext context)
        => context.FindCaller() ?? throw new InvalidOperationException("endpoint is not guarded by RequireCaller()");

    /// <summary>401 unless the request came through the gateway with a valid identity.</summary>
    public static TBuilder RequireCaller<TBuilder>(this TBuilder endpoints) where TBuilder : IEndpointConventionBuilder
        => endpoints.AddEndpointFilter(static async (context, next) =>
            context.HttpContext.FindCaller() is null
                ? ProblemResults.Unauthorized("This route needs an identity from the gateway: call it through the gateway with 'Authorization: Bearer <apiKey>'.")
                : await next(context));
}
