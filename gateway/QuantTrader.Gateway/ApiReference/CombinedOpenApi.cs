using System.Text.Json.Nodes;
using QuantTrader.Gateway.Routing;
using Scalar.AspNetCore;

namespace QuantTrader.Gateway.ApiReference;

/// <summary>
/// One OpenAPI document for the whole public API, merged from each service's own <c>/openapi/v1.json</c>,
/// served at <c>/openapi/v1.json</c>, with the Scalar API reference at <c>/docs</c>.
/// </summary>
public static class CombinedOpenApi
{
    public const string HttpClientName = "openapi";

    public static IHostApplicationBuilder AddCombinedOpenApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient(HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        return builder;
    }

    public static WebApplication MapCombinedOpenApi(this WebApplication app)
    {
        app.MapGet("/openapi/v1.json", async (IHttpClientFactory clients, ILogger<Program> logger, CancellationToken ct) =>
        {
            var documents = await Task.WhenAll(RouteTable.Owners.Keys.Select(async service =>
            {
                try
                {
                    var json = await clients.CreateClient(HttpClientName).GetStringAsync($"http://{service}/openapi/v1.json", ct);
                    return JsonNode.Parse(json) as JsonObject;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
                {
                    logger.LogWarning("OpenAPI document of {Service} is unavailable: {Reason}", service, ex.Message);
                    return null;
                }
            }));
            return Results.Text(Merge(documents.OfType<JsonObject>()).ToJsonString(), "application/json");
        }).ExcludeFromDescription();

        app.MapScalarApiReference("/docs", options => options
            .WithTitle("QuantTrader API")
            .WithOpenApiRoutePattern("/openapi/v1.json"));
        return app;
    }

    /// <summary>Public paths (<c>/api/...</c>) and component schemas of every document, in one.</summary>
    public static JsonObject Merge(IEnumerable<JsonObject> documents)
    {
        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var document in documents)
        {
            if (document["paths"] is JsonObject servicePaths)
            {
                foreach (var (path, item) in servicePaths)
                {
                    if (path.StartsWith("/api/", StringComparison.Ordinal) && !paths.ContainsKey(path))
                    {
                        paths[path] = item?.DeepClone();
                    }
                }
            }
            if (document["components"]?["schemas"] is JsonObject serviceSchemas)
            {
                foreach (var (name, schema) in serviceSchemas)
                {
                    if (!schemas.ContainsKey(name))
                    {
                        schemas[name] = schema?.DeepClone();
                    }
                }
            }
        }
        return new JsonObject
        {
            ["openapi"] = "3.1.1",
            ["info"] = new JsonObject
            {
                ["title"] = "QuantTrader API",
                ["version"] = "v1",
                ["description"] = "Everything goes through the gateway. Authenticate with 'Authorization: Bearer <apiKey>'; market data routes are public.",
            },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = schemas,
                ["securitySchemes"] = new JsonObject
                {
                    ["apiKey"] = new JsonObject { ["type"] = "http", ["scheme"] = "bearer", ["description"] = "An API key from POST /api/v1/accounts" },
                },
            },
            ["security"] = new JsonArray(new JsonObject { ["apiKey"] = new JsonArray() }),
        };
    }
}
