using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using QuantTrader.ExchangeSimulator.Market;

namespace QuantTrader.MarketData.Tests;

/// <summary>
/// The simulator continues its markets across restarts like a real exchange: trade ids never go back (consumers ignore
/// an id they have passed) and the price walk goes on from where it was.
/// </summary>
public sealed class SimulatorStateTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"qt-sim-state-{Guid.NewGuid():N}");

    private string StateFile => Path.Combine(_directory, "exchange-simulator", "state.json");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task After_a_clean_stop_every_market_continues_with_the_next_id_and_its_last_price()
    {
        var (first, firstState) = Simulator(seed: 1);
        await firstState.StartAsync(CancellationToken.None);
        var last = PrintAll(first, 50);
        await firstState.StopAsync(CancellationToken.None);

        // Another seed draws other (random) starting ids: without the state file about half would be lower.
        var (second, secondState) = Simulator(seed: 2);
        await secondState.StartAsync(CancellationToken.None);
        foreach (var instrument in second.Instruments)
        {
            var before = last[(instrument.Exchange, instrument.Instrument.Symbol)];
            Assert.Equal(before.Price, instrument.LastPrice);
            var next = instrument.Next(DateTimeOffset.UtcNow, out _)!;
            Assert.Equal(before.AggregateId + 1, next.AggregateId);
            Assert.Equal(before.LastTradeId + 1, next.FirstTradeId);
        }
        await secondState.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task After_a_crash_ids_continue_above_anything_the_last_second_may_have_handed_out()
    {
        var (first, firstState) = Simulator(seed: 3);
        PrintAll(first, 10);
        firstState.TrySave(clean: false); // the periodic save; then the process dies without a clean stop
        var stored = first.Instruments.ToDictionary(i => (i.Exchange, i.Instrument.Symbol), i => i.Checkpoint());
        PrintAll(first, 10); // handed out after the last save, lost with the crash

        var (second, secondState) = Simulator(seed: 4);
        await secondState.StartAsync(CancellationToken.None);
        foreach (var instrument in second.Instruments)
        {
            var state = stored[(instrument.Exchange, instrument.Instrument.Symbol)];
            var next = instrument.Next(DateTimeOffset.UtcNow, out _)!;
            Assert.Equal(state.NextAggregateId + SimState.CrashIdMargin, next.AggregateId);
            Assert.Equal(state.NextTradeId + SimState.CrashIdMargin, next.FirstTradeId);
        }
        await secondState.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_stored_state_never_moves_printed_ids_down_and_an_unreadable_file_starts_fresh()
    {
        var (first, _) = Simulator(seed: 5);
        var printed = PrintAll(first, 3);
        foreach (var instrument in first.Instruments)
        {
            instrument.Resume(new SimInstrumentState(instrument.Exchange, instrument.Instrument.Symbol, 1, 1, 0m), idMargin: 0);
            Assert.Equal(printed[(instrument.Exchange, instrument.Instrument.Symbol)].AggregateId + 1, instrument.Next(DateTimeOffset.UtcNow, out _)!.AggregateId);
        }

        var fresh = Simulator(seed: 5).Market.Instruments.ToDictionary(i => (i.Exchange, i.Instrument.Symbol), i => i.LastId);

        Directory.CreateDirectory(Path.GetDirectoryName(StateFile)!);
        await File.WriteAllTextAsync(StateFile, "{ not json");
        var (second, secondState) = Simulator(seed: 5);
        await secondState.StartAsync(CancellationToken.None);
        Assert.Equal(fresh, second.Instruments.ToDictionary(i => (i.Exchange, i.Instrument.Symbol), i => i.LastId));
        await secondState.StopAsync(CancellationToken.None);
        Assert.Contains("\"clean\": true", await File.ReadAllTextAsync(StateFile)); // and the clean stop rewrote it
    }

    private (SimMarket Market, SimState State) Simulator(int seed)
    {
        var options = Options.Create(new SimulatorOptions { Symbols = ["BTCUSDT", "ETHUSDT"], Seed = seed, StateFile = StateFile });
        var market = new SimMarket(options);
        return (market, new SimState(market, options, NullLogger<SimState>.Instance));
    }

    /// <summary><paramref name="count"/> walk prints on every market; the last one of each.</summary>
    private static Dictionary<(string, string), (long AggregateId, long LastTradeId, decimal Price)> PrintAll(SimMarket market, int count)
    {
        var last = new Dictionary<(string, string), (long, long, decimal)>();
        foreach (var instrument in market.Instruments)
        {
            for (var i = 0; i < count; i++)
            {
                var print = instrument.Next(DateTimeOffset.UtcNow, out _)!;
                last[(instrument.Exchange, instrument.Instrument.Symbol)] = (print.AggregateId, print.LastTradeId, print.Price);
            }
        }
        return last;
    }
}
