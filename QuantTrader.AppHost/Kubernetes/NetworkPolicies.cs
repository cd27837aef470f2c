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

    public static List<IKubernetesObject> For(IEnumerable<IResource> resources, IReadOnlySet<(IResource From, IResource To, int Port)> flows,
        ClusterNetwork network, KubernetesOptions options)
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
        foreach (var resource in resources.Where(r => r is ProjectResource or ContainerResource))
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
            policies.Add(Policy(resource.Name, Selector(resource.Name, options), ingress, egress));
        }
        return policies;
    }

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
