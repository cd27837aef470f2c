using QuantTrader.Contracts.Accounts;

namespace QuantTrader.ServiceDefaults.Identity;

/// <summary>The authenticated user behind a request, as vouched for by the gateway.</summary>
public sealed record Caller(Guid UserId, string Plan, PlanLimits Limits);
