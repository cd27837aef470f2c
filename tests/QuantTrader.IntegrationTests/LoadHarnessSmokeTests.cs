using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// The load harness starts a whole system of its own, so its smoke run never shares the machine's cores with the other
/// collections' systems.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadHarnessCollection
{
    public const string Name = "load harness";
}

/// <summary>
/// The load harness's accounting (issue 10): its smoke mode drives the real system for a few seconds at a low rate,
/// requires every trade sent to be counted stored exactly once, then injects a duplicate row and requires the count
/// to see it (benchmarks/QuantTrader.LoadTest/SmokeRun.cs). Run as the harness runs: its own process.
/// </summary>
[Collection(LoadHarnessCollection.Name)]
public sealed class LoadHarnessSmokeTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task The_smoke_run_counts_every_trade_sent_as_stored_once_and_detects_an_injected_duplicate()
    {
        var start = new ProcessStartInfo("dotnet", [HarnessPath(), "--mode", "smoke"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var harness = Process.Start(start)!;
        var log = new StringBuilder();
        harness.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine(e.Data); } } };
        harness.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (log) { log.AppendLine(e.Data); } } };
        harness.BeginOutputReadLine();
        harness.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(Limit);
        try
        {
            await harness.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // The harness's DCP watches its process and stops the system it started when it goes.
            harness.Kill(entireProcessTree: true);
            await harness.WaitForExitAsync(CancellationToken.None);
        }

        string text;
        lock (log)
        {
            text = log.ToString();
        }
        var verdict = text.Split('\n').Where(l => l.StartsWith("smoke:", StringComparison.Ordinal) || l.StartsWith("throughput=", StringComparison.Ordinal)).ToList();
        output.WriteLine(string.Join('\n', verdict));
        Assert.False(timeout.IsCancellationRequested, $"the smoke run did not finish within {Limit}");
        Assert.True(harness.ExitCode == 0, $"the smoke run failed (exit {harness.ExitCode}):\n{string.Join('\n', verdict)}\n--- tail ---\n{Tail(text)}");
        Assert.Contains(verdict, l => l.StartsWith("smoke: ok", StringComparison.Ordinal) && l.Contains("one injected duplicate detected", StringComparison.Ordinal));
    }

    /// <summary>The harness built with the same configuration as this test assembly (…/bin/{Configuration}/net10.0/).</summary>
    private static string HarnessPath()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testBin.Name;
        var configuration = testBin.Parent!.Name;
        for (var dir = testBin; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "QuantTrader.sln")))
            {
                var path = Path.Combine(dir.FullName, "benchmarks", "QuantTrader.LoadTest", "bin", configuration, framework, "QuantTrader.LoadTest.dll");
                Assert.True(File.Exists(path), $"build the load harness first: {path} is missing");
                return path;
            }
        }

        throw new InvalidOperationException($"no QuantTrader.sln above {testBin.FullName}");
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
