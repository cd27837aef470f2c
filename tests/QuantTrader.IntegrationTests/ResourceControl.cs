using System.Diagnostics;
using System.Runtime.InteropServices;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Stops and starts one service of the shared system, the way an operator or a crash would.
/// Aspire's own "resource-stop" signals the launcher of a project (not the service) and times out on this
/// machine, so a service is stopped by signalling its own process — SIGTERM for a graceful stop, SIGKILL for a
/// crash — and started again with Aspire's start command once Aspire has seen it exit.
/// </summary>
public static class ResourceControl
{
    private const int SigTerm = 15;

    /// <summary>SIGKILL: no shutdown hooks, no flushing, as a crash.</summary>
    public static Task KillAsync(SystemFixture system, string resource) => SignalAsync(system, resource, graceful: false);

    /// <summary>SIGTERM: the service's host shuts down as on a deployment.</summary>
    public static Task StopAsync(SystemFixture system, string resource) => SignalAsync(system, resource, graceful: true);

    public static async Task RestartAsync(SystemFixture system, string resource, bool graceful = false)
    {
        await SignalAsync(system, resource, graceful);
        await StartAsync(system, resource);
    }

    /// <summary>Starts the resource again and waits until it is running and healthy.</summary>
    public static async Task StartAsync(SystemFixture system, string resource)
    {
        var notifications = system.App.Services.GetRequiredService<ResourceNotificationService>();
        var target = system.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == resource);
        using var cts = new CancellationTokenSource(SystemFixture.StartTimeout);
        // The start command is only offered once Aspire has recorded the exit; on a loaded machine that can lag
        // behind the process, so a refused start is tried again until the deadline.
        var attempt = 0;
        while (true)
        {
            var result = await system.App.ResourceCommands.ExecuteCommandAsync(target, KnownResourceCommands.StartCommand, cts.Token);
            if (result.Success)
            {
                break;
            }
            if (++attempt >= 30)
            {
                Assert.Fail($"Aspire would not start {resource} again: {result.Message}");
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cts.Token);
        }

        await notifications.WaitForResourceAsync(resource,
            e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy, cts.Token);
    }

    /// <summary>The process id of a running project's service (the launcher's child), to read its /proc entries.</summary>
    public static async Task<int> ServiceProcessIdAsync(SystemFixture system, string resource)
    {
        var notifications = system.App.Services.GetRequiredService<ResourceNotificationService>();
        using var cts = new CancellationTokenSource(SystemFixture.StartTimeout);
        var running = await notifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text == KnownResourceStates.Running, cts.Token);
        var pid = Pid(running) ?? throw new InvalidOperationException($"No process id for {resource}.");
        // The launcher may have other children (build nodes); the service is the one running a QuantTrader assembly.
        return ChildrenOf(pid).FirstOrDefault(child => CommandLine(child).Contains("QuantTrader", StringComparison.Ordinal)) is var service and > 0
            ? service
            : pid;
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    private static async Task SignalAsync(SystemFixture system, string resource, bool graceful)
    {
        var notifications = system.App.Services.GetRequiredService<ResourceNotificationService>();
        using var cts = new CancellationTokenSource(SystemFixture.StartTimeout);
        var running = await notifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text == KnownResourceStates.Running, cts.Token);
        var pid = Pid(running) ?? throw new InvalidOperationException(
            $"No process id for {resource}: " + string.Join(", ", running.Snapshot.Properties.Select(p => $"{p.Name}={p.Value}")));
        // For a project the pid Aspire reports is the launcher of the service and the service is its child; for a
        // plain executable (nats-server) it is the process itself, which has no children and is signalled directly.
        foreach (var target in ChildrenOf(pid) is { Count: > 0 } children ? children : [pid])
        {
            if (graceful)
            {
                _ = Kill(target, SigTerm);
            }
            else
            {
                using var process = Process.GetProcessById(target);
                process.Kill();
            }
        }

        // Wait for a state Aspire can start from, not merely "not running": "Stopping" refuses the start command.
        await notifications.WaitForResourceAsync(resource,
            e => e.Snapshot.State?.Text is { } state && KnownResourceStates.TerminalStates.Contains(state), cts.Token);
    }

    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' '); // state, ppid, ...
                if (int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parent)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // the process ended while we looked
            }
        }

        return children;
    }

    private static int? Pid(ResourceEvent e) =>
        e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value
        && int.TryParse(value.ToString(), out var pid)
            ? pid
            : null;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
#pragma warning disable SYSLIB1054 // two ints: nothing to marshal, and LibraryImport would need unsafe code here
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054
}
