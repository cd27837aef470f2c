using Microsoft.AspNetCore.Http.Features;

namespace QuantTrader.Gateway.Limits;

/// <summary>
/// Small bodies everywhere (1 MiB) except where users upload files: strategy modules (64 MiB) and history imports
/// (4 GiB: one day of BTCUSDT aggTrades from data.binance.vision is hundreds of MiB, and the ingestor streams the
/// upload to disk, so size costs disk, not memory). Kestrel enforces the limit while the proxy streams the body,
/// answering 413.
/// </summary>
public static class RequestBodyLimits
{
    public const long Default = 1L << 20;
    public const long Uploads = 64L << 20;
    public const long Imports = 4L << 30;

    public static WebApplication UseRequestBodyLimits(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
            if (feature is { IsReadOnly: false })
            {
                var path = context.Request.Path;
                feature.MaxRequestBodySize = path.StartsWithSegments("/api/v1/imports") ? Imports
                    : path.StartsWithSegments("/api/v1/strategies") ? Uploads
                    : Default;
            }
            return next(context);
        });
        return app;
    }
}
