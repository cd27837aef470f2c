using QuantTrader.LoadTest;
using QuantTrader.LoadTest.Failover;
using QuantTrader.LoadTest.Scaling;
using QuantTrader.LoadTest.Streaming;

// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --rate <trades/s> --duration <seconds>
// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --mode ingest-publish [--frames 200000] [--rounds 5]
// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --mode batch-saver [--rows 500000] [--trades-per-message 200] [--writers 2]
// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --mode trading-latency [--rate 200] [--orders 1500] [--warmup 50]
// dotnet run --project benchmarks/QuantTrader.LoadTest -- --mode smoke [--rate 200] [--duration 5]   (the test suite runs it)
// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --mode failover --duration 60 [--rate 2000]
// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --mode scaling --rate 20000 --duration 60
// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --mode max-rate [--rate 5000] [--duration 20] [--replicas 1]
// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --mode stream [--clients 1000] [--rate 40] [--duration 30]
if (args.Length >= 2 && args[0] == "--mode" && args[1] == "smoke")
{
    using var smokeCancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
    return await SmokeRun.RunAsync(args[2..], smokeCancel.Token);
}
if (args.Length >= 2 && args[0] == "--mode" && args[1] == "failover")
{
    var settings = LoadOptions.Parse(args[2..], new Dictionary<string, double> { ["rate"] = 2000, ["duration"] = 60 });
    using var failoverCancel = new CancellationTokenSource(TimeSpan.FromSeconds(settings.DurationSeconds + 1200));
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; failoverCancel.Cancel(); };
    Console.WriteLine("starting QuantTrader on three NATS nodes …");
    await using var failoverSystem = await SystemUnderTest.StartAsync(failoverCancel.Token, natsNodes: 3);
    var failover = await new FailoverRun(failoverSystem, settings).RunAsync(failoverCancel.Token);
    Report.Write(settings.Report, FailoverReport.Markdown(failover, $"dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- {string.Join(' ', args)}"),
        FailoverReport.Begin, FailoverReport.End, FailoverReport.Begin);
    Console.WriteLine($"report written to {settings.Report}");
    foreach (var line in FailoverReport.Details(failover))
    {
        Console.WriteLine(line);
    }
    Console.WriteLine(FailoverRun.FinalLine(failover));
    return failover.Ok ? 0 : 1;
}
if (args.Length >= 2 && args[0] == "--mode" && args[1] is "scaling" or "max-rate")
{
    var settings = LoadOptions.Parse(args[2..], args[1] == "scaling"
        ? new Dictionary<string, double> { ["rate"] = 20_000, ["duration"] = 60 }
        : new Dictionary<string, double> { ["rate"] = 5_000, ["duration"] = 20 });
    using var scalingCancel = new CancellationTokenSource(TimeSpan.FromHours(2));
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; scalingCancel.Cancel(); };
    Console.WriteLine("starting QuantTrader in simulator mode …");
    await using var scalingSystem = await SystemUnderTest.StartAsync(scalingCancel.Token);
    var scalingCommand = $"dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- {string.Join(' ', args)}";
    if (args[1] == "scaling")
    {
        var (one, two) = await ScalingRun.RunAsync(scalingSystem, settings, scalingCancel.Token);
        Report.Write(settings.Report, ScalingReport.Markdown(one, two, scalingCommand), ScalingReport.Begin, ScalingReport.End, ScalingReport.Begin);
        Console.WriteLine($"report written to {settings.Report}");
        Console.WriteLine(ScalingReport.FinalLine(one, two));
        return 0;
    }
    var searched = await ScalingRun.MaxRateAsync(scalingSystem, settings, settings.Replicas, scalingCancel.Token);
    Report.Write(settings.Report, ScalingReport.MaxRateMarkdown(searched, settings.Replicas, scalingCommand), ScalingReport.MaxRateBegin, ScalingReport.MaxRateEnd, ScalingReport.MaxRateBegin);
    Console.WriteLine($"report written to {settings.Report}");
    Console.WriteLine(ScalingReport.MaxRateLine(searched));
    return 0;
}
if (args.Length >= 2 && args[0] == "--mode" && args[1] == "stream")
{
    var settings = LoadOptions.Parse(args[2..], new Dictionary<string, double> { ["rate"] = 40, ["duration"] = 30 });
    using var streamCancel = new CancellationTokenSource(TimeSpan.FromSeconds(settings.DurationSeconds + 900));
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; streamCancel.Cancel(); };
    Console.WriteLine("starting QuantTrader in simulator mode …");
    await using var streamSystem = await SystemUnderTest.StartAsync(streamCancel.Token, streamClients: settings.Clients);
    var streamed = await new StreamRun(streamSystem, settings).RunAsync(streamCancel.Token);
    Report.Write(settings.Report, StreamRun.Markdown(streamed, $"dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- {string.Join(' ', args)}"),
        StreamRun.Begin, StreamRun.End, StreamRun.Begin);
    Console.WriteLine($"report written to {settings.Report}");
    Console.WriteLine(StreamRun.FinalLine(streamed));
    return streamed.Ok ? 0 : 1;
}
if (args.Length >= 2 && args[0] == "--mode" && args[1] == "trading-latency")
{
    // A modest background (--rate is the background trade rate here) and enough orders for a stable p99. The system
    // is started for the run, so its first minute is JIT: 3,000 uncounted orders (~40 s) let tiered compilation
    // settle first (with 50, the paper engine spent 30 % of its CPU in the JIT while being measured; the cold p99
    // was 4-5 times the steady one, docs/benchmarks.md section 11).
    var settings = LoadOptions.Parse(args[2..], new Dictionary<string, double> { ["rate"] = 200, ["orders"] = 1500, ["warmup"] = 3000 });
    using var latencyCancel = new CancellationTokenSource(TimeSpan.FromMinutes(30));
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; latencyCancel.Cancel(); };
    var measured = await TradingLatencyBenchmark.RunAsync(settings, latencyCancel.Token);
    var latencyCommand = $"dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- {string.Join(' ', args)}";
    Report.Write(settings.Report, TradingLatencyReport.Markdown(measured, latencyCommand), TradingLatencyBenchmark.Begin, TradingLatencyBenchmark.End, TradingLatencyBenchmark.Begin);
    Console.WriteLine($"report written to {settings.Report}");
    Console.WriteLine(TradingLatencyReport.FinalLine(measured));
    return 0;
}
if (args.Length >= 2 && args[0] == "--mode" && args[1] == "batch-saver")
{
    var settings = LoadOptions.Parse(args[2..]);
    var saved = await BatchSaverBenchmark.RunAsync(settings.Rows, settings.TradesPerMessage, settings.Writers, CancellationToken.None);
    Console.WriteLine(BatchSaverReport.Markdown(saved, $"dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- {string.Join(' ', args)}"));
    return 0;
}
if (args.Length >= 2 && args[0] == "--mode" && args[1] == "ingest-publish")
{
    var settings = LoadOptions.Parse(args[2..]);
    var root = Path.GetDirectoryName(Path.GetDirectoryName(settings.Report))!;
    var rounds = await IngestPublishBenchmark.RunAsync(root, settings.Frames, settings.Rounds, settings.TradesPerMessage, CancellationToken.None);
    Console.WriteLine(IngestPublishReport.Markdown(rounds, $"dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- {string.Join(' ', args)}"));
    return 0;
}

var options = LoadOptions.Parse(args);
using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(options.DurationSeconds + 600));
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

Console.WriteLine("starting QuantTrader in simulator mode …");
await using var system = await SystemUnderTest.StartAsync(cancel.Token);
var result = await new LoadRun(system, options).RunAsync(cancel.Token);

var command = $"dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- {string.Join(' ', args)}";
Report.Write(options.Report, Report.Markdown(result, command));
Console.WriteLine($"report written to {options.Report}");
Console.WriteLine(Report.FinalLine(result));
return 0;
