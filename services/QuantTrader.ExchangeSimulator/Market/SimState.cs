using System.Text.Json;
using Microsoft.Extensions.Options;

namespace QuantTrader.ExchangeSimulator.Market;

/// <summary>One market as <see cref="SimState"/> stores it.</summary>
public sealed record SimInstrumentState(string Exchange, string Symbol, long NextAggregateId, long NextTradeId, decimal Price);

/// <summary>The simulator's state file: every market, and whether the run that wrote it stopped cleanly.</summary>
public sealed record SimStateFile(bool Clean, DateTimeOffset SavedAt, List<SimInstrumentState> Instruments);

/// <summary>
/// Keeps the simulated markets going across restarts of the simulator (<c>Simulator:StateFile</c>): trade ids continue
/// where the last run stopped and the price walk from where it was, as on a real exchange.
/// <para>
/// Without it every start drew new random ids, so about half the markets went back in ids after a restart of the
/// system: the ingestor, the kline service and the paper engine rightly ignore a trade id they have already passed,
/// and those markets stayed silent (no candles, no fills) until the ids climbed past the old ones — days at 5 prints/s.
/// </para>
/// <para>
/// The file is written every second and on a clean stop. After a clean stop the ids continue by one; after a crash
/// (the file's <c>clean</c> is false) they continue <see cref="CrashIdMargin"/> above the stored ones, so no id handed
/// out in the last second before the crash is ever handed out again: the ingestor sees a gap it cannot backfill and
/// reports it (<c>market.gap</c>), as it would for a real exchange's lost prints. Registered before the trade generator,
/// so no print is made before the stored state is applied.
/// </para>
/// </summary>
public sealed class SimState(SimMarket market, IOptions<SimulatorOptions> options, ILogger<SimState> logger) : BackgroundService
{
    /// <summary>Ids skipped after a crash: more than one second of prints at up to 100,000 per second per market.</summary>
    public const long CrashIdMargin = 100_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private string? StateFile => options.Value.StateFile is { Length: > 0 } path ? path : null;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        Load();
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (StateFile is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                TrySave(clean: false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // After the trade generator and the web server have stopped (hosted services stop in reverse order of
        // registration): nothing hands out an id after this.
        TrySave(clean: true);
    }

    /// <summary>Applies a stored state to the markets this run offers; no state file, a missing or an unreadable one starts fresh.</summary>
    public void Load()
    {
        if (StateFile is not { } path)
        {
            return;
        }

        if (!File.Exists(path))
        {
            logger.LogInformation("No simulator state at {Path}: the markets start fresh", path);
            return;
        }

        SimStateFile? state;
        try
        {
            state = JsonSerializer.Deserialize<SimStateFile>(File.ReadAllText(path), Json);
        }
        catch (Exception ex) when (ex is JsonException or IOException)
        {
            logger.LogWarning(ex, "The simulator state at {Path} is unreadable; the markets start fresh", path);
            return;
        }

        if (state is null)
        {
            return;
        }

        var margin = state.Clean ? 0 : CrashIdMargin;
        var resumed = 0;
        foreach (var stored in state.Instruments)
        {
            if (market.Find(stored.Exchange, stored.Symbol) is { } instrument)
            {
                instrument.Resume(stored, margin);
                resumed++;
            }
        }
        logger.LogInformation(
            "Simulator state from {SavedAt:u} ({Kind}): {Resumed} of {Stored} stored markets continue{Margin}",
            state.SavedAt, state.Clean ? "clean stop" : "no clean stop", resumed, state.Instruments.Count,
            state.Clean ? "" : $", their ids {CrashIdMargin:N0} above the stored ones");
    }

    /// <summary>Writes the file whole (temporary file, then rename), so a crash mid-write leaves the previous one.</summary>
    public void TrySave(bool clean)
    {
        if (StateFile is not { } path)
        {
            return;
        }

        try
        {
            var state = new SimStateFile(clean, DateTimeOffset.UtcNow, [.. market.Instruments.Select(i => i.Checkpoint())]);
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var temporary = path + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(state, Json));
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not write the simulator state to {Path}", path);
        }
    }
}
