namespace QuantTrader.Contracts.Accounts;

/// <summary>What a plan allows. Services enforce these for the caller (403 naming the limit).</summary>
public sealed record PlanLimits(int Alerts, int Strategies, int RequestsPerMinute, int HistoryDays);
