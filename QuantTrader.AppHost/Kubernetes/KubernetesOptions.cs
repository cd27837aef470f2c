using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace QuantTrader.AppHost.Kubernetes;

public enum GatewayExposure
{
    LoadBalancer,
    Ingress,
}

/// <summary>
/// Options of <c>--publisher kubernetes</c>, read from the command line (<c>--registry r --tag t ...</c>) or any other
/// configuration source under the same keys.
/// </summary>
public sealed record KubernetesOptions
{
    /// <summary>Image registry (and optional path) of the service images: <c>{Registry}/{name}:{Tag}</c>.</summary>
    public string Registry { get; init; } = "localhost:5000/quanttrader";
    public string Tag { get; init; } = "latest";
    public string Namespace { get; init; } = "quanttrader";
    public string PartOf { get; init; } = "quanttrader";
    public GatewayExposure Exposure { get; init; } = GatewayExposure.LoadBalancer;
    public string? IngressHost { get; init; }
    public string? IngressClass { get; init; }
    /// <summary>Replicas of every service without its own <c>WithReplicas</c> in the app model.</summary>
    public int Replicas { get; init; } = 1;
    public string CpuRequest { get; init; } = "100m";
    public string MemoryRequest { get; init; } = "256Mi";
    public string CpuLimit { get; init; } = "1";
    public string MemoryLimit { get; init; } = "512Mi";
    public string StorageSize { get; init; } = "10Gi";
    public string? StorageClass { get; init; }
    /// <summary>OTLP collector the services export traces, metrics and logs to; none when unset.</summary>
    public string? OtlpEndpoint { get; init; }
    public string SecretName { get; init; } = "quanttrader-secrets";

    public string ImageFor(string name) => $"{Registry.TrimEnd('/')}/{name}:{Tag}".TrimStart('/');

    public static KubernetesOptions From(IConfiguration configuration)
    {
        var defaults = new KubernetesOptions();
        string Get(string key, string fallback) => configuration[key] is { Length: > 0 } v ? v : fallback;
        string? Optional(string key) => configuration[key] is { Length: > 0 } v ? v : null;

        var exposure = Get("exposure", "loadbalancer").ToLowerInvariant() switch
        {
            "loadbalancer" => GatewayExposure.LoadBalancer,
            "ingress" => GatewayExposure.Ingress,
            var other => throw new ArgumentException($"--exposure must be 'loadbalancer' or 'ingress', not '{other}'."),
        };
        var replicasText = Get("replicas", "1");
        if (!int.TryParse(replicasText, NumberStyles.None, CultureInfo.InvariantCulture, out var replicas) || replicas < 1)
        {
            throw new ArgumentException($"--replicas must be a positive whole number, not '{replicasText}'.");
        }
        return new KubernetesOptions
        {
            Registry = Get("registry", defaults.Registry),
            Tag = Get("tag", defaults.Tag),
            Namespace = Get("namespace", defaults.Namespace),
            Exposure = exposure,
            IngressHost = Optional("ingress-host"),
            IngressClass = Optional("ingress-class"),
            Replicas = replicas,
            CpuRequest = Get("cpu-request", defaults.CpuRequest),
            MemoryRequest = Get("memory-request", defaults.MemoryRequest),
            CpuLimit = Get("cpu-limit", defaults.CpuLimit),
            MemoryLimit = Get("memory-limit", defaults.MemoryLimit),
            StorageSize = Get("storage-size", defaults.StorageSize),
            StorageClass = Optional("storage-class"),
            OtlpEndpoint = Optional("otlp-endpoint"),
        };
    }
}
