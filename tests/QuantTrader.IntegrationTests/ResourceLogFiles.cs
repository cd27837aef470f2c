using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Writes what every resource of the system under test prints (services, NATS, PostgreSQL) to one file per
/// resource, so a test that failed on CI can be explained afterwards: `./qt test` prints the tail of these files
/// when the run is red. The folder is <c>QT_TEST_LOG_DIR</c> when set, else <c>resource-logs</c> beside the tests.
/// </summary>
public static class ResourceLogFiles
{
    public static string Directory { get; } =
        Environment.GetEnvironmentVariable("QT_TEST_LOG_DIR") is { Length: > 0 } dir ? dir : Path.Combine(AppContext.BaseDirectory, "resource-logs");

    public static Task Start(DistributedApplication app, CancellationToken stop)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var loggers = app.Services.GetRequiredService<ResourceLoggerService>();
        var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
        return Task.Run(async () =>
        {
            // Logs are kept per instance (DCP's name for it, e.g. "kline-khvmgaaa"), which only notifications tell.
            var copies = new List<Task>();
            var seen = new HashSet<string>();
            try
            {
                await foreach (var e in notifications.WatchAsync(stop))
                {
                    if (seen.Add(e.ResourceId))
                    {
                        copies.Add(CopyAsync(loggers, e.ResourceId, e.Resource.Name, stop));
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // the run is over
            }
            await Task.WhenAll(copies);
        }, CancellationToken.None);
    }

    private static async Task CopyAsync(ResourceLoggerService loggers, string instance, string resource, CancellationToken stop)
    {
        try
        {
            var path = Path.Combine(Directory, resource == instance ? $"{resource}.log" : $"{resource}.{instance}.log");
            await using var file = new StreamWriter(path, append: false) { AutoFlush = true };
            await foreach (var batch in loggers.WatchAsync(instance).WithCancellation(stop))
            {
                foreach (var line in batch)
                {
                    await file.WriteLineAsync($"{DateTime.UtcNow:HH:mm:ss.fff} {(line.IsErrorMessage ? "E" : " ")} {line.Content}");
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the run is over
        }
    }
}
