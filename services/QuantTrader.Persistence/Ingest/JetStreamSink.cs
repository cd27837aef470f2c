using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Npgsql;
using Polly;
using Polly.Retry;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Persistence.Ingest;

/// <summary>
/// The batch saver for one table: a durable JetStream pull consumer feeds a bounded channel; batches are closed by
/// size or time (<see cref="BatchCollector{T}"/>), written in one transaction (<see cref="IEventSink{TRow}"/>), and
/// acknowledged only after the commit.
/// <list type="bullet">
/// <item>PostgreSQL unreachable: the batch is retried with exponential backoff for as long as it takes; nothing is
/// acked; the in-flight messages are kept ours with "in progress" acks; the channel stays full so the consumer stops
/// pulling (memory is bounded by two batches).</item>
/// <item>A poison message (undecodable, invalid, or refused by PostgreSQL as data) goes to the dead-letter subject
/// with the reason and is acked; the rest of its batch is stored.</item>
/// <item>Crash or redelivery: unacked messages come again and the writes are idempotent (keys), so nothing is
/// duplicated or lost.</item>
/// </list>
/// </summary>
public sealed class JetStreamSink<TRow>(
    IEventSink<TRow> sink,
    INatsJSContext js,
    NpgsqlDataSource dataSource,
    DeadLetters deadLetters,
    IOptions<PersistenceOptions> options,
    ILogger<JetStreamSink<TRow>> logger) : BackgroundService
{
    private readonly PersistenceOptions _options = options.Value;
    private readonly KeyValuePair<string, object?> _tableTag = PersistenceMetrics.Table(sink.Table);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // NATS gone for good, stream deleted…: unacked messages will be redelivered, so start over.
                logger.LogError(ex, "Consumer {Durable} for table {Table} stopped; restarting in 2 s", sink.Durable, sink.Table);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        // Start order varies: create the stream with the owner's config if it is not there yet (idempotent).
        var stream = sink.Stream();
        await StreamSetup.EnsureAsync(js, stream, logger, ct);
        await StreamSetup.EnsureAsync(js, Streams.DeadLetters(), logger, ct);
        var consumer = await js.CreateOrUpdateConsumerAsync(stream.Name!, new ConsumerConfig(sink.Durable)
        {
            DurableName = sink.Durable,
            FilterSubject = sink.FilterSubject,
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = _options.AckWait,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            // The batch being written plus the next one buffering: the server stops delivering beyond that.
            MaxAckPending = _options.BatchSize * 2,
        }, ct);
        logger.LogInformation("Storing {Stream} ({Filter}) into {Table} with consumer {Durable}: batches of {Size} or {Delay} ms",
            stream.Name, sink.FilterSubject ?? "all subjects", sink.Table, sink.Durable, _options.BatchSize, _options.BatchDelay.TotalMilliseconds);

        var channel = Channel.CreateBounded<INatsJSMsg<byte[]>>(new BoundedChannelOptions(_options.BatchSize)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pump = PumpAsync(consumer, channel.Writer, stop.Token);
        var lag = ReportLagAsync(consumer, stop.Token);
        var collector = new BatchCollector<INatsJSMsg<byte[]>>(_options.BatchSize, _options.BatchDelay);
        var retry = RetryPipeline();
        try
        {
            while (true)
            {
                var batch = await collector.NextAsync(channel.Reader, ct);
                if (batch.Count == 0)
                {
                    break;
                }
                await StoreAsync(batch, retry, ct);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(pump, lag).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private async Task PumpAsync(INatsJSConsumer consumer, ChannelWriter<INatsJSMsg<byte[]>> writer, CancellationToken ct)
    {
        Exception? failure = null;
        try
        {
            await foreach (var message in consumer.ConsumeAsync<byte[]>(
                opts: new NatsJSConsumeOpts { MaxMsgs = _options.BatchSize }, cancellationToken: ct))
            {
                // Waits while a batch is being written: the consumer stops pulling instead of buffering without bound.
                await writer.WriteAsync(message, ct);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            failure = ex;
        }
        finally
        {
            writer.TryComplete(failure);
        }
    }

    private async Task ReportLagAsync(INatsJSConsumer consumer, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await consumer.RefreshAsync(ct);
                PersistenceMetrics.ReportLag(sink.Durable, (long)consumer.Info.NumPending);
                await Task.Delay(TimeSpan.FromSeconds(5), ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogDebug(ex, "Could not read consumer info of {Durable}", sink.Durable);
                await Task.Delay(TimeSpan.FromSeconds(5), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task StoreAsync(List<INatsJSMsg<byte[]>> batch, ResiliencePipeline retry, CancellationToken ct)
    {
        var rows = new List<(INatsJSMsg<byte[]> Message, TRow Row)>(batch.Count);
        var ackOnly = new List<INatsJSMsg<byte[]>>();
        var activities = QuantTraderTelemetry.ActivitySource.HasListeners() ? new List<Activity>(batch.Count) : null;
        _inFlight.Clear();
        _inFlight.AddRange(batch);
        try
        {
            foreach (var message in batch)
            {
                if (activities is not null && NatsTracing.StartProcess(message.Subject, message.Headers) is { } activity)
                {
                    activity.SetTag("db.collection.name", sink.Table);
                    activities.Add(activity);
                }
                var decoded = sink.Decode(message.Subject, message.Data);
                if (decoded.PoisonReason is { } reason)
                {
                    await deadLetters.SendAsync(sink.Table, message, reason, ct);
                    ackOnly.Add(message);
                }
                else if (decoded.Skip)
                {
                    ackOnly.Add(message);
                }
                else
                {
                    rows.Add((message, decoded.Row!));
                }
            }

            var written = rows.Count == 0 ? 0 : await WriteIsolatingPoisonAsync(rows, retry, ct);

            foreach (var message in ackOnly)
            {
                await message.AckAsync(cancellationToken: ct);
            }
            foreach (var (message, _) in rows)
            {
                await message.AckAsync(cancellationToken: ct);
            }
            PersistenceMetrics.RowsWritten.Add(written, _tableTag);
            PersistenceMetrics.BatchSize.Record(batch.Count, _tableTag);
        }
        finally
        {
            _inFlight.Clear();
            if (activities is not null)
            {
                foreach (var activity in activities)
                {
                    activity.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// Writes the rows; when PostgreSQL refuses the batch as data (a value it cannot store), halves it until the
    /// offending messages are found, dead-letters those and stores the rest.
    /// </summary>
    private async Task<int> WriteIsolatingPoisonAsync(List<(INatsJSMsg<byte[]> Message, TRow Row)> rows, ResiliencePipeline retry, CancellationToken ct)
    {
        try
        {
            return await retry.ExecuteAsync(async (state, token) =>
            {
                await using var connection = await dataSource.OpenConnectionAsync(token);
                await using var tx = await connection.BeginTransactionAsync(token);
                var n = await sink.WriteAsync(connection, state, token);
                await tx.CommitAsync(token);
                return n;
            }, (IReadOnlyList<TRow>)[.. rows.Select(r => r.Row)], ct);
        }
        catch (PostgresException ex) when (IsDataError(ex))
        {
            if (rows.Count == 1)
            {
                await deadLetters.SendAsync(sink.Table, rows[0].Message, $"PostgreSQL refused the row ({ex.SqlState}): {ex.MessageText}", ct);
                return 0;
            }
            var half = rows.Count / 2;
            return await WriteIsolatingPoisonAsync(rows[..half], retry, ct)
                 + await WriteIsolatingPoisonAsync(rows[half..], retry, ct);
        }
    }

    private ResiliencePipeline RetryPipeline() => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            // Everything but "this data cannot be stored" is worth retrying: connection refused, server restarting,
            // timeouts, too many connections, serialization failures.
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(ex => ex is not PostgresException pg || !IsDataError(pg))
                .Handle<TimeoutException>(),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = _options.MaxRetryDelay,
            OnRetry = async args =>
            {
                PersistenceMetrics.Retries.Add(1, _tableTag);
                if (args.AttemptNumber < 3 || args.AttemptNumber % 10 == 0)
                {
                    logger.LogWarning(args.Outcome.Exception,
                        "Writing a batch to {Table} failed (attempt {Attempt}); nothing is acked, retrying in {Delay}",
                        sink.Table, args.AttemptNumber + 1, args.RetryDelay);
                }
                await KeepInFlightAsync(args.Context.CancellationToken);
            },
        })
        .Build();

    // Set by StoreAsync's caller scope: the messages of the batch being retried, kept ours with in-progress acks
    // so JetStream does not redeliver them to nobody while PostgreSQL is away.
    private readonly List<INatsJSMsg<byte[]>> _inFlight = [];

    private async ValueTask KeepInFlightAsync(CancellationToken ct)
    {
        foreach (var message in _inFlight)
        {
            try
            {
                await message.AckProgressAsync(cancellationToken: ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogDebug(ex, "In-progress ack failed; the message may be redelivered (harmless: writes are idempotent)");
                return;
            }
        }
    }

    /// <summary>Class 22 (data exception), 23 (integrity constraint) and 54 (program limit): retrying cannot help.</summary>
    private static bool IsDataError(PostgresException ex) =>
        ex.SqlState.StartsWith("22", StringComparison.Ordinal)
        || ex.SqlState.StartsWith("23", StringComparison.Ordinal)
        || ex.SqlState.StartsWith("54", StringComparison.Ordinal);
}
