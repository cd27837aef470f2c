using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using QuantTrader.Contracts.MarketData;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// NATS as a three-node JetStream cluster loses a node under load: the streams live on all three, so the two left elect
/// new leaders and carry on, every client fails over to them (its connection string lists every node), and the node
/// that comes back catches up from the others.
/// </summary>
[Collection(HighAvailabilityCollection.Name)]
public sealed class NatsNodeFailureTests(HighAvailabilityFixture system)
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(90);

    private static readonly string[] StreamNames =
        [.. new[] { Streams.MarketRaw(), Streams.MarketHistory(), Streams.MarketKline(), Streams.Trading(), Streams.Alerts(), Streams.DeadLetters() }.Select(s => s.Name!)];

    [Fact]
    public async Task Every_stream_the_services_create_is_kept_on_all_three_nodes()
    {
        await using var kit = await PaperTradingKit.ConnectAsync(system);
        foreach (var name in StreamNames)
        {
            // The services create the streams as they start; healthy does not mean each has got that far.
            var stream = await Eventually.ReturnsAsync(async () =>
            {
                try
                {
                    return await kit.Js.GetStreamAsync(name);
                }
                catch (NatsJSApiException)
                {
                    return null;
                }
            }, Recovery, $"stream {name} to exist");

            Assert.Equal(HighAvailabilityFixture.NatsNodeCount, stream.Info.Config.NumReplicas);
            var cluster = stream.Info.Cluster;
            Assert.NotNull(cluster?.Leader);
            Assert.Equal(system.NatsNodes.Order(), new[] { cluster.Leader }.Concat(cluster.Replicas?.Select(r => r.Name) ?? []).Order());
        }
    }

    [Fact]
    public async Task When_the_node_leading_MARKET_RAW_is_killed_while_trades_flow_every_trade_is_stored_once_no_service_restarts_and_the_node_catches_up()
    {
        await using var kit = await PaperTradingKit.ConnectAsync(system);
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        string[] processes = [.. SystemFixture.Services, "gateway"];
        var processIds = await ProcessIdsAsync(processes);
        var raw = Streams.MarketRaw().Name!;
        var leader = (await kit.Js.GetStreamAsync(raw)).Info.Cluster?.Leader ?? throw new InvalidOperationException($"{raw} has no leader");
        Assert.Contains(leader, system.NatsNodes);

        var symbol = MarketBus.NewSymbol();
        await using var flow = TradeFlow.Start(kit.Js, symbol);
        await flow.WaitForAcknowledgedAsync(50, Recovery);

        await ResourceControl.KillAsync(system, leader);
        // The two nodes left elect a new leader and go on storing trades while the third is down.
        await flow.WaitForAcknowledgedAsync(flow.Acknowledged + 100, Recovery);
        var newLeader = (await kit.Js.GetStreamAsync(raw)).Info.Cluster?.Leader;
        Assert.NotNull(newLeader);
        Assert.NotEqual(leader, newLeader);

        await ResourceControl.StartAsync(system, leader);
        await flow.WaitForAcknowledgedAsync(flow.Acknowledged + 50, Recovery);
        var (published, lastSequence) = await flow.StopAsync(Recovery);

        // Every trade acknowledged by JetStream reached PostgreSQL through persistence, once.
        await Eventually.SucceedsAsync(async () =>
            Assert.Equal(published.Count, await CountAsync(db, "SELECT count(*) FROM trades WHERE exchange = 'binance' AND symbol = $1", symbol)), Recovery);
        Assert.Equal(published.Count, await CountAsync(db,
            "SELECT count(DISTINCT trade_id) FROM trades WHERE exchange = 'binance' AND symbol = $1 AND trade_id = ANY($2)", symbol, published.ToArray()));

        // No service noticed more than a reconnect: each is the process it was before the kill.
        Assert.Equal(processIds, await ProcessIdsAsync(processes));

        // The node is back in MARKET_RAW's group, current, and holds every message up to the last one published.
        await Eventually.SucceedsAsync(async () =>
        {
            var cluster = (await kit.Js.GetStreamAsync(raw)).Info.Cluster;
            Assert.NotNull(cluster);
            var peer = cluster.Leader == leader ? null : Assert.Single(cluster.Replicas ?? [], r => r.Name == leader);
            Assert.True(peer is null || (peer.Current && !peer.Offline), $"{leader} is not current in {raw}: lag {peer?.Lag}");
            Assert.True(await LastSequenceOnNodeAsync(leader, raw) >= lastSequence, $"{leader} has not caught up to sequence {lastSequence}");
        }, Recovery);
        // The nodes agree on the last sequence (the simulator keeps publishing: compared until one reading agrees).
        await Eventually.SucceedsAsync(async () =>
        {
            var sequences = await Task.WhenAll(system.NatsNodes.Select(node => LastSequenceOnNodeAsync(node, raw)));
            Assert.Single(sequences.Distinct());
        }, Recovery);
    }

    [Fact]
    public async Task A_nats_server_without_the_cluster_password_cannot_join_the_cluster()
    {
        var cluster = system.App.GetEndpoint("nats", "cluster");
        var monitor = FreePort();
        // The cluster's name and a route to one of its nodes: all a stray local process could know without the data folder.
        using var stray = Process.Start(new ProcessStartInfo("nats-server",
        [
            "-a", "127.0.0.1", "-p", FreePort().ToString(CultureInfo.InvariantCulture), "-m", monitor.ToString(CultureInfo.InvariantCulture),
            "-n", "stray", "--cluster_name", "quanttrader", "--cluster", $"nats://127.0.0.1:{FreePort()}",
            "--routes", $"nats://127.0.0.1:{cluster.Port},nats://route:guessed@127.0.0.1:{cluster.Port}",
        ])
        { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var log = new StringBuilder();
        stray.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        stray.BeginErrorReadLine();
        try
        {
            // It reached the node and was turned away, more than once (it keeps trying).
            await Eventually.SucceedsAsync(() =>
            {
                lock (log)
                {
                    Assert.True(log.ToString().Split("Router connection closed").Length > 3, $"the stray has not been refused yet:\n{log}");
                }
                return Task.CompletedTask;
            }, Recovery);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            Assert.Equal(0, await RoutesAsync(http, new Uri($"http://127.0.0.1:{monitor}")));
            foreach (var node in system.NatsNodes)
            {
                Assert.Equal(system.NatsNodes.Count - 1, await RoutesAsync(http, system.App.GetEndpoint(node, "monitor")));
            }
        }
        finally
        {
            stray.Kill();
            await stray.WaitForExitAsync();
        }
    }

    private static async Task<int> RoutesAsync(HttpClient http, Uri monitor)
    {
        using var routez = JsonDocument.Parse(await http.GetStringAsync(new Uri(monitor, "/routez")));
        return routez.RootElement.GetProperty("num_routes").GetInt32();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A stream's last sequence as the node itself stores it (its monitoring endpoint's /jsz), not the leader's view.</summary>
    private async Task<ulong> LastSequenceOnNodeAsync(string node, string stream)
    {
        using var http = new HttpClient { BaseAddress = system.App.GetEndpoint(node, "monitor"), Timeout = TimeSpan.FromSeconds(10) };
        using var jsz = JsonDocument.Parse(await http.GetStringAsync("/jsz?streams=true"));
        var details = jsz.RootElement.GetProperty("account_details").EnumerateArray()
            .SelectMany(account => account.TryGetProperty("stream_detail", out var streams) ? streams.EnumerateArray() : Enumerable.Empty<JsonElement>())
            .Single(s => s.GetProperty("name").GetString() == stream);
        return details.GetProperty("state").GetProperty("last_seq").GetUInt64();
    }

    private async Task<Dictionary<string, int>> ProcessIdsAsync(IEnumerable<string> resources)
    {
        var ids = new Dictionary<string, int>();
        foreach (var resource in resources)
        {
            ids[resource] = await ResourceControl.ServiceProcessIdAsync(system, resource);
        }
        return ids;
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var command = db.CreateCommand(sql);
        foreach (var a in args)
        {
            command.Parameters.Add(new() { Value = a });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Trades of one market published steadily (one every 10 ms), each until JetStream acknowledges it, as the ingestor
    /// does: a publish lost in a fail-over is sent again with the same message id, so JetStream stores it once.
    /// </summary>
    private sealed class TradeFlow : IAsyncDisposable
    {
        private readonly CancellationTokenSource _abort = new();
        private readonly List<long> _acknowledged = [];
        private volatile bool _stopping;
        private Task _loop = Task.CompletedTask;
        private ulong _lastSequence;

        public int Acknowledged
        {
            get
            {
                lock (_acknowledged)
                {
                    return _acknowledged.Count;
                }
            }
        }

        public static TradeFlow Start(INatsJSContext js, string symbol)
        {
            var flow = new TradeFlow();
            flow._loop = Task.Run(() => flow.PublishAsync(js, symbol));
            return flow;
        }

        private async Task PublishAsync(INatsJSContext js, string symbol)
        {
            var firstId = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
            // Stops only between trades: a trade once sent is sent until acknowledged, so "published" is exactly what was stored.
            for (var id = firstId; !_stopping; id++)
            {
                var trade = new Trade("binance", symbol, id, 100m + (id - firstId) % 10, 1m, TakerSide.Buy, DateTimeOffset.UtcNow);
                var payload = JsonSerializer.SerializeToUtf8Bytes(trade, ContractsJsonContext.Wire.Trade);
                while (true)
                {
                    try
                    {
                        var ack = await js.PublishAsync(Subjects.MarketRaw(trade.Exchange, trade.Symbol), payload,
                            opts: new NatsJSPubOpts { MsgId = trade.MessageId }, cancellationToken: _abort.Token);
                        // A duplicate is the earlier send of this trade, stored; an error (no leader yet) is tried again.
                        if (ack.Error is null)
                        {
                            lock (_acknowledged)
                            {
                                _acknowledged.Add(id);
                                _lastSequence = Math.Max(_lastSequence, ack.Seq);
                            }
                            break;
                        }
                    }
                    catch (Exception ex) when (ex is NatsException or TimeoutException && !_abort.IsCancellationRequested)
                    {
                        // The connection fails over or the stream elects a leader: send it again.
                    }
                    await Task.Delay(100, _abort.Token);
                }
                await Task.Delay(10, _abort.Token);
            }
        }

        public async Task WaitForAcknowledgedAsync(int count, TimeSpan timeout) =>
            await Eventually.SucceedsAsync(() =>
            {
                Assert.False(_loop.IsFaulted, $"the trade flow failed: {_loop.Exception}");
                Assert.True(Acknowledged >= count, $"{Acknowledged} of {count} trades acknowledged");
                return Task.CompletedTask;
            }, timeout);

        /// <summary>Ends the flow after the trade in flight is acknowledged; returns every trade id and the last sequence.</summary>
        public async Task<(List<long> Published, ulong LastSequence)> StopAsync(TimeSpan timeout)
        {
            _stopping = true;
            await _loop.WaitAsync(timeout);
            lock (_acknowledged)
            {
                return ([.. _acknowledged], _lastSequence);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _stopping = true;
            await _abort.CancelAsync();
            await _loop.ContinueWith(_ => { }, TaskScheduler.Default);
            _abort.Dispose();
        }
    }
}
