using System.Diagnostics;
using System.Net.Http.Json;
using NATS.Client.Core;
using NATS.Net;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The ingestor as two replicas (the one Aspire started and an <see cref="ExtraReplica"/>) against the exchange
/// simulator: every market is connected by exactly one of them, and whichever replica dies or stops, its markets move to
/// the other within seconds and MARKET_RAW ends up holding exactly the trades the simulator printed — the hand-over gap
/// backfilled over REST, nothing twice.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class IngestorReplicaTests(SystemFixture system) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private NatsConnection _nats = null!;
    private HttpClient _simulator = null!;
    private HttpClient _ingestor = null!;
    private IngestedMarkets _markets = null!;

    private sealed record MarketView(string Exchange, string Symbol, string ExchangeSymbol, int Partition, string? IngestedBy);

    private sealed record Ownership(string Instance, int[] Owned);

    public async Task InitializeAsync()
    {
        _nats = new NatsConnection(new NatsOpts { Url = await system.ConnectionStringAsync("nats") });
        _simulator = new HttpClient { BaseAddress = system.ServiceEndpoint("exchange-simulator"), Timeout = TimeSpan.FromSeconds(30) };
        _ingestor = new HttpClient { BaseAddress = system.ServiceEndpoint("ingestor"), Timeout = TimeSpan.FromSeconds(30) };
        _markets = new IngestedMarkets(_nats.CreateJetStreamContext(), _simulator);
    }

    public async Task DisposeAsync()
    {
        // The next test finds one replica owning every partition again, its feeds flowing.
        await Eventually.SucceedsAsync(async () => Assert.Equal(16, (await OwnershipAsync(_ingestor)).Owned.Length), Wait);
        _simulator.Dispose();
        _ingestor.Dispose();
        await _nats.DisposeAsync();
    }

    [Fact]
    public async Task Two_replicas_connect_every_market_exactly_once_and_publish_every_trade_once()
    {
        var markets = await MarketsAsync(_ingestor);
        var before = await LastPublishedAsync(markets);

        await using var extra = await ExtraReplica.StartAsync(system, "ingestor");
        using var second = new HttpClient { BaseAddress = extra.Endpoint, Timeout = TimeSpan.FromSeconds(30) };
        var (first, other) = await SplitAsync(second);

        // One connection per market across both replicas, and each market's owner one of the two.
        await Eventually.SucceedsAsync(async () =>
        {
            foreach (var m in markets)
            {
                Assert.Equal(1, await _markets.OpenSubscriptionsAsync(m.Exchange, m.ExchangeSymbol));
            }
        }, Wait);
        var owners = await MarketsAsync(second);
        Assert.All(owners, m => Assert.Contains(m.IngestedBy, new[] { first.Instance, other.Instance }));
        // Both replicas answer the same about every market.
        Assert.Equal(owners.Select(m => (m.Exchange, m.Symbol, m.IngestedBy)), (await MarketsAsync(_ingestor)).Select(m => (m.Exchange, m.Symbol, m.IngestedBy)));

        await AssertEveryTradeOnceAsync(markets, before);
    }

    [Fact]
    public async Task A_killed_replicas_markets_move_to_the_other_within_seconds_and_every_trade_is_published_once()
    {
        var markets = await MarketsAsync(_ingestor);
        await using var extra = await StartReplicaOwningMarketsAsync(markets);
        using var second = new HttpClient { BaseAddress = extra.Endpoint, Timeout = TimeSpan.FromSeconds(30) };
        var victim = (await OwnershipAsync(second)).Instance;
        var survivor = (await OwnershipAsync(_ingestor)).Instance;
        var before = await LastPublishedAsync(markets);

        await extra.KillAsync();
        var moved = await TimeUntilAllIngestedByAsync(_ingestor, survivor, markets);

        // A kill releases nothing: the leases lapse (10 s), then the survivor takes them at its next round.
        Assert.True(moved < TimeSpan.FromSeconds(30), $"the markets of {victim} moved after {moved}");
        await AssertEveryTradeOnceAsync(markets, before);
    }

    [Fact]
    public async Task A_replica_stopped_with_sigterm_hands_its_markets_over_and_every_trade_is_published_once()
    {
        var markets = await MarketsAsync(_ingestor);
        await using var extra = await StartReplicaOwningMarketsAsync(markets, bothOwnMarkets: true);
        using var second = new HttpClient { BaseAddress = extra.Endpoint, Timeout = TimeSpan.FromSeconds(30) };
        var survivor = (await OwnershipAsync(second)).Instance;
        var before = await LastPublishedAsync(markets);

        try
        {
            // The replica Aspire started, as a rolling update stops it: drain, publish, release.
            await ResourceControl.StopAsync(system, "ingestor");
            var moved = await TimeUntilAllIngestedByAsync(second, survivor, markets);
            Assert.True(moved < TimeSpan.FromSeconds(10), $"the markets moved {moved} after the stop");
            await AssertEveryTradeOnceAsync(markets, before);
        }
        finally
        {
            await ResourceControl.StartAsync(system, "ingestor");
        }

        // And back: the extra replica stops too, and the restarted one continues its markets once more without a hole.
        var again = await LastPublishedAsync(markets);
        await extra.StopAsync();
        await AssertEveryTradeOnceAsync(markets, again);
    }

    /// <summary>An extra replica that owns at least one market's partition (and, if asked, leaves one to the first replica).</summary>
    private async Task<ExtraReplica> StartReplicaOwningMarketsAsync(IReadOnlyList<MarketView> markets, bool bothOwnMarkets = false)
    {
        var partitions = markets.Select(m => m.Partition).ToHashSet();
        for (var attempt = 1; ; attempt++)
        {
            var extra = await ExtraReplica.StartAsync(system, "ingestor");
            using var second = new HttpClient { BaseAddress = extra.Endpoint, Timeout = TimeSpan.FromSeconds(30) };
            var (first, other) = await SplitAsync(second);
            if ((other.Owned.Any(partitions.Contains) && (!bothOwnMarkets || first.Owned.Any(partitions.Contains))) || attempt == 5)
            {
                Assert.True(other.Owned.Any(partitions.Contains), "five extra replicas in a row owned no market's partition");
                // Settled: every market connected once, by its owner.
                await Eventually.SucceedsAsync(async () =>
                {
                    foreach (var m in markets)
                    {
                        Assert.Equal(1, await _markets.OpenSubscriptionsAsync(m.Exchange, m.ExchangeSymbol));
                    }
                }, Wait);
                return extra;
            }

            // The hash gave this one nothing to show: another name, another share.
            await extra.DisposeAsync();
            await Eventually.SucceedsAsync(async () => Assert.Equal(16, (await OwnershipAsync(_ingestor)).Owned.Length), Wait);
        }
    }

    /// <summary>Waits until the two replicas split the partitions between them, each once; returns (first, extra).</summary>
    private async Task<(Ownership First, Ownership Extra)> SplitAsync(HttpClient extra)
    {
        Ownership first = null!, other = null!;
        await Eventually.SucceedsAsync(async () =>
        {
            first = await OwnershipAsync(_ingestor);
            other = await OwnershipAsync(extra);
            Assert.NotEmpty(other.Owned);
            Assert.Empty(first.Owned.Intersect(other.Owned));
            Assert.Equal(Enumerable.Range(0, 16), first.Owned.Concat(other.Owned).Order());
        }, Wait);
        return (first, other);
    }

    private async Task<TimeSpan> TimeUntilAllIngestedByAsync(HttpClient replica, string instance, IReadOnlyList<MarketView> markets)
    {
        var clock = Stopwatch.StartNew();
        await Eventually.SucceedsAsync(async () =>
            Assert.All(await MarketsAsync(replica), m => Assert.Equal(instance, m.IngestedBy)), Wait, TimeSpan.FromMilliseconds(250));
        var moved = clock.Elapsed;
        // Owned is not yet connected: each market is on exactly one live connection again.
        await Eventually.SucceedsAsync(async () =>
        {
            foreach (var m in markets)
            {
                Assert.Equal(1, await _markets.OpenSubscriptionsAsync(m.Exchange, m.ExchangeSymbol));
            }
        }, Wait);
        return moved;
    }

    private async Task<Dictionary<(string, string), long>> LastPublishedAsync(IReadOnlyList<MarketView> markets)
    {
        var last = new Dictionary<(string, string), long>();
        foreach (var m in markets)
        {
            last[(m.Exchange, m.Symbol)] = await _markets.LastPublishedIdAsync(m.Exchange, m.Symbol);
        }
        return last;
    }

    /// <summary>From before the change to after it, every market's published trades are exactly the simulator's.</summary>
    private async Task AssertEveryTradeOnceAsync(IReadOnlyList<MarketView> markets, Dictionary<(string, string), long> before)
    {
        foreach (var m in markets)
        {
            var upTo = await _markets.LastRecordedIdAsync(m.Exchange, m.Symbol) + 5;
            await _markets.AssertPublishedMatchesRecordAsync(m.Exchange, m.Symbol, before[(m.Exchange, m.Symbol)] - 5, upTo);
        }
    }

    private static async Task<List<MarketView>> MarketsAsync(HttpClient replica) =>
        [.. (await replica.GetFromJsonAsync<MarketView[]>("/api/v1/markets", MarketStream.Json))!
            .OrderBy(m => m.Exchange, StringComparer.Ordinal).ThenBy(m => m.Symbol, StringComparer.Ordinal)];

    private static async Task<Ownership> OwnershipAsync(HttpClient replica) =>
        (await replica.GetFromJsonAsync<Ownership>("/ingestion/partitions", MarketStream.Json))!;
}
