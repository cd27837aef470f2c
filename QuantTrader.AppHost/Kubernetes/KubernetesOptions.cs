using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace QuantTrader.AppHost.Kubernetes;

public enum GatewayExposure
{
    LoadBalancer,
    Ingress,
}

/// <summary>Where the services' PostgreSQL comes from (<c>--database</c>).</summary>
public enum DatabaseMode
{
    /// <summary>The app model's PostgreSQL as a StatefulSet in the namespace, one role per service.</summary>
    InCluster,
    /// <summary>A database the operator runs (managed, another cluster): one Secret with the connection string.</summary>
    External,
    /// <summary>A CloudNativePG <c>Cluster</c> (the operator must be installed): services use its primary and its app secret.</summary>
    CloudNativePG,
}

/// <summary>How strictly the NATS servers are kept on different nodes (<c>--nats-anti-affinity</c>).</summary>
public enum AntiAffinity
{
    Preferred,
    Required,
}

/// <summary>
/// Options of <c>--publisher kubernetes</c>, read from the command line (<c>--registry r --tag t ...</c>) or any other
/// configuration source under the same keys.
/// </summary>
public sealed record KubernetesOptions
{
    /// <summary>Image registry (and optional path) of the service images: <c>{Registry}/{name}:{Tag}</c>.</summary>
    public string Registry { get; init; } = "localhost:5000/quanttrader";
    /// <summary>The image tag: this build's version unless given. Never <c>latest</c>: a pod restarted later must run what was deployed.</summary>
    public string Tag { get; init; } = Version;
    /// <summary>The fixed non-root user of every container without its own (the .NET images' <c>app</c> user).</summary>
    public long RunAsUser { get; init; } = 1654;
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
    /// <summary>The OTLP protocol of <see cref="OtlpEndpoint"/>: <c>grpc</c> (port 4317 by convention) or <c>http/protobuf</c> (4318).</summary>
    public string OtlpProtocol { get; init; } = "grpc";
    public string SecretName { get; init; } = "quanttrader-secrets";
    /// <summary>NATS servers of the cluster (1: a single server, as before); JetStream streams get min(3, nodes) replicas.</summary>
    public int NatsNodes { get; init; } = 3;
    public AntiAffinity NatsAntiAffinity { get; init; } = AntiAffinity.Preferred;
    public DatabaseMode Database { get; init; } = DatabaseMode.InCluster;
    /// <summary>The Secret (created by you, not by kustomize) holding <see cref="DatabaseSecretKey"/> for <see cref="DatabaseMode.External"/>.</summary>
    public string? DatabaseSecret { get; init; }
    /// <summary>PostgreSQL instances of the CloudNativePG cluster: one primary, the rest streaming standbys.</summary>
    public int CnpgInstances { get; init; } = 3;
    /// <summary>The external database's port: the services' NetworkPolicy lets them reach it (its host is only in the Secret).</summary>
    public int DatabasePort { get; init; } = 5432;

    /// <summary>The key of <see cref="DatabaseSecret"/>: an Npgsql connection string (<c>Host=…;Port=5432;Username=…;Password=…;Database=…;SSL Mode=Require</c>).</summary>
    public const string DatabaseSecretKey = "connection-string";

    /// <summary>JetStream replicas of every stream: three copies when there are three servers, never more than there are.</summary>
    public int StreamReplicas => Math.Min(3, NatsNodes);

