namespace QuantTrader.Indicators;

/// <summary>
/// Average Directional Index (Wilder). From the second bar: TR, +DM = up-move if it exceeds the
/// down-move and is positive (else 0), −DM symmetrically. TR, +DM and −DM are Wilder-summed: the first
/// <c>period</c> values are added, then <c>s = s − s/period + x</c>. +DI = 100·(+DM sum)/(TR sum) and
/// −DI likewise (first at bar <c>period</c>); DX = 100·|+DI − −DI|/(+DI + −DI); ADX = mean of the first
/// <c>period</c> DX values, then Wilder-smoothed (first at bar 2·period−1). Zero ranges give 0, not NaN.
/// </summary>
public sealed class Adx : Indicator
{
    private readonly int period;
    private readonly WilderSmoother adx;
    private IndicatorBar? previous;
    private int changes;
    private double trSum;
    private double plusDmSum;
    private double minusDmSum;

    /// <summary>Creates an ADX over <paramref name="period"/> bars.</summary>
    public Adx(int period = 14)
    {
        RequirePeriod(period, nameof(period));
        this.period = period;
        adx = new WilderSmoother(period);
    }

    /// <inheritdoc />
    public override string Name => "adx";

    /// <summary>Latest ADX; NaN until bar 2·period−1.</summary>
    public double Value => adx.Value;

    /// <summary>+DI; NaN until bar <c>period</c>.</summary>
    public double PlusDi { get; private set; } = double.NaN;

    /// <summary>−DI; NaN until bar <c>period</c>.</summary>
    public double MinusDi { get; private set; } = double.NaN;

    /// <inheritdoc />
    protected override bool Accept(IndicatorBar bar)
    {
        var last = previous;
        previous = bar;
        if (last is null)
        {
            return false;
        }

        var tr = (double)TrueRange.Of(bar, last.Close);
        var upMove = bar.High - last.High;
        var downMove = last.Low - bar.Low;
        var plusDm = upMove > downMove && upMove > 0m ? (double)upMove : 0d;
        var minusDm = downMove > upMove && downMove > 0m ? (double)downMove : 0d;

        changes++;
        if (changes <= period)
        {
            trSum += tr;
            plusDmSum += plusDm;
            minusDmSum += minusDm;
            if (changes < period)
            {
                return false;
            }
        }
        else
        {
            trSum = trSum - (trSum / period) + tr;
            plusDmSum = plusDmSum - (plusDmSum / period) + plusDm;
            minusDmSum = minusDmSum - (minusDmSum / period) + minusDm;
        }

        PlusDi = trSum == 0d ? 0d : 100d * plusDmSum / trSum;
        MinusDi = trSum == 0d ? 0d : 100d * minusDmSum / trSum;
        var diSum = PlusDi + MinusDi;
        var dx = diSum == 0d ? 0d : 100d * Math.Abs(PlusDi - MinusDi) / diSum;
        return adx.Add(dx);
    }

    /// <inheritdoc />
    protected override void WriteOutputs(IDictionary<string, double> outputs)
    {
        AddIfDefined(outputs, "value", Value);
        AddIfDefined(outputs, "pdi", PlusDi);
        AddIfDefined(outputs, "mdi", MinusDi);
    }
}
