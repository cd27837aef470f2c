using Microsoft.Extensions.Configuration;

namespace QuantTrader.AppHost.Infrastructure;

/// <summary>The AppHost's own switches (appsettings.json, environment <c>QuantTrader__*</c> or command line).</summary>
public sealed record QuantTraderSettings(bool UseContainers, int? GatewayPort, string DataDirectory, int AnonymousRequestsPerMinute, int NatsNodes)
{
    public static QuantTraderSettings From(IDistributedApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("QuantTrader");
        var port = section.GetValue("GatewayPort", 8080);
        var data = section["DataDirectory"] ?? ".data";
        // A relative data folder lives at the repository root, beside the AppHost project.
        var dataDirectory = Path.GetFullPath(Path.IsPathRooted(data) ? data : Path.Combine(builder.AppHostDirectory, "..", data));
        var natsNodes = section.GetValue("Nats:Nodes", 1);
        if (natsNodes < 1)
        {
            throw new InvalidOperationException($"QuantTrader:Nats:Nodes must be at least 1, not {natsNodes}.");
        }
        return new QuantTraderSettings(
            // Publishing describes a deployment (Kubernetes, manifest): there NATS and PostgreSQL are containers,
            // and no local binaries, data folder or generated secret is needed.
            section.GetValue("UseContainers", false) || builder.ExecutionContext.IsPublishMode,
            port > 0 ? port : null, // 0: let Aspire choose (tests run beside a live system)
            dataDirectory,
            section.GetValue("AnonymousRequestsPerMinute", 300),
            // 1: one nats-server as always; more: a JetStream cluster of local processes (streams replicated, min(3, nodes)).
            natsNodes);
    }
}
