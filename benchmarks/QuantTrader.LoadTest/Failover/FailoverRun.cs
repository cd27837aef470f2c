using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using NATS.Client.Core;
using NATS.Net;
using Npgsql;
using QuantTrader.Contracts.Messaging;
using QuantTrader.LoadTest.Replicas;

namespace QuantTrader.LoadTest.Failover;

/// <summary>One kill of the run: what died, when, and how long each partition it held took to find a new owner.</summary>
public sealed record Kill(string Target, string Instance, DateTimeOffset At, IReadOnlyList<double?> HandOverSeconds, string Note);

/// <summary>Everything the failover report needs.</summary>
public sealed record FailoverResult(LoadOptions Options, string Scenario, AuditFigures Audit, IReadOnlyList<Kill> Kills, TimeSpan DriveTime, TimeSpan DrainTime)
{
    /// <summary>Every hand-over sample; a partition nobody took counts as infinitely long.</summary>
    public double HandOverP99 => Kills.SelectMany(k => k.HandOverSeconds).Select(s => s ?? double.PositiveInfinity).Order().ToArray() is { Length: > 0 } all
        ? all[Math.Min(all.Length - 1, (int)Math.Ceiling(0.99 * all.Length) - 1)]
        : double.NaN;

    /// <summary>Why the run failed, beyond the figures of the final line (which fail it by themselves).</summary>
    public IEnumerable<string> OtherProblems()
    {
        if (Audit.AlertsFired < Audit.AlertsExpected)
        {
            yield return $"{Audit.AlertsExpected - Audit.AlertsFired} expected alert firings missing ({Audit.AlertsFired} of {Audit.AlertsExpected})";
        }
        if (Audit.WebhooksMissing > 0)
        {
            yield return $"{Audit.WebhooksMissing} firings whose webhook never arrived";
        }
        if (Audit.PrintsOverfilled > 0)
        {
            yield return $"{Audit.PrintsOverfilled} prints filled resting orders for more than their quantity";
        }
        if (Audit.StrategyOrdersDouble > 0)
        {
            yield return $"the strategy ordered {Audit.StrategyOrdersDouble} times for a kline it had already seen";
        }
        if (Kills.Any(k => k.HandOverSeconds.Any(s => s is null)))
        {
            yield return "a partition of a killed replica was never taken over";
        }
        if (Audit.Expected == 0)
        {
            yield return "the simulator printed nothing in the window";
        }
    }

    public bool Ok => Audit.Lost == 0 && Audit.Duplicated == 0 && Audit.KlinesEqual && Audit.AlertsDouble == 0 && Audit.FillsDouble == 0
                      && Audit.BalancesOk && !OtherProblems().Any();
}

