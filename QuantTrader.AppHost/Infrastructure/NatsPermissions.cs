using System.Text;

namespace QuantTrader.AppHost.Infrastructure;

/// <summary>
/// One NATS user per service, allowed to publish and subscribe only what that service does (the subjects of
/// QuantTrader.Contracts.Messaging.Subjects and the JetStream API of the streams it uses), so a service that is taken
/// over cannot trade as a user, answer risk checks or publish fills and market data. A service's replies arrive under
/// its own inbox prefix (<c>_INBOX_{user}</c>, set by ServiceDefaults from the user of its connection string), which no
/// other service may subscribe to. The <see cref="Operator"/> user has every right: it is the operator's own (the
/// <c>nats</c> CLI, the integration tests) and no service uses it.
/// </summary>
public sealed record NatsUser(string Name, IReadOnlyList<string> Publish, IReadOnlyList<string> Subscribe, bool Responds = false)
{
    public string InboxPrefix => "_INBOX_" + Name;

    /// <summary>The environment variable a container's nats.conf reads this user's password from (<c>$NATS_PASSWORD_PAPER_ENGINE</c>).</summary>
    public string PasswordVariable => "NATS_PASSWORD_" + Name.ToUpperInvariant().Replace('-', '_');
}

/// <summary>
/// A server's place in a NATS cluster (<see cref="NatsPermissions.ClusterBlock"/>). <see cref="ServerName"/>,
/// <see cref="RoutePassword"/> and each of <see cref="Routes"/> are written as they appear in nats.conf: a quoted value
/// (<see cref="NatsPermissions.Quote"/>) or a <c>$VARIABLE</c> nats-server reads from its environment.
/// </summary>
public sealed record NatsCluster(string Name, string ServerName, int Port, string RouteUser, string RoutePassword, IReadOnlyList<string> Routes);

public static class NatsPermissions
{
    public const string Operator = "operator";

    // Stream names and subjects as in QuantTrader.Contracts.Messaging (Streams, Subjects).
    private const string MarketRaw = "MARKET_RAW", MarketHistory = "MARKET_HISTORY", MarketKline = "MARKET_KLINE", Trading = "TRADING", Alerts = "ALERTS", DeadLetter = "DEADLETTER";

    public static readonly IReadOnlyList<NatsUser> Services =
    [
        // Live and imported trades and gap notices: the one writer of market data.
        Service("ingestor",
            publish: ["market.raw.>", "market.history.>", "market.gap.>", .. Owns(MarketRaw), .. Reads(MarketRaw), .. Owns(MarketHistory), .. Reads(MarketHistory),
                .. Leases("ingestor")]),
        Service("kline",
            publish: ["market.kline.>", "market.candle.>", .. Owns(MarketRaw), .. Reads(MarketRaw), .. Owns(MarketHistory), .. Reads(MarketHistory),
                .. Owns(MarketKline), .. Leases("kline")]),
        // Rule changes go to the owner of the rule's market partition (alert.rules.{p}, request/reply between replicas).
        Service("alert",
            publish: ["alerts.fired.>", "deadletter.alert-webhook", "deadletter.alert-telegram", "deadletter.alert-discord", "deadletter.alert-slack", "deadletter.alert-email", "alert.rules.>", .. Owns(MarketRaw), .. Reads(MarketRaw), .. Owns(MarketKline), .. Reads(MarketKline),
                .. Owns(Alerts), .. Owns(DeadLetter), .. Leases("alert")],
            subscribe: ["alert.rules.>"], responds: true),
        // The only answerer of risk checks.
        Service("risk", publish: [], subscribe: ["risk.check"], responds: true),
        // The only publisher of orders and fills, the only server of paper.submit/paper.cancel.
        // The active replica answers HTTP a standby forwards to it (paper.forward).
        Service("paper-engine",
            publish: ["trading.>", "risk.check", "paper.forward", .. Owns(Trading), .. Owns(MarketRaw), .. Reads(MarketRaw), .. Leases("paper-engine")],
            subscribe: ["paper.submit", "paper.cancel", "paper.forward"], responds: true),
        // The only client of paper.submit/paper.cancel. strategies.changed.{p}: a start/stop taken by any replica, asked
        // of the owner of the strategy's user partition (request/reply between its own replicas). strategies.events.{user}:
        // status changes and log lines for the streaming API.
        Service("strategy-runner",
            publish: ["paper.submit", "paper.cancel", "strategies.changed.>", "strategies.events.>", .. Owns(MarketKline), .. Reads(MarketKline), .. Owns(Trading), .. Reads(Trading),
                .. Leases("strategy-runner")],
            subscribe: ["strategies.changed.>"], responds: true),
        Service("persistence",
            publish: ["deadletter.persistence", .. Owns(MarketRaw), .. Reads(MarketRaw), .. Owns(MarketHistory), .. Reads(MarketHistory), .. Owns(MarketKline), .. Reads(MarketKline),
                .. Owns(Trading), .. Reads(Trading), .. Owns(Alerts), .. Reads(Alerts), .. Owns(DeadLetter)],
            subscribe: ["market.candle.>"]),
        Service("analytics",
            publish: [.. Owns(Trading), .. Reads(Trading), .. Owns(MarketKline), .. Reads(MarketKline), .. Leases("analytics")]),
        Service("accounts", publish: ["accounts.changed"]),
        // The streaming API (docs/streaming.md): live market data on core NATS, a user's orders, fills and alerts through
        // ordered consumers of their own subject (read only: it creates no stream), fills' timing for portfolio
        // snapshots, strategy events.
        Service("gateway", publish: [.. Reads(Trading), .. Reads(Alerts)],
            subscribe: ["accounts.changed", "market.raw.>", "market.candle.>", "market.kline.>", "trading.fill.>", "strategies.events.>"]),
    ];

