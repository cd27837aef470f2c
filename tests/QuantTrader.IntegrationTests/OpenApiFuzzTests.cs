using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Every route of the gateway's combined OpenAPI document, each parameter and each body field in turn replaced by
/// extreme values, through the gateway as a fresh free user. The answer must be a 4xx problem (or a 2xx when the
/// value happens to be valid) and never a 5xx, and every service must still be healthy afterwards. Seeded, so a
/// failure replays; the value lists are fixed, so the run is bounded.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class OpenApiFuzzTests(SystemFixture system, Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Seed = 16;

    /// <summary>Requests a fresh free user sends before the next one takes over (the free plan allows 120 a minute).</summary>
    private const int RequestsPerUser = 100;

    private static readonly string[] ExtremeTexts =
    [
        "99999999999999999999999999999", "-99999999999999999999", "9223372036854775807", "2147483648", "2000000000", "-1", "0",
        "1e308", "1e15", "NaN", "Infinity", "-Infinity", new string('x', 10_000), "𝔘ñí©ødé ✓ \u202E", "", " ", "null",
        "true", "{}", "0.000000000000000000000000000001", "2100-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "../../etc/passwd",
    ];

    private static readonly JsonNode?[] ExtremeJson =
    [
        JsonValue.Create(1e300), JsonValue.Create(-1e300), JsonValue.Create(1e15), JsonValue.Create(-1), JsonValue.Create(0),
        JsonValue.Create(long.MaxValue), JsonValue.Create(0.000000000000000000000000000001), JsonValue.Create("NaN"),
        JsonValue.Create("Infinity"), JsonValue.Create(new string('x', 10_000)), JsonValue.Create("𝔘ñí©ødé ✓"), JsonValue.Create(""),
        JsonValue.Create(true), new JsonArray(1, 2), new JsonObject { ["a"] = 1 }, null,
        JsonValue.Create("0001-01-01T00:00:00Z"), JsonValue.Create("9999-12-31T23:59:59Z"), JsonValue.Create("2100-01-01T00:00:00Z"),
        JsonValue.Create("00000000-0000-0000-0000-000000000000"),
    ];

    private static readonly string[] RawBodies = ["", "not json", "null", "[]", "{", "{\"a\":" + new string('[', 2000), "1e999", "\"x\""];

    [Fact]
    public async Task No_extreme_value_in_any_parameter_or_body_field_of_any_route_gives_a_5xx()
    {
        var document = await system.Gateway.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        var schemas = document!["components"]?["schemas"] as JsonObject ?? [];
        var cases = new List<FuzzCase>();
        foreach (var (path, item) in (JsonObject)document["paths"]!)
        {
            foreach (var (method, operationNode) in (JsonObject)item!)
            {
                if (operationNode is JsonObject operation && method is "get" or "post" or "put" or "patch" or "delete")
                {
                    cases.AddRange(CasesFor(path, method.ToUpperInvariant(), operation, schemas));
                }
            }
        }
        Assert.True(cases.Count > 100, $"the document yields only {cases.Count} cases");

        var random = new Random(Seed);
        cases = [.. cases.OrderBy(_ => random.Next())];
        var failures = new List<string>();
        var answers = new SortedDictionary<int, int>();
        HttpClient? user = null;
        for (var i = 0; i < cases.Count; i++)
        {
            if (i % RequestsPerUser == 0)
            {
                user?.Dispose();
                user = (await system.CreateUserAsync()).Client;
            }
            var fuzz = cases[i];
            using var request = fuzz.ToRequest();
            using var response = await user!.SendAsync(request);
            var status = (int)response.StatusCode;
            answers[status] = answers.GetValueOrDefault(status) + 1;
            var body = await response.Content.ReadAsStringAsync();
            if (status >= 500)
            {
                failures.Add($"{status} {fuzz}: {Shorten(body)}");
            }
            // 414: Kestrel refuses a request line over 8 KiB (a 10,000-character query value) before any middleware runs.
            else if (status >= 400 && status != 414 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{status} without problem details {fuzz}: {Shorten(body)}");
            }
        }
        user?.Dispose();
        output.WriteLine($"{cases.Count} requests over {cases.Select(c => c.Method + c.Path).Distinct().Count()} routes: "
            + string.Join(", ", answers.Select(a => $"{a.Value} × {a.Key}")));

        foreach (var service in SystemFixture.Services)
        {
            using var health = await system.Gateway.GetAsync($"/health/{service}");
            if (health.StatusCode != HttpStatusCode.OK)
            {
                failures.Add($"{service} is {(int)health.StatusCode} after the fuzz");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} requests failed:\n" + string.Join("\n", failures.Take(80)));
    }

    [Fact]
    public async Task The_reported_cases_are_400_problems_naming_the_field()
    {
        var (_, _, client) = await system.CreateUserAsync();
        await AssertRefusedAsync(await client.GetAsync("/api/v1/fills?from=99999999999999999"), "from");
        await AssertRefusedAsync(await client.PostAsJsonAsync("/api/v1/orders",
            new { exchange = "binance", symbol = "BTCUSDT", side = "buy", type = "limit", price = 1e15m, quantity = 1e14m }), "quantity");
        await AssertRefusedAsync(await system.Gateway.GetAsync("/api/v1/markets/binance/BTCUSDT/indicators/sma?interval=1m&period=2000000000"), "period");
        await AssertRefusedAsync(await client.GetAsync("/api/v1/fills?limit=abc"), "limit");
        using var wrongType = new StringContent("{\"exchange\":\"binance\",\"symbol\":\"BTCUSDT\",\"side\":\"buy\",\"type\":\"limit\",\"price\":\"NaN\",\"quantity\":1}",
            Encoding.UTF8, "application/json");
        await AssertRefusedAsync(await client.PostAsync("/api/v1/orders", wrongType), "price");
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string field)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(field, JsonDocument.Parse(body).RootElement.GetProperty("field").GetString());
        }
    }

    private static IEnumerable<FuzzCase> CasesFor(string path, string method, JsonObject operation, JsonObject schemas)
    {
        var parameters = (operation["parameters"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(p => p["in"]?.GetValue<string>() is "path" or "query")
            .Select(p => (Name: p["name"]!.GetValue<string>(), In: p["in"]!.GetValue<string>(), Schema: Resolve(p["schema"], schemas)))
            .ToList();
        if (path.Contains("/indicators/", StringComparison.Ordinal) && parameters.All(p => p.Name != "period"))
        {
            // Indicator parameters are free-form query keys (period, stdDev, …), so the document cannot list them.
            parameters.Add(("period", "query", new JsonObject { ["type"] = "integer" }));
        }
        var valid = parameters.ToDictionary(p => p.Name, p => ValidText(p.Name, p.Schema));
        var content = operation["requestBody"]?["content"] as JsonObject;
        var jsonSchema = Resolve(content?["application/json"]?["schema"], schemas);
        var otherMedia = content?.Select(c => c.Key).FirstOrDefault(k => k != "application/json");
        var baseBody = jsonSchema is null ? null : ValidJson(jsonSchema, schemas, 0) as JsonObject;

        FuzzCase Case(Dictionary<string, string> values, string? body, string mediaType, string what)
            => new(method, path, parameters.Select(p => (p.Name, p.In, values[p.Name])).ToList(), body, mediaType, what);

        var bodyText = baseBody?.ToJsonString() ?? (jsonSchema is not null ? "{}" : null);
        var media = jsonSchema is not null ? "application/json" : otherMedia ?? "application/json";
        yield return Case(valid, bodyText, media, "valid-looking values");
        foreach (var parameter in parameters)
        {
            foreach (var text in ExtremeTexts)
            {
                if (parameter.In == "path" && text.Length == 0)
                {
                    continue; // an empty segment is another route
                }
                yield return Case(new(valid) { [parameter.Name] = text }, bodyText, media, $"{parameter.In} '{parameter.Name}' = {Shorten(text)}");
            }
        }
        if (jsonSchema is not null)
        {
            foreach (var raw in RawBodies)
            {
                yield return Case(valid, raw, "application/json", $"body = {Shorten(raw)}");
            }
            // Every field extreme at once: products and sums of huge values (price × quantity) overflow where one alone does not.
            foreach (var value in new JsonNode?[] { JsonValue.Create(1e15m), JsonValue.Create(79228162514264337593543950335m), JsonValue.Create(new string('x', 10_000)) })
            {
                var all = new JsonObject();
                foreach (var field in (jsonSchema["properties"] as JsonObject ?? []).Select(p => p.Key))
                {
                    all[field] = (baseBody?[field] is JsonValue v && v.GetValueKind() == value!.GetValueKind() ? value : baseBody?[field])?.DeepClone();
                }
                yield return Case(valid, all.ToJsonString(), "application/json", $"every {value!.GetValueKind()} field = {Shorten(value.ToJsonString())}");
            }
            foreach (var field in (jsonSchema["properties"] as JsonObject ?? []).Select(p => p.Key))
            {
                foreach (var value in ExtremeJson)
                {
                    var body = (JsonObject)(baseBody ?? []).DeepClone();
                    body[field] = value?.DeepClone();
                    yield return Case(valid, body.ToJsonString(), "application/json", $"body '{field}' = {Shorten(value?.ToJsonString() ?? "null")}");
                }
            }
        }
        else if (otherMedia is not null)
        {
            foreach (var raw in RawBodies)
            {
                yield return Case(valid, raw, otherMedia, $"{otherMedia} body = {Shorten(raw)}");
            }
        }
    }

    private static JsonObject? Resolve(JsonNode? schema, JsonObject schemas, int depth = 0)
    {
        if (schema is not JsonObject o || depth > 8)
        {
            return null;
        }
        if (o["$ref"]?.GetValue<string>() is { } reference)
        {
            return Resolve(schemas[reference.Split('/')[^1]], schemas, depth + 1);
        }
        if ((o["anyOf"] ?? o["oneOf"]) is JsonArray choices)
        {
            return choices.Select(c => Resolve(c, schemas, depth + 1)).FirstOrDefault(c => c?["type"]?.ToString() != "null") ?? o;
        }
        return o;
    }

    private static string TypeOf(JsonObject? schema) => schema?["type"] switch
    {
        JsonArray types => types.Select(t => t!.GetValue<string>()).FirstOrDefault(t => t != "null") ?? "string",
        JsonValue type => type.GetValue<string>(),
        _ => "string",
    };

    /// <summary>A plausible value, so that one field at a time is the odd one out.</summary>
    private static string ValidText(string name, JsonObject? schema) => name.ToLowerInvariant() switch
    {
        "exchange" => "binance",
        "symbol" => "BTCUSDT",
        "interval" => "1m",
        "name" or "indicator" => "sma",
        "from" => "2024-01-01T00:00:00Z",
        "to" => "2024-01-02T00:00:00Z",
        "limit" => "10",
        "period" => "14",
        "format" => "binance-trades",
        _ => schema?["format"]?.GetValue<string>() == "uuid" ? "0190a000-0000-7000-8000-000000000001"
            : TypeOf(schema) is "integer" or "number" ? "1"
            : TypeOf(schema) == "boolean" ? "true"
            : "x",
    };

    private static JsonNode? ValidJson(JsonObject? schema, JsonObject schemas, int depth)
    {
        if (schema is null || depth > 4)
        {
            return null;
        }
        if (schema["enum"] is JsonArray choices && choices.Count > 0)
        {
            return choices[0]?.DeepClone();
        }
        return TypeOf(schema) switch
        {
            "object" => new JsonObject((schema["properties"] as JsonObject ?? [])
                .Select(p => KeyValuePair.Create(p.Key, ValidField(p.Key, Resolve(p.Value, schemas), schemas, depth)))),
            "array" => new JsonArray(),
            "integer" or "number" => JsonValue.Create(1),
            "boolean" => JsonValue.Create(true),
            _ => schema["format"]?.GetValue<string>() switch
            {
                "date-time" => JsonValue.Create("2024-01-01T00:00:00Z"),
                "uuid" => JsonValue.Create("0190a000-0000-7000-8000-000000000001"),
                _ => JsonValue.Create("x"),
            },
        };
    }

    private static JsonNode? ValidField(string name, JsonObject? schema, JsonObject schemas, int depth) => name.ToLowerInvariant() switch
    {
        "exchange" => "binance",
        "symbol" => "BTCUSDT",
        "interval" => "1m",
        "email" => $"fuzz-{Guid.NewGuid():N}@example.com",
        "side" => "buy",
        "type" => "limit",
        _ => ValidJson(schema, schemas, depth + 1),
    };

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + $"…({text.Length} chars)" : text;

    private sealed record FuzzCase(string Method, string Path, List<(string Name, string In, string Value)> Parameters,
        string? Body, string MediaType, string What)
    {
        public HttpRequestMessage ToRequest()
        {
            var path = Path;
            var query = new List<string>();
            foreach (var (name, place, value) in Parameters)
            {
                if (place == "path")
                {
                    path = path.Replace("{" + name + "}", Uri.EscapeDataString(value), StringComparison.Ordinal);
                }
                else
                {
                    query.Add($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}");
                }
            }
            var request = new HttpRequestMessage(new HttpMethod(Method), query.Count == 0 ? path : $"{path}?{string.Join('&', query)}");
            if (Body is not null)
            {
                request.Content = new StringContent(Body, Encoding.UTF8, MediaType);
            }
            return request;
        }

        public override string ToString() => $"{Method} {Path} with {What}";
    }
}
