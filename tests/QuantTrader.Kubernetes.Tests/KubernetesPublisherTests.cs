using System.Text.RegularExpressions;
using k8s.Models;

namespace QuantTrader.Kubernetes.Tests;

/// <summary>
/// <c>--publisher kubernetes</c> against the real AppHost: the folder it writes is loaded back with KubernetesClient
/// and checked against the app model that Aspire's own manifest publisher reports.
/// </summary>
public sealed partial class KubernetesPublisherTests(PublishedFolder folder) : IClassFixture<PublishedFolder>
{
    private List<object> Objects => folder.Objects();
    private IEnumerable<V1Deployment> Deployments => Objects.OfType<V1Deployment>();
    private IEnumerable<V1StatefulSet> StatefulSets => Objects.OfType<V1StatefulSet>();
    private IEnumerable<V1Service> Services => Objects.OfType<V1Service>();

    [Fact]
    public void Every_project_of_the_app_model_has_a_deployment_with_probes_resources_and_its_image_and_a_service()
    {
        Assert.Contains("gateway", folder.Projects);
        Assert.True(folder.Projects.Count >= 10, string.Join(", ", folder.Projects));
        foreach (var name in folder.Projects)
        {
            var deployment = Assert.Single(Deployments, d => d.Metadata.Name == name);
            // --replicas 2 scales the services that can run side by side, QuantTrader:Replicas:accounts=3 wins over it
            // for accounts.
            Assert.Equal(name == "accounts" ? PublishedFolder.AccountsReplicas : 2, deployment.Spec.Replicas);
            Assert.Equal(name, deployment.Spec.Template.Metadata.Labels["app.kubernetes.io/name"]);
            Assert.Equal("quanttrader", deployment.Spec.Template.Metadata.Labels["app.kubernetes.io/part-of"]);
            Assert.Equal(name == "gateway" ? "gateway" : "service", deployment.Metadata.Labels["app.kubernetes.io/component"]);
            var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
            Assert.Equal($"{PublishedFolder.Registry}/{name}:{PublishedFolder.Tag}", container.Image);
            Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
            Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
            Assert.Equal("http", container.ReadinessProbe.HttpGet.Port.Value);
            foreach (var key in new[] { "cpu", "memory" })
            {
                Assert.True(container.Resources.Requests.ContainsKey(key), $"{name}: request {key}");
                Assert.True(container.Resources.Limits.ContainsKey(key), $"{name}: limit {key}");
            }
            Assert.Contains(container.Env, e => e.Name == "HTTP_PORTS" && e.Value == "8080");
            Assert.Contains(container.Env, e => e.Name == "Logging__Console__FormatterName" && e.Value == "json");
            // Its own NATS user, the password from the Secret (see KubernetesHardeningTests).
            Assert.Contains(container.Env, e => e.Name == "ConnectionStrings__nats" && e.Value.StartsWith($"nats://{name}:$(", StringComparison.Ordinal) && e.Value.EndsWith(")@nats:4222", StringComparison.Ordinal));

            var service = Assert.Single(Services, s => s.Metadata.Name == name);
            var port = Assert.Single(service.Spec.Ports);
            Assert.Equal("http", port.TargetPort.Value);
            Assert.Equal(deployment.Spec.Selector.MatchLabels, service.Spec.Selector);
        }
        // Nothing beyond the model: one Deployment per project, the infrastructure as StatefulSets.
        Assert.Equal(folder.Projects.Order(), Deployments.Select(d => d.Metadata.Name).Order());
    }


