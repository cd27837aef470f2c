using NATS.Client.JetStream;
using QuantTrader.Contracts.Messaging;
using QuantTrader.StrategyRunner.Storage;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// Start, stop and delete as the API takes them, on whichever replica the request reached: the change is stored, then
/// told to the owner of the strategy's user partition (<see cref="StrategyAnnouncements"/>), which starts or stops the
/// strategy. The answer is the strategy as stored once the owner has acted (or, if no owner answered in time, as
/// stored: the owner acts on it at its next reconcile).
/// </summary>
public sealed class StrategyCommands(StrategyStore store, INatsJSContext jetStream, StrategyAnnouncements announcements, ILogger<StrategyCommands> logger)
{
    /// <summary>Starts (or restarts after a stop or a fault) a strategy: it trades on the klines published from now on.</summary>
    public async Task<StoredStrategy> StartAsync(StoredStrategy strategy, CancellationToken ct)
    {
        if (strategy.Status != StrategyStatus.Running)
        {
            // "From now on" is the stream's last message: the checkpoint the owner reads after, whenever it starts it.
            var stream = await jetStream.GetStreamAsync(Streams.MarketKline().Name!, cancellationToken: ct);
            if (await store.MarkStartedAsync(strategy.Id, stream.Info.State.LastSeq, ct))
            {
                await store.AppendLogsAsync(strategy.Id, [(DateTimeOffset.UtcNow, "runner",
                    $"started on {Subjects.MarketKline(strategy.Exchange, strategy.Interval, strategy.Symbol)}")], ct);
                logger.LogInformation("Strategy {StrategyId} of {UserId} started", strategy.Id, strategy.UserId);
            }
        }
        await announcements.TellOwnerAsync(strategy.UserId, strategy.Id, ct);
        return (await store.GetAsync(strategy.Id, ct))!;
    }

    /// <summary>Stops a strategy; a faulted one keeps its fault (it is not running anyway).</summary>
    public async Task<StoredStrategy> StopAsync(StoredStrategy strategy, CancellationToken ct)
    {
        if (strategy.Status != StrategyStatus.Faulted)
        {
            await store.SetStatusAsync(strategy.Id, StrategyStatus.Stopped, ct);
        }
        await store.AppendLogsAsync(strategy.Id, [(DateTimeOffset.UtcNow, "runner", "stopped by its owner")], ct);
        await announcements.TellOwnerAsync(strategy.UserId, strategy.Id, ct);
        logger.LogInformation("Strategy {StrategyId} of {UserId} stopped", strategy.Id, strategy.UserId);
        return (await store.GetAsync(strategy.Id, ct))!;
    }

    /// <summary>Stops the strategy where it runs, then deletes it with its logs and order handles.</summary>
    public async Task<bool> DeleteAsync(Guid userId, Guid strategyId, CancellationToken ct)
    {
        await store.SetStatusAsync(strategyId, StrategyStatus.Stopped, ct);
        await announcements.TellOwnerAsync(userId, strategyId, ct);
        return await store.DeleteAsync(userId, strategyId, ct);
    }
}
