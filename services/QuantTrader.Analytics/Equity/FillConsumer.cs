using System.Text.Json;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using Polly;
using Polly.Retry;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Analytics.Equity;

/// <summary>
/// Applies every fill (<c>trading.fill.&gt;</c>, durable consumer <c>analytics-fills</c>) to its user's account and
/// records it with the equity right after it; acks only after that commit. At start-up the accounts are rebuilt by
/// replaying analytics' own ledger, so a restart neither loses nor double-counts a fill (a redelivered fill id is
/// recognised and only acked).
/// </summary>
public sealed class FillConsumer(
    INatsJSContext js, AccountBook book, Marks marks, EquityStore store, ILogger<FillConsumer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>().Handle<TimeoutException>(),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(10),
                OnRetry = args =>
                {
                    logger.LogWarning(args.Outcome.Exception, "PostgreSQL failed (attempt {Attempt}); retrying in {Delay}", args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

        try
        {
            await retry.ExecuteAsync(async ct =>
            {
                await store.LoadMarksAsync(marks, ct);
                var replayed = 0;
                await foreach (var fill in store.LedgerAsync(ct))
                {
                    book.Apply(fill);
                    replayed++;
                }
                logger.LogInformation("Rebuilt accounts from {Fills} recorded fills", replayed);
            }, stoppingToken);
            book.MarkLoaded();

            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ConsumeAsync(retry, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogError(ex, "Fill consumer stopped; restarting in 2 s");
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ConsumeAsync(ResiliencePipeline retry, CancellationToken ct)
    {
        var stream = Streams.Trading();
        await StreamSetup.EnsureAsync(js, stream, logger, ct);
        var consumer = await js.CreateOrUpdateConsumerAsync(stream.Name!, new ConsumerConfig("analytics-fills")
        {
            DurableName = "analytics-fills",
            FilterSubject = "trading.fill.>",
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = TimeSpan.FromSeconds(60),
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            MaxAckPending = 1000,
        }, ct);

        await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: ct))
        {
            using var activity = NatsTracing.StartProcess(message.Subject, message.Headers);
            Contracts.Trading.FillEvent? fill = null;
            try
            {
                fill = message.Data is { Length: > 0 } data ? JsonSerializer.Deserialize(data, ContractsJsonContext.Wire.FillEvent) : null;
            }
            catch (JsonException ex)
            {
                logger.LogWarning(ex, "Ignoring a fill that is not valid JSON on {Subject} (persistence dead-letters it)", message.Subject);
            }
            if (fill is null || fill.Quantity <= 0m || fill.Price <= 0m || fill.UserId == Guid.Empty)
            {
                await message.AckAsync(cancellationToken: ct);
                continue;
            }
            fill = fill with { Time = fill.Time.ToUniversalTime() };

            if (book.Apply(fill) is { } applied)
            {
                await retry.ExecuteAsync(async token => await store.RecordFillAsync(fill, applied, token), ct);
                logger.LogDebug("Fill {FillId} of user {UserId}: realized {Pnl}, equity {Equity}", fill.Id, fill.UserId, applied.RealizedPnl, applied.EquityAfter);
            }
            await message.AckAsync(cancellationToken: ct);
        }
    }
}
