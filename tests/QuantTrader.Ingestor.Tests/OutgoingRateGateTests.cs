using QuantTrader.Ingestor.Sequencing;

namespace QuantTrader.Ingestor.Tests;

public sealed class OutgoingRateGateTests
{
    private static readonly DateTimeOffset T0 = new(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Five_messages_fit_in_a_second_and_the_sixth_waits_for_the_oldest_to_age_out()
    {
        var gate = new OutgoingRateGate(5, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 5; i++)
        {
            Assert.True(gate.TryAcquire(T0.AddMilliseconds(i * 100)));
        }

        Assert.False(gate.TryAcquire(T0.AddMilliseconds(500)));
        Assert.Equal(TimeSpan.FromMilliseconds(500), gate.DelayBeforeNext(T0.AddMilliseconds(500)));
        Assert.True(gate.TryAcquire(T0.AddMilliseconds(1000)));
        Assert.False(gate.TryAcquire(T0.AddMilliseconds(1050)));
        Assert.True(gate.TryAcquire(T0.AddMilliseconds(1100)));
    }

    [Fact]
    public void No_window_of_one_second_ever_holds_more_than_the_limit()
    {
        var gate = new OutgoingRateGate(4, TimeSpan.FromSeconds(1));
        var sent = new List<DateTimeOffset>();
        var random = new Random(7);
        var now = T0;
        for (var i = 0; i < 5_000; i++)
        {
            now = now.AddMilliseconds(random.Next(0, 120));
            if (gate.TryAcquire(now))
            {
                sent.Add(now);
            }
        }

        for (var i = 4; i < sent.Count; i++)
        {
            Assert.True(sent[i] - sent[i - 4] >= TimeSpan.FromSeconds(1), $"5 sends within a second ending at {sent[i]:O}");
        }
    }
}
