using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using QuantTrader.Alert.Notifications;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.IntegrationTests;

/// <summary>A user's notification channels over the gateway, delivered by the running alert service to wire-level
/// fakes of Telegram, Discord and Slack (docs/notifications.md § Channels).</summary>
[Collection(SystemCollection.Name)]
public sealed class ChannelTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_alert_naming_a_telegram_and_a_discord_channel_sends_each_exactly_one_readable_message()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        var telegram = await CreateTelegramAsync(client);
        var discord = await CreateDiscordAsync(client);
        var symbol = MarketBus.NewSymbol();
        using (var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type = "price_above", value = 100m },
            repeat = "once",
            channels = new[] { telegram.Id, discord.Id },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var rule = await created.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal([telegram.Id, discord.Id], rule.GetProperty("channels").EnumerateArray().Select(c => c.GetGuid()).Order());
        }

        await using (var bus = await MarketBus.ConnectAsync(system))
        {
            await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 101.25m, 1m, TakerSide.Buy, DateTimeOffset.UtcNow));
        }

        await Eventually.SucceedsAsync(() =>
        {
            Assert.Single(system.Chat.Delivered(telegram.Key));
            Assert.Single(system.Chat.Delivered(discord.Key));
            return Task.CompletedTask;
        }, Wait);
        await Eventually.SucceedsAsync(async () => Assert.Equal(["delivered", "delivered"], await OutboxRows.StatusesAsync(system, userId)), Wait);
        await Task.Delay(TimeSpan.FromSeconds(2));

        var toTelegram = Assert.Single(system.Chat.To(telegram.Key));
        Assert.Equal("Markdown", toTelegram.Body.GetProperty("parse_mode").GetString());
        Assert.StartsWith($"*Alert: {symbol} on binance*\n", toTelegram.Text);
        Assert.Contains("Price: 101.25\n", toTelegram.Text);
        Assert.Contains("Time: ", toTelegram.Text);
        var toDiscord = Assert.Single(system.Chat.To(discord.Key));
        Assert.StartsWith($"**Alert: {symbol} on binance**\n", toDiscord.Text);
        Assert.Contains("Price: 101.25\n", toDiscord.Text);

        // One outbox row per channel, keyed by the firing and the channel.
        var eventId = await FiringAsync(userId);
        Assert.Equal(
            new[] { NotificationKeys.For(eventId, NotificationKeys.OfChannel(telegram.Id)), NotificationKeys.For(eventId, NotificationKeys.OfChannel(discord.Id)) }.Order(),
            (await OutboxRows.IdsAsync(system, userId)).Order());
    }

    [Fact]
    public async Task A_429_with_retry_after_is_honoured_the_retry_comes_no_sooner_than_asked()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var telegram = await CreateTelegramAsync(client);
        var discord = await CreateDiscordAsync(client);
        var slack = await CreateSlackAsync(client);
        foreach (var channel in new[] { telegram, discord, slack })
        {
            system.Chat.RateLimit(channel.Key, times: 1, seconds: 3);
            using var test = await client.PostAsync($"/api/v1/notification-channels/{channel.Id}/test", null);
            Assert.Equal(HttpStatusCode.Accepted, test.StatusCode);
        }

        foreach (var channel in new[] { telegram, discord, slack })
        {
            await Eventually.SucceedsAsync(() =>
            {
                Assert.Single(system.Chat.Delivered(channel.Key));
                return Task.CompletedTask;
            }, Wait);
            var wire = system.Chat.To(channel.Key);
            Assert.Equal([429, channel.Key.StartsWith("discord", StringComparison.Ordinal) ? 204 : 200], wire.Select(r => r.Status));
            var waited = wire[1].At - wire[0].At;
            Assert.True(waited >= TimeSpan.FromSeconds(3) - TimeSpan.FromMilliseconds(20), $"{channel.Key}: retried after {waited.TotalSeconds:F2} s, asked 3 s");
            Assert.Contains("Test message from QuantTrader", wire[1].Text);
        }
    }

    [Fact]
    public async Task The_list_never_shows_a_secret_whole_and_another_user_can_neither_see_nor_delete_nor_test_nor_name_a_channel()
    {
        var (_, _, owner) = await system.CreateUserAsync();
        var (_, _, other) = await system.CreateUserAsync();
        var telegram = await CreateTelegramAsync(owner);
        var discord = await CreateDiscordAsync(owner);

        var listed = await owner.GetStringAsync("/api/v1/notification-channels");
        Assert.DoesNotContain(telegram.Secret, listed);
        Assert.DoesNotContain(discord.Secret, listed);
        var views = JsonDocument.Parse(listed).RootElement.EnumerateArray().ToArray();
        Assert.Equal([telegram.Id, discord.Id], views.Select(v => v.GetProperty("id").GetGuid()));
        Assert.EndsWith(telegram.Secret[^4..], views[0].GetProperty("hint").GetString());
        Assert.EndsWith(discord.Secret[^4..], views[1].GetProperty("hint").GetString());
        await using (var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres")))
        await using (var stored = db.CreateCommand("SELECT settings FROM notification_channels WHERE id = $1"))
        {
            stored.Parameters.Add(new() { Value = telegram.Id });
            Assert.DoesNotContain(telegram.Secret, (string)(await stored.ExecuteScalarAsync())!);
        }

        Assert.Empty((await other.GetFromJsonAsync<JsonElement>("/api/v1/notification-channels")).EnumerateArray());
        using (var delete = await other.DeleteAsync($"/api/v1/notification-channels/{telegram.Id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        }

        using (var test = await other.PostAsync($"/api/v1/notification-channels/{telegram.Id}/test", null))
        {
            Assert.Equal(HttpStatusCode.NotFound, test.StatusCode);
        }

        using (var rule = await other.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol = MarketBus.NewSymbol(),
            condition = new { type = "price_above", value = 100m },
            channels = new[] { telegram.Id },
        }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, rule.StatusCode);
        }

        Assert.Empty(system.Chat.To(telegram.Key));
        using (var delete = await owner.DeleteAsync($"/api/v1/notification-channels/{telegram.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.Equal([discord.Id], (await owner.GetFromJsonAsync<JsonElement>("/api/v1/notification-channels")).EnumerateArray().Select(v => v.GetProperty("id").GetGuid()));
    }

    [Theory]
    [InlineData("http://169.254.169.254/api/webhooks/1/metadata")]
    [InlineData("http://[fe80::1]/services/T/B/x")]
    [InlineData("ftp://hooks.slack.com/services/T/B/x")]
    public async Task A_channel_url_to_a_forbidden_address_is_refused(string url)
    {
        var (_, _, client) = await system.CreateUserAsync();
        using var created = await client.PostAsJsonAsync("/api/v1/notification-channels", new { type = "discord", url });
        Assert.Equal(HttpStatusCode.BadRequest, created.StatusCode);
        Assert.Equal("url", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/v1/notification-channels")).EnumerateArray());
    }

    private sealed record Channel(Guid Id, string Key, string Secret);

    private static async Task<Channel> CreateTelegramAsync(HttpClient client)
    {
        var token = $"{Random.Shared.Next(100000, 999999)}:AA{Guid.NewGuid():N}";
        var chat = Random.Shared.NextInt64(100000000, 999999999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new Channel(await CreateAsync(client, new { type = "telegram", name = "my phone", botToken = token, chatId = chat }), $"telegram:{token}:{chat}", token);
    }

    private async Task<Channel> CreateDiscordAsync(HttpClient client)
    {
        var (id, token) = (Random.Shared.NextInt64(1_000_000_000, 9_999_999_999), Guid.NewGuid().ToString("N"));
        var url = $"{system.Chat.BaseUrl}/api/webhooks/{id}/{token}";
        return new Channel(await CreateAsync(client, new { type = "discord", url }), $"discord:{id}", url);
    }

    private async Task<Channel> CreateSlackAsync(HttpClient client)
    {
        var secret = Guid.NewGuid().ToString("N");
        var url = $"{system.Chat.BaseUrl}/services/T000/B000/{secret}";
        return new Channel(await CreateAsync(client, new { type = "slack", url }), $"slack:{secret}", url);
    }

    private static async Task<Guid> CreateAsync(HttpClient client, object request)
    {
        using var created = await client.PostAsJsonAsync("/api/v1/notification-channels", request);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<Guid> FiringAsync(Guid userId)
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        await using var query = db.CreateCommand("SELECT event_id FROM alert_firings WHERE user_id = $1");
        query.Parameters.Add(new() { Value = userId });
        return (Guid)(await query.ExecuteScalarAsync())!;
    }
}
