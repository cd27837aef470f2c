namespace QuantTrader.Contracts.Alerts;

/// <summary>An alert rule that fired, as published on <c>alerts.fired.{userId}</c>.</summary>
public sealed record AlertFired(
    Guid EventId,
    Guid AlertId,
    Guid UserId,
    string Exchange,
    string Symbol,
    DateTimeOffset Time,
    decimal Price,
    decimal? Value,
    string Message);
