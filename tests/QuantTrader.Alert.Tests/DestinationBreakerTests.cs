using Microsoft.Extensions.Time.Testing;
using QuantTrader.Alert.Notifications;
using static QuantTrader.Alert.Notifications.DestinationBreaker;

namespace QuantTrader.Alert.Tests;

public sealed class DestinationBreakerTests
{
    private static readonly TimeSpan OpenFor = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly DestinationBreaker _breaker;

    public DestinationBreakerTests() => _breaker = new DestinationBreaker(failureThreshold: 3, OpenFor, _time);

    private void FailTimes(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.True(_breaker.TryAcquire());
            _breaker.OnUnreachable();
        }
    }

    [Fact]
    public void A_closed_breaker_lets_every_attempt_through()
    {
        for (var i = 0; i < 10; i++)
        {
            Assert.True(_breaker.TryAcquire());
        }

        Assert.Equal(BreakerState.Closed, _breaker.State);
    }

    [Fact]
    public void It_opens_after_the_threshold_of_consecutive_unreachable_attempts_and_holds_attempts_back()
    {
        FailTimes(2);
        Assert.Equal(BreakerState.Closed, _breaker.State);
        FailTimes(1);

        Assert.Equal(BreakerState.Open, _breaker.State);
        Assert.False(_breaker.TryAcquire());
        Assert.Equal(OpenFor, _breaker.RetryAfter);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(_breaker.TryAcquire());
        Assert.Equal(TimeSpan.FromSeconds(20), _breaker.RetryAfter);
    }

    [Fact]
    public void An_answer_between_failures_resets_the_count()
    {
        FailTimes(2);
        Assert.True(_breaker.TryAcquire());
        _breaker.OnReachable();
        FailTimes(2);

        Assert.Equal(BreakerState.Closed, _breaker.State);
    }

    [Fact]
    public void After_the_open_period_exactly_one_probe_goes_out()
    {
        FailTimes(3);
        _time.Advance(OpenFor);

        Assert.True(_breaker.TryAcquire());
        Assert.Equal(BreakerState.HalfOpen, _breaker.State);
        Assert.False(_breaker.TryAcquire());
    }

    [Fact]
    public void A_successful_probe_closes_the_breaker()
    {
        FailTimes(3);
        _time.Advance(OpenFor);
        Assert.True(_breaker.TryAcquire());
        _breaker.OnReachable();

        Assert.Equal(BreakerState.Closed, _breaker.State);
        Assert.True(_breaker.TryAcquire());
        Assert.True(_breaker.TryAcquire());
        Assert.True(_breaker.IsPristine);
    }

    [Fact]
    public void A_failed_probe_opens_the_breaker_for_another_period()
    {
        FailTimes(3);
        _time.Advance(OpenFor);
        Assert.True(_breaker.TryAcquire());
        _breaker.OnUnreachable();

        Assert.Equal(BreakerState.Open, _breaker.State);
        Assert.False(_breaker.TryAcquire());
        Assert.Equal(OpenFor, _breaker.RetryAfter);
    }
}
