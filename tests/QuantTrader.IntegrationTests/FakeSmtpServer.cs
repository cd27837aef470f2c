using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MimeKit;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// A small SMTP server (RFC 5321) on loopback that the alert service's MailKit client talks to over real TCP: greeting
/// 220, <c>EHLO</c>/<c>HELO</c>, <c>MAIL FROM</c>, <c>RCPT TO</c>, <c>DATA</c> (dot-unstuffed, ended by a lone
/// <c>.</c>), <c>RSET</c>, <c>NOOP</c>, <c>QUIT</c>. No STARTTLS and no AUTH are offered. Every <c>RCPT TO</c> answer
/// is recorded per recipient; <see cref="Answer"/> makes the next ones to a recipient a 451 (try later) or 550 (never),
/// as a real server refuses a mailbox. Accepted messages are parsed with MimeKit and kept.
/// </summary>
public sealed class FakeSmtpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, (int Times, string Reply)> _answers = new(StringComparer.OrdinalIgnoreCase);
    private Task _accepting = Task.CompletedTask;

    /// <summary>One <c>RCPT TO</c> and how it was answered (250, or what <see cref="Answer"/> said).</summary>
    public sealed record Attempt(string Recipient, int Code, DateTimeOffset At);

    public string Host => "127.0.0.1";

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<Attempt> Attempts { get; } = new();

    public ConcurrentQueue<(string Recipient, MimeMessage Message)> Messages { get; } = new();

    public MimeMessage[] DeliveredTo(string recipient) =>
        [.. Messages.Where(m => string.Equals(m.Recipient, recipient, StringComparison.OrdinalIgnoreCase)).Select(m => m.Message)];

    public int[] AnswersTo(string recipient) =>
        [.. Attempts.Where(a => string.Equals(a.Recipient, recipient, StringComparison.OrdinalIgnoreCase)).Select(a => a.Code)];

    /// <summary>The next <paramref name="times"/> <c>RCPT TO</c> of <paramref name="recipient"/> are answered with
    /// <paramref name="code"/> (451 or 550) and a reply text as real servers give.</summary>
    public void Answer(string recipient, int code, int times) => _answers[recipient] = (times, code switch
    {
        451 => "451 4.3.0 Mail server temporarily rejected message",
        550 => "550 5.1.1 <" + recipient + ">: Recipient address rejected: User unknown in local recipient table",
        _ => $"{code} refused",
    });

    public static FakeSmtpServer Start()
    {
        var server = new FakeSmtpServer();
        server._listener.Start();
        server._accepting = server.AcceptAsync();
        return server;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _ = Task.Run(() => SessionAsync(client));
        }
    }

    private async Task SessionAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.UTF8);
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\r\n", AutoFlush = true };
            await writer.WriteLineAsync("220 fake-smtp.test ESMTP ready");
            var recipients = new List<string>();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                var verb = line.Split(' ', 2)[0].ToUpperInvariant();
                switch (verb)
                {
                    case "EHLO":
                        await writer.WriteAsync("250-fake-smtp.test greets you\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n");
                        break;
                    case "HELO":
                        await writer.WriteLineAsync("250 fake-smtp.test");
                        break;
                    case "MAIL":
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.1.0 Ok");
                        break;
                    case "RCPT":
                        var recipient = Address(line);
                        var reply = Refusal(recipient);
                        Attempts.Enqueue(new Attempt(recipient, reply is null ? 250 : int.Parse(reply[..3], System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow));
                        if (reply is null)
                        {
                            recipients.Add(recipient);
                        }

                        await writer.WriteLineAsync(reply ?? "250 2.1.5 Ok");
                        break;
                    case "DATA" when recipients.Count == 0:
                        await writer.WriteLineAsync("554 5.5.1 No valid recipients");
                        break;
                    case "DATA":
                        await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                        var data = new StringBuilder();
                        while (await reader.ReadLineAsync(_stop.Token) is { } dataLine && dataLine != ".")
                        {
                            data.Append(dataLine.StartsWith('.') ? dataLine[1..] : dataLine).Append("\r\n");
                        }

                        var message = await MimeMessage.LoadAsync(new MemoryStream(Encoding.UTF8.GetBytes(data.ToString())));
                        foreach (var to in recipients)
                        {
                            Messages.Enqueue((to, message));
                        }

                        await writer.WriteLineAsync("250 2.0.0 Ok: queued");
                        break;
                    case "RSET":
                        recipients.Clear();
                        await writer.WriteLineAsync("250 2.0.0 Ok");
                        break;
                    case "NOOP":
                        await writer.WriteLineAsync("250 2.0.0 Ok");
                        break;
                    case "QUIT":
                        await writer.WriteLineAsync("221 2.0.0 Bye");
                        return;
                    default:
                        await writer.WriteLineAsync("502 5.5.2 Command not recognized");
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client hung up, or the server is stopping.
        }
    }

    private string? Refusal(string recipient)
    {
        while (_answers.TryGetValue(recipient, out var answer) && answer.Times > 0)
        {
            if (_answers.TryUpdate(recipient, (answer.Times - 1, answer.Reply), answer))
            {
                return answer.Reply;
            }
        }

        return null;
    }

    /// <summary>The address of <c>RCPT TO:&lt;a@b&gt;</c> (parameters after it ignored).</summary>
    private static string Address(string line)
    {
        var open = line.IndexOf('<', StringComparison.Ordinal);
        var close = line.IndexOf('>', StringComparison.Ordinal);
        return open >= 0 && close > open ? line[(open + 1)..close] : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
