using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace QuantTrader.ServiceDefaults.Partitioning;

/// <summary>
/// HTTP for an active/standby service (<see cref="PartitionScheme.ActiveStandby"/>): the gateway may reach any replica
/// (a Kubernetes Service or Aspire's proxy balances over all of them), but only the active one can answer. A standby
/// passes the request over NATS (request/reply on the service's forwarding subject, which only the active replica
/// answers) and returns the answer unchanged; the active replica replays it against its own listener, so it goes
/// through the same pipeline — identity check included — as a request that came to it directly. No replica needs to
/// know another's address. While no replica is active (a hand-over: seconds) the answer is 503 with Retry-After.
/// </summary>
public static class ActiveReplicaForwarding
{
    /// <summary>Set on a forwarded request: its receiver answers it itself, never forwards it again.</summary>
    public const string ForwardedHeader = "X-QuantTrader-Forwarded";

    private const int MaxBody = 512 * 1024;

    /// <summary>How long a request waits for an active replica to appear: longer than a lapsing lease (10 s) and a state load.</summary>
    private static readonly TimeSpan HandOverPatience = TimeSpan.FromSeconds(25);

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Content-Length", "Transfer-Encoding", "Keep-Alive", "Upgrade", "Date", "Server",
    };

    /// <summary>Requests under <paramref name="prefix"/> that reach a replica which is not active go to the active one.</summary>
    public static WebApplication UseForwardingToActiveReplica(this WebApplication app, string subject, Func<bool> isActive, PathString prefix)
    {
        app.Use(async (context, next) =>
        {
            if (isActive() || !context.Request.Path.StartsWithSegments(prefix))
            {
                await next(context);
                return;
            }

            if (context.Request.Headers.ContainsKey(ForwardedHeader))
            {
                await UnavailableAsync(context, "This replica stopped being the active one while the request was on its way.");
                return;
            }

            await ForwardAsync(context, subject);
        });
        return app;
    }

    private static async Task ForwardAsync(HttpContext context, string subject)
    {
        var nats = context.RequestServices.GetRequiredService<INatsConnection>();
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        if (body.Length > MaxBody)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }

        var request = new ForwardedRequest(
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.Where(h => !HopByHop.Contains(h.Key)).ToDictionary(h => h.Key, h => h.Value.ToString()),
            body.ToArray());
        ForwardedResponse? response = null;
        var payload = JsonSerializer.SerializeToUtf8Bytes(request, ForwardingJson.Default.ForwardedRequest);
        var time = context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System;
        var giveUp = time.GetUtcNow() + HandOverPatience;
        while (response is null)
        {
            try
            {
                var reply = await nats.RequestAsync<byte[], byte[]>(subject, payload,
                    replyOpts: new NatsSubOpts { Timeout = TimeSpan.FromSeconds(15) },
                    cancellationToken: context.RequestAborted);
                response = reply.Data is { } data ? JsonSerializer.Deserialize(data, ForwardingJson.Default.ForwardedResponse) : null;
                if (response is null)
                {
                    await UnavailableAsync(context, "The active replica gave an empty answer.");
                    return;
                }
            }
            catch (NatsNoRespondersException) when (time.GetUtcNow() < giveUp)
            {
                // Nobody active: a hand-over (a lease lapsing, a state loading). The request reached no one, so it is
                // safe to send again; the client waits a few seconds instead of seeing the hand-over.
                await Task.Delay(TimeSpan.FromMilliseconds(250), time, context.RequestAborted);
            }
            catch (NatsNoRespondersException)
            {
                await UnavailableAsync(context, "No replica is active right now (a hand-over in progress).");
                return;
            }
            catch (NatsNoReplyException)
            {
                // Not safe to repeat: the active replica may have done it.
                await UnavailableAsync(context, "The active replica did not answer in time.");
                return;
            }
        }

        context.Response.StatusCode = response.Status;
        foreach (var (name, value) in response.Headers)
        {
            context.Response.Headers[name] = value;
        }
        await context.Response.Body.WriteAsync(response.Body, context.RequestAborted);
    }

    private static async Task UnavailableAsync(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = "2";
        await Results.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Changing over to another replica")
            .ExecuteAsync(context);
    }

    /// <summary>
    /// The active replica's side: answers forwarded requests on <paramref name="subject"/> until <paramref name="ct"/>
    /// is cancelled, by replaying each against this process's own HTTP listener.
    /// </summary>
    public static async Task AnswerForwardedRequestsAsync(IServiceProvider services, string subject, CancellationToken ct)
    {
        var nats = services.GetRequiredService<INatsConnection>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ActiveReplicaForwarding));
        using var http = new HttpClient { BaseAddress = OwnAddress(services), Timeout = TimeSpan.FromSeconds(14) };
        await using var subscription = await nats.SubscribeCoreAsync<byte[]>(subject, queueGroup: subject, cancellationToken: ct);
        try
        {
            await foreach (var msg in subscription.Msgs.ReadAllAsync(ct))
            {
                // One at a time would serialize every standby's traffic behind the slowest request: each its own task.
                _ = Task.Run(() => AnswerAsync(http, msg, logger, ct), CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private static async Task AnswerAsync(HttpClient http, NatsMsg<byte[]> msg, ILogger logger, CancellationToken ct)
    {
        try
        {
            var request = msg.Data is { } data ? JsonSerializer.Deserialize(data, ForwardingJson.Default.ForwardedRequest) : null;
            if (request is null)
            {
                return;
            }

            using var outgoing = new HttpRequestMessage(new HttpMethod(request.Method), request.PathAndQuery);
            if (request.Body.Length > 0 || request.Headers.ContainsKey("Content-Type"))
            {
                outgoing.Content = new ByteArrayContent(request.Body);
            }
            foreach (var (name, value) in request.Headers)
            {
                if (!outgoing.Headers.TryAddWithoutValidation(name, value))
                {
                    outgoing.Content?.Headers.TryAddWithoutValidation(name, value);
                }
            }
            outgoing.Headers.TryAddWithoutValidation(ForwardedHeader, "1");

            using var answer = await http.SendAsync(outgoing, ct);
            var headers = answer.Headers.Concat(answer.Content.Headers)
                .Where(h => !HopByHop.Contains(h.Key))
                .ToDictionary(h => h.Key, h => string.Join(", ", h.Value));
            var response = new ForwardedResponse((int)answer.StatusCode, headers, await answer.Content.ReadAsByteArrayAsync(ct));
            await msg.ReplyAsync(JsonSerializer.SerializeToUtf8Bytes(response, ForwardingJson.Default.ForwardedResponse), cancellationToken: ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // No reply: the standby answers 503 after its timeout, and the client retries.
            logger.LogWarning(ex, "A forwarded request could not be answered");
        }
    }

    private static Uri OwnAddress(IServiceProvider services)
    {
        var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("This replica listens nowhere: forwarded requests cannot be answered.");
        // A wildcard listener (Kubernetes: http://+:8080) is reached on loopback from inside the process.
        var uri = new UriBuilder(address.Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1").Replace("://[::]", "://127.0.0.1").Replace("://0.0.0.0", "://127.0.0.1"));
        return uri.Uri;
    }
}

internal sealed record ForwardedRequest(string Method, string PathAndQuery, Dictionary<string, string> Headers, byte[] Body);

internal sealed record ForwardedResponse(int Status, Dictionary<string, string> Headers, byte[] Body);

[JsonSerializable(typeof(ForwardedRequest))]
[JsonSerializable(typeof(ForwardedResponse))]
internal sealed partial class ForwardingJson : JsonSerializerContext;
