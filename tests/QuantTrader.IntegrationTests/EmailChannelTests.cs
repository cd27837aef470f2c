using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using QuantTrader.Alert.Channels;
using QuantTrader.Alert.Notifications;
using QuantTrader.Contracts.MarketData;

namespace QuantTrader.IntegrationTests;

/// <summary>Email channels over the gateway, sent by the running alert service over real SMTP to
/// <see cref="FakeSmtpServer"/> (docs/notifications.md § Email).</summary>
[Collection(SystemCollection.Name)]
public sealed class EmailChannelTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_fired_alert_arrives_as_one_email_with_the_rule_in_it_and_its_idempotency_key_in_the_headers()
    {
        var (userId, _, client) = await system.CreateUserAsync();
        var (channelId, to) = await CreateEmailAsync(client);
        var symbol = MarketBus.NewSymbol();
        using (var created = await client.PostAsJsonAsync("/api/v1/alerts", new
        {
            exchange = "binance",
            symbol,
            condition = new { type = "price_above", value = 100m },
            repeat = "once",
            channels = new[] { channelId },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await using (var bus = await MarketBus.ConnectAsync(system))
        {
            await bus.PublishTradeAsync(new Trade("binance", symbol, 1, 101.25m, 1m, TakerSide.Buy, DateTimeOffset.UtcNow));
        }

        await Eventually.SucceedsAsync(async () => Assert.Equal(["delivered"], await OutboxRows.StatusesAsync(system, userId)), Wait);
        var email = Assert.Single(system.Smtp.DeliveredTo(to));
        Assert.Equal($"Alert: {symbol} on binance", email.Subject);
        Assert.Equal("alerts@quanttrader.test", email.From.Mailboxes.Single().Address);
        Assert.Contains($"{symbol} on binance is above 100", email.TextBody);
        Assert.Contains("Price: 101.25", email.TextBody);
        var key = Assert.Single(await OutboxRows.IdsAsync(system, userId));
        Assert.Equal(key.ToString(), email.Headers[EmailChannel.IdempotencyKeyHeader]);
        Assert.Equal($"{key:N}@{EmailChannel.MessageIdDomain}", email.MessageId);
    }

    [Fact]
    public async Task A_451_is_retried_with_backoff_and_then_delivered()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var (channelId, to) = await CreateEmailAsync(client);
        system.Smtp.Answer(to, 451, times: 1);

        var notificationId = await TestAsync(client, channelId);

        await Eventually.SucceedsAsync(() =>
        {
            Assert.Single(system.Smtp.DeliveredTo(to));
            return Task.CompletedTask;
        }, Wait);
        Assert.Equal([451, 250], system.Smtp.AnswersTo(to));
        await Eventually.SucceedsAsync(async () =>
        {
            var notification = await NotificationAsync(client, notificationId);
            Assert.Equal("delivered", notification.GetProperty("status").GetString());
            Assert.Equal(2, notification.GetProperty("attempts").GetInt32());
        }, Wait);
    }

    [Fact]
    public async Task A_550_fails_at_once_with_the_servers_reply_as_the_reason()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var (channelId, to) = await CreateEmailAsync(client);
        system.Smtp.Answer(to, 550, times: 100);

        var notificationId = await TestAsync(client, channelId);

        await Eventually.SucceedsAsync(async () =>
        {
            var failed = await client.GetFromJsonAsync<JsonElement>("/api/v1/notifications?status=failed");
            var notification = Assert.Single(failed.EnumerateArray());
            Assert.Equal(notificationId, notification.GetProperty("id").GetGuid());
            Assert.Equal(1, notification.GetProperty("attempts").GetInt32());
            Assert.Equal(550, notification.GetProperty("lastStatusCode").GetInt32());
            Assert.Contains("User unknown", notification.GetProperty("lastError").GetString());
        }, Wait);
        Assert.Equal([550], system.Smtp.AnswersTo(to));
        Assert.Empty(system.Smtp.DeliveredTo(to));
    }

    [Theory]
    [InlineData("host", null, 25, "none", "alerts@quanttrader.test", "me@quanttrader.test", null)]
    [InlineData("host", "169.254.169.254", 25, "none", "alerts@quanttrader.test", "me@quanttrader.test", null)]
    [InlineData("port", "127.0.0.1", 70000, "none", "alerts@quanttrader.test", "me@quanttrader.test", null)]
    [InlineData("security", "127.0.0.1", 25, "ssl3", "alerts@quanttrader.test", "me@quanttrader.test", null)]
    [InlineData("security", "127.0.0.1", 25, "none", "alerts@quanttrader.test", "me@quanttrader.test", "hunter2")]
    [InlineData("from", "127.0.0.1", 25, "none", "not an address", "me@quanttrader.test", null)]
    [InlineData("to", "127.0.0.1", 25, "none", "alerts@quanttrader.test", "me@quanttrader.test\r\nBcc: victim@example.com", null)]
    public async Task An_email_channel_with_bad_settings_is_refused_naming_the_field(
        string field, string? host, int port, string security, string from, string to, string? password)
    {
        var (_, _, client) = await system.CreateUserAsync();
        using var created = await client.PostAsJsonAsync("/api/v1/notification-channels", new
        {
            type = "email", host, port, security, from, to, username = password is null ? null : "me", password,
        });
        Assert.Equal(HttpStatusCode.BadRequest, created.StatusCode);
        Assert.Equal(field, (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/v1/notification-channels")).EnumerateArray());
    }

    private async Task<(Guid Id, string To)> CreateEmailAsync(HttpClient client)
    {
        var to = $"trader-{Guid.NewGuid():N}@quanttrader.test";
        using var created = await client.PostAsJsonAsync("/api/v1/notification-channels", new
        {
            type = "email",
            name = "inbox",
            host = system.Smtp.Host,
            port = system.Smtp.Port,
            security = "none",
            from = "QuantTrader <alerts@quanttrader.test>",
            to,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var view = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"to {to} via {system.Smtp.Host}:{system.Smtp.Port}", view.GetProperty("hint").GetString());
        return (view.GetProperty("id").GetGuid(), to);
    }

    private static async Task<Guid> TestAsync(HttpClient client, Guid channelId)
    {
        using var test = await client.PostAsync($"/api/v1/notification-channels/{channelId}/test", null);
        Assert.Equal(HttpStatusCode.Accepted, test.StatusCode);
        return (await test.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("notificationId").GetGuid();
    }

    private static async Task<JsonElement> NotificationAsync(HttpClient client, Guid id) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).EnumerateArray().Single(n => n.GetProperty("id").GetGuid() == id);
}
