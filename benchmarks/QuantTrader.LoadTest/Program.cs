using QuantTrader.LoadTest;

// dotnet run -c Release --project benchmarks/QuantTrader.LoadTest -- --rate <trades/s> --duration <seconds>
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
