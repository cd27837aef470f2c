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
public sealed class OutboxPublisher(PaperStore store, INatsJSContext js, ILogger<OutboxPublisher> logger) : BackgroundService
{
    private readonly SemaphoreSlim _signal = new(0);

    /// <summary>New events are in the outbox.</summary>
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
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await PublishBatchAsync(stoppingToken) > 0)
                {
                }

                // Also wake up now and then: a signal lost to a crash of this loop must not strand events.
                await _signal.WaitAsync(TimeSpan.FromSeconds(5), stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Publishing paper-trading events failed; they stay in the outbox and are retried");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task<int> PublishBatchAsync(CancellationToken ct)
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
                var headers = new NatsHeaders();
                using var activity = NatsTracing.StartPublish(message.Subject, headers);
                var ack = await js.PublishAsync(message.Subject, message.Payload, opts: new NatsJSPubOpts { MsgId = message.MessageId }, headers: headers, cancellationToken: ct);
                ack.EnsureStored();
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
}
