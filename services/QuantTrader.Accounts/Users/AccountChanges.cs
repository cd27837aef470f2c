using NATS.Client.Core;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.Accounts.Users;

/// <summary>
/// Tells the gateway that a user's keys or plan changed, so it drops what it cached for them at once:
/// a revoked key stops working immediately, not when a cache entry expires.
/// </summary>
public sealed class AccountChanges(INatsConnection nats, ILogger<AccountChanges> logger)
{
    public async Task PublishAsync(Guid userId, string why, CancellationToken ct)
    {
        try
        {
            await nats.PublishAsync(Subjects.AccountsChanged, userId.ToString("N"), cancellationToken: ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The gateway's cache also expires on its own (seconds): log and go on rather than fail the request.
            logger.LogWarning(ex, "Could not announce account change ({Why}) for user {UserId}", why, userId);
        }
    }
}
