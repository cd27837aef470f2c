namespace QuantTrader.Alert.Notifications;

/// <summary>
/// Circuit breaker of one delivery destination (a webhook's host:port). Closed: attempts go out. After
/// <c>failureThreshold</c> consecutive unreachable attempts (connection failures, timeouts) it opens: no attempt goes
/// out for <c>openFor</c>, so a black-hole endpoint stops holding delivery slots; the deliveries wait in the
/// destination's queue. Then it is half-open: one probe attempt goes out; its success closes the breaker, its failure
/// opens it again for another <c>openFor</c>. An HTTP answer, even an error, shows the destination is alive: it
/// counts as a success here (the delivery's own retries handle the error status).
/// Not thread-safe: the delivery worker calls it under its lock.
/// </summary>
public sealed class DestinationBreaker(int failureThreshold, TimeSpan openFor, TimeProvider time)
{
    public enum BreakerState
    {
        Closed,
        Open,
        HalfOpen,
    }

    private int _consecutiveFailures;
    private DateTimeOffset _openedAt;
    private bool _probeOut;

    public BreakerState State { get; private set; } = BreakerState.Closed;

    /// <summary>True when the breaker holds no state worth keeping (closed, no failures counted).</summary>
    public bool IsPristine => State == BreakerState.Closed && _consecutiveFailures == 0;

    /// <summary>How long until an open breaker lets a probe through; zero when it would let one through now.</summary>
    public TimeSpan RetryAfter => State == BreakerState.Open
        ? TimeSpan.FromTicks(Math.Max(0, (_openedAt + openFor - time.GetUtcNow()).Ticks))
        : TimeSpan.Zero;

    /// <summary>Whether an attempt may go out now; true commits the caller to report its outcome.</summary>
    public bool TryAcquire()
    {
        if (State == BreakerState.Open && RetryAfter == TimeSpan.Zero)
        {
            State = BreakerState.HalfOpen;
            _probeOut = false;
        }

        switch (State)
        {
            case BreakerState.Closed:
                return true;
            case BreakerState.HalfOpen when !_probeOut:
                _probeOut = true;
                return true;
            default:
                return false;
        }
    }

    /// <summary>The destination answered (any HTTP status).</summary>
    public void OnReachable()
    {
        _consecutiveFailures = 0;
        _probeOut = false;
        State = BreakerState.Closed;
    }

    /// <summary>An attempt acquired was not made after all (nothing sent): a probe it was may go out again.</summary>
    public void OnNotAttempted() => _probeOut = false;

    /// <summary>The destination could not be reached or did not answer in time.</summary>
    public void OnUnreachable()
    {
        _consecutiveFailures++;
        if (State == BreakerState.HalfOpen || (State == BreakerState.Closed && _consecutiveFailures >= failureThreshold))
        {
            State = BreakerState.Open;
            _openedAt = time.GetUtcNow();
            _probeOut = false;
        }
    }
}
