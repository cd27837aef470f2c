using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace QuantTrader.Gateway.WebApp;

/// <summary>
/// Serves the web app (built from web/ into wwwroot by <c>npm run build</c>, docs/web.md) at <c>/</c>. The files are
/// public like the API reference: they hold no data, and every call they make to <c>/api</c> carries the user's key.
/// Hashed assets (<c>/assets/index-3f9a.js</c>) never change, so browsers keep them a year; <c>index.html</c> names the
/// current ones and is revalidated on every load, so a new build reaches users at once.
/// </summary>
public static class WebAppHosting
{
    /// <summary>
    /// No inline script or style, nothing from another origin (no CDN), no framing. <c>connect-src 'self'</c> covers
    /// the API and the same-origin WebSocket stream; <c>data:</c> images are the empty favicon.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        + "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

    public const string ImmutableAssets = "public, max-age=31536000, immutable";

    public static WebApplication UseWebApp(this WebApplication app)
    {
        var root = app.Environment.WebRootFileProvider;
        if (!root.GetFileInfo("index.html").Exists)
        {
            // `dotnet build` alone does not build the app; scripts/setup.sh (./qt run, ./qt test) does.
            app.Logger.LogWarning("The web app is not built (no wwwroot/index.html): run scripts/setup.sh or `npm ci && npm run build` in web/");
            app.MapGet("/", () => Results.Text("The web app is not built on this installation: run scripts/setup.sh (or `npm ci && npm run build` in web/). The API is at /api/v1, its reference at /docs.", "text/plain"))
                .ExcludeFromDescription();
            return app;
        }

        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            ContentTypeProvider = new FileExtensionContentTypeProvider(),
            OnPrepareResponse = context => Secure(context.Context.Response, context.Context.Request.Path),
        });
        return app;
    }

    private static void Secure(HttpResponse response, PathString path)
    {
        var headers = response.Headers;
        headers.CacheControl = path.StartsWithSegments("/assets") ? ImmutableAssets : "no-cache";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers[HeaderNames.XFrameOptions] = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
    }
}
