using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Wire-level fakes of the three chat services, answering as their documentation says they do:
/// <list type="bullet">
/// <item>Telegram Bot API: <c>POST /bot{token}/sendMessage</c> with JSON <c>chat_id</c>, <c>text</c>,
/// <c>parse_mode</c> → <c>{"ok":true,"result":{message}}</c>; an empty text or unbalanced Markdown entities → 400
/// <c>{"ok":false,"error_code":400,"description":"Bad Request: …"}</c>; flood control → 429
/// <c>{"ok":false,"error_code":429,"description":"Too Many Requests: retry after N","parameters":{"retry_after":N}}</c>.</item>
/// <item>Discord: <c>POST /api/webhooks/{id}/{token}</c> with <c>content</c> → 204; rate limited → 429 with JSON
/// <c>{"message":"You are being rate limited.","retry_after":N,"global":false}</c> and a <c>Retry-After</c> header.</item>
/// <item>Slack incoming webhook: <c>POST /services/{T}/{B}/{secret}</c> with <c>text</c> → 200 <c>ok</c>; rate limited
/// → 429 with <c>Retry-After</c>.</item>
/// </list>
/// Every request is recorded with its arrival time; <see cref="RateLimit"/> makes the next requests to one chat or
/// webhook answer 429.
/// </summary>
public sealed class FakeChatServices : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (int Times, int Seconds)> _limits = new();
    private int _messageId;

    private FakeChatServices(WebApplication app) => _app = app;

    /// <param name="Key"><c>telegram:{token}:{chat}</c>, <c>discord:{webhook id}</c> or <c>slack:{secret}</c>.</param>
    public sealed record Request(string Key, string Text, JsonElement Body, DateTimeOffset At, int Status);

    public string BaseUrl { get; private set; } = "";

    public ConcurrentQueue<Request> Wire { get; } = new();

    /// <summary>The messages <paramref name="key"/> accepted.</summary>
    public Request[] Delivered(string key) => [.. Wire.Where(r => r.Key == key && r.Status is 200 or 204)];

    public Request[] To(string key) => [.. Wire.Where(r => r.Key == key)];

    /// <summary>The next <paramref name="times"/> requests to <paramref name="key"/> are a 429 asking to wait <paramref name="seconds"/>.</summary>
    public void RateLimit(string key, int times, int seconds) => _limits[key] = (times, seconds);

    public static async Task<FakeChatServices> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakeChatServices(app);
        app.MapPost("/bot{token}/sendMessage", async (string token, HttpRequest request) =>
        {
            var body = await JsonDocument.ParseAsync(request.Body);
            var json = body.RootElement.Clone();
            var chat = json.TryGetProperty("chat_id", out var chatId) ? chatId.ToString() : "";
            var text = json.TryGetProperty("text", out var t) ? t.GetString() ?? "" : "";
            var key = $"telegram:{token}:{chat}";
            if (fake.Limited(key) is { } wait)
            {
                fake.Record(key, text, json, 429);
                return Results.Json(new { ok = false, error_code = 429, description = $"Too Many Requests: retry after {wait}", parameters = new { retry_after = wait } },
                    statusCode: 429);
            }

            var problem = text.Length == 0 ? "Bad Request: message text is empty"
                : json.TryGetProperty("parse_mode", out var mode) && mode.GetString() == "Markdown" && !BalancedMarkdown(text)
                    ? "Bad Request: can't parse entities: Can't find end of the entity"
                    : null;
            if (problem is not null)
            {
                fake.Record(key, text, json, 400);
                return Results.Json(new { ok = false, error_code = 400, description = problem }, statusCode: 400);
            }

            fake.Record(key, text, json, 200);
            var id = Interlocked.Increment(ref fake._messageId);
            return Results.Json(new { ok = true, result = new { message_id = id, chat = new { id = chat }, date = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), text } });
        });
        app.MapPost("/api/webhooks/{id}/{token}", async (string id, HttpRequest request, HttpResponse response) =>
        {
            var json = (await JsonDocument.ParseAsync(request.Body)).RootElement.Clone();
            var text = json.TryGetProperty("content", out var content) ? content.GetString() ?? "" : "";
            var key = $"discord:{id}";
            if (fake.Limited(key) is { } wait)
            {
                fake.Record(key, text, json, 429);
                response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Json(new { message = "You are being rate limited.", retry_after = (double)wait, global = false }, statusCode: 429);
            }

            if (text.Length is 0 or > 2000)
            {
                fake.Record(key, text, json, 400);
                return Results.Json(new { message = "Cannot send an empty message", code = 50006 }, statusCode: 400);
            }

            fake.Record(key, text, json, 204);
            return Results.NoContent();
        });
        app.MapPost("/services/{team}/{bot}/{secret}", async (string secret, HttpRequest request, HttpResponse response) =>
        {
            var json = (await JsonDocument.ParseAsync(request.Body)).RootElement.Clone();
            var text = json.TryGetProperty("text", out var t) ? t.GetString() ?? "" : "";
            var key = $"slack:{secret}";
            if (fake.Limited(key) is { } wait)
            {
                fake.Record(key, text, json, 429);
                response.Headers.RetryAfter = wait.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Results.Text("rate_limited", statusCode: 429);
            }

            if (text.Length == 0)
            {
                fake.Record(key, text, json, 400);
                return Results.Text("no_text", statusCode: 400);
            }

            fake.Record(key, text, json, 200);
            return Results.Text("ok");
        });
        await app.StartAsync();
        fake.BaseUrl = app.Urls.First().TrimEnd('/');
        return fake;
    }

    private int? Limited(string key)
    {
        while (_limits.TryGetValue(key, out var limit) && limit.Times > 0)
        {
            if (_limits.TryUpdate(key, (limit.Times - 1, limit.Seconds), limit))
            {
                return limit.Seconds;
            }
        }

        return null;
    }

    private void Record(string key, string text, JsonElement body, int status) => Wire.Enqueue(new Request(key, text, body, DateTimeOffset.UtcNow, status));

    /// <summary>Telegram's legacy Markdown: every unescaped *, _ and ` opens an entity that must be closed.</summary>
    private static bool BalancedMarkdown(string text)
    {
        int stars = 0, underscores = 0, ticks = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '\\':
                    i++;
                    break;
                case '*':
                    stars++;
                    break;
                case '_':
                    underscores++;
                    break;
                case '`':
                    ticks++;
                    break;
            }
        }

        return stars % 2 == 0 && underscores % 2 == 0 && ticks % 2 == 0;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
