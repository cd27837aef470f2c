namespace QuantTrader.Accounts.Users;

/// <summary>
/// The platform's operators: the accounts whose email is listed in <c>Accounts:Operators</c> (emails separated by
/// commas, semicolons or spaces, or a configuration list). Only an operator may write shared market data (history
/// imports). Configuration, not a stored flag: nobody can become an operator through the API. Emails are not verified
/// at sign-up, so an operator creates the listed accounts before the system is reachable by anyone else (an address
/// that is taken cannot be registered again).
/// </summary>
public sealed class Operators
{
    public const string ConfigKey = "Accounts:Operators";

    private readonly HashSet<string> _emails;

    public Operators(IConfiguration configuration)
    {
        var section = configuration.GetSection(ConfigKey);
        IEnumerable<string?> listed = section.Value is { } joined ? [joined] : section.GetChildren().Select(c => c.Value);
        _emails = listed
            .SelectMany(v => (v ?? "").Split([',', ';', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(e => e.ToLowerInvariant())
            .ToHashSet(StringComparer.Ordinal);
    }

    public int Count => _emails.Count;

    /// <summary>Emails are stored lower-cased (account creation), so the comparison is on the lower-cased address.</summary>
    public bool IsOperator(string email) => _emails.Contains(email.ToLowerInvariant());
}
