using System.Globalization;
using Microsoft.Extensions.Options;
using QuantTrader.PaperEngine.Engine;
using QuantTrader.ServiceDefaults.Identity;
using QuantTrader.ServiceDefaults.Problems;
using QuantTrader.Trading;

namespace QuantTrader.PaperEngine.Fees;

/// <summary>PUT /api/v1/fees body: either rate may be left out to keep its current value.</summary>
public sealed record SetFeesBody(decimal? MakerFeeRate, decimal? TakerFeeRate);

/// <summary>
/// The caller's fee rates (fractions of notional: 0.001 = 0.1 %), the operator's defaults for new accounts and the range a
/// user may choose from.
/// </summary>
public sealed record FeeScheduleView(
    decimal MakerFeeRate,
    decimal TakerFeeRate,
    decimal DefaultMakerFeeRate,
    decimal DefaultTakerFeeRate,
    decimal MinFeeRate,
    decimal MaxFeeRate);

/// <summary>
/// Per-account maker/taker fee rates. A paper account starts with the operator's defaults (<c>PaperEngine:MakerFeeRate</c>,
/// <c>TakerFeeRate</c>); its owner may set them to the tier they pay on the real exchange, within the operator's
/// <c>MinFeeRate</c>..<c>MaxFeeRate</c>, so that paper results carry the costs they will really pay.
/// </summary>
public static class FeesApi
{
    public static WebApplication MapFeesApi(this WebApplication app)
    {
        var fees = app.MapGroup("/api/v1/fees").WithTags("Trading").RequireCaller();
        fees.MapGet("", async (HttpContext http, ExchangeLoop loop, IOptions<PaperEngineOptions> options, CancellationToken ct) =>
                TypedResults.Ok(View(await loop.GetFeeRatesAsync(http.GetCaller().UserId, ct), options.Value)))
            .WithSummary("The caller's maker and taker fee rates (0.001 = 0.1 %), the defaults of new accounts and the range a user may set.");
        fees.MapPut("", SetAsync)
            .WithSummary("Sets the caller's makerFeeRate and/or takerFeeRate (an omitted one keeps its value). Orders accepted from then on pay the new rates; open orders keep theirs. 400 naming the field when a rate is outside [minFeeRate, maxFeeRate].");
        return app;
    }

    private static async Task<IResult> SetAsync(SetFeesBody body, HttpContext http, ExchangeLoop loop, IOptions<PaperEngineOptions> options, CancellationToken ct)
    {
        var settings = options.Value;
        if (body.MakerFeeRate is null && body.TakerFeeRate is null)
        {
            return ProblemResults.Validation("makerFeeRate", "Give makerFeeRate and/or takerFeeRate (fractions of notional: 0.001 = 0.1 %).");
        }

        foreach (var (field, value) in new[] { ("makerFeeRate", body.MakerFeeRate), ("takerFeeRate", body.TakerFeeRate) })
        {
            if (value is { } rate && (rate < settings.MinFeeRate || rate > settings.MaxFeeRate || rate >= 1m))
            {
                // Below 1 whatever the operator configured: a fee of the whole notional would leave a sell nothing.
                return ProblemResults.Validation(field,
                    $"{field} {Format(rate)} is outside the range the operator allows, {Format(settings.MinFeeRate)} to {Format(settings.MaxFeeRate)} (0.001 = 0.1 %).");
            }
        }

        var rates = await loop.SetFeeRatesAsync(http.GetCaller().UserId, new FeeRateChange(body.MakerFeeRate, body.TakerFeeRate), ct);
        return TypedResults.Ok(View(rates, settings));
    }

    private static FeeScheduleView View(FeeRates rates, PaperEngineOptions settings) =>
        new(rates.Maker, rates.Taker, settings.MakerFeeRate, settings.TakerFeeRate, settings.MinFeeRate, settings.MaxFeeRate);

    private static string Format(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
