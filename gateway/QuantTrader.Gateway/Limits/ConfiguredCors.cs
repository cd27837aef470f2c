namespace QuantTrader.Gateway.Limits;

/// <summary>Browsers may call the API from the origins in <c>QuantTrader:Gateway:CorsOrigins</c> (none by default).</summary>
public static class ConfiguredCors
{
    public static IHostApplicationBuilder AddConfiguredCors(this IHostApplicationBuilder builder)
    {
        var origins = builder.Configuration.GetSection("QuantTrader:Gateway:CorsOrigins").Get<string[]>() ?? [];
        builder.Services.AddCors(options => options.AddDefaultPolicy(policy =>
        {
            if (origins.Length > 0)
            {
                policy.WithOrigins(origins).AllowAnyMethod().WithHeaders("Authorization", "Content-Type", "Idempotency-Key")
                    .WithExposedHeaders("Retry-After", "Location");
            }
        }));
        return builder;
    }
}