    [Fact]
    public void Every_service_including_those_that_hold_state_rolls_out_one_new_pod_before_an_old_one_leaves_and_has_a_disruption_budget()
    {
        // The services that hold state hand their partitions over on SIGTERM (docs/scaling.md), so none needs Recreate.
        foreach (var name in folder.Projects)
        {
            var deployment = Assert.Single(Deployments, d => d.Metadata.Name == name);
            // Each replica knows how many there are (the gateway enforces its share of every rate limit).
            Assert.Contains(deployment.Spec.Template.Spec.Containers[0].Env,
                e => e.Name == "QuantTrader__Replicas" && e.Value == $"{deployment.Spec.Replicas}");
            var budget = Objects.OfType<V1PodDisruptionBudget>().SingleOrDefault(b => b.Metadata.Name == name);
            // A new pod comes up before an old one leaves: capacity never drops during an update.
            Assert.Equal("RollingUpdate", deployment.Spec.Strategy?.Type);
            Assert.Equal("1", deployment.Spec.Strategy!.RollingUpdate.MaxSurge.Value);
            Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
            // Two replicas: a drain takes one at a time.
            Assert.NotNull(budget);
            Assert.Equal("1", budget.Spec.MaxUnavailable.Value);
            Assert.Equal(deployment.Spec.Selector.MatchLabels, budget.Spec.Selector.MatchLabels);
        }
    }

