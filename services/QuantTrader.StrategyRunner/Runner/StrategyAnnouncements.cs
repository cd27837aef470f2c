using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// A start, stop or delete taken by any replica's API, told to the replica that owns the strategy's user partition:
/// a request on core NATS <c>strategies.changed.{partition}</c> carrying the strategy id, answered once the owner has
/// brought the strategy in line with what is stored. Core NATS may lose it (no owner right now, a hand-over in
/// progress): the owner also compares everything with the database every <see cref="StrategyPartitions.ReconcileInterval"/>,
/// and a new owner starts from the database, so an announcement only makes a change take effect sooner.
/// </summary>
public sealed class StrategyAnnouncements(INatsConnection nats, ILogger<StrategyAnnouncements> logger)
{
    public static readonly TimeSpan OwnerTimeout = TimeSpan.FromSeconds(15);

    public static string Subject(int partition) => $"strategies.changed.{partition}";

    /// <summary>Asks the owner to act on the strategy; true once it has, false when no owner answered in time.</summary>
    public async Task<bool> TellOwnerAsync(Guid userId, Guid strategyId, CancellationToken ct)
    {
        var subject = Subject(Partitions.OfUser(userId));
        try
        {
            await nats.RequestAsync<string, string>(subject, strategyId.ToString(),
                replyOpts: new NatsSubOpts { Timeout = OwnerTimeout }, cancellationToken: ct);
            return true;
        }
        catch (Exception ex) when (ex is NatsNoRespondersException or NatsNoReplyException or NatsTimeoutException)
        {
            logger.LogInformation("No owner of {Subject} answered for strategy {StrategyId} ({Error}); it takes effect at the owner's next reconcile",
                subject, strategyId, ex.GetType().Name);
            return false;
        }
    }
}
