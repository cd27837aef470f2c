using System.Text.Json;
using QuantTrader.StrategyRunner.Storage;

namespace QuantTrader.StrategyRunner.Api;

/// <param name="Reason">trap | fuel | memory | timeout | init_failed</param>
/// <param name="Call">The ABI function that was running: instantiate, init, on_kline or on_fill.</param>
public sealed record StrategyFaultView(string Reason, string Message, string? Call, DateTimeOffset? At);

public sealed record StrategyView(
    Guid Id,
    string Name,
    string Exchange,
    string Symbol,
    string Interval,
    JsonElement Parameters,
    string Status,
    StrategyFaultView? Fault,
    decimal Position,
    DateTimeOffset? LastKlineOpenTime,
    string ModuleFormat,
    int ModuleSize,
    string ModuleSha256,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static StrategyView From(StoredStrategy s)
    {
        using var parameters = JsonDocument.Parse(s.Parameters);
        return new StrategyView(s.Id, s.Name, s.Exchange, s.Symbol, s.Interval, parameters.RootElement.Clone(), s.Status,
            s.FaultReason is null ? null : new StrategyFaultView(s.FaultReason, s.FaultMessage ?? "", s.FaultCall, s.FaultedAt),
            s.Position, s.LastKlineOpenTime, s.ModuleFormat, s.ModuleSize, Convert.ToHexStringLower(s.ModuleSha256), s.CreatedAt, s.UpdatedAt);
    }
}

public sealed record StrategyLogView(long Id, DateTimeOffset Time, string Source, string Message);
