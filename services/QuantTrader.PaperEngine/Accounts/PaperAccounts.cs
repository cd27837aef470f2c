using Microsoft.Extensions.Options;
using QuantTrader.PaperEngine.Engine;
using QuantTrader.Trading;

namespace QuantTrader.PaperEngine.Accounts;

/// <summary>
/// Which users have a paper account. An account is opened on its first use (an order, a portfolio or fee read) with
/// the operator's paper money and default fee rates.
/// </summary>
public sealed class PaperAccounts(IOptions<PaperEngineOptions> options, ILogger<PaperAccounts> logger)
{
    private readonly PaperEngineOptions _options = options.Value;
    private readonly HashSet<Guid> _accounts = [];

    public int Count => _accounts.Count;

    /// <summary>Accounts that are stored already.</summary>
    public void Restore(IEnumerable<Guid> userIds) => _accounts.UnionWith(userIds);

    /// <summary>Opens the user's account in <paramref name="exchange"/> unless it exists; true when it was opened now (and must be written).</summary>
    public bool Open(PaperExchange exchange, Guid userId)
    {
        if (!_accounts.Add(userId))
        {
            return false;
        }

        exchange.Ledger.Deposit(userId, _options.StartingAsset, _options.StartingBalance);
        exchange.SetFeeRates(userId, new FeeRates(_options.MakerFeeRate, _options.TakerFeeRate));
        logger.LogInformation("Opened paper account of {UserId} with {Amount} {Asset}", userId, _options.StartingBalance, _options.StartingAsset);
        return true;
    }
}
