using System.Collections.Concurrent;
using NATS.Client.Core;
using NATS.Client.JetStream;
using QuantTrader.Contracts.Messaging;
using QuantTrader.PaperEngine.Storage;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.PaperEngine.Messaging;

/// <summary>
/// Publishes the outbox (orders and fills written with the state change) to TRADING in the order it was written,
/// each with its Nats-Msg-Id (order <c>{id}:{version}</c>, fill <c>{fillId}</c>), then deletes what the server
/// acknowledged. A crash between publish and delete re-publishes, and JetStream's duplicate window drops the copy,
/// so persistence, analytics and the strategy runner see each event once. Also owns the TRADING stream.
/// </summary>
public sealed class OutboxPublisher(PaperStore store, INatsJSContext js, TimeProvider time, ILogger<OutboxPublisher> logger) : BackgroundService, Engine.IEventOutbox
{
    private readonly SemaphoreSlim _signal = new(0);
    private readonly ConcurrentQueue<OutboxMessage> _committed = new();

    // True when the table may hold events the in-memory queue does not (start-up, a failed publish or delete): the
    // next round publishes from the table, in id order, instead. Also what a lost in-memory queue falls back to.
    private volatile bool _readTable = true;

    /// <summary>
    /// Events of a step that has just committed (they are in the outbox table too). Published from memory, without
    /// reading them back, so a fill reaches its subscribers one database round trip sooner.
    /// </summary>
    public void Publish(IReadOnlyList<OutboxMessage> messages)
    {
        foreach (var m in messages)
        {
            _committed.Enqueue(m);
        }

        Signal();
    }

    /// <summary>New events are in the outbox table.</summary>
    public void Signal()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await StreamSetup.EnsureAsync(js, Streams.Trading(), logger, stoppingToken);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Creating the TRADING stream failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (_readTable)
                {
                    // Everything queued in memory so far is committed, so it is in the table: the table round covers it.
                    _committed.Clear();
                    _readTable = false;
                    while (await PublishTableBatchAsync(stoppingToken) > 0)
                    {
                    }
                }

                await PublishCommittedAsync(stoppingToken);

                // Also wake up now and then: a signal lost to a crash of this loop must not strand events.
                if (!await _signal.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken))
                {
                    _readTable = true;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _readTable = true;
                logger.LogWarning(ex, "Publishing paper-trading events failed; they stay in the outbox and are retried");
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }

    /// <summary>
    /// Publishes the in-memory events in commit order, then deletes their rows. The delete comes after the publish, as
    /// for the table round: a crash in between re-publishes from the table, and JetStream drops the duplicate by its id.
    /// </summary>
    private async Task PublishCommittedAsync(CancellationToken ct)
    {
        var done = new List<string>();
        try
        {
            while (!_readTable && _committed.TryDequeue(out var message))
            {
                await PublishAsync(message, ct);
                done.Add(message.MessageId);
            }
        }
        finally
        {
            if (done.Count > 0)
            {
                await store.DeleteOutboxByMessageIdAsync(done, CancellationToken.None);
            }
        }
    }

    private async Task<int> PublishTableBatchAsync(CancellationToken ct)
    {
        var pending = await store.ReadOutboxAsync(500, ct);
        if (pending.Count == 0)
        {
            return 0;
        }

        var done = new List<long>(pending.Count);
        try
        {
            foreach (var (id, message) in pending)
            {
                await PublishAsync(message, ct);
                done.Add(id);
            }
        }
        finally
        {
            if (done.Count > 0)
            {
                await store.DeleteOutboxAsync(done, CancellationToken.None);
            }
        }

        return pending.Count;
    }

    private async Task PublishAsync(OutboxMessage message, CancellationToken ct)
    {
        var headers = new NatsHeaders();
        using var activity = NatsTracing.StartPublish(message.Subject, headers);
        var ack = await js.PublishAsync(message.Subject, message.Payload, opts: new NatsJSPubOpts { MsgId = message.MessageId }, headers: headers, cancellationToken: ct);
        ack.EnsureStored();
    }
}
