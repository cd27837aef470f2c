using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace QuantTrader.Benchmarks;

/// <summary>
/// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>), in nanoseconds. On a 2-core machine shared
/// with other engineers' builds (load averages of 30–50 were seen), wall-clock time mostly measures how long the
/// benchmark thread waited for a core; CPU time counts only the time it ran, so absolute figures stay comparable to
/// the goals. It still includes cache and TLB pollution from the neighbours, so it is an optimistic bound only in
/// the sense that it leaves out waiting. Used with <c>--cpu-clock</c> (in-process: the clock object cannot be handed
/// to a separately built benchmark process).
/// </summary>
internal sealed partial class ThreadCpuClock : IClock
{
    private const int ClockThreadCpuTimeId = 3;

    public static ThreadCpuClock Instance { get; } = new();

    public string Title => "Thread CPU time";

    public bool IsAvailable => OperatingSystem.IsLinux();

    public Frequency Frequency => Frequency.GHz;

    public long GetTimestamp()
    {
        if (ClockGetTime(ClockThreadCpuTimeId, out var time) != 0)
        {
            throw new InvalidOperationException($"clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        return (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
