namespace QuantTrader.PaperEngine.Engine;

/// <summary>The paper engine's settings (section <c>PaperEngine</c>).</summary>
public sealed class PaperEngineOptions
{
    public const string Section = "PaperEngine";

    /// <summary>Asset of a new account's paper money.</summary>
    public string StartingAsset { get; set; } = "USDT";

    /// <summary>Paper money a new account starts with (created on the account's first use).</summary>
    public decimal StartingBalance { get; set; } = 10_000m;

    /// <summary>Default maker fee rate of a new account (0.001 = 0.1 %).</summary>
    public decimal MakerFeeRate { get; set; } = 0.001m;

    /// <summary>Default taker fee rate of a new account.</summary>
    public decimal TakerFeeRate { get; set; } = 0.001m;

    /// <summary>
    /// Lowest fee rate a user may set for their own account (PUT /api/v1/fees). 0 by default: paper money has no
    /// rebates, and a negative maker rate would let a fill add to a balance out of nothing.
    /// </summary>
    public decimal MinFeeRate { get; set; }

    /// <summary>Highest fee rate a user may set (1 % by default, above any real exchange's base tier).</summary>
    public decimal MaxFeeRate { get; set; } = 0.01m;

    /// <summary>How long an order waits for the risk manager before it is rejected (fail closed).</summary>
    public TimeSpan RiskTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Subject the risk check is asked on (configurable so a test can point it at nobody).</summary>
    public string RiskSubject { get; set; } = Contracts.Messaging.Subjects.RiskCheck;

    /// <summary>Extra quote a market buy locks above the last price (price may move before it fills).</summary>
    public decimal MarketBuyMargin { get; set; } = 0.05m;

    /// <summary>How often the books' trade watermarks are written when no order changed (bounds replay after a restart).</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a failing database write is retried before the engine stops rather than diverge from what is stored.</summary>
    public TimeSpan PersistRetryWindow { get; set; } = TimeSpan.FromSeconds(30);
}
