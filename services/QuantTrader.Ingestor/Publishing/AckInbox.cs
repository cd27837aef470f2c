using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using NATS.Client.Core;

namespace QuantTrader.Ingestor.Publishing;

/// <summary>
/// JetStream acks for batches of publishes, through one long-lived reply subscription. JetStream acks a message
/// published with a reply subject on that subject, so a batch publishes each message with the reply
/// <c>{inbox}.{batch}.{index}</c> and waits until every index was answered.
/// <para>
/// Why not NATS.Net's <c>PublishConcurrentAsync</c>: it builds a request subscription per message (registered in a
/// <c>ConditionalWeakTable</c> under a lock, a timeout, a future to dispose). Profiled in the end-to-end run at
/// 5,000 trades/s, that machinery — with the finalizers of the table's containers — was about 60 % of the ingestor's
/// CPU (docs/benchmarks.md, load-harness profile). Here an ack costs one dictionary lookup and a short JSON read.
/// </para>
/// </summary>
internal sealed class AckInbox : IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, PendingBatch> _batches = new();
    private readonly INatsSub<byte[]> _subscription;
    private readonly string _prefix;
    private readonly Task _reading;
    private long _lastBatch;

    private AckInbox(string prefix, INatsSub<byte[]> subscription)
    {
        _prefix = prefix;
        _subscription = subscription;
        _reading = Task.Run(ReadAsync);
    }

    public static async Task<AckInbox> StartAsync(INatsConnection connection, CancellationToken ct)
    {
        // Not NewInbox(): that name lies under the client's own request inbox, whose replies the client routes to its
        // request machinery and drops there, so this subscription would never see an ack. Same "_INBOX" root, so
        // reply permissions written for inboxes still apply.
        var prefix = $"{connection.Opts.InboxPrefix}.{Guid.NewGuid():N}";
        // Core subscriptions are re-established by the client after a reconnect; acks lost meanwhile end in the
        // batch's timeout and a re-send (de-duplicated by Nats-Msg-Id).
        var subscription = await connection.SubscribeCoreAsync<byte[]>(prefix + ".>", cancellationToken: ct);
        return new AckInbox(prefix, subscription);
    }

    public PendingBatch Begin(int count)
    {
        var id = Interlocked.Increment(ref _lastBatch);
        var batch = new PendingBatch(id, count, string.Create(CultureInfo.InvariantCulture, $"{_prefix}.{id}."));
        _batches[id] = batch;
        return batch;
    }

    /// <summary>Forgets the batch: acks that still arrive for it (after a timeout) are ignored.</summary>
    public void End(PendingBatch batch) => _batches.TryRemove(batch.Id, out _);

    public async ValueTask DisposeAsync()
    {
        await _subscription.DisposeAsync();
        await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ReadAsync()
    {
        await foreach (var msg in _subscription.Msgs.ReadAllAsync())
        {
            if (TryParseReply(msg.Subject, _prefix.Length, out var batchId, out var index)
                && _batches.TryGetValue(batchId, out var batch))
            {
                batch.Complete(index, IsStored(msg.Data, msg.Headers));
            }
        }
    }

    /// <summary><c>{prefix}.{batch}.{index}</c> → batch and index.</summary>
    internal static bool TryParseReply(string subject, int prefixLength, out long batch, out int index)
    {
        batch = 0;
        index = 0;
        if (subject.Length <= prefixLength + 1)
        {
            return false;
        }

        var tail = subject.AsSpan(prefixLength + 1);
        var dot = tail.IndexOf('.');
        return dot > 0
            && long.TryParse(tail[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out batch)
            && int.TryParse(tail[(dot + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out index);
    }

    /// <summary>
    /// A JetStream publish ack is <c>{"stream":"MARKET_RAW","seq":42}</c>, with <c>"duplicate":true</c> when the
    /// Nats-Msg-Id was already stored (the first attempt landed: stored). An <c>"error"</c> object, an empty body or a
    /// status header (503 no responders: no stream listens) means not stored.
    /// </summary>
    internal static bool IsStored(ReadOnlySpan<byte> ack, NatsHeaders? headers)
    {
        if (ack.IsEmpty || headers is { Code: >= 300 })
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(ack);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var sequence = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("error"u8))
                {
                    return false;
                }

                var isSeq = reader.ValueTextEquals("seq"u8);
                reader.Read();
                if (isSeq && reader.TokenType == JsonTokenType.Number)
                {
                    sequence = true;
                }

                reader.Skip();
            }

            return sequence;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsStored(byte[]? ack, NatsHeaders? headers) => IsStored(new ReadOnlySpan<byte>(ack), headers);
}

/// <summary>One batch waiting for its acks: per message pending, stored or failed.</summary>
internal sealed class PendingBatch(long id, int count, string replyPrefix)
{
    private const int Pending = 0;
    private const int Stored = 1;
    private const int Failed = 2;

    private readonly int[] _states = new int[count];
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining = count;

    public long Id { get; } = id;

    public string ReplyTo(int index) => string.Concat(replyPrefix, index.ToString(CultureInfo.InvariantCulture));

    /// <summary>The ack of message <paramref name="index"/> (or its failure to be sent); only the first answer counts.</summary>
    public void Complete(int index, bool stored)
    {
        if ((uint)index >= (uint)_states.Length || Interlocked.CompareExchange(ref _states[index], stored ? Stored : Failed, Pending) != Pending)
        {
            return;
        }

        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>True when every message was answered within <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
    {
        if (_states.Length == 0)
        {
            return true;
        }

        try
        {
            await _done.Task.WaitAsync(timeout, ct);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Stored per the server's ack; false while unanswered or failed.</summary>
    public bool IsStored(int index) => Volatile.Read(ref _states[index]) == Stored;
}
