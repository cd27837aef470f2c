using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using QuantTrader.Contracts.Messaging;
using QuantTrader.Contracts.Trading;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Analytics as several replicas, each following the accounts of the user partitions it owns: a replica's crash moves
/// its users to another, which rebuilds them from the ledger, and every user's statistics still equal what their
/// fills say — no fill lost, none counted twice.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class AnalyticsReplicaTests(SystemFixture system)
{
    private const string Service = "analytics";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_databases_user_partition_is_the_one_the_services_compute()
    {
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        for (var i = 0; i < 500; i++)
        {
            var userId = Guid.NewGuid();
            await using var command = db.CreateCommand("SELECT quanttrader_user_partition($1)");
            command.Parameters.Add(new() { Value = userId });
            Assert.Equal(Partitions.OfUser(userId), (short)(await command.ExecuteScalarAsync())!);
        }
    }

    [Fact]
    public async Task Statistics_of_users_on_both_replicas_equal_their_fills_after_one_replica_is_killed()
    {
        await using var bus = await Bus.ConnectAsync(system);
        await using var owners = await PartitionOwners.ConnectAsync(system, Service);
        var second = await ExtraReplica.StartAsync(system, Service);
        try
        {
            var secondOwns = await owners.WaitForSplitAsync(second.ProcessId, Wait);
            var users = new List<(Guid UserId, HttpClient Client, string Symbol)>();
            var onSecond = 0;
            var onFirst = 0;
            for (var i = 0; i < 24 && (onSecond < 2 || onFirst < 2); i++)
            {
                var (userId, _, client) = await system.CreateUserAsync();
                var mine = secondOwns.Contains(Partitions.OfUser(userId));
                if (mine ? onSecond >= 2 : onFirst >= 2)
                {
                    continue;
                }
                _ = mine ? onSecond++ : onFirst++;
                // A market without klines: positions are marked at their last fill price.
                users.Add((userId, client, "R" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant() + "USDT"));
            }
            Assert.True(onSecond >= 2 && onFirst >= 2, $"users on the second replica's partitions: {onSecond}, on the first's: {onFirst}");

            var t0 = new DateTimeOffset(DateTimeOffset.UtcNow.UtcTicks - DateTimeOffset.UtcNow.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(-40);
            var fills = users.ToDictionary(u => u.UserId, _ => new List<FillEvent>());
            async Task RoundTripAsync(Guid userId, string symbol, DateTimeOffset at, decimal buyPrice, decimal sellPrice)
            {
                var buy = new FillEvent(Guid.NewGuid(), Guid.NewGuid(), userId, null, "binance", symbol, OrderSide.Buy, buyPrice, 10m, 1m, "USDT", Liquidity.Taker, 1, at);
                var sell = new FillEvent(Guid.NewGuid(), Guid.NewGuid(), userId, null, "binance", symbol, OrderSide.Sell, sellPrice, 10m, 1m, "USDT", Liquidity.Taker, 2, at.AddMinutes(5));
                foreach (var fill in new[] { buy, sell })
                {
                    await bus.PublishAsync(Subjects.TradingFill(userId), fill, fill.Id.ToString(), ContractsJsonContext.Wire.FillEvent);
                    fills[userId].Add(fill);
                }
                // The same fill published again (as after a publisher's crash): counted once.
                await bus.PublishAsync(Subjects.TradingFill(userId), sell, sell.Id + ":again", ContractsJsonContext.Wire.FillEvent);
            }

            foreach (var (userId, _, symbol) in users)
            {
                await RoundTripAsync(userId, symbol, t0, 100m, 110m);
            }
            await EachAgreesAsync(users, fills, 1);

            // kill -9: the second's fills published meanwhile wait for its partitions to lapse to the first, which
            // rebuilds those users from the ledger and resumes their durable consumers.
            await second.KillAsync();
            foreach (var (userId, _, symbol) in users)
            {
                await RoundTripAsync(userId, symbol, t0.AddMinutes(10), 100m, 90m);
            }
            await EachAgreesAsync(users, fills, 2);
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    /// <summary>Every user's statistics are what their fills give: flat after each round trip, so equity is cash.</summary>
    private static async Task EachAgreesAsync(
        IEnumerable<(Guid UserId, HttpClient Client, string Symbol)> users, Dictionary<Guid, List<FillEvent>> fills, int trades)
    {
        foreach (var (userId, client, _) in users)
        {
            var mine = fills[userId];
            var net = mine.Sum(f => f.Side == OrderSide.Sell ? f.Price * f.Quantity - f.Fee : -(f.Price * f.Quantity + f.Fee));
            var from = Uri.EscapeDataString(mine.Min(f => f.Time).AddMinutes(-1).ToString("O"));
            await Eventually.SucceedsAsync(async () =>
            {
                using var response = await client.GetAsync($"/api/v1/analytics/performance?interval=1m&from={from}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var performance = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(trades, performance.GetProperty("trades").GetInt32());
                Assert.Equal(net, performance.GetProperty("netProfit").GetDecimal());
                Assert.Equal(10_000m + net, performance.GetProperty("endEquity").GetDecimal());
            }, Wait, TimeSpan.FromSeconds(1));
        }
    }
}