    [Fact]
    public void Every_service_drains_within_its_grace_period_and_the_host_stops_a_few_seconds_before_it()
    {
        foreach (var name in folder.Projects)
        {
            var pod = Assert.Single(Deployments, d => d.Metadata.Name == name).Spec.Template.Spec;
            Assert.Equal(45, pod.TerminationGracePeriodSeconds);
            // Bound by ServiceDefaults to HostOptions.ShutdownTimeout: the host ends its drain before the kubelet's SIGKILL.
            var timeout = Assert.Single(pod.Containers[0].Env, e => e.Name == "HostOptions__ShutdownTimeout").Value;
            Assert.Equal(TimeSpan.FromSeconds(40), TimeSpan.Parse(timeout, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task A_bad_replica_count_is_named()
    {
        var (exit, output) = await folder.TryPublishAsync("--QuantTrader:Replicas:risk=two");
        Assert.NotEqual(0, exit);
        Assert.Contains("QuantTrader:Replicas:risk must be a positive whole number, not 'two'", output);

        (exit, output) = await folder.TryPublishAsync("--QuantTrader:Replicas:klnie=2");
        Assert.NotEqual(0, exit);
        Assert.Contains("QuantTrader:Replicas names no such service: klnie", output);
    }

    [Fact]
    public void Service_discovery_and_connection_strings_use_kubernetes_service_dns()
    {
        var gateway = Assert.Single(Deployments, d => d.Metadata.Name == "gateway").Spec.Template.Spec.Containers[0];
        foreach (var name in folder.Projects.Where(p => p != "gateway"))
        {
            Assert.Contains(gateway.Env, e => e.Name == $"services__{name}__http__0" && e.Value == $"http://{name}:8080");
        }
        var accounts = Assert.Single(Deployments, d => d.Metadata.Name == "accounts").Spec.Template.Spec.Containers[0];
        var database = Assert.Single(accounts.Env, e => e.Name == "ConnectionStrings__quanttrader");
        Assert.StartsWith("Host=postgres;Port=5432;", database.Value);
        var password = Assert.Single(PasswordPattern().Matches(database.Value)).Groups[1].Value;
        // The password is a reference to a variable that comes from the Secret, defined before it is used.
        var variable = Assert.Single(VariablePattern().Matches(password)).Groups[1].Value;
        var defined = accounts.Env.TakeWhile(e => e != database).Single(e => e.Name == variable);
        Assert.Equal("db-password-accounts", defined.ValueFrom.SecretKeyRef.Key);
    }

    [Fact]
    public void Every_environment_reference_points_at_something_the_output_defines()
    {
        var secretKeys = folder.SecretsEnv().Keys.ToHashSet();
        var configMaps = Objects.OfType<V1ConfigMap>().ToDictionary(c => c.Metadata.Name);
        var servicePorts = Services.SelectMany(s => s.Spec.Ports.Select(p => $"{s.Metadata.Name}:{p.Port}")).ToHashSet();
        var serviceNames = Services.Select(s => s.Metadata.Name).ToHashSet();

        var pods = Deployments.Select(d => (d.Metadata.Name, d.Spec.Template.Spec))
            .Concat(StatefulSets.Select(s => (s.Metadata.Name, s.Spec.Template.Spec))).ToList();
        Assert.NotEmpty(pods);
        foreach (var (name, pod) in pods)
        {
            foreach (var container in pod.Containers.Concat(pod.InitContainers ?? []))
            {
                var seen = new HashSet<string>();
                foreach (var env in container.Env ?? [])
                {
                    if (env.ValueFrom?.SecretKeyRef is { } secret)
                    {
                        Assert.Equal("quanttrader-secrets", secret.Name);
                        Assert.Contains(secret.Key, secretKeys);
                    }
                    else if (env.ValueFrom?.ConfigMapKeyRef is { } config)
                    {
                        Assert.True(configMaps.TryGetValue(config.Name, out var map) && map.Data.ContainsKey(config.Key), $"{name}/{env.Name}");
                    }
                    else if (env.ValueFrom?.FieldRef is { } field)
                    {
                        Assert.Equal("metadata.name", field.FieldPath); // the NATS server's own name
                    }
                    else
                    {
                        Assert.Null(env.ValueFrom);
                        foreach (Match m in VariablePattern().Matches(env.Value ?? ""))
                        {
                            Assert.True(seen.Contains(m.Groups[1].Value), $"{name}/{env.Name} uses $({m.Groups[1].Value}) before it is defined");
                        }
                        foreach (Match m in UrlPattern().Matches(env.Value ?? ""))
                        {
                            Assert.True(servicePorts.Contains($"{m.Groups[1].Value}:{m.Groups[2].Value}"), $"{name}/{env.Name}={env.Value}: no such Service port");
                        }
                        if (HostPattern().Match(env.Value ?? "") is { Success: true } host)
                        {
                            Assert.Contains(host.Groups[1].Value, serviceNames);
                        }
                        Assert.DoesNotContain("localhost", env.Value ?? "", StringComparison.OrdinalIgnoreCase);
                    }
                    seen.Add(env.Name);
                }
            }
            foreach (var volume in pod.Volumes ?? [])
            {
                Assert.True(volume.ConfigMap is null || configMaps.ContainsKey(volume.ConfigMap.Name), $"{name}: volume {volume.Name}");
            }
        }
    }

    [Fact]
    public void No_secret_value_is_written_in_plain_text_into_a_manifest()
    {
        var secrets = folder.SecretsEnv();
        Assert.Equal(PublishedFolder.StripeCanary, secrets["stripe-secret-key"]); // taken from the environment
        Assert.True(secrets["postgres-password"].Length >= 22 && secrets["identity-signing-key"].Length >= 32, "generated secrets");
        var values = secrets.Values.Where(v => v.Length > 0).ToList();
        foreach (var file in Directory.GetFiles(folder.Directory).Where(f => Path.GetFileName(f) != "secrets.env"))
        {
            var text = File.ReadAllText(file);
            foreach (var value in values)
            {
                Assert.DoesNotContain(value, text);
            }
            Assert.DoesNotMatch(@"Password=(?!\$\()", text);
        }
        Assert.Equal("secrets.env\n", File.ReadAllText(Path.Combine(folder.Directory, ".gitignore")));
        Assert.All(secrets.Keys, k => Assert.Contains($"{k}=\n", File.ReadAllText(Path.Combine(folder.Directory, "secrets.env.example"))));
        // Publishing neither reads nor creates local state (no PostgreSQL cluster, no generated local keys).
        Assert.False(Directory.Exists(folder.LocalDataDirectory));
    }

    [Fact]
    public void Only_the_gateway_is_reachable_from_outside()
    {
        Assert.Equal(["gateway"], folder.ExternalProjects);
        var exposed = Services.Where(s => s.Spec.Type != "ClusterIP").ToList();
        var gateway = Assert.Single(exposed);
        Assert.Equal("gateway", gateway.Metadata.Name);
        Assert.Equal("LoadBalancer", gateway.Spec.Type);
        Assert.Equal(80, Assert.Single(gateway.Spec.Ports).Port);
        Assert.Empty(Objects.OfType<V1Ingress>());

        var ingressMode = folder.Objects(folder.IngressDirectory);
        Assert.All(ingressMode.OfType<V1Service>(), s => Assert.Equal("ClusterIP", s.Spec.Type));
        var ingress = Assert.Single(ingressMode.OfType<V1Ingress>());
        var rule = Assert.Single(ingress.Spec.Rules);
        Assert.Equal("qt.example.com", rule.Host);
        Assert.Equal("gateway", Assert.Single(rule.Http.Paths).Backend.Service.Name);
    }

    [Fact]
    public void Nats_and_postgres_are_statefulsets_with_persistent_volume_claims()
    {
        var nats = Assert.Single(StatefulSets, s => s.Metadata.Name == "nats");
        var natsContainer = Assert.Single(nats.Spec.Template.Spec.Containers);
        Assert.StartsWith("docker.io/nats:", natsContainer.Image);
        var natsClaim = Assert.Single(nats.Spec.VolumeClaimTemplates);
        Assert.Contains(natsContainer.VolumeMounts, m => m.Name == natsClaim.Metadata.Name && m.MountPath == "/data");
        var config = Assert.Single(Objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "nats-config");
        Assert.Contains("jetstream", config.Data["nats.conf"]);
        Assert.Contains("store_dir: \"/data\"", config.Data["nats.conf"]);
        Assert.Equal(["-c", "/etc/nats/nats.conf"], natsContainer.Args);
        Assert.Equal("/healthz", natsContainer.ReadinessProbe.HttpGet.Path);
        Assert.Equal("monitor", natsContainer.ReadinessProbe.HttpGet.Port.Value);

        var postgres = Assert.Single(StatefulSets, s => s.Metadata.Name == "postgres");
        var pg = Assert.Single(postgres.Spec.Template.Spec.Containers);
        Assert.Contains("timescale/timescaledb", pg.Image);
        Assert.Single(postgres.Spec.VolumeClaimTemplates);
        Assert.Equal("postgres-password", Assert.Single(pg.Env, e => e.Name == "POSTGRES_PASSWORD").ValueFrom.SecretKeyRef.Key);
        Assert.NotNull(pg.ReadinessProbe.Exec);
        var init = Assert.Single(Objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "postgres-init");
        Assert.Contains("CREATE DATABASE \"quanttrader\"", init.Data["create-databases.sql"]);

        // WaitFor in the model: persistence starts after PostgreSQL and NATS, the others after persistence.
        var persistence = Assert.Single(Deployments, d => d.Metadata.Name == "persistence").Spec.Template.Spec.InitContainers;
        Assert.Equal(["wait-for-nats", "wait-for-postgres"], persistence.Select(c => c.Name).Order());
        Assert.Contains(Assert.Single(Deployments, d => d.Metadata.Name == "accounts").Spec.Template.Spec.InitContainers,
            c => c.Name == "wait-for-persistence" && c.Command[^1].Contains("http://persistence:8080/health"));
    }

    [Fact]
    public async Task Kustomization_lists_every_manifest_and_kubectl_kustomize_builds_it()
    {
        var kustomization = File.ReadAllText(Path.Combine(folder.Directory, "kustomization.yaml"));
        var listed = Regex.Matches(kustomization, @"^- (\S+\.yaml)$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).Order().ToList();
        var written = folder.YamlFiles().Select(f => Path.GetFileName(f)!).Where(f => f != "kustomization.yaml").Order().ToList();
        Assert.Equal(written, listed);

        var (exit, output) = await PublishedFolder.RunAsync("kubectl", ["kustomize", folder.Directory]);
        Assert.True(exit == 0, output);
        var built = k8s.KubernetesYaml.LoadAllFromString(output);
        Assert.All(built.OfType<IMetadata<V1ObjectMeta>>().Where(o => o is not V1Namespace), o => Assert.Equal("quanttrader", o.Metadata.NamespaceProperty));
        var secret = Assert.Single(built.OfType<V1Secret>());
        Assert.StartsWith("quanttrader-secrets-", secret.Metadata.Name);
        // kustomize renamed every reference to the hashed Secret.
        Assert.DoesNotContain("name: quanttrader-secrets\n", output);
        Assert.Equal(Objects.Count + 1, built.Count);
    }

    [GeneratedRegex(@"Password=([^;]*)")]
    private static partial Regex PasswordPattern();

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex VariablePattern();

    [GeneratedRegex(@"[a-z]+://([a-z0-9-]+):(\d+)")]
    private static partial Regex UrlPattern();

    [GeneratedRegex(@"Host=([a-z0-9-]+)")]
    private static partial Regex HostPattern();
}
