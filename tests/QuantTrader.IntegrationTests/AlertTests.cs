using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

[Collection(SystemCollection.Name)]
public sealed class AlertTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_crossing_fires_once_and_its_signed_webhook_and_event_arrive()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 1);
        var (_, _, client) = await system.CreateUserAsync();
        var symbol = MarketBus.NewSymbol();
        using var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type = "price_crosses_above", value = 100m },
            webhookUrl = receiver.Url,
            repeat = "once",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var rule = await created.Content.ReadFromJsonAsync<JsonElement>();
        var alertId = rule.GetProperty("id").GetGuid();
        var secret = rule.GetProperty("webhookSecret").GetString()!;

        await using var bus = await MarketBus.ConnectAsync(system);
        var t = DateTimeOffset.UtcNow;
        // 99 sets the side; 101 crosses above (fires); 98 then 102 would cross again, but the rule is 'once'.
        decimal[] prices = [99m, 101m, 98m, 102m];
        for (var i = 0; i < prices.Length; i++)
        {
            await bus.PublishTradeAsync(new Trade("binance", symbol, i + 1, prices[i], 1m, TakerSide.Buy, t.AddMilliseconds(i)));
        }

        // The receiver answered 500 to the first attempt: the delivery is retried, then signed correctly.
        var delivered = await Eventually.ReturnsAsync(() => Task.FromResult(receiver.Accepted.FirstOrDefault()), Wait, "the webhook delivery");
        Assert.True(receiver.Attempts >= 2);
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(
            Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{delivered.Timestamp}.{delivered.Body}")));
        Assert.Equal(expected, delivered.Signature);
        var payload = JsonDocument.Parse(delivered.Body).RootElement;
        Assert.Equal(alertId, payload.GetProperty("alertId").GetGuid());
        Assert.Equal(101m, payload.GetProperty("price").GetDecimal());

        JsonElement events = default;
        await Eventually.SucceedsAsync(async () =>
        {
            events = await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts/events");
            Assert.True(events.GetArrayLength() > 0);
        }, Wait);
        var fired = Assert.Single(events.EnumerateArray());
        Assert.Equal(alertId, fired.GetProperty("alertId").GetGuid());
        Assert.Equal(101m, fired.GetProperty("price").GetDecimal());

        var rules = await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts");
        Assert.Equal("fired", Assert.Single(rules.EnumerateArray()).GetProperty("status").GetString());
        Assert.Single(receiver.Accepted);
    }

    [Fact]
    public async Task A_percent_change_over_its_window_fires_with_the_change_as_value()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var symbol = MarketBus.NewSymbol();
        using var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type = "percent_change", window = "30s", value = 5m },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var alertId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        await using var bus = await MarketBus.ConnectAsync(system);
        var t = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        // t: no price 30 s back yet. t+10 s: still none. t+31 s: 106 against 100 (the price at t) = +6 % → fires.
        await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 100m, 1m, TakerSide.Buy, t));
        await bus.PublishTradeAsync(new Trade("binance", symbol, 2, 110m, 1m, TakerSide.Buy, t.AddSeconds(10)));
        await bus.PublishTradeAsync(new Trade("binance", symbol, 3, 106m, 1m, TakerSide.Buy, t.AddSeconds(31)));

        var fired = await FiredEventAsync(client);
        Assert.Equal(alertId, fired.GetProperty("alertId").GetGuid());
        Assert.Equal(106m, fired.GetProperty("price").GetDecimal());
        Assert.Equal(6m, fired.GetProperty("value").GetDecimal());
        Assert.Equal(t.AddSeconds(31), fired.GetProperty("time").GetDateTimeOffset());
    }

    [Fact]
    public async Task Rsi_crossing_a_level_on_closed_klines_fires_through_the_kline_service()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var symbol = MarketBus.NewSymbol();
        using var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new
            {
                type = "indicator",
                indicator = new { name = "rsi", interval = "1m", @params = new { period = 14 } },
                @operator = "crosses_above",
                value = 70m,
            },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var alertId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        // One trade per minute in minutes a few minutes ahead, so the wall clock closes none of them: each minute is
        // closed by the next one's trade. Closes 100, 99, …, 81 make RSI(14) 0 (losses only; defined from the 15th
        // kline); then 120: average gain 39/14, loss 13/14, RSI 75 — it crosses above 70 on that kline only.
        await using var bus = await MarketBus.ConnectAsync(system);
        var window = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(5);
        decimal[] closes = [.. Enumerable.Range(0, 20).Select(i => 100m - i), 120m, 121m];
        for (var i = 0; i < closes.Length; i++)
        {
            await bus.PublishTradeAsync(new Trade("binance", symbol, i + 1, closes[i], 1m, TakerSide.Buy, window.AddMinutes(i).AddSeconds(1)));
        }

        var fired = await FiredEventAsync(client);
        Assert.Equal(alertId, fired.GetProperty("alertId").GetGuid());
        Assert.Equal(120m, fired.GetProperty("price").GetDecimal());
        Assert.Equal(75.0, (double)fired.GetProperty("value").GetDecimal(), 6);
        Assert.Equal(window.AddMinutes(21).AddMilliseconds(-1), fired.GetProperty("time").GetDateTimeOffset());
        Assert.Contains("crossed above 70", fired.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_webhook_that_keeps_failing_is_dead_lettered_after_the_last_try()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: int.MaxValue);
        var (userId, _, client) = await system.CreateUserAsync();
        var symbol = MarketBus.NewSymbol();
        using var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type = "price_above", value = 100m },
            webhookUrl = receiver.Url,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        await using var bus = await MarketBus.ConnectAsync(system);
        await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 101m, 1m, TakerSide.Buy, DateTimeOffset.UtcNow));
        var eventId = (await FiredEventAsync(client)).GetProperty("eventId").GetGuid();

        // Six tries (Alerts:Webhooks:MaxAttempts), every one answered 500, then the dead letter on the bus …
        var dead = await Eventually.ReturnsAsync(async () =>
        {
            var consumer = await bus.Js.CreateOrderedConsumerAsync("DEADLETTER", new NatsJSOrderedConsumerOpts { FilterSubjects = ["deadletter.alert-webhook"] });
            await foreach (var message in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = 10_000 }))
            {
                // NATS 2.9 ignores the filter: DEADLETTER also holds other consumers' dead letters (persistence's
                // poison messages, not even JSON), so look at this subject only.
                if (message.Subject == "deadletter.alert-webhook"
                    && JsonDocument.Parse(message.Data!).RootElement.GetProperty("eventId").GetGuid() == eventId)
                {
                    return message.Headers;
                }
            }

            return null;
        }, Wait, "the dead letter of the webhook");
        Assert.Equal(6, receiver.Attempts);
        Assert.Equal("webhook failed after 6 attempts: HTTP 500", dead[DeadLetterHeaders.Reason].ToString());
        Assert.Equal("alert-webhook", dead[DeadLetterHeaders.Consumer].ToString());
        Assert.Equal(Subjects.AlertsFired(userId), dead[DeadLetterHeaders.OriginalSubject].ToString());

        // … and every attempt plus the dead-letter record in alert_webhook_deliveries.
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var query = db.CreateCommand(
            "SELECT attempt, status_code, succeeded, dead_letter FROM alert_webhook_deliveries WHERE event_id = $1 ORDER BY id");
        query.Parameters.Add(new() { Value = eventId });
        var rows = new List<(int Attempt, int? Status, bool Succeeded, bool DeadLetter)>();
        await using (var reader = await query.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetInt32(1), reader.GetBoolean(2), reader.GetBoolean(3)));
            }
        }

        Assert.Equal([.. Enumerable.Range(1, 6).Select(a => (a, (int?)500, false, false)), (6, (int?)500, false, true)], rows);
    }

    /// <summary>The caller's one fired event, read through the gateway.</summary>
    private static async Task<JsonElement> FiredEventAsync(HttpClient client)
    {
        JsonElement events = default;
        await Eventually.SucceedsAsync(async () =>
        {
            events = await client.GetFromJsonAsync<JsonElement>("/api/v1/alerts/events");
            Assert.True(events.GetArrayLength() > 0);
        }, Wait);
        return Assert.Single(events.EnumerateArray());
    }

    [Fact]
    public async Task Another_users_rule_is_invisible_and_cannot_be_deleted()
    {
        var (_, _, alice) = await system.CreateUserAsync();
        var (_, _, bob) = await system.CreateUserAsync();
        using var created = await alice.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance", symbol = "BTCUSDT", condition = new { type = "price_above", value = 1_000_000m },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        Assert.Equal(0, (await bob.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetArrayLength());
        using var delete = await bob.DeleteAsync($"/api/v1/alerts/{id}");
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        Assert.Equal(1, (await alice.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetArrayLength());

        using var own = await alice.DeleteAsync($"/api/v1/alerts/{id}");
        Assert.Equal(HttpStatusCode.NoContent, own.StatusCode);
        Assert.Equal(0, (await alice.GetFromJsonAsync<JsonElement>("/api/v1/alerts")).GetArrayLength());
    }

    [Fact]
    public async Task The_plan_limits_the_number_of_rules()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/accounts/me");
        var limit = me.GetProperty("limits").GetProperty("alerts").GetInt32();
        var rule = new { exchange = "binance", symbol = "ETHUSDT", condition = new { type = "price_below", value = 1m } };
        for (var i = 0; i < limit; i++)
        {
            using var ok = await client.PostAsJsonAsync("/api/v1/alerts", rule);
            Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        }

        using var refused = await client.PostAsJsonAsync("/api/v1/alerts", rule);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("alerts", problem.GetProperty("limit").GetString());
    }

    [Theory]
    [InlineData("""{"exchange":"kraken","symbol":"BTCUSDT","condition":{"type":"price_above","value":1}}""", "exchange")]
    [InlineData("""{"exchange":"binance","symbol":"BTCUSDT","condition":{"type":"price_sideways","value":1}}""", "condition.type")]
    [InlineData("""{"exchange":"binance","symbol":"BTCUSDT","condition":{"type":"percent_change","value":5}}""", "condition.window")]
    [InlineData("""{"exchange":"binance","symbol":"BTCUSDT","condition":{"type":"indicator","value":70,"operator":"above","indicator":{"name":"rsi","interval":"1m","params":{"period":0}}}}""", "condition.indicator.params.period")]
    [InlineData("""{"exchange":"binance","symbol":"BTCUSDT","condition":{"type":"price_above","value":1},"repeat":"sometimes"}""", "repeat")]
    public async Task Invalid_rules_are_refused_naming_the_field(string body, string field)
    {
        var (_, _, client) = await system.CreateUserAsync();
        using var response = await client.PostAsync("/api/v1/alerts", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Alerts_need_a_key()
    {
        using var response = await system.Gateway.GetAsync("/api/v1/alerts");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private sealed record Delivery(string Body, string Timestamp, string Signature);

    /// <summary>A small Kestrel server standing in for a user's webhook endpoint.</summary>
    private sealed class WebhookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _attempts;

        private WebhookReceiver(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public int Attempts => Volatile.Read(ref _attempts);

        public ConcurrentQueue<Delivery> Accepted { get; } = new();

        public static async Task<WebhookReceiver> StartAsync(int failFirst)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            WebhookReceiver? self = null;
            app.MapPost("/hook", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                var body = await reader.ReadToEndAsync();
                if (Interlocked.Increment(ref self!._attempts) <= failFirst)
                {
                    return Results.StatusCode(500);
                }

                self.Accepted.Enqueue(new Delivery(body, request.Headers["X-QuantTrader-Timestamp"].ToString(), request.Headers["X-QuantTrader-Signature"].ToString()));
                return Results.Ok();
            });
            await app.StartAsync();
            var address = app.Urls.First();
            self = new WebhookReceiver(app, address.TrimEnd('/') + "/hook");
            return self;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
