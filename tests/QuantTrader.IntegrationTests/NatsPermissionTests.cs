using System.Text;
using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// NATS lets each service do only what it does (QuantTrader.AppHost NatsPermissions): without credentials nothing
/// connects, and a service's own credentials cannot submit orders, publish fills or market data, or answer risk checks.
/// Each refusal is shown beside the same action by the one service allowed to do it, on the same subscriber.
/// </summary>
[Collection(SystemCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NatsPermissionTests(SystemFixture system)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_connection_without_credentials_is_refused()
    {
        var server = new Uri((await system.ConnectionStringAsync("nats")).Split(',')[0]);
        var anonymous = $"nats://{server.Host}:{server.Port}";
        await using var connection = new NatsConnection(new NatsOpts { Url = anonymous });

        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await connection.ConnectAsync());

        Assert.Contains("Authorization Violation", refused.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_generated_passwords_and_nats_conf_are_readable_by_their_owner_only()
    {
        var files = Directory.GetFiles(Path.Combine(system.DataDirectory, "nats-users"));
        Assert.Contains(files, f => Path.GetFileName(f) == "nats.conf");
        Assert.Contains(files, f => Path.GetFileName(f) == "paper-engine.password");
        Assert.All(files, f => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(f)));
    }

    [Fact]
    public async Task The_alert_service_cannot_submit_an_order_only_the_strategy_runner_can()
        => await OnlyTheAllowedReachAsync(Subjects.TradingSubmit, refused: "alert", allowed: "strategy-runner");

    [Fact]
    public async Task The_alert_service_cannot_cancel_an_order_only_the_strategy_runner_can()
        => await OnlyTheAllowedReachAsync(Subjects.TradingCancel, refused: "alert", allowed: "strategy-runner");

    [Fact]
    public async Task The_strategy_runner_cannot_publish_a_fill_only_the_paper_engine_can()
        => await OnlyTheAllowedReachAsync(Subjects.TradingFill(Guid.NewGuid()), refused: "strategy-runner", allowed: "paper-engine");

    [Fact]
    public async Task The_kline_service_cannot_publish_a_trade_only_the_ingestor_can()
        => await OnlyTheAllowedReachAsync(Subjects.MarketRaw("binance", MarketBus.NewSymbol()), refused: "kline", allowed: "ingestor");

    [Fact]
    public async Task Only_the_risk_service_receives_risk_checks_so_no_other_can_answer_them()
    {
        await using var paperEngine = await ConnectAsAsync("paper-engine");
        await using var risk = await ConnectAsAsync("risk");
        await using var operatorConnection = await ConnectAsync(await system.ConnectionStringAsync("nats"));
        var marker = Encoding.UTF8.GetBytes($"permission-test-{Guid.NewGuid():N}");

        // The paper engine's user asks for risk.check: the server refuses the subscription, so it never hears a check.
        await using var impostor = await paperEngine.SubscribeCoreAsync<byte[]>(Subjects.RiskCheck);
        await using var genuine = await risk.SubscribeCoreAsync<byte[]>(Subjects.RiskCheck);
        await paperEngine.PingAsync();
        await risk.PingAsync();

        await operatorConnection.PublishAsync(Subjects.RiskCheck, marker);
        await operatorConnection.PingAsync();

        Assert.True(await ReceivesAsync(genuine, marker), "the risk service's user receives risk.check");
        // Anything the server sent the impostor before this round trip has arrived by its end.
        await paperEngine.PingAsync();
        Assert.False(Received(impostor, marker), "a user other than the risk service's received risk.check");
    }

    /// <summary>
    /// The refused service publishes first, the allowed one second, each followed by a round trip so the server has
    /// handled it: the subscriber (the operator) sees the allowed message and never the refused one before it.
    /// </summary>
    private async Task OnlyTheAllowedReachAsync(string subject, string refused, string allowed)
    {
        await using var listener = await ConnectAsync(await system.ConnectionStringAsync("nats"));
        await using var subscription = await listener.SubscribeCoreAsync<byte[]>(subject);
        await listener.PingAsync();
        await using var refusedConnection = await ConnectAsAsync(refused);
        await using var allowedConnection = await ConnectAsAsync(allowed);
        var refusedMarker = Encoding.UTF8.GetBytes($"from-{refused}-{Guid.NewGuid():N}");
        var allowedMarker = Encoding.UTF8.GetBytes($"from-{allowed}-{Guid.NewGuid():N}");

        await refusedConnection.PublishAsync(subject, refusedMarker);
        await refusedConnection.PingAsync();
        await allowedConnection.PublishAsync(subject, allowedMarker);
        await allowedConnection.PingAsync();

        var seen = new List<byte[]>();
        using var timeout = new CancellationTokenSource(Wait);
        await foreach (var msg in subscription.Msgs.ReadAllAsync(timeout.Token))
        {
            seen.Add(msg.Data ?? []);
            if (msg.Data is { } data && data.AsSpan().SequenceEqual(allowedMarker))
            {
                break;
            }
        }
        Assert.Contains(seen, d => d.AsSpan().SequenceEqual(allowedMarker));
        Assert.DoesNotContain(seen, d => d.AsSpan().SequenceEqual(refusedMarker));
    }

    /// <summary>Connected as the service is: its user, and its own inbox prefix (the only inboxes it may subscribe to).</summary>
    private async Task<NatsConnection> ConnectAsAsync(string service) =>
        await ConnectAsync(await system.ServiceNatsConnectionStringAsync(service), "_INBOX_" + service);

    private static async Task<NatsConnection> ConnectAsync(string connectionString, string inboxPrefix = "_INBOX")
    {
        var connection = new NatsConnection(new NatsOpts { Url = connectionString, InboxPrefix = inboxPrefix });
        await connection.ConnectAsync();
        return connection;
    }

    private static async Task<bool> ReceivesAsync(INatsSub<byte[]> subscription, byte[] marker)
    {
        using var timeout = new CancellationTokenSource(Wait);
        try
        {
            await foreach (var msg in subscription.Msgs.ReadAllAsync(timeout.Token))
            {
                if (msg.Data is { } data && data.AsSpan().SequenceEqual(marker))
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        return false;
    }

    private static bool Received(INatsSub<byte[]> subscription, byte[] marker)
    {
        while (subscription.Msgs.TryRead(out var msg))
        {
            if (msg.Data is { } data && data.AsSpan().SequenceEqual(marker))
            {
                return true;
            }
        }
        return false;
    }
}