/// <summary>
/// <c>--mode failover</c> (issue 17): the real system on a three-node NATS cluster with two replicas of every stateful
/// service, steady trades, traders with resting orders, alert rules with webhooks and a strategy (<see cref="TradingScenario"/>);
/// during the drive one replica of each stateful service and one NATS node are killed (-9), one after another, and the
/// node is started again; at the end <see cref="FailoverAudit"/> checks that nothing was lost or done twice.
/// </summary>
public sealed class FailoverRun(SystemUnderTest system, LoadOptions options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<FailoverResult> RunAsync(CancellationToken ct)
    {
        var natsUrl = await system.ConnectionStringAsync("nats");
        await using var db = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        using var simulator = system.Client("exchange-simulator");
        using var gateway = system.Client("gateway");
        await using var leases = LeaseWatch.Start(natsUrl, SystemUnderTest.StatefulServices);

        Console.WriteLine("starting a second replica of each stateful service …");
        await using var replicas = await ReplicatedServices.StartAsync(system, SystemUnderTest.StatefulServices, ct);
        await leases.WaitForSpreadAsync(replicas, ct);

        await using var webhooks = WebhookReceiver.Start();
        var scenario = new TradingScenario(gateway, simulator, db, webhooks);
        var start = await LoadRun.LastTradeIdsAsync(simulator, ct);
        var from = Minute(DateTimeOffset.UtcNow);
        var perMarket = options.Rate / (SystemUnderTest.Symbols.Length * SystemUnderTest.Exchanges.Length);
        (await simulator.PostAsJsonAsync("/control/rate", new { tradesPerSecond = perMarket }, ct)).EnsureSuccessStatusCode();
        await scenario.SetUpAsync(ct);
        Console.WriteLine($"scenario: {scenario}{(scenario.StrategyNote is { } refused ? $" ({refused})" : "")}");

        // The victims, spread over the drive; the NATS node in the middle, started again after 10 s.
        string[] victims = ["ingestor", "kline", "nats", "alert", "paper-engine", "strategy-runner", "analytics"];
        var duration = TimeSpan.FromSeconds(options.DurationSeconds);
        var killAt = victims.Select((_, i) => duration * (i + 1) / (victims.Length + 1)).ToArray();
        var pulseEvery = duration / 24;
        var kills = new List<(string Target, string Instance, DateTimeOffset At, int[] Held, string Note)>();
        var restarts = new List<Task>();
        Console.WriteLine($"driving {options.Rate:N0} trades/s for {options.DurationSeconds} s; killing {string.Join(", ", victims)} at {string.Join(", ", killAt.Select(t => $"{t.TotalSeconds:F0} s"))} …");
        var drive = Stopwatch.StartNew();
        var (nextKill, pulses) = (0, 0);
        while (drive.Elapsed < duration)
        {
            if (drive.Elapsed >= pulseEvery * (pulses + 1))
            {
                await scenario.PulseAsync(pulses++, ct);
            }
            if (nextKill < victims.Length && drive.Elapsed >= killAt[nextKill])
            {
                var victim = victims[nextKill++];
                if (victim == "nats")
                {
                    var (node, note) = await KillNatsNodeAsync(natsUrl, ct);
                    kills.Add((node, node, DateTimeOffset.UtcNow, [], note));
                    restarts.Add(Task.Delay(TimeSpan.FromSeconds(10), ct).ContinueWith(_ => system.RestartAsync(node, ct), ct).Unwrap());
                }
                else
                {
                    kills.Add(await KillOneReplicaAsync(victim, leases, replicas));
                }
                var last = kills[^1];
                Console.WriteLine($"  {drive.Elapsed.TotalSeconds,5:F1} s: killed {last.Target} ({last.Instance}{(last.Held.Length > 0 ? $", partitions {string.Join(',', last.Held)}" : "")}){(last.Note.Length > 0 ? " — " + last.Note : "")}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), ct);
        }
        // The simulator stops dead: a market whose connection was down in the drive's last seconds prints nothing more,
        // so only the ingestor's catch-up on (re)connect can bring its missed trades in — the audit counts them lost otherwise.
        (await simulator.PostAsJsonAsync("/control/rate", new { tradesPerSecond = 0 }, ct)).EnsureSuccessStatusCode();
        var driveTime = drive.Elapsed;
        var end = await LoadRun.LastTradeIdsAsync(simulator, ct);
        var to = Minute(DateTimeOffset.UtcNow).AddMinutes(1);
        await StopStrategyAsync(scenario, ct);
        await Task.WhenAll(restarts);

        var audit = new FailoverAudit(db);
        var drainWatch = Stopwatch.StartNew();
        await DrainAsync(db, start, end, ct);
        var drainTime = drainWatch.Elapsed;
        await SettleAsync(audit, scenario, from, to, ct);

        var figures = await audit.RunAsync(new LoadWindow(start, end), from, to, scenario, webhooks, ct);
        var measured = kills.Select(k => new Kill(k.Target, k.Instance, k.At,
            k.Held.Length > 0 ? leases.HandOvers(k.Target, k.Instance, k.Held, k.At) : [], k.Note)).ToList();
        return new FailoverResult(options, scenario.ToString(), figures, measured, driveTime, drainTime);
    }

    /// <summary>
    /// Kills the replica of <paramref name="service"/> holding the most partitions (the active paper engine), preferring
    /// the harness's own on a tie so Aspire's replica, the one the gateway routes to, keeps answering.
    /// </summary>
    private static async Task<(string, string, DateTimeOffset, int[], string)> KillOneReplicaAsync(string service, LeaseWatch leases, ReplicatedServices replicas)
    {
        var owners = leases.Owners(service);
        var victim = replicas.Living(service)
            .OrderByDescending(r => owners.Count(o => o.Value == r.Instance))
            .ThenBy(r => r.IsOriginal)
            .First();
        var held = owners.Where(o => o.Value == victim.Instance).Select(o => o.Key).Order().ToArray();
        var at = DateTimeOffset.UtcNow;
        await victim.KillAsync();
        var note = leases.IsPartitioned(service) ? "" : "not partitioned: no hand-over to time";
        return (service, victim.Instance, at, held, note);
    }

    /// <summary>Kills the node leading MARKET_RAW (the stream every trade goes through).</summary>
    private async Task<(string Node, string Note)> KillNatsNodeAsync(string natsUrl, CancellationToken ct)
    {
        if (system.NatsNodes.Count < 2)
        {
            return ("nats", "skipped: NATS runs as one node");
        }
        await using var nats = new NatsConnection(new NatsOpts { Url = natsUrl, Name = "load-harness-kill" });
        var stream = await nats.CreateJetStreamContext().GetStreamAsync(Streams.MarketRaw().Name!, cancellationToken: ct);
        var leader = stream.Info.Cluster?.Leader is { } l && system.NatsNodes.Contains(l) ? l : system.NatsNodes[^1];
        var pid = await system.ProcessIdAsync(leader, ct);
        using var process = Process.GetProcessById(pid);
        process.Kill();
        await process.WaitForExitAsync(ct);
        return (leader, "MARKET_RAW's leader; started again 10 s later");
    }

    private static async Task StopStrategyAsync(TradingScenario scenario, CancellationToken ct)
    {
        if (scenario.StrategyId is { } id)
        {
            try
            {
                using var stopped = await scenario.Users[0].Client.PostAsync($"/api/v1/strategies/{id}/stop", null, ct);
            }
            catch (HttpRequestException)
            {
                // The replica the gateway routes to may be the one killed: the strategy then runs on, which changes nothing audited.
            }
        }
    }

    /// <summary>Waits until every trade of the window is stored, or nothing has moved for 30 s.</summary>
    private static async Task DrainAsync(NpgsqlDataSource db, Dictionary<(string, string), long> start, Dictionary<(string, string), long> end, CancellationToken ct)
    {
        var expected = start.Sum(kv => end[kv.Key] - kv.Value);
        var (last, quiet) = (-1L, Stopwatch.StartNew());
        while (quiet.Elapsed < TimeSpan.FromSeconds(30))
        {
            var (count, _) = await LoadRun.CountStoredAsync(db, start, end, ct, distinct: false);
            if (count >= expected)
            {
                return;
            }
            if (count != last)
            {
                (last, quiet) = (count, Stopwatch.StartNew());
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
        Console.WriteLine($"  drain stopped moving at {last:N0} of {expected:N0} trades");
    }

    /// <summary>
    /// Waits for what comes after the trades: the last minute's klines (closed by the clock once the minute is over),
    /// the alert firings and their webhooks, the fills' balances — until nothing changes for 10 s.
    /// </summary>
    private static async Task SettleAsync(FailoverAudit audit, TradingScenario scenario, DateTimeOffset from, DateTimeOffset to, CancellationToken ct)
    {
        var closes = to + TimeSpan.FromSeconds(5) - DateTimeOffset.UtcNow;
        if (closes > TimeSpan.Zero)
        {
            Console.WriteLine($"  waiting {closes.TotalSeconds:F0} s for the last minute's klines to close …");
            await Task.Delay(closes, ct);
        }
        var (last, quiet, limit) = ((-1L, -1L), Stopwatch.StartNew(), Stopwatch.StartNew());
        while (quiet.Elapsed < TimeSpan.FromSeconds(10) && limit.Elapsed < TimeSpan.FromMinutes(3))
        {
            var now = (await audit.ClosedKlinesAsync(from, to, ct), await audit.FiredAsync(scenario, ct));
            if (now != last)
            {
                (last, quiet) = (now, Stopwatch.StartNew());
            }
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    private static DateTimeOffset Minute(DateTimeOffset t) => new(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, TimeSpan.Zero);

    public static string FinalLine(FailoverResult r) => string.Create(CultureInfo.InvariantCulture,
        $"failover: {(r.Ok ? "ok" : "FAILED")} lost={r.Audit.Lost} duplicated={r.Audit.Duplicated} klines_equal={(r.Audit.KlinesEqual ? "true" : "false")} alerts_double={r.Audit.AlertsDouble} fills_double={r.Audit.FillsDouble} balances_ok={(r.Audit.BalancesOk ? "true" : "false")} handover_p99_s={r.HandOverP99:F1}");
}