    public static NatsUser For(string service) => Services.FirstOrDefault(u => u.Name == service)
        ?? throw new InvalidOperationException(
            $"Service '{service}' has no NATS user: add it with what it publishes and subscribes to {nameof(NatsPermissions)}.{nameof(Services)}.");

    /// <summary>
    /// nats.conf: the listeners, JetStream's store and the users. <paramref name="password"/> gives each user's password
    /// as it appears in the file: a quoted value, or a <c>$VARIABLE</c> nats-server reads from its environment (a
    /// container fed from a Kubernetes Secret). No anonymous user: a connection without credentials is refused.
    /// </summary>
    /// <param name="cluster">The cluster this server is one of (<see cref="ClusterBlock"/>); null: a single server.</param>
    public static string Config(Func<string, string> password, string? listen = null, string? storeDirectory = null, NatsCluster? cluster = null)
    {
        var text = new StringBuilder();
        if (listen is not null)
        {
            text.Append(listen);
        }
        if (storeDirectory is not null)
        {
            text.Append("jetstream {\n  store_dir: ").Append(Quote(storeDirectory)).Append("\n}\n");
        }
        if (cluster is not null)
        {
            text.Append(ClusterBlock(cluster));
        }
        text.Append("authorization {\n  users = [\n");
        text.Append("    { user: ").Append(Quote(Operator)).Append(", password: ").Append(password(Operator)).Append(" }\n");
        foreach (var user in Services)
        {
            text.Append("    { user: ").Append(Quote(user.Name)).Append(", password: ").Append(password(user.Name)).Append(", permissions: {\n")
                .Append("      publish: { allow: ").Append(List(user.Publish)).Append(" }\n")
                .Append("      subscribe: { allow: ").Append(List([.. user.Subscribe, user.InboxPrefix + ".>"])).Append(" }\n");
            if (user.Responds)
            {
                // Replies only to the requests it received, once each: no free publishing to anyone's inbox.
                text.Append("      allow_responses: true\n");
            }
            text.Append("    } }\n");
        }
        text.Append("  ]\n}\n");
        return text.ToString();
    }

    /// <summary>
    /// The part of nats.conf that makes a server one of a cluster: its unique <c>server_name</c> (JetStream's replicas
    /// and RAFT groups are placed by name), the cluster's name, the route listener, the credentials other servers must
    /// present on it, and the routes to every server (its own included: nats-server recognises and skips it). Routes
    /// carry their credentials in the URL, which nats.conf cannot build from a variable inside a string, so each route
    /// is given whole (a quoted URL, or a <c>$VARIABLE</c> holding one).
    /// </summary>
    public static string ClusterBlock(NatsCluster cluster)
    {
        var text = new StringBuilder()
            .Append("server_name: ").Append(cluster.ServerName).Append('\n')
            .Append("cluster {\n")
            .Append("  name: ").Append(Quote(cluster.Name)).Append('\n')
            .Append("  port: ").Append(cluster.Port).Append('\n')
            .Append("  authorization {\n")
            .Append("    user: ").Append(Quote(cluster.RouteUser)).Append('\n')
            .Append("    password: ").Append(cluster.RoutePassword).Append('\n')
            .Append("    timeout: 2\n")
            .Append("  }\n")
            .Append("  routes: [\n");
        foreach (var route in cluster.Routes)
        {
            text.Append("    ").Append(route).Append('\n');
        }
        return text.Append("  ]\n}\n").ToString();
    }

    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string List(IEnumerable<string> subjects) => "[" + string.Join(", ", subjects.Distinct().Select(Quote)) + "]";

    private static NatsUser Service(string name, string[] publish, string[]? subscribe = null, bool responds = false) =>
        new(name, ["$JS.API.INFO", .. publish], subscribe ?? [], responds);

    /// <summary>
    /// The service's partition leases (ServiceDefaults Partitioning: a KV bucket <c>LEASES_{SERVICE}</c> of its own, so
    /// no service can take or release another's partitions): create the bucket, put, compare-and-set, delete, list keys.
    /// </summary>
    public static string[] Leases(string service)
    {
        var bucket = "LEASES_" + service.ToUpperInvariant().Replace('-', '_');
        return [.. Owns("KV_" + bucket), .. Reads("KV_" + bucket), $"$KV.{bucket}.>", $"$JS.API.DIRECT.GET.KV_{bucket}", $"$JS.API.DIRECT.GET.KV_{bucket}.>"];
    }

    /// <summary>Creates the stream when it starts first (StreamSetup: create or update, then info).</summary>
    private static string[] Owns(string stream) =>
        [$"$JS.API.STREAM.CREATE.{stream}", $"$JS.API.STREAM.UPDATE.{stream}", $"$JS.API.STREAM.INFO.{stream}"];

    /// <summary>Reads the stream: its last message per subject, consumers (durable, named, ordered) it creates, pulls from, acks and deletes.</summary>
    private static string[] Reads(string stream) =>
    [
        $"$JS.API.STREAM.INFO.{stream}", $"$JS.API.STREAM.MSG.GET.{stream}",
        $"$JS.API.CONSUMER.CREATE.{stream}", $"$JS.API.CONSUMER.CREATE.{stream}.>", $"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.>",
        $"$JS.API.CONSUMER.INFO.{stream}.>", $"$JS.API.CONSUMER.DELETE.{stream}.>", $"$JS.API.CONSUMER.MSG.NEXT.{stream}.>",
        $"$JS.ACK.{stream}.>",
    ];
}
