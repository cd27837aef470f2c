using QuantTrader.Contracts.Accounts;

namespace QuantTrader.ServiceDefaults.Identity;

/// <summary>The authenticated user behind a request, as vouched for by the gateway.</summary>
/// <param name="Operator">
/// The account is one of the platform's operators (listed in the accounts service's <c>Accounts:Operators</c>): only an
/// operator may write shared market data (history imports). False unless the accounts service says so.
/// </param>
public sealed record Caller(Guid UserId, string Plan, PlanLimits Limits, bool Operator = false);
