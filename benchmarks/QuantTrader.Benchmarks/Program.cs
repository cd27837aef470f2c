using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace QuantTrader.Benchmarks;

public static class Program
{
    private const string CpuClockFlag = "--cpu-clock";

    /// <summary>Set by <c>--cpu-clock</c>: time by the benchmark thread's CPU time, in-process (see <see cref="ThreadCpuClock"/>).</summary>
    public static bool UseThreadCpuClock { get; private set; }

    /// <summary>
    /// <c>dotnet run -c Release --project benchmarks/QuantTrader.Benchmarks -- --filter '*' [--cpu-clock]</c>.
    /// Op/s is added because every goal in the issues is a rate (frames/s, trades/s, bars/s); with
    /// <c>OperationsPerInvoke</c> set it is per frame, trade or bar, i.e. 1e9 / mean ns.
    /// </summary>
    public static void Main(string[] args)
    {
        UseThreadCpuClock = args.Contains(CpuClockFlag, StringComparer.Ordinal);
        var config = DefaultConfig.Instance
            .AddColumn(StatisticColumn.OperationsPerSecond, StatisticColumn.Median)
            // The default 2 minutes for building the generated benchmark project ran out on this machine at load ~150.
            .WithBuildTimeout(TimeSpan.FromMinutes(15));
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
            .Run([.. args.Where(a => a != CpuClockFlag)], config);
    }
}
