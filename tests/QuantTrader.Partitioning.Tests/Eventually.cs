namespace QuantTrader.Partitioning.Tests;

public static class Eventually
{
    public static Task TrueAsync(Func<bool> condition, TimeSpan? within = null) => TrueAsync(() => Task.FromResult(condition()), within);

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var deadline = DateTimeOffset.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                Assert.Fail($"Not true within {within ?? TimeSpan.FromSeconds(20)}");
            }
            await Task.Delay(100);
        }
    }
}
