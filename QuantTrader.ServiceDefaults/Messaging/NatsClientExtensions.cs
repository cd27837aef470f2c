using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;

namespace QuantTrader.ServiceDefaults.Messaging;

/// <summary>
/// The wiring Aspire.NATS.Net would give us (that package is not available here): one shared
/// <see cref="NatsConnection"/> and <see cref="INatsJSContext"/> from <c>ConnectionStrings:{name}</c>,
/// plus a health check from the connection state.
/// </summary>
public static class NatsClientExtensions
{
    /// <summary>The service key of the publishing connection's <see cref="INatsJSContext"/> (see <see cref="AddNatsClient"/>).</summary>
    public const string Publisher = "nats-publisher";

    public static IHostApplicationBuilder AddNatsClient(this IHostApplicationBuilder builder, string connectionName = "nats")
    {
        var replicas = builder.Configuration.GetValue("Nats:StreamReplicas", 1);
        if (replicas is < 1 or > 5)
        {
            throw new InvalidOperationException($"Nats:StreamReplicas must be between 1 and 5 (JetStream's limit), not {replicas}.");
        }
        StreamSetup.Replicas = replicas;
        builder.Services.AddSingleton(sp =>
        {
            var connectionString = sp.GetRequiredService<IConfiguration>().GetConnectionString(connectionName)
                ?? throw new InvalidOperationException(
                    $"ConnectionStrings:{connectionName} is not set; run the service from the AppHost or set it to nats://user:password@host:port (several comma-separated for a cluster).");
            var (url, user, password) = NatsCredentials.Split(connectionString);
            return new NatsOpts
            {
                Url = url,
                AuthOpts = user is null ? NatsAuthOpts.Default : NatsAuthOpts.Default with { Username = user, Password = password },
                // Replies to this service's requests (JetStream API, acks, risk and order replies) arrive under its own
                // prefix: the server lets only this service's NATS user subscribe there (QuantTrader.AppHost NatsPermissions).
                InboxPrefix = user is null ? NatsOpts.Default.InboxPrefix : "_INBOX_" + user,
                Name = builder.Environment.ApplicationName,
                LoggerFactory = sp.GetRequiredService<ILoggerFactory>(),
                // The default (drop newest) silently loses messages on a busy subscription; market data
                // consumers would rather apply back-pressure than lose trades.
                SubPendingChannelFullMode = BoundedChannelFullMode.Wait,
                SerializerRegistry = NatsClientDefaultSerializerRegistry.Default,
                // A busy machine (CI, a laptop starting a dozen processes) can miss the default 2 s handshake:
                // keep trying instead of failing the service's start-up on the first slow connect.
                ConnectTimeout = TimeSpan.FromSeconds(10),
                RetryOnInitialConnect = true,
            };
        });
        builder.Services.AddSingleton(sp => new NatsConnection(sp.GetRequiredService<NatsOpts>()));
        builder.Services.AddSingleton<INatsConnection>(sp => sp.GetRequiredService<NatsConnection>());
        builder.Services.AddSingleton<INatsJSContext>(sp => sp.GetRequiredService<NatsConnection>().CreateJetStreamContext());

        // A second connection, opened only by services that ask for it, for publishes that wait for JetStream's ack
        // while the same service drains a busy consumer. On one connection the socket is read by one loop: with
        // SubPendingChannelFullMode.Wait a consumer that is behind stops that loop, and with it the acks of our own
        // publishes queued behind its messages. A publisher that holds up the consumer until its ack arrives (the
        // kline service publishes between trades) then waits for itself until NATS.Net gives up ("no response",
        // seen at 5,000 trades/s). Acks on their own socket never queue behind market data.
        builder.Services.AddKeyedSingleton(Publisher, (sp, _) => new NatsConnection(sp.GetRequiredService<NatsOpts>() with
        {
            Name = builder.Environment.ApplicationName + "-publisher",
        }));
        builder.Services.AddKeyedSingleton<INatsJSContext>(Publisher, (sp, key) => sp.GetRequiredKeyedService<NatsConnection>(key).CreateJetStreamContext());

        builder.Services.AddHealthChecks().AddCheck<NatsHealthCheck>("nats");
        return builder;
    }
}

/// <summary>
/// <c>nats://user:password@host:port</c> → the address without credentials, the user and the password. A cluster's
/// connection string lists every node, comma-separated (each URL may carry the credentials): the addresses stay a
/// comma-separated seed list, which <see cref="NatsOpts.Url"/> takes as it is, and the credentials are the first URL's.
/// </summary>
public static class NatsCredentials
{
    public static (string Url, string? User, string? Password) Split(string connectionString)
    {
        var urls = new List<string>();
        string? user = null, password = null;
        foreach (var server in connectionString.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.UserInfo.Length == 0)
            {
                urls.Add(server);
                continue;
            }
            if (user is null)
            {
                var parts = uri.UserInfo.Split(':', 2);
                user = Uri.UnescapeDataString(parts[0]);
                password = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : null;
            }
            urls.Add(new UriBuilder(uri) { UserName = "", Password = "" }.Uri.GetLeftPart(UriPartial.Authority));
        }
        return (string.Join(',', urls), user, password);
    }
}

internal sealed class NatsHealthCheck(NatsConnection connection) : IHealthCheck
{
    private static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            if (connection.ConnectionState != NatsConnectionState.Open)
            {
                await connection.ConnectAsync();
            }
            // Bounded: the PONG is read by the same reader as every subscription, so a subscriber that stopped
            // draining (the connection applies back-pressure rather than dropping) stalls it; say so instead of
            // leaving /health hanging with no answer at all.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(PingTimeout);
            var rtt = await connection.PingAsync(timeout.Token);
            return HealthCheckResult.Healthy($"round trip {rtt.TotalMilliseconds:F1} ms");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"NATS did not answer a ping within {PingTimeout.TotalSeconds:F0} s: the connection is stalled (a subscriber not draining its messages?)");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy($"NATS connection is {connection.ConnectionState}", ex);
        }
    }
}
