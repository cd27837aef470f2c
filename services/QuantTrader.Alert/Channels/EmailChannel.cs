using System.Net;
using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using QuantTrader.Alert.Notifications;
using QuantTrader.Alert.Webhooks;

namespace QuantTrader.Alert.Channels;

/// <summary>
/// An email through the user's SMTP server (MailKit): one connection per message, the readable default text as a
/// plain-text body. The delivery's idempotency key is the <c>Message-ID</c> (<c>{key:N}@quanttrader.notifications</c>)
/// and the <c>X-QuantTrader-Idempotency-Key</c> header, so a re-delivery is recognisable (mail clients thread or drop a
/// repeated Message-ID). SMTP says itself whether a refusal is for now or for good: a 4xx reply is
/// <see cref="AttemptOutcome.Refused"/> (retried with backoff), a 5xx <see cref="AttemptOutcome.Rejected"/> (failed at
/// once, the server's reply as the reason). The server's address obeys the webhook SSRF rules on every connection.
/// </summary>
public sealed class EmailChannel(ChannelStore channels, IOptions<ChannelOptions> options, IOptions<WebhookOptions> webhooks, TimeProvider time)
    : INotificationChannel
{
    public const string IdempotencyKeyHeader = "X-QuantTrader-Idempotency-Key";
    public const string EventIdHeader = "X-QuantTrader-Event-Id";
    public const string MessageIdDomain = "quanttrader.notifications";

    public string Name => ChannelTypes.Email;

    /// <summary>Each channel its own queue and breaker.</summary>
    public string DestinationOf(string target) => $"{Name}:{Guid.Parse(target):N}";

    public async Task<ChannelResult> SendAsync(OutboxDelivery delivery, CancellationToken ct)
    {
        if (!Guid.TryParse(delivery.Target, out var id) || await channels.FindAsync(delivery.UserId, id, ct) is not { Settings.Email: { } email })
        {
            return new ChannelResult(AttemptOutcome.Refused, Error: "the notification channel was deleted");
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(options.Value.Timeout);
        try
        {
            using var smtp = new SmtpClient { Timeout = (int)options.Value.Timeout.TotalMilliseconds };
            if (await ConnectAsync(email, limit.Token) is not { } socket)
            {
                return new ChannelResult(AttemptOutcome.Rejected, Error: $"SMTP host {email.Host} resolves only to forbidden (special-use, loopback or private) addresses");
            }

            using (socket)
            {
                await smtp.ConnectAsync(socket, email.Host, email.Port, Security(email.Security), limit.Token);
                if (email.Username is { } username)
                {
                    await smtp.AuthenticateAsync(username, email.Password ?? "", limit.Token);
                }

                await smtp.SendAsync(Message(delivery, email), limit.Token);
                await smtp.DisconnectAsync(quit: true, limit.Token);
            }

            return new ChannelResult(AttemptOutcome.Delivered, 250);
        }
        catch (SmtpCommandException ex)
        {
            var code = (int)ex.StatusCode;
            var reply = $"SMTP {code} {ex.Message}";
            return new ChannelResult(code is >= 500 and < 600 ? AttemptOutcome.Rejected : AttemptOutcome.Refused, code, reply);
        }
        catch (AuthenticationException ex)
        {
            // 535: the login is wrong; it stays wrong until the user replaces the channel.
            return new ChannelResult(AttemptOutcome.Rejected, 535, $"SMTP authentication failed: {ex.Message}");
        }
        catch (Exception ex) when (ex is SmtpProtocolException or SslHandshakeException or ServiceNotConnectedException or IOException or SocketException
                                       || (ex is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return new ChannelResult(AttemptOutcome.Unreachable, Error: ex is OperationCanceledException ? "no answer in time" : ex.Message);
        }
    }

    /// <summary>A socket to an address the SSRF rules allow (checked on the address dialled, as for webhooks), or null.</summary>
    private async Task<Socket?> ConnectAsync(EmailSettings email, CancellationToken ct)
    {
        IPAddress[] addresses = IPAddress.TryParse(email.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(email.Host, ct);
        var allowed = addresses.Where(a => WebhookAddressPolicy.IsAllowed(a, webhooks.Value.AllowPrivateNetworks)).ToArray();
        if (allowed.Length == 0)
        {
            return null;
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, email.Port, ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private MimeMessage Message(OutboxDelivery delivery, EmailSettings email)
    {
        var message = new MimeMessage
        {
            Subject = Subject(delivery),
            Date = time.GetUtcNow(),
            MessageId = $"{delivery.Id:N}@{MessageIdDomain}",
            Body = new TextPart("plain") { Text = ChannelMessages.Text(delivery, Markup.Plain) },
        };
        message.From.Add(MailboxAddress.Parse(email.From));
        message.To.Add(MailboxAddress.Parse(email.To));
        message.Headers.Add(IdempotencyKeyHeader, delivery.Id.ToString());
        message.Headers.Add(EventIdHeader, delivery.EventId.ToString());
        return message;
    }

    private static string Subject(OutboxDelivery delivery) => delivery.Kind switch
    {
        NotificationOutbox.AlertFiredKind =>
            $"Alert: {delivery.Payload.GetProperty("symbol").GetString()} on {delivery.Payload.GetProperty("exchange").GetString()}",
        NotificationOutbox.ChannelTestKind => "QuantTrader test message",
        _ => "QuantTrader notification",
    };

    private static SecureSocketOptions Security(string security) => security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.Tls => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.StartTls,
    };
}
