using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using QuantTrader.Alert.Notifications;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Issue #20 § 3 for the signed webhook: deliveries live in the durable outbox, so a kill -9 of the alert service
/// while they are pending or in flight loses none, and the receiver — de-duplicating on the idempotency key — acts on
/// each exactly once; a delivery that exhausts its retries is listed to its user as failed and a resend delivers it.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class NotificationOutboxTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Deliveries_in_flight_or_pending_when_the_alert_service_is_killed_reach_the_receiver_with_one_effect_per_idempotency_key()
    {
        // A slow receiver: each request is acted on at arrival and answered 4 s later, so at the kill four requests
        // (the destination's concurrency) are in flight — received, not answered — and the rest pending.
        await using var receiver = await IdempotentReceiver.StartAsync();
        receiver.Hold = TimeSpan.FromSeconds(4);
        var (userId, _, client) = await system.CreateUserAsync();
        var rules = new List<(Guid Id, string Symbol)>();
        string secret = "";
        for (var i = 0; i < 8; i++)
        {
            var symbol = MarketBus.NewSymbol();
            var (id, ruleSecret) = await CreateRuleAsync(client, symbol, receiver.Url);
            rules.Add((id, symbol));
            secret = ruleSecret ?? secret;
        }

        await using (var bus = await MarketBus.ConnectAsync(system))
        {
            foreach (var (_, symbol) in rules)
            {
                await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 101m, 1m, TakerSide.Buy, DateTimeOffset.UtcNow));
            }
        }

        await Eventually.SucceedsAsync(() =>
        {
            Assert.True(receiver.Wire.Count >= 2, $"{receiver.Wire.Count} requests arrived so far");
            return Task.CompletedTask;
        }, Wait);
        var beforeKill = receiver.Wire.Select(r => r.HeaderKey).ToHashSet();
        try
        {
            await ResourceControl.KillAsync(system, "alert");
        }
        finally
        {
            await ResourceControl.StartAsync(system, "alert");
        }

        // Every firing's delivery, by its key (derived from the firing's event id), takes effect once.
        var expected = await ExpectedKeysAsync(userId, rules.Count);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(expected.Keys.Order(), receiver.Effects.Keys.Order());
            return Task.CompletedTask;
        }, Wait);
        await Eventually.SucceedsAsync(async () => Assert.All(await OutboxRows.StatusesAsync(system, userId), s => Assert.Equal("delivered", s)), Wait);

        // On the wire: every request carried its key in the header and in the signed body, the same key for the same
        // event on every request; what was in flight at the kill came again (at least once) and was recognised.
        var wire = receiver.Wire.ToArray();
        Assert.All(wire, r =>
        {
            Assert.Equal(r.HeaderKey, r.BodyKey);
            Assert.Equal(expected[r.HeaderKey], r.EventId);
            Assert.Equal(Signature(secret, r.Timestamp, r.Body), r.Signature);
        });
        Assert.Contains(wire.GroupBy(r => r.HeaderKey), repeated => repeated.Count() > 1 && beforeKill.Contains(repeated.Key));
        Assert.Equal(wire.Length - expected.Count, receiver.DuplicatesDropped);
    }

    [Fact]
    public async Task Deliveries_held_by_a_replica_killed_with_requests_in_flight_are_taken_over_by_the_other_after_their_claims_lapse()
    {
        await using var receiver = await IdempotentReceiver.StartAsync();
        receiver.Hold = TimeSpan.FromSeconds(4);
        await using var extra = await ExtraReplica.StartAsync(system, "alert");
        var (extraPartitions, _) = await AlertReplicas.SettledSplitAsync(system, extra);
        var (userId, rules) = await FireOnMarketsOfAsync(extraPartitions, receiver, count: 8);

        // The extra replica records the firings and, nudged at once, claims them: kill it while it has requests out.
        var claimer = extra.Environment["Partitions__Instance"];
        await Eventually.SucceedsAsync(async () =>
        {
            Assert.True(receiver.Wire.Count >= 1, "no request arrived yet");
            Assert.True(await ClaimedByAsync(claimer) >= 1, $"{claimer} holds no claimed deliveries");
        }, Wait);
        await extra.KillAsync();

        // Its claims lapse (30 s) and the surviving replica delivers them: one effect per key.
        var expected = await ExpectedKeysAsync(userId, rules);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(expected.Keys.Order(), receiver.Effects.Keys.Order());
            return Task.CompletedTask;
        }, Wait);
        await Eventually.SucceedsAsync(async () => Assert.All(await OutboxRows.StatusesAsync(system, userId), s => Assert.Equal("delivered", s)), Wait);
        Assert.All(receiver.Wire, r => Assert.Equal(expected[r.HeaderKey], r.EventId));
    }

    [Fact]
    public async Task A_replica_stopped_by_SIGTERM_gives_its_deliveries_back_within_its_drain_and_the_other_delivers_them()
    {
        // Requests held longer than the drain (5 s): the stopping replica must cut them off and give them back.
        await using var receiver = await IdempotentReceiver.StartAsync();
        receiver.Hold = TimeSpan.FromSeconds(8);
        await using var extra = await ExtraReplica.StartAsync(system, "alert");
        var (extraPartitions, _) = await AlertReplicas.SettledSplitAsync(system, extra);
        var (userId, rules) = await FireOnMarketsOfAsync(extraPartitions, receiver, count: 8);
        var claimer = extra.Environment["Partitions__Instance"];
        await Eventually.SucceedsAsync(async () =>
        {
            Assert.True(receiver.Wire.Count >= 1, "no request arrived yet");
            Assert.True(await ClaimedByAsync(claimer) >= 1, $"{claimer} holds no claimed deliveries");
        }, Wait);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await extra.StopAsync(TimeSpan.FromSeconds(30));
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(25), $"the replica took {stopping.Elapsed.TotalSeconds:F1} s to stop");
        Assert.Equal(0, await ClaimedByAsync(claimer));

        var expected = await ExpectedKeysAsync(userId, rules);
        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal(expected.Keys.Order(), receiver.Effects.Keys.Order());
            return Task.CompletedTask;
        }, Wait);
        await Eventually.SucceedsAsync(async () => Assert.All(await OutboxRows.StatusesAsync(system, userId), s => Assert.Equal("delivered", s)), Wait);
    }

    [Fact]
    public async Task A_delivery_that_exhausts_its_retries_is_listed_as_failed_to_its_user_only_and_a_resend_delivers_it()
    {
        await using var receiver = await IdempotentReceiver.StartAsync();
        receiver.RefuseWith = 503;
        var (userId, _, client) = await system.CreateUserAsync();
        var (_, _, stranger) = await system.CreateUserAsync();
        var symbol = MarketBus.NewSymbol();
        var (ruleId, _) = await CreateRuleAsync(client, symbol, receiver.Url);
        await using (var bus = await MarketBus.ConnectAsync(system))
        {
            await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 101m, 1m, TakerSide.Buy, DateTimeOffset.UtcNow));
        }

        // Six attempts, each answered 503, then failed (the tests' base delay is 200 ms: ~6 s).
        JsonElement notification = default;
        await Eventually.SucceedsAsync(async () =>
        {
            var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/notifications?status=failed");
            notification = Assert.Single(list.EnumerateArray());
        }, Wait, TimeSpan.FromMilliseconds(500));
        var id = notification.GetProperty("id").GetGuid();
        var (expected, _) = Assert.Single(await ExpectedKeysAsync(userId, 1));
        Assert.Equal(expected, id);
        Assert.Equal("webhook", notification.GetProperty("channel").GetString());
        Assert.Equal("alert.fired", notification.GetProperty("kind").GetString());
        Assert.Equal(receiver.Url, notification.GetProperty("target").GetString());
        Assert.Equal(6, notification.GetProperty("attempts").GetInt32());
        Assert.Equal(503, notification.GetProperty("lastStatusCode").GetInt32());
        Assert.Equal(6, receiver.Wire.Count);
        Assert.All(receiver.Wire, r => Assert.Equal(id, r.HeaderKey));
        Assert.Empty(receiver.Effects);

        // Another user sees none of it and cannot resend it.
        Assert.Equal(0, (await stranger.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).GetArrayLength());
        using (var foreign = await stranger.PostAsync($"/api/v1/notifications/{id}/resend", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        }

        // The receiver is fixed; the user resends: delivered once, with the same key.
        receiver.RefuseWith = 0;
        using (var resend = await client.PostAsync($"/api/v1/notifications/{id}/resend", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
            Assert.Equal("pending", (await resend.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }

        await Eventually.SucceedsAsync(() =>
        {
            Assert.Equal([id], receiver.Effects.Keys);
            return Task.CompletedTask;
        }, Wait);
        await Eventually.SucceedsAsync(async () =>
        {
            var delivered = Assert.Single((await client.GetFromJsonAsync<JsonElement>("/api/v1/notifications?status=delivered")).EnumerateArray());
            Assert.Equal(id, delivered.GetProperty("id").GetGuid());
            Assert.Equal(7, delivered.GetProperty("attempts").GetInt32());
        }, Wait, TimeSpan.FromMilliseconds(500));
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/v1/notifications?status=failed")).GetArrayLength());
        Assert.Equal(ruleId, JsonDocument.Parse(receiver.Wire.Last().Body).RootElement.GetProperty("alertId").GetGuid());

        // Only a failed delivery can be resent.
        using var again = await client.PostAsync($"/api/v1/notifications/{id}/resend", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Listing_notifications_refuses_an_unknown_status_naming_the_field()
    {
        var (_, _, client) = await system.CreateUserAsync();
        using var response = await client.GetAsync("/api/v1/notifications?status=lost");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("status", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    /// <summary>A new user with <paramref name="count"/> rules on markets of <paramref name="partitions"/>, all fired.</summary>
    private async Task<(Guid UserId, int Rules)> FireOnMarketsOfAsync(IReadOnlySet<int> partitions, IdempotentReceiver receiver, int count)
    {
        var (userId, _, client) = await system.CreateUserAsync();
        using (client)
        {
            await using var bus = await MarketBus.ConnectAsync(system);
            var symbols = Enumerable.Range(0, count).Select(_ => AlertReplicas.SymbolIn(partitions)).ToList();
            foreach (var symbol in symbols)
            {
                await CreateRuleAsync(client, symbol, receiver.Url);
            }

            foreach (var symbol in symbols)
            {
                await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 101m, 1m, TakerSide.Buy, DateTimeOffset.UtcNow));
            }
        }

        return (userId, count);
    }

    /// <summary>Outbox rows a replica holds claimed now.</summary>
    private async Task<long> ClaimedByAsync(string claimer)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var query = db.CreateCommand("SELECT count(*) FROM notification_outbox WHERE status = 'delivering' AND claimed_by = $1");
        query.Parameters.Add(new() { Value = claimer });
        return (long)(await query.ExecuteScalarAsync())!;
    }

    /// <summary>'once', price above 100, with a webhook: a trade at 101 fires it.</summary>
    private static async Task<(Guid Id, string? Secret)> CreateRuleAsync(HttpClient client, string symbol, string webhookUrl)
    {
        using var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type = "price_above", value = 100m },
            webhookUrl,
            repeat = "once",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var rule = await created.Content.ReadFromJsonAsync<JsonElement>();
        return (rule.GetProperty("id").GetGuid(), rule.TryGetProperty("webhookSecret", out var secret) ? secret.GetString() : null);
    }

    /// <summary>Once the user's <paramref name="count"/> firings are recorded: each one's idempotency key and event id.</summary>
    private async Task<Dictionary<Guid, Guid>> ExpectedKeysAsync(Guid userId, int count)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var keys = new Dictionary<Guid, Guid>();
        await Eventually.SucceedsAsync(async () =>
        {
            keys.Clear();
            await using var query = db.CreateCommand("SELECT event_id FROM alert_firings WHERE user_id = $1");
            query.Parameters.Add(new() { Value = userId });
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var eventId = reader.GetGuid(0);
                keys[NotificationKeys.For(eventId, NotificationKeys.RuleWebhook)] = eventId;
            }

            Assert.Equal(count, keys.Count);
        }, Wait);
        return keys;
    }

    private static string Signature(string secret, string timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));
}
