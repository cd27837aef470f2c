using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Partitioning.Tests;

public sealed class MarketPartitionTests
{
    private static readonly (string Exchange, string Symbol)[] Markets =
    [
        ("binance", "BTCUSDT"), ("binance", "ETHUSDT"), ("binance", "SOLUSDT"), ("binance", "BNBUSDT"), ("binance", "XRPUSDT"),
        ("okx", "BTCUSDT"), ("okx", "ETHUSDT"), ("okx", "SOLUSDT"), ("okx", "DOGEUSDT"), ("okx", "ADAUSDT"),
        ("binance", "T1A2B3C4D5E6F7"), ("okx", "ZZZUSDC"),
    ];

    [Fact]
    public async Task A_markets_partition_is_the_one_nats_server_computes_in_a_partition_mapping()
    {
        await using var server = await NatsServerProcess.StartAsync(
            "mappings = { \"market.raw.*.*\": \"partitioned.{{partition(16,1,2)}}.{{wildcard(1)}}.{{wildcard(2)}}\" }");
        await using var nats = new NatsConnection(new NatsOpts { Url = server.Url });
        await using var subscription = await nats.SubscribeCoreAsync<byte[]>("partitioned.>");
        foreach (var (exchange, symbol) in Markets)
        {
            await nats.PublishAsync($"market.raw.{exchange}.{symbol}", new byte[] { 1 });
        }

        var seen = new Dictionary<string, int>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await foreach (var msg in subscription.Msgs.ReadAllAsync(timeout.Token))
        {
            var tokens = msg.Subject.Split('.');
            seen[$"{tokens[2]}:{tokens[3]}"] = int.Parse(tokens[1], System.Globalization.CultureInfo.InvariantCulture);
            if (seen.Count == Markets.Length)
            {
                break;
            }
        }

        foreach (var (exchange, symbol) in Markets)
        {
            Assert.Equal(seen[$"{exchange}:{symbol}"], Partitions.OfMarket(exchange, symbol));
        }
    }

    [Fact]
    public void Markets_spread_over_the_partitions_and_keep_their_partition()
    {
        var partitions = Markets.Select(m => Partitions.OfMarket(m.Exchange, m.Symbol)).ToArray();
        Assert.All(partitions, p => Assert.InRange(p, 0, Partitions.Count - 1));
        Assert.True(partitions.Distinct().Count() >= 6, "twelve markets land in at least six partitions");
        Assert.Equal(partitions, Markets.Select(m => Partitions.OfMarket(m.Exchange, m.Symbol)));
    }

    [Fact]
    public void A_users_partition_depends_only_on_their_id()
    {
        var user = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        Assert.Equal(Partitions.OfUser(user), Partitions.OfUser(Guid.Parse(user.ToString())));
        var spread = Enumerable.Range(0, 1600).Select(_ => Partitions.OfUser(Guid.NewGuid())).GroupBy(p => p).ToArray();
        Assert.Equal(Partitions.Count, spread.Length);
        Assert.All(spread, g => Assert.InRange(g.Count(), 50, 160));
    }
}
