using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using QuantTrader.Persistence.Ingest;

namespace QuantTrader.Persistence.Tests;

public sealed class BatchCollectorTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task A_full_batch_closes_at_the_size_limit_without_waiting()
    {
        var channel = Channel.CreateUnbounded<int>();
        for (var i = 0; i < 12; i++)
        {
            channel.Writer.TryWrite(i);
        }
        // The fake clock never moves: only the size can close these batches.
        var collector = new BatchCollector<int>(5, Delay, new FakeTimeProvider());

        Assert.Equal([0, 1, 2, 3, 4], await collector.NextAsync(channel.Reader, CancellationToken.None));
        Assert.Equal([5, 6, 7, 8, 9], await collector.NextAsync(channel.Reader, CancellationToken.None));
    }

    [Fact]
    public async Task Items_that_carry_several_rows_fill_a_batch_by_their_rows()
    {
        var channel = Channel.CreateUnbounded<int>();
        foreach (var rows in new[] { 2, 2, 3, 1, 4, 1 })
        {
            channel.Writer.TryWrite(rows);
        }
        // Weighed by rows (a message of several trades): a batch closes once it holds 5 rows or more.
        var collector = new BatchCollector<int>(5, Delay, new FakeTimeProvider(), weigh: rows => rows);

        Assert.Equal([2, 2, 3], await collector.NextAsync(channel.Reader, CancellationToken.None));
        Assert.Equal([1, 4], await collector.NextAsync(channel.Reader, CancellationToken.None));
    }

    [Fact]
    public async Task A_partial_batch_closes_when_its_time_is_up()
    {
        var time = new FakeTimeProvider();
        var channel = Channel.CreateUnbounded<int>();
        var collector = new BatchCollector<int>(5000, Delay, time);
        channel.Writer.TryWrite(1);
        channel.Writer.TryWrite(2);

        var next = collector.NextAsync(channel.Reader, CancellationToken.None);
        Assert.False(next.IsCompleted); // not full, time not up: keeps collecting
        channel.Writer.TryWrite(3);
        time.Advance(Delay - TimeSpan.FromMilliseconds(1));
        Assert.False(next.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([1, 2, 3], await next.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task An_idle_stream_makes_no_empty_batches()
    {
        var time = new FakeTimeProvider();
        var channel = Channel.CreateUnbounded<int>();
        var collector = new BatchCollector<int>(10, Delay, time);

        var next = collector.NextAsync(channel.Reader, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(next.IsCompleted); // the delay runs from the first message, not from the call

        channel.Writer.TryWrite(7);
        // The collector takes the message and arms its delay on a thread-pool continuation, which on a loaded
        // machine can come after a single Advance (and a timer armed after the clock moved never fires). So the
        // clock keeps moving, in steps of the delay, until the batch is out: bounded, not a sleep-and-hope.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!next.IsCompleted && DateTime.UtcNow < deadline)
        {
            time.Advance(Delay);
            await Task.WhenAny(next, Task.Delay(TimeSpan.FromMilliseconds(20)));
        }
        Assert.Equal([7], await next.WaitAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_completed_channel_yields_its_rest_then_an_empty_batch()
    {
        var channel = Channel.CreateUnbounded<int>();
        channel.Writer.TryWrite(1);
        channel.Writer.Complete();
        var collector = new BatchCollector<int>(10, Delay, new FakeTimeProvider());

        Assert.Equal([1], await collector.NextAsync(channel.Reader, CancellationToken.None));
        Assert.Empty(await collector.NextAsync(channel.Reader, CancellationToken.None));
    }

    [Fact]
    public async Task A_producer_failure_surfaces_to_the_batch_loop()
    {
        var channel = Channel.CreateUnbounded<int>();
        channel.Writer.Complete(new InvalidOperationException("NATS is gone"));
        var collector = new BatchCollector<int>(10, Delay, new FakeTimeProvider());

        await Assert.ThrowsAsync<InvalidOperationException>(() => collector.NextAsync(channel.Reader, CancellationToken.None));
    }

    [Fact]
    public void Limits_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchCollector<int>(0, Delay));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchCollector<int>(1, TimeSpan.Zero));
    }
}
