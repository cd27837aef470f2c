using System.Diagnostics;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace QuantTrader.Kubernetes.Tests;

/// <summary>
/// Runs the AppHost's Kubernetes publisher (and Aspire's manifest publisher, an independent view of the same app
/// model) into temporary folders, once for the class, with a known Stripe key in the environment.
/// </summary>
public sealed class PublishedFolder : IAsyncLifetime
{
    public const string Registry = "registry.test:5000/qt";
    public const string Tag = "t42";
    public const string StripeCanary = "sk_test_CANARY_0123456789abcdef";
    public const string TrustedProxyNetworks = "10.0.0.0/8";
    public const int AccountsReplicas = 3;
    /// <summary>The ingress folder's collector (http/protobuf on 4318); the default folder has none.</summary>
    public const string OtlpEndpoint = "http://otel-collector.monitoring:4318";

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"qt-k8s-{Guid.NewGuid():N}");

    public string Directory => Path.Combine(_root, "k8s");
    public string IngressDirectory => Path.Combine(_root, "k8s-ingress");
    public string LocalDataDirectory => Path.Combine(_root, "local-data");
    /// <summary>--database-secret: a managed PostgreSQL, the connection string in the operator's Secret.</summary>
    public string ExternalDatabaseDirectory => Path.Combine(_root, "k8s-external-db");
    /// <summary>--database cnpg: a CloudNativePG Cluster.</summary>
    public string CnpgDirectory => Path.Combine(_root, "k8s-cnpg");
    public const string ExternalDatabaseSecret = "managed-postgres";

    /// <summary>Project resources of the app model, from Aspire's own manifest.</summary>
    public IReadOnlyList<string> Projects { get; private set; } = [];
    public IReadOnlyList<string> ExternalProjects { get; private set; } = [];

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(_root);
        // Per-service replicas win over --replicas (QuantTrader:Replicas:{service}, the AppHost's own configuration key).
        await PublishAsync("--publisher", "kubernetes", "--output-path", Directory, "--registry", Registry, "--tag", Tag, "--replicas", "2",
            $"--QuantTrader:Replicas:accounts={AccountsReplicas}");
        await PublishAsync("--publisher", "kubernetes", "--output-path", IngressDirectory, "--exposure", "ingress", "--ingress-host", "qt.example.com",
            "--trusted-proxy-networks", TrustedProxyNetworks, "--otlp-endpoint", OtlpEndpoint, "--otlp-protocol", "http/protobuf", "--nats-nodes", "1");
        await PublishAsync("--publisher", "kubernetes", "--output-path", ExternalDatabaseDirectory, "--database-secret", ExternalDatabaseSecret);
        await PublishAsync("--publisher", "kubernetes", "--output-path", CnpgDirectory, "--database", "cnpg", "--storage-class", "fast-ssd");
        var manifestPath = Path.Combine(_root, "manifest", "aspire-manifest.json");
        await PublishAsync("--publisher", "manifest", "--output-path", manifestPath);

        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(manifestPath));
        var projects = manifest.RootElement.GetProperty("resources").EnumerateObject()
            .Where(r => r.Value.GetProperty("type").GetString() == "project.v0").ToList();
        Projects = projects.Select(p => p.Name).ToList();
        ExternalProjects = projects.Where(p => p.Value.TryGetProperty("bindings", out var b)
            && b.EnumerateObject().Any(e => e.Value.TryGetProperty("external", out var x) && x.GetBoolean())).Select(p => p.Name).ToList();
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    public IEnumerable<string> YamlFiles(string? directory = null) =>
        System.IO.Directory.GetFiles(directory ?? Directory, "*.yaml").Order(StringComparer.Ordinal);

    /// <summary>Every document of every generated YAML file, read back by KubernetesClient into its typed models.</summary>
    public List<object> Objects(string? directory = null) =>
        YamlFiles(directory).Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(f), CustomResources)).ToList();

    /// <summary>The custom resources the publisher may write (KubernetesClient knows only the built-in kinds).</summary>
    private static readonly Dictionary<string, Type> CustomResources = new() { ["postgresql.cnpg.io/v1/Cluster"] = typeof(CnpgCluster) };

    public Dictionary<string, string> SecretsEnv() =>
        File.ReadAllLines(Path.Combine(Directory, "secrets.env"))
            .Where(l => l.Contains('=') && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "QuantTrader.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("QuantTrader.sln not found above " + AppContext.BaseDirectory);
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryRoot(),
        };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[k] = v;
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Runs the publisher with these arguments into a fresh folder and returns its exit code and output (for refusals).</summary>
    public async Task<(int ExitCode, string Output)> TryPublishAsync(params string[] publisherArgs)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var output = Path.Combine(_root, $"attempt-{Guid.NewGuid():N}");
        return await RunAsync("dotnet",
            ["run", "--project", "QuantTrader.AppHost", "--no-build", "-c", configuration, "--", "--publisher", "kubernetes", "--output-path", output, .. publisherArgs],
            new Dictionary<string, string> { ["QuantTrader__DataDirectory"] = LocalDataDirectory });
    }

    private async Task PublishAsync(params string[] publisherArgs)
    {
        // The configuration the test assembly was built in is the one the AppHost was built in (project reference).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var (exit, output) = await RunAsync("dotnet",
            ["run", "--project", "QuantTrader.AppHost", "--no-build", "-c", configuration, "--", .. publisherArgs],
            new Dictionary<string, string>
            {
                ["Parameters__stripe-secret-key"] = StripeCanary,
                ["QuantTrader__DataDirectory"] = LocalDataDirectory,
            });
        Assert.True(exit == 0, $"publisher {string.Join(' ', publisherArgs)} exited {exit}:\n{output}");
    }
}

/// <summary>A CloudNativePG Cluster as the tests read it: the spec as plain YAML maps.</summary>
public sealed class CnpgCluster : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = "";
    public string Kind { get; set; } = "";
    public V1ObjectMeta Metadata { get; set; } = new();
    public Dictionary<string, object> Spec { get; set; } = [];
}
