namespace QuantTrader.StrategyRunner.Runner;

/// <summary>
/// Deterministic clientOrderIds for strategy orders: the same step of the same strategy always names its orders the
/// same, so an order sent again after a crash or a hand-over is the one the paper engine already has (it answers a
/// repeated clientOrderId of the same user with the earlier order). At most 64 characters (the engine's limit).
/// </summary>
public static class ClientOrderIds
{
    /// <summary><c>{strategy}-k{open time, Unix ms}-{index}</c>: the index-th order of the step on one closed kline.</summary>
    public static string ForKline(Guid strategyId, DateTimeOffset openTime, int index) =>
        $"{strategyId:N}-k{openTime.ToUnixTimeMilliseconds()}-{index}";

    /// <summary><c>{strategy}-f{fill id, base64url}-{index}</c>: the index-th order placed in <c>on_fill</c> for one fill.</summary>
    public static string ForFill(Guid strategyId, Guid fillId, int index) =>
        $"{strategyId:N}-f{Convert.ToBase64String(fillId.ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_')}-{index}";
}
