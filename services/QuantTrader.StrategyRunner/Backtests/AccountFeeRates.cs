using Npgsql;
using QuantTrader.Trading;

namespace QuantTrader.StrategyRunner.Backtests;

/// <summary>
/// The maker and taker rates of a user's paper account, as the paper engine stored them (<c>paper_accounts</c>,
/// migration 0400; set with <c>PUT /api/v1/fees</c>), so a backtest pays what paper trading would. A user without a
/// paper account yet pays the platform default, <see cref="FeeRates.Default"/> (the paper engine's default too,
/// unless its operator changed <c>PaperEngine:MakerFeeRate</c>/<c>TakerFeeRate</c>).
/// </summary>
public sealed class AccountFeeRates(NpgsqlDataSource db)
{
    public async Task<FeeRates> ReadAsync(Guid userId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT maker_fee_rate, taker_fee_rate FROM paper_accounts WHERE user_id = $1");
        command.Parameters.Add(new() { Value = userId });
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new FeeRates(reader.GetDecimal(0), reader.GetDecimal(1)) : FeeRates.Default;
    }
}
