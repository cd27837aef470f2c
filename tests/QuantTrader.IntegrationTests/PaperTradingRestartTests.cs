using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using QuantTrader.Contracts.Messaging;
using static QuantTrader.IntegrationTests.PaperTradingKit;

namespace QuantTrader.IntegrationTests;

/// <summary>Crashes and outages: the paper engine killed with SIGKILL, the risk manager gone.</summary>
[Collection(SystemCollection.Name)]
public sealed class PaperTradingRestartTests(SystemFixture system)
{
    [Fact]
    public async Task After_kill_9_of_the_paper_engine_open_orders_and_balances_are_back_and_a_later_trade_fills_exactly_once()
    {
        await using var kit = await ConnectAsync(system);
        var (userId, _, client) = await system.CreateUserAsync();
        await kit.TradeAsync("binance", "LTCUSDT", 80m, 1m);

        var (status, order) = await PlaceAsync(client, new { exchange = "binance", symbol = "LTCUSDT", side = "buy", type = "limit", quantity = 0.25m, price = 79m });
        Assert.Equal(HttpStatusCode.Created, status);
        var orderId = order.GetProperty("id").GetGuid();
        var (_, sold) = await PlaceAsync(client, new { exchange = "binance", symbol = "LTCUSDT", side = "buy", type = "limit", quantity = 0.1m, price = 70m });
        var before = await PortfolioAsync(client);

        await KillAndRestartAsync("paper-engine");

        var open = await client.GetFromJsonAsync<JsonElement>("/api/v1/orders?status=new");
        Assert.Equal([orderId, sold.GetProperty("id").GetGuid()], open.EnumerateArray().Select(o => o.GetProperty("id").GetGuid()));
        var after = await PortfolioAsync(client);
        Assert.Equal(Balance(before, "USDT"), Balance(after, "USDT"));

        // The restarted engine matches live trades again: one fill, once, even if the print is delivered twice.
        var print = await kit.TradeAsync("binance", "LTCUSDT", 78m, 1m);
        await kit.TradeAsync("binance", "LTCUSDT", print.Price, print.Quantity, print.TradeId, redelivery: true);
        var fill = Assert.Single(await kit.ReadAsync(Subjects.TradingFill(userId), 1, ContractsJsonContext.Wire.FillEvent));
        Assert.Equal((orderId, 79m, 0.25m), (fill.OrderId, fill.Price, fill.Quantity));

        // And once more across another restart: the fill is not made again from the replayed stream.
        await KillAndRestartAsync("paper-engine");
        await kit.TradeAsync("binance", "LTCUSDT", 80m, 1m);
        var fills = await client.GetFromJsonAsync<JsonElement>("/api/v1/fills");
        Assert.Single(fills.EnumerateArray());
        Assert.Equal(1UL, await kit.CountAsync(Subjects.TradingFill(userId)));
        var portfolio = await PortfolioAsync(client);
        Assert.Equal((0.25m, 0m), Balance(portfolio, "LTC"));
        Assert.Equal(10_000m - (79m * 0.25m) - 0.01975m - (0.1m * 70m * 1.001m), Balance(portfolio, "USDT").Free);
    }

    [Fact]
    public async Task Without_a_risk_manager_no_order_is_accepted()
    {
        var (_, _, client) = await system.CreateUserAsync();
        var order = new { exchange = "binance", symbol = "UNIUSDT", side = "buy", type = "limit", quantity = 1m, price = 7m };

        await KillAsync("risk");
        try
        {
            var (status, problem) = await PlaceAsync(client, order);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("https://quanttrader.dev/problems/risk-unavailable", problem.GetProperty("type").GetString());
            Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/api/v1/orders")).EnumerateArray());
        }
        finally
        {
            await StartAsync("risk");
        }

        var (again, _) = await PlaceAsync(client, order);
        Assert.Equal(HttpStatusCode.Created, again);
    }

    /// <summary>SIGKILL to the service's process (no graceful shutdown), then Aspire starts it again.</summary>
    private async Task KillAndRestartAsync(string resource)
    {
        await KillAsync(resource);
        await StartAsync(resource);
    }

    private async Task KillAsync(string resource)
    {
        var notifications = system.App.Services.GetRequiredService<ResourceNotificationService>();
        using var cts = new CancellationTokenSource(SystemFixture.StartTimeout);
        var running = await notifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text == KnownResourceStates.Running, cts.Token);
        var pid = Pid(running) ?? throw new InvalidOperationException(
            $"No process id for {resource}: " + string.Join(", ", running.Snapshot.Properties.Select(p => $"{p.Name}={p.Value}")));
        // The pid Aspire reports is the launcher of the service; the service is its child. SIGKILL the service itself
        // (no shutdown hooks, no flushing), as a crash would; the launcher then reports it exited.
        foreach (var target in ChildrenOf(pid) is { Count: > 0 } children ? children : [pid])
        {
            using var process = Process.GetProcessById(target);
            process.Kill();
        }

        await notifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text is { } state && state != KnownResourceStates.Running, cts.Token);
    }

    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // state, ppid, ...
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // the process ended while we looked
            }
        }

        return children;
    }

    private static int? Pid(ResourceEvent e) =>
        e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value
        && int.TryParse(value.ToString(), out var pid)
            ? pid
            : null;

    private async Task StartAsync(string resource)
    {
        using var cts = new CancellationTokenSource(SystemFixture.StartTimeout);
        var result = await system.App.ResourceCommands.ExecuteCommandAsync(ResourceOf(resource), KnownResourceCommands.StartCommand, cts.Token);
        Assert.True(result.Success, result.Message);
        await system.App.Services.GetRequiredService<ResourceNotificationService>().WaitForResourceAsync(resource,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, cts.Token);
    }

    private IResource ResourceOf(string name) =>
        system.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == name);
}
