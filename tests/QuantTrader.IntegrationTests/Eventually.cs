namespace QuantTrader.IntegrationTests;

/// <summary>Retries an assertion until it holds or the timeout passes: waiting with a bound, never a bare sleep.</summary>
public static class Eventually
{
    public static Task SucceedsAsync(Func<Task> assertion, TimeSpan timeout) => SucceedsAsync(assertion, timeout, TimeSpan.FromMilliseconds(100));

    /// <summary>As above, asking no more often than every <paramref name="interval"/> (an API under a plan's rate limit).</summary>
    public static async Task SucceedsAsync(Func<Task> assertion, TimeSpan timeout, TimeSpan interval)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await assertion();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(interval);
            }
        }
    }

    public static async Task<T> ReturnsAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await probe() is { } value)
            {
                return value;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds} s");
    }
}
