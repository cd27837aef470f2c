using QuantTrader.Contracts.Accounts;

namespace QuantTrader.Accounts.Plans;

/// <summary>A plan as configured under <c>Plans:{name}</c>.</summary>
public sealed record Plan(string Name, string DisplayName, decimal MonthlyPrice, string Currency, string? StripePriceId, PlanLimits Limits);

/// <summary>The plans on offer, from configuration (appsettings.json <c>Plans</c> section).</summary>
public sealed class PlanCatalog
{
    public const string Free = "free";

    private readonly Dictionary<string, Plan> _plans;

    public PlanCatalog(IConfiguration configuration)
    {
        _plans = configuration.GetSection("Plans").GetChildren().ToDictionary(
            section => section.Key,
            section => new Plan(
                section.Key,
                section["DisplayName"] ?? section.Key,
                section.GetValue<decimal>("MonthlyPrice"),
                section["Currency"] ?? "usd",
                string.IsNullOrWhiteSpace(section["StripePriceId"]) ? null : section["StripePriceId"],
                section.GetSection("Limits").Get<PlanLimits>() ?? throw new InvalidOperationException($"Plans:{section.Key}:Limits is missing")),
            StringComparer.OrdinalIgnoreCase);
        if (!_plans.ContainsKey(Free))
        {
            throw new InvalidOperationException("Plans:free must be configured: every new user starts on it.");
        }
    }

    public IEnumerable<Plan> All => _plans.Values.OrderBy(p => p.MonthlyPrice);

    public Plan this[string name] => _plans.TryGetValue(name, out var plan) ? plan : _plans[Free];

    public bool TryGet(string name, out Plan plan) => _plans.TryGetValue(name, out plan!);

    public Plan? ByStripePrice(string? priceId) => priceId is null ? null : _plans.Values.FirstOrDefault(p => p.StripePriceId == priceId);
}
