using Aspire.Hosting.ApplicationModel;
using k8s;
using k8s.Models;

namespace QuantTrader.AppHost.Kubernetes;

/// <summary>
/// Default deny, then exactly the connections of the app model: a workload accepts a port only from the workloads whose
/// configuration points at that endpoint (or that wait on it), the external endpoint (the gateway) from anywhere, and
/// sends only to those endpoints, DNS, and — where the model says so (<see cref="ExternalEgressAnnotation"/>) — public
/// addresses. Anything not named (NATS's monitoring port, PostgreSQL from a service without storage) is unreachable
/// from other pods; the kubelet's probes are not pod traffic and still arrive.
/// </summary>
internal static class NetworkPolicies
{
    /// <summary>The private ranges a cluster's pods and services live in: external egress never reaches them.</summary>
    private static readonly string[] PrivateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"];

    /// <param name="databaseClients">The services whose database is external or CloudNativePG (<see cref="DatabaseMode"/>).</param>
    public static List<IKubernetesObject> For(IEnumerable<IResource> resources, IReadOnlySet<(IResource From, IResource To, int Port)> flows,
        ClusterNetwork network, KubernetesOptions options, IReadOnlySet<IResource> databaseClients)
    {
        var policies = new List<IKubernetesObject>
        {
            Policy("default-deny", new V1LabelSelector(), [], []),
            // Every pod resolves Service names.
            Policy("allow-dns", new V1LabelSelector(), null, [new V1NetworkPolicyEgressRule
            {
                Ports = [new V1NetworkPolicyPort { Protocol = "UDP", Port = 53 }, new V1NetworkPolicyPort { Protocol = "TCP", Port = 53 }],
            }]),
        };
        // A PostgreSQL the publisher did not deploy has no pods of its own to police.
        foreach (var resource in resources.Where(r => r is ProjectResource or ContainerResource
            && !(r is PostgresServerResource && options.Database != DatabaseMode.InCluster)))
        {
            var ingress = new List<V1NetworkPolicyIngressRule>();
            foreach (var endpoint in resource.Annotations.OfType<EndpointAnnotation>().Where(e => e.IsExternal))
            {
                // The public door: from anywhere (LoadBalancer or ingress controller).
                ingress.Add(new V1NetworkPolicyIngressRule { Ports = [Tcp(network.Port(resource, endpoint.Name))] });
            }
            foreach (var port in flows.Where(f => f.To == resource).GroupBy(f => f.Port).OrderBy(g => g.Key))
            {
                ingress.Add(new V1NetworkPolicyIngressRule
                {
                    Ports = [Tcp(port.Key)],
                    FromProperty = port.Select(f => f.From.Name).Distinct().Order(StringComparer.Ordinal)
                        .Select(from => new V1NetworkPolicyPeer { PodSelector = Selector(from, options) }).ToList(),
                });
            }

            var egress = flows.Where(f => f.From == resource).GroupBy(f => (f.To.Name, f.Port)).OrderBy(g => g.Key)
                .Select(g => new V1NetworkPolicyEgressRule { Ports = [Tcp(g.Key.Port)], To = [new V1NetworkPolicyPeer { PodSelector = Selector(g.Key.Name, options) }] })
                .ToList();
            foreach (var external in resource.Annotations.OfType<ExternalEgressAnnotation>())
            {
                egress.Add(new V1NetworkPolicyEgressRule
                {
                    Ports = external.Ports.Count == 0 ? null : external.Ports.Select(Tcp).ToList(),
                    To = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "0.0.0.0/0", Except = PrivateRanges } }],
                });
            }
            if (options.OtlpEndpoint is { } otlp && Uri.TryCreate(otlp, UriKind.Absolute, out var collector))
            {
                // The collector's address is the operator's: any destination, its port only.
                egress.Add(new V1NetworkPolicyEgressRule { Ports = [Tcp(collector.Port)] });
            }
            if (databaseClients.Contains(resource))
            {
                egress.Add(options.Database == DatabaseMode.CloudNativePG
                    ? new V1NetworkPolicyEgressRule { Ports = [Tcp(CloudNativePG.Port)], To = [new V1NetworkPolicyPeer { PodSelector = CnpgPods(resources) }] }
                    // The database's address is in the operator's Secret: any destination, its port only.
                    : new V1NetworkPolicyEgressRule { Ports = [Tcp(options.DatabasePort)] });
            }
            policies.Add(Policy(resource.Name, Selector(resource.Name, options), ingress, egress));
        }
        if (options.Database == DatabaseMode.CloudNativePG && databaseClients.Count > 0)
        {
            policies.Add(CloudNativePGInstances(resources, databaseClients, options));
        }
        return policies;
    }

    /// <summary>
    /// The CloudNativePG instances live under the default deny too: PostgreSQL from the database clients and from each
    /// other (streaming replication), the instance manager's status port from the operator's namespace, and out only to
    /// each other and to the Kubernetes API (443/6443, whose address is the cluster's own), which the instance manager
    /// watches.
    /// </summary>
    private static V1NetworkPolicy CloudNativePGInstances(IEnumerable<IResource> resources, IReadOnlySet<IResource> clients, KubernetesOptions options)
    {
        var instances = CnpgPods(resources);
        var server = resources.OfType<PostgresServerResource>().Single();
        return Policy($"{server.Name}-cnpg", instances,
            [
                new V1NetworkPolicyIngressRule
                {
                    Ports = [Tcp(CloudNativePG.Port)],
                    FromProperty = [.. clients.Select(c => c.Name).Order(StringComparer.Ordinal).Select(c => new V1NetworkPolicyPeer { PodSelector = Selector(c, options) }),
                        new V1NetworkPolicyPeer { PodSelector = instances }],
                },
                new V1NetworkPolicyIngressRule
                {
                    Ports = [Tcp(CloudNativePG.StatusPort)],
                    FromProperty = [new V1NetworkPolicyPeer
                    {
                        NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = CloudNativePG.OperatorNamespace } },
                    }],
                },
            ],
            [
                new V1NetworkPolicyEgressRule { Ports = [Tcp(CloudNativePG.Port)], To = [new V1NetworkPolicyPeer { PodSelector = instances }] },
                new V1NetworkPolicyEgressRule { Ports = [Tcp(443), Tcp(6443)] },
            ]);
    }

    private static V1LabelSelector CnpgPods(IEnumerable<IResource> resources) => new()
    {
        MatchLabels = new Dictionary<string, string> { [CloudNativePG.ClusterLabel] = resources.OfType<PostgresServerResource>().Single().Name },
    };

    /// <param name="ingress">null: the policy says nothing about ingress (an empty list: nothing comes in).</param>
    private static V1NetworkPolicy Policy(string name, V1LabelSelector pods, List<V1NetworkPolicyIngressRule>? ingress, List<V1NetworkPolicyEgressRule> egress) => new()
    {
        ApiVersion = "networking.k8s.io/v1", Kind = "NetworkPolicy",
        Metadata = new V1ObjectMeta { Name = name },
        Spec = new V1NetworkPolicySpec
        {
            PodSelector = pods,
            PolicyTypes = ingress is null ? ["Egress"] : ["Ingress", "Egress"],
            Ingress = ingress is null || ingress.Count == 0 ? null : ingress,
            Egress = egress.Count == 0 ? null : egress,
        },
    };

    private static V1NetworkPolicyPort Tcp(int port) => new() { Protocol = "TCP", Port = port };

    private static V1LabelSelector Selector(string name, KubernetesOptions options) => new()
    {
        MatchLabels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = name, ["app.kubernetes.io/part-of"] = options.PartOf },
    };
}
