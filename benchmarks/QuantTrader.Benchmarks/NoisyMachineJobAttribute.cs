using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace QuantTrader.Benchmarks;

/// <summary>
/// BenchmarkDotNet's ShortRun (one launch, 3 warm-up iterations) with 7 measured iterations instead of 3: the machine is
/// 2 shared cores, often loaded by other builds, and three samples give error bars wider than the means. Seven keep the
/// whole suite near 10 minutes while letting the in-run baseline ratios settle.
/// With <c>--cpu-clock</c> (<see cref="Program.UseThreadCpuClock"/>) the same job runs in-process and is timed by
/// <see cref="ThreadCpuClock"/> instead of the wall clock.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class NoisyMachineJobAttribute : JobConfigBaseAttribute
{
    public NoisyMachineJobAttribute()
        : base(Create())
    {
    }

    private static Job Create()
    {
        var job = Job.ShortRun.WithIterationCount(7);
        return Program.UseThreadCpuClock
            // In-process runs are cut off after 5 minutes of wall time by default; at load 30+ the 1 M-rule alert
            // benchmark (setup included) needs longer on the wall although its CPU time is seconds.
            ? job.WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true)).WithClock(ThreadCpuClock.Instance).WithId("ShortRun7-CpuClock")
            : job.WithId("ShortRun7");
    }
}