    /// <summary>The AppHost's version (its assembly's informational version without the commit): the tag images are built with.</summary>
    public static string Version =>
        (typeof(KubernetesOptions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0").Split('+')[0];

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
        var tag = Get("tag", defaults.Tag);
        if (string.Equals(tag, "latest", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--tag latest is refused: a restarted pod would pull whatever 'latest' is then. Give the version the images were built with (default {defaults.Tag}).");
        }
        var runAsText = Get("run-as-user", defaults.RunAsUser.ToString(CultureInfo.InvariantCulture));
        if (!long.TryParse(runAsText, NumberStyles.None, CultureInfo.InvariantCulture, out var runAs) || runAs < 1)
        {
            throw new ArgumentException($"--run-as-user must be a non-root user id (1 or more), not '{runAsText}'.");
        }
        var natsNodes = PositiveInt(configuration, "nats-nodes", defaults.NatsNodes);
        if (natsNodes == 2)
        {
            throw new ArgumentException("--nats-nodes must be 1 or at least 3, not 2: JetStream needs a majority of its servers, and one of two failing stops it as surely as one of one.");
        }
        var antiAffinity = Get("nats-anti-affinity", "preferred").ToLowerInvariant() switch
        {
            "preferred" => AntiAffinity.Preferred,
            "required" => AntiAffinity.Required,
            var other => throw new ArgumentException($"--nats-anti-affinity must be 'preferred' or 'required', not '{other}'."),
        };
        var databaseSecret = Optional("database-secret");
        var database = (Optional("database")?.ToLowerInvariant() ?? (databaseSecret is null ? "postgres" : "external")) switch
        {
            "postgres" => DatabaseMode.InCluster,
            "external" => DatabaseMode.External,
            "cnpg" => DatabaseMode.CloudNativePG,
            var other => throw new ArgumentException($"--database must be 'postgres' (a StatefulSet in the namespace), 'external' (with --database-secret) or 'cnpg' (a CloudNativePG Cluster), not '{other}'."),
        };
        if (database == DatabaseMode.External && databaseSecret is null)
        {
            throw new ArgumentException($"--database external needs --database-secret NAME: the Secret whose key '{DatabaseSecretKey}' holds the connection string.");
        }
        if (database != DatabaseMode.External && databaseSecret is not null)
        {
            throw new ArgumentException($"--database-secret is for --database external only (it was given with --database {Get("database", "postgres")}).");
        }
        if (databaseSecret is not null && !IsDnsLabel(databaseSecret, 253))
        {
            throw new ArgumentException($"--database-secret must be a Kubernetes Secret name (lower-case letters, digits, '-' and '.'), not '{databaseSecret}'.");
        }
        var cnpgInstances = PositiveInt(configuration, "cnpg-instances", defaults.CnpgInstances);
        var databasePort = PositiveInt(configuration, "database-port", defaults.DatabasePort);
        if (databasePort > 65535)
        {
            throw new ArgumentException($"--database-port must be a TCP port (1-65535), not {databasePort}.");
        }
        var otlpEndpoint = Optional("otlp-endpoint");
        if (otlpEndpoint is not null && (!Uri.TryCreate(otlpEndpoint, UriKind.Absolute, out var otlp) || otlp.Scheme is not ("http" or "https")))
        {
            throw new ArgumentException($"--otlp-endpoint must be an absolute http:// or https:// URL (e.g. http://otel-collector.monitoring:4317), not '{otlpEndpoint}'.");
        }
        var otlpProtocol = Get("otlp-protocol", defaults.OtlpProtocol).ToLowerInvariant() switch
        {
            "grpc" => "grpc",
            "http/protobuf" or "http" => "http/protobuf",
            var other => throw new ArgumentException($"--otlp-protocol must be 'grpc' or 'http/protobuf', not '{other}'."),
        };
        return new KubernetesOptions
        {
            RunAsUser = runAs,
            Registry = Get("registry", defaults.Registry),
            Tag = tag,
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
            OtlpEndpoint = otlpEndpoint,
            OtlpProtocol = otlpProtocol,
            NatsNodes = natsNodes,
            NatsAntiAffinity = antiAffinity,
            Database = database,
            DatabaseSecret = databaseSecret,
            CnpgInstances = cnpgInstances,
            DatabasePort = databasePort,
        };
    }

    private static int PositiveInt(IConfiguration configuration, string key, int fallback)
    {
        var text = configuration[key] is { Length: > 0 } v ? v : fallback.ToString(CultureInfo.InvariantCulture);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1
            ? value
            : throw new ArgumentException($"--{key} must be a positive whole number, not '{text}'.");
    }

    private static bool IsDnsLabel(string value, int maxLength) =>
        value.Length <= maxLength && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
        && char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[^1]);
}
