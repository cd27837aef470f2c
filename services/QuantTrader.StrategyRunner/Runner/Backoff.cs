namespace QuantTrader.StrategyRunner.Runner;

/// <summary>Waits 1 s, 2 s, 4 s … up to 30 s between attempts at something that is down (the database, NATS).</summary>
internal sealed class Backoff(TimeProvider? time = null)
{
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public TimeSpan Next { get; private set; } = TimeSpan.FromSeconds(1);

    public async Task WaitAsync(CancellationToken ct)
    {
        await Task.Delay(Next, _time, ct);
        Next = Next * 2 < Max ? Next * 2 : Max;
    }
}
