namespace QuantTrader.Gateway.Authentication;

/// <summary>
/// Whatever this replica holds about a user that a key revocation or a plan change makes stale. One listener hears
/// <c>accounts.changed</c> and tells every observer, in registration order (the key cache first).
/// </summary>
public interface IAccountChangeObserver
{
    void AccountChanged(Guid userId);
}
