using QuantTrader.LoadTest.Failover;
using QuantTrader.LoadTest.Replicas;

namespace QuantTrader.LoadTest.Scaling;

/// <summary>
/// <c>--mode scaling</c> (issue 17): what partitioning costs. One system, one load, measured twice: every stateful
/// service at one replica, then — second replicas started beside the first and the partitions spread over both — at
/// two. Two processes cannot add cores on this machine, so the question is the opposite one: does splitting the work
/// lose throughput (goal: the two-replica throughput at least 0.9 of the one-replica one)?
/// <para>
/// An unreported warm-up drive comes first, so the one-replica figures are not the JIT's; the two-replica drive then
/// runs on a database one drive fuller, which can only favour the one-replica figures.
/// </para>
/// </summary>
public static class ScalingRun
{
    public static async Task<(LoadResult One, LoadResult Two)> RunAsync(SystemUnderTest system, LoadOptions options, CancellationToken ct)
    {
        var drive = options with { RawSamples = 0 };
        Console.WriteLine("warm-up drive (not reported) …");
        await new LoadRun(system, drive with { DurationSeconds = Math.Min(20, options.DurationSeconds) }).RunAsync(ct);

        Console.WriteLine("one replica of each stateful service:");
        var one = await new LoadRun(system, drive).RunAsync(ct);
        Console.WriteLine("  " + Report.FinalLine(one));

        await using var leases = LeaseWatch.Start(await system.ConnectionStringAsync("nats"), SystemUnderTest.StatefulServices);
        Console.WriteLine("starting a second replica of each stateful service …");
        await using var replicas = await ReplicatedServices.StartAsync(system, SystemUnderTest.StatefulServices, ct);
        await leases.WaitForSpreadAsync(replicas, ct);
        Console.WriteLine("two replicas of each stateful service:");
        var two = await new LoadRun(system, drive).RunAsync(ct);
        Console.WriteLine("  " + Report.FinalLine(two));
        return (one, two);
    }

    /// <summary>
    /// <c>--mode max-rate</c>: the highest offered rate at which p99 trade → stored stays under 1 s with nothing lost —
    /// doubling from <c>--rate</c> until a drive misses, then three halvings of the interval between the last pass and
    /// the first miss. <c>--replicas 2</c> searches with the second replicas running.
    /// </summary>
    public static async Task<List<LoadResult>> MaxRateAsync(SystemUnderTest system, LoadOptions options, int replicaCount, CancellationToken ct)
    {
        var drive = options with { RawSamples = 0 };
        await using var leases = LeaseWatch.Start(await system.ConnectionStringAsync("nats"), SystemUnderTest.StatefulServices);
        await using var replicas = replicaCount > 1 ? await ReplicatedServices.StartAsync(system, SystemUnderTest.StatefulServices, ct) : null;
        if (replicas is not null)
        {
            await leases.WaitForSpreadAsync(replicas, ct);
        }
        Console.WriteLine("warm-up drive (not reported) …");
        await new LoadRun(system, drive with { Rate = options.Rate / 2, DurationSeconds = Math.Min(20, options.DurationSeconds) }).RunAsync(ct);

        var results = new List<LoadResult>();
        async Task<bool> Passes(double rate)
        {
            var result = await new LoadRun(system, drive with { Rate = rate }).RunAsync(ct);
            results.Add(result);
            var pass = Holds(result);
            Console.WriteLine($"  offered {rate:N0}/s: {Report.FinalLine(result)} → {(pass ? "holds" : "misses")}");
            return pass;
        }

        var (passed, failed) = (0.0, double.NaN);
        for (var rate = options.Rate; rate <= 200_000; rate *= 2)
        {
            if (!await Passes(rate))
            {
                failed = rate;
                break;
            }
            passed = rate;
        }
        for (var i = 0; i < 3 && !double.IsNaN(failed); i++)
        {
            var middle = Math.Round((passed + failed) / 2 / 1000) * 1000;
            if (middle <= passed || middle >= failed)
            {
                break;
            }
            if (await Passes(middle))
            {
                passed = middle;
            }
            else
            {
                failed = middle;
            }
        }
        return results;
    }

    /// <summary>p99 trade → stored under 1 s, nothing lost, and the offered rate actually stored (within 5 %).</summary>
    public static bool Holds(LoadResult r) =>
        r.TradeToStored.P99 < 1000 && r.Lost == 0 && r.Duplicated == 0 && r.Throughput >= 0.95 * r.Options.Rate * r.DriveTime.TotalSeconds / (r.DriveTime + r.DrainTime).TotalSeconds;
}
