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
/// <para>The stages overlap so that PostgreSQL is kept busy (docs/benchmarks.md, batch saver): the pump decodes each
/// message as it arrives, while the writer COPYs and commits the previous batch, while the acker acks the batch
/// committed before that. Tables whose writes commute (trades) get <see cref="PersistenceOptions.Writers"/> writers,
/// each with its own batch and connection, committing in any order. Acks therefore stay explicit and per message
/// (not AckPolicy "all"): acking one message must never acknowledge another that was delivered but not stored — in
/// another writer's batch, lost in a reconnect, or abandoned by a restart.</para>
/// <list type="bullet">
/// <item>PostgreSQL unreachable: the batch is retried with exponential backoff for as long as it takes; nothing is
/// acked; the in-flight messages are kept ours with "in progress" acks; the channel stays full so the consumer stops
/// pulling (memory is bounded by writers + 2 batches: <c>MaxAckPending</c>).</item>
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

    /// <summary>Rows decoded and not yet acked (channel, batches being written, batches being acked).</summary>
    private long _rowsInFlight;
    private readonly SemaphoreSlim _rowsAcked = new(0);

    /// <summary>A message and what it decoded to (decoded by the pump, ahead of the writer).</summary>
    private readonly record struct Item(INatsJSMsg<byte[]> Message, Decoded<TRow> Decoded);

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
        // Insert-only tables are written by several batches at once (PostgreSQL then uses more than one core); where
        // a later message must win, one writer keeps the stream's order.
        var writers = sink.WritesCommute ? Math.Max(1, _options.Writers) : 1;
        var consumer = await js.CreateOrUpdateConsumerAsync(stream.Name!, new ConsumerConfig(sink.Durable)
        {
            DurableName = sink.Durable,
            FilterSubject = sink.FilterSubject,
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = _options.AckWait,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
            // The batches being written, the next one buffering and the committed one being acked: the server stops
            // delivering beyond that, which bounds memory.
            MaxAckPending = _options.BatchSize * (writers + 2),
        }, ct);
        logger.LogInformation("Storing {Stream} ({Filter}) into {Table} with consumer {Durable}: batches of {Size} or {Delay} ms, {Writers} writer(s)",
            stream.Name, sink.FilterSubject ?? "all subjects", sink.Table, sink.Durable, _options.BatchSize, _options.BatchDelay.TotalMilliseconds, writers);

        Interlocked.Exchange(ref _rowsInFlight, 0);
        var channel = Channel.CreateBounded<Item>(new BoundedChannelOptions(_options.BatchSize)
        {
            SingleReader = writers == 1,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // Committed batches wait here while the acker acks the one before: a writer moves on to its next COPY.
        var committed = Channel.CreateBounded<List<Item>>(new BoundedChannelOptions(writers)
        {
            SingleReader = true,
            SingleWriter = writers == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using var stopAcks = new CancellationTokenSource();
        // A message may carry many rows (trades in batches): the pump also stops while this many rows are on their
        // way, so memory stays bounded in rows, not only in messages.
        var rowBudget = (long)_options.BatchSize * (writers + 2);
        var pump = PumpAsync(consumer, channel.Writer, rowBudget, stop.Token);
        var lag = ReportLagAsync(consumer, stop.Token);
        var acker = AckAsync(committed.Reader, stopAcks.Token);
        var writing = Enumerable.Range(0, writers).Select(_ => WriteBatchesAsync(channel.Reader, committed.Writer, stop)).ToArray();
        try
        {
            await Task.WhenAll(writing);
        }
        finally
        {
            await stop.CancelAsync();
            // Committed batches are still acked on the way out (a few seconds at most: NATS may be what failed);
            // whatever is not acked is redelivered later and ignored as already stored.
            committed.Writer.TryComplete();
            stopAcks.CancelAfter(TimeSpan.FromSeconds(5));
            await Task.WhenAll([pump, lag, acker, .. writing]).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// One writer: takes the next batch, stores it, hands it to the acker, until the pump is done. A failure stops the
    /// other writers too (<paramref name="stop"/>), and the whole consumer starts over.
    /// </summary>
    private async Task WriteBatchesAsync(ChannelReader<Item> messages, ChannelWriter<List<Item>> committed, CancellationTokenSource stop)
    {
        var ct = stop.Token;
        // Sized in rows: a message carrying 200 trades fills a batch 200 times as fast as one carrying one.
        var collector = new BatchCollector<Item>(_options.BatchSize, _options.BatchDelay, weigh: static item => Math.Max(1, item.Decoded.RowCount));
        var inFlight = new List<INatsJSMsg<byte[]>>(_options.BatchSize);
        var retry = RetryPipeline(inFlight);
        try
        {
            while (true)
            {
                var batch = await collector.NextAsync(messages, ct);
                if (batch.Count == 0)
                {
                    return;
                }
                await StoreAsync(batch, inFlight, retry, ct);
                await committed.WriteAsync(batch, ct);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            await stop.CancelAsync();
            throw;
        }
    }

    private async Task PumpAsync(INatsJSConsumer consumer, ChannelWriter<Item> writer, long rowBudget, CancellationToken ct)
    {
        Exception? failure = null;
        try
        {
            await foreach (var message in consumer.ConsumeAsync<byte[]>(
                opts: new NatsJSConsumeOpts { MaxMsgs = _options.BatchSize }, cancellationToken: ct))
            {
                // Decoding here overlaps it with the writer's COPY of the previous batch.
                var item = new Item(message, sink.Decode(message.Subject, message.Headers, message.Data));
                var rows = item.Decoded.RowCount;
                while (Interlocked.Read(ref _rowsInFlight) > 0 && Interlocked.Read(ref _rowsInFlight) + rows > rowBudget)
                {
                    await _rowsAcked.WaitAsync(ct); // the acker releases after each batch
                }
                Interlocked.Add(ref _rowsInFlight, rows);
                // Waits while a batch is being written: the consumer stops pulling instead of buffering without bound.
                await writer.WriteAsync(item, ct);
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

    /// <summary>
    /// Acks every message of each committed batch (rows, skipped and dead-lettered ones alike), then records the
    /// batch. An ack that fails (NATS away) is left to redelivery, which is harmless: the rows are stored already.
    /// </summary>
    private async Task AckAsync(ChannelReader<List<Item>> committed, CancellationToken ct)
    {
        try
        {
            await foreach (var batch in committed.ReadAllAsync(ct))
            {
                try
                {
                    foreach (var item in batch)
                    {
                        await item.Message.AckAsync(cancellationToken: ct);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Acking a committed batch of {Table} failed; its messages will be redelivered and ignored as stored", sink.Table);
                }
                var rows = 0;
                foreach (var item in batch)
                {
                    rows += item.Decoded.RowCount;
                }
                Interlocked.Add(ref _rowsInFlight, -rows);
                _rowsAcked.Release();
                PersistenceMetrics.BatchSize.Record(rows, _tableTag);
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down: see RunAsync.
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

    /// <summary>Dead-letters the poison messages and writes the rows of a batch; returns once they are committed.</summary>
    private async Task StoreAsync(List<Item> batch, List<INatsJSMsg<byte[]>> inFlight, ResiliencePipeline retry, CancellationToken ct)
    {
        var rows = new List<(INatsJSMsg<byte[]> Message, TRow Row)>(batch.Count);
        var activities = QuantTraderTelemetry.ActivitySource.HasListeners() ? new List<Activity>(batch.Count) : null;
        inFlight.Clear();
        try
        {
            foreach (var (message, decoded) in batch)
            {
                inFlight.Add(message);
                if (activities is not null && NatsTracing.StartProcess(message.Subject, message.Headers) is { } activity)
                {
                    activity.SetTag("db.collection.name", sink.Table);
                    activities.Add(activity);
                }
                if (decoded.PoisonReason is { } reason)
                {
                    await deadLetters.SendAsync(sink.Table, message, reason, ct);
                }
                else if (decoded.Batch is { } many)
                {
                    foreach (var row in many)
                    {
                        rows.Add((message, row));
                    }
                }
                else if (!decoded.Skip)
                {
                    rows.Add((message, decoded.Row!));
                }
            }

            var refused = new List<(INatsJSMsg<byte[]> Message, string Reason)>();
            var written = rows.Count == 0 ? 0 : await WriteIsolatingPoisonAsync(rows, retry, refused, ct);
            // A message of several rows is dead-lettered once, with the first reason, even if more of its rows were
            // refused; its other rows are stored (like the rest of the batch) and the message is acked with the batch.
            foreach (var group in refused.GroupBy(r => r.Message))
            {
                await deadLetters.SendAsync(sink.Table, group.Key, group.First().Reason, ct);
            }
            PersistenceMetrics.RowsWritten.Add(written, _tableTag);
        }
        finally
        {
            inFlight.Clear();
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
    private async Task<int> WriteIsolatingPoisonAsync(List<(INatsJSMsg<byte[]> Message, TRow Row)> rows, ResiliencePipeline retry,
        List<(INatsJSMsg<byte[]> Message, string Reason)> refused, CancellationToken ct)
    {
        try
        {
            return await retry.ExecuteAsync(async (state, token) =>
            {
                await using var connection = await dataSource.OpenConnectionAsync(token);
                return await sink.WriteAsync(connection, state, token); // committed when it returns
            }, (IReadOnlyList<TRow>)[.. rows.Select(r => r.Row)], ct);
        }
        catch (PostgresException ex) when (IsDataError(ex))
        {
            if (rows.Count == 1)
            {
                refused.Add((rows[0].Message, $"PostgreSQL refused the row ({ex.SqlState}): {ex.MessageText}"));
                return 0;
            }
            var half = rows.Count / 2;
            return await WriteIsolatingPoisonAsync(rows[..half], retry, refused, ct)
                 + await WriteIsolatingPoisonAsync(rows[half..], retry, refused, ct);
        }
    }

    /// <param name="inFlight">The messages of the batch being retried, kept ours with in-progress acks so JetStream
    /// does not redeliver them to nobody while PostgreSQL is away.</param>
    private ResiliencePipeline RetryPipeline(List<INatsJSMsg<byte[]>> inFlight) => new ResiliencePipelineBuilder()
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
                await KeepInFlightAsync(inFlight, args.Context.CancellationToken);
            },
        })
        .Build();

    private async ValueTask KeepInFlightAsync(List<INatsJSMsg<byte[]>> inFlight, CancellationToken ct)
    {
        foreach (var message in inFlight)
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
