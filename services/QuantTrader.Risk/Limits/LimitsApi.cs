using Microsoft.Extensions.Options;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;
using QuantTrader.Trading.Risk;

namespace QuantTrader.Risk.Limits;

/// <summary>PUT body: any limit left out keeps its current value.</summary>
public sealed record LimitsBody(decimal? MaxOrderNotional, decimal? MaxPositionNotional, decimal? MaxDailyLoss, int? MaxOpenOrders);

/// <summary>The caller's limits in force, and the operator's ceiling they cannot go above.</summary>
public sealed record LimitsView(decimal MaxOrderNotional, decimal MaxPositionNotional, decimal MaxDailyLoss, int MaxOpenOrders, RiskLimits Ceiling, bool KillSwitch);

public static class LimitsApi
{
    public static WebApplication MapLimitsApi(this WebApplication app)
    {
        var limits = app.MapGroup("/api/v1/risk/limits").WithTags("Risk").RequireCaller();
        limits.MapGet("", GetAsync).WithSummary("The caller's risk limits in force (USDT notional) and the operator's ceiling.");
        limits.MapPut("", PutAsync)
            .WithSummary("Set the caller's risk limits; fields left out keep their value. A value above the operator's ceiling is a 400 naming the field.");
        return app;
    }

    private static async Task<IResult> GetAsync(HttpContext http, LimitsStore store, IOptionsMonitor<RiskSettings> settings, CancellationToken ct) =>
        TypedResults.Ok(View(await store.GetEffectiveAsync(http.GetCaller().UserId, ct), settings.CurrentValue));

    private static async Task<IResult> PutAsync(LimitsBody body, HttpContext http, LimitsStore store, IOptionsMonitor<RiskSettings> settings,
        ILogger<LimitsStore> logger, CancellationToken ct)
    {
        var userId = http.GetCaller().UserId;
        var current = settings.CurrentValue;
        var ceiling = current.Ceiling.ToLimits();
        var existing = await store.GetEffectiveAsync(userId, ct);
        var wanted = new RiskLimits(
            body.MaxOrderNotional ?? existing.MaxOrderNotional,
            body.MaxPositionNotional ?? existing.MaxPositionNotional,
            body.MaxDailyLoss ?? existing.MaxDailyLoss,
            body.MaxOpenOrders ?? existing.MaxOpenOrders);
        if (wanted.Validate(ceiling) is { Count: > 0 } errors)
        {
            return ProblemResults.Validation(errors[0].Field, errors[0].Message);
        }

        await store.SaveAsync(userId, wanted, ct);
        logger.LogInformation("Risk limits of {UserId} set to {Limits}", userId, wanted);
        return TypedResults.Ok(View(wanted, current));
    }

    private static LimitsView View(RiskLimits l, RiskSettings settings) =>
        new(l.MaxOrderNotional, l.MaxPositionNotional, l.MaxDailyLoss, l.MaxOpenOrders, settings.Ceiling.ToLimits(), settings.KillSwitch);
}
