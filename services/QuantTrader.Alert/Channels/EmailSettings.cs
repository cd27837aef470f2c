using System.Net.Mail;
using MimeKit;
using QuantTrader.Alert.Webhooks;
using QuantTrader.ServiceDefaults.Problems;

namespace QuantTrader.Alert.Channels;

/// <summary>An email channel's SMTP submission: the server, how the connection is secured, the optional login, and the
/// one sender and one recipient. Stored encrypted with the rest of the channel's settings (the password is the secret).</summary>
public sealed record EmailSettings(string Host, int Port, string Security, string? Username, string? Password, string From, string To);

/// <summary>How the connection to the SMTP server is secured.</summary>
public static class SmtpSecurity
{
    /// <summary>Plain SMTP, upgraded by <c>STARTTLS</c>, which the server must offer (the default; port 587).</summary>
    public const string StartTls = "starttls";

    /// <summary>TLS from the first byte (SMTPS; port 465).</summary>
    public const string Tls = "tls";

    /// <summary>No encryption (a relay on the same host or network; port 25). No login is sent over it.</summary>
    public const string None = "none";

    public static readonly string[] All = [StartTls, Tls, None];

    public static int DefaultPort(string security) => security switch
    {
        Tls => 465,
        None => 25,
        _ => 587,
    };
}

/// <summary>
/// Checks the email fields of <c>POST /api/v1/notification-channels</c>, each refusal a 400 naming its field: the host
/// obeys the same SSRF rules as a webhook URL (checked again on every connection), addresses are single mailboxes
/// without line breaks (no header injection), and a login is only accepted over an encrypted connection.
/// </summary>
public static class EmailChannelRequest
{
    public const int MaxHostLength = 253;
    public const int MaxAddressLength = 320;
    public const int MaxCredentialLength = 256;

    public static async Task<(EmailSettings? Settings, IResult? Problem)> ValidateAsync(CreateChannelRequest request, bool allowPrivate, CancellationToken ct)
    {
        var host = request.Host?.Trim();
        if (string.IsNullOrEmpty(host))
        {
            return Refuse("host", "host (the SMTP server) is required.");
        }

        if (host.Length > MaxHostLength || Uri.CheckHostName(host) is UriHostNameType.Unknown or UriHostNameType.Basic)
        {
            return Refuse("host", "host must be a host name or an IP address.");
        }

        var security = request.Security?.ToLowerInvariant() ?? SmtpSecurity.StartTls;
        if (!SmtpSecurity.All.Contains(security))
        {
            return Refuse("security", $"security must be one of {string.Join(", ", SmtpSecurity.All)}.");
        }

        var port = request.Port ?? SmtpSecurity.DefaultPort(security);
        if (port is < 1 or > 65535)
        {
            return Refuse("port", "port must be between 1 and 65535.");
        }

        if (request.Username is { Length: > MaxCredentialLength } || request.Password is { Length: > MaxCredentialLength })
        {
            return Refuse(request.Username is { Length: > MaxCredentialLength } ? "username" : "password", $"username and password must be at most {MaxCredentialLength} characters.");
        }

        var username = string.IsNullOrEmpty(request.Username) ? null : request.Username;
        var password = string.IsNullOrEmpty(request.Password) ? null : request.Password;
        if ((username is null) != (password is null))
        {
            return Refuse(username is null ? "username" : "password", "username and password go together: give both or neither.");
        }

        if (password is not null && security == SmtpSecurity.None)
        {
            return Refuse("security", "a password is only sent over an encrypted connection: security must be starttls or tls.");
        }

        if (Mailbox(request.From) is not { } from)
        {
            return Refuse("from", "from must be one email address (name <user@example.com> or user@example.com).");
        }

        if (Mailbox(request.To) is not { } to)
        {
            return Refuse("to", "to must be one email address (user@example.com).");
        }

        if (await WebhookAddressPolicy.CheckHostAsync(host, $"host '{host}'", "email channels", allowPrivate, ct) is { } refused)
        {
            return Refuse("host", refused);
        }

        return (new EmailSettings(host, port, security, username, password, from, to), null);
    }

    /// <summary>What the API shows of the channel: where it sends, never the login.</summary>
    public static string Hint(EmailSettings email) => $"to {MailboxAddress.Parse(email.To).Address} via {email.Host}:{email.Port}";

    /// <summary>The address in the form MimeKit reads back, or null when it is not exactly one usable mailbox.</summary>
    private static string? Mailbox(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxAddressLength || text.AsSpan().IndexOfAny('\r', '\n') >= 0
            || !MailboxAddress.TryParse(text.Trim(), out var mailbox) || !MailAddress.TryCreate(mailbox.Address, out var checkedAddress)
            || (!checkedAddress.Host.Contains('.', StringComparison.Ordinal) && checkedAddress.Host != "localhost"))
        {
            return null;
        }

        return mailbox.ToString();
    }

    private static (EmailSettings?, IResult?) Refuse(string field, string detail) => (null, ProblemResults.Validation(field, detail));
}
