using QuantTrader.PaperEngine.Messaging;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.PaperEngine.Engine;

/// <summary>
/// The paper engine runs active/standby (docs/scaling.md): one replica holds the engine's lease and runs the outbox, the
/// exchange loop, the trade feed and the order handlers; the others wait and answer HTTP by forwarding to it. Every
/// print's liquidity is shared by all users' orders on its market and every balance by all of a user's markets, so the
/// engine cannot be split by user or market alone without the two-stage design of exchange-core (accounts reserve,
/// books match, accounts settle) — what this class keeps is the one guarantee that matters: one writer. Its fence is
/// written to PostgreSQL when it takes over and checked by every step (<see cref="PaperStore.ClaimAsync"/>), so a
/// replica that lost its lease cannot write one more step. That fence is also why the engine's lease is
/// <see cref="PartitionScheme.FencedByStore"/>: a NATS outage alone never stops the active engine.
/// </summary>
public sealed class ActiveEngine(
    IServiceProvider services,
    PaperStore store,
    OutboxPublisher outbox,
    ExchangeLoop loop,
    TradeFeed feed,
    OrderRequestHandlers handlers,
    IHostApplicationLifetime lifetime,
    ILogger<ActiveEngine> logger) : IPartitionWork
{
    /// <summary>Core NATS request/reply: HTTP requests a standby forwards to the active replica.</summary>
    public const string ForwardSubject = "paper.forward";

    private volatile bool _active;
    private int _started;

    /// <summary>This replica runs the engine now.</summary>
    public bool IsActive => _active;

    /// <summary><see cref="IsActive"/> as a delegate (the forwarding middleware asks per request).</summary>
    public Func<bool> IsActiveNow => () => _active;

    /// <summary>This replica holds the engine's lease (it may still be starting its parts).</summary>
    public bool Owns => services.GetRequiredService<PartitionLeases>().Owns(0);

    public async Task RunAsync(PartitionLease lease)
    {
        if (Volatile.Read(ref _started) > 0)
        {
            // The engine's parts start once per process: a second term would run them on what is left of the first.
            // Stop instead; the supervisor (Kubernetes, or the operator) starts this replica again as a standby.
            logger.LogCritical("The paper engine's lease came back to a replica that already ran it once; stopping so a restart starts clean");
            lifetime.StopApplication();
            return;
        }

        var instance = services.GetRequiredService<PartitionLeases>().Instance;
        if (!await store.ClaimAsync(lease.Fence, instance, lease.Stopping))
        {
            throw new InvalidOperationException($"A later owner already claimed the paper engine (fence {lease.Fence} refused)");
        }

        Interlocked.Increment(ref _started);
        var parts = new IHostedService[] { outbox, loop, feed, handlers };
        var running = new List<IHostedService>();
        try
        {
            // The order of a start-up: the outbox (owner of TRADING), the engine's state, then trades and orders in.
            foreach (var part in parts)
            {
                await part.StartAsync(lease.Stopping);
                running.Add(part);
            }

            _active = true;
            logger.LogInformation("Paper engine active on {Instance} (fence {Fence})", instance, lease.Fence);
            await ActiveReplicaForwarding.AnswerForwardedRequestsAsync(services, ForwardSubject, lease.Stopping);
        }
        finally
        {
            _active = false;
            running.Reverse();
            foreach (var part in running)
            {
                await part.StopAsync(CancellationToken.None);
            }

            logger.LogInformation("Paper engine on {Instance} stopped: state written, outbox and consumers closed", instance);
            if (!lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // Not a shutdown: the lease was lost. Fail-stop (see above).
                logger.LogCritical("The paper engine's lease was lost; stopping this replica so it restarts as a standby");
                lifetime.StopApplication();
            }
        }
    }
}
