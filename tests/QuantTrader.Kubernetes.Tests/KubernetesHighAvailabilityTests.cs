using k8s.Models;

namespace QuantTrader.Kubernetes.Tests;

/// <summary>
/// Issue 17 on Kubernetes, read back from the publisher's real output: NATS as a three-server cluster (routes, its own
/// disruption budget, servers spread over nodes, three-replica streams), telemetry to the configured collector.
/// </summary>
public sealed class KubernetesHighAvailabilityTests(PublishedFolder folder) : IClassFixture<PublishedFolder>
{
    private List<object> Objects => folder.Objects();

    private V1StatefulSet Nats(List<object> objects) => Assert.Single(objects.OfType<V1StatefulSet>(), s => s.Metadata.Name == "nats");

    [Fact]
    public void Nats_is_a_three_server_statefulset_whose_servers_find_each_other_through_a_headless_service()
    {
        var nats = Nats(Objects);
        Assert.Equal(3, nats.Spec.Replicas);
        Assert.Equal("nats-headless", nats.Spec.ServiceName);
        // Readiness needs a majority of servers: they must start together, not one after the other.
        Assert.Equal("Parallel", nats.Spec.PodManagementPolicy);
        var container = Assert.Single(nats.Spec.Template.Spec.Containers);
        Assert.StartsWith("docker.io/nats:", container.Image);
        Assert.Equal("/healthz", container.ReadinessProbe.HttpGet.Path);
        Assert.Contains(container.Ports, p => p.Name == "cluster" && p.ContainerPort == 6222);
        // One JetStream store per server, on its own claim.
        var claim = Assert.Single(nats.Spec.VolumeClaimTemplates);
        Assert.Contains(container.VolumeMounts, m => m.Name == claim.Metadata.Name && m.MountPath == "/data");

        var headless = Assert.Single(Objects.OfType<V1Service>(), s => s.Metadata.Name == "nats-headless");
        Assert.Equal("None", headless.Spec.ClusterIP);
        Assert.True(headless.Spec.PublishNotReadyAddresses, "routes must resolve before a server is ready");
        Assert.Equal(nats.Spec.Selector.MatchLabels, headless.Spec.Selector);
        Assert.Contains(headless.Spec.Ports, p => p.Port == 6222);

        // The config: a unique server name (the pod's), the cluster, route credentials, a route to every server.
        var config = Assert.Single(Objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "nats-config").Data["nats.conf"];
        Assert.Contains("server_name: $POD_NAME", config);
        Assert.Contains("name: \"quanttrader\"", config);
        Assert.Contains("port: 6222", config);
        Assert.Matches(@"authorization \{\s+user: ""route""\s+password: \$NATS_ROUTE_PASSWORD", config);
        Assert.Matches(@"routes: \[\s+\$NATS_ROUTE_0\s+\$NATS_ROUTE_1\s+\$NATS_ROUTE_2\s+\]", config);
        Assert.Contains("jetstream", config);
        Assert.DoesNotMatch(@"password: """, config); // no secret in the ConfigMap

        var env = container.Env;
        Assert.Equal("metadata.name", Assert.Single(env, e => e.Name == "POD_NAME").ValueFrom.FieldRef.FieldPath);
        var password = Assert.Single(env, e => e.Name == "NATS_ROUTE_PASSWORD");
        Assert.Equal("nats-route-password", password.ValueFrom.SecretKeyRef.Key);
        Assert.True(folder.SecretsEnv()["nats-route-password"].Length >= 32, "generated route password");
        for (var i = 0; i < 3; i++)
        {
            var route = Assert.Single(env, e => e.Name == $"NATS_ROUTE_{i}");
            Assert.Equal($"\"nats://route:$(NATS_ROUTE_PASSWORD)@nats-{i}.nats-headless:6222\"", route.Value);
            // Kubernetes expands $(NATS_ROUTE_PASSWORD) only when it is defined before.
            Assert.True(env.IndexOf(password) < env.IndexOf(route));
        }
    }

    [Fact]
    public void Nats_servers_prefer_different_nodes_a_drain_takes_one_at_a_time_and_routes_are_open_between_them()
    {
        var nats = Nats(Objects);
        var preferred = Assert.Single(nats.Spec.Template.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution);
        Assert.Equal("kubernetes.io/hostname", preferred.PodAffinityTerm.TopologyKey);
        Assert.Equal(nats.Spec.Selector.MatchLabels, preferred.PodAffinityTerm.LabelSelector.MatchLabels);

        var budget = Assert.Single(Objects.OfType<V1PodDisruptionBudget>(), b => b.Metadata.Name == "nats");
        Assert.Equal("1", budget.Spec.MaxUnavailable.Value); // 3 servers: 2 always up, a majority
        Assert.Equal(nats.Spec.Selector.MatchLabels, budget.Spec.Selector.MatchLabels);

        // Lame duck before SIGTERM: clients move to the other servers; the grace period covers it.
        var container = nats.Spec.Template.Spec.Containers.Single();
        Assert.Contains(container.Lifecycle.PreStop.Exec.Command, c => c.StartsWith("ldm=", StringComparison.Ordinal));
        Assert.True(nats.Spec.Template.Spec.TerminationGracePeriodSeconds > 30);

        var policy = Assert.Single(Objects.OfType<V1NetworkPolicy>(), p => p.Metadata.Name == "nats");
        Assert.Contains(policy.Spec.Ingress, r => r.Ports.Any(p => p.Port.Value == "6222")
            && r.FromProperty.Single().PodSelector.MatchLabels["app.kubernetes.io/name"] == "nats");
        Assert.Contains(policy.Spec.Egress, r => r.Ports.Any(p => p.Port.Value == "6222")
            && r.To.Single().PodSelector.MatchLabels["app.kubernetes.io/name"] == "nats");
    }

    [Fact]
    public void Every_service_is_told_to_keep_three_replicas_of_each_stream_it_creates()
    {
        foreach (var deployment in Objects.OfType<V1Deployment>())
        {
            var env = deployment.Spec.Template.Spec.Containers[0].Env;
            Assert.Equal("3", Assert.Single(env, e => e.Name == "Nats__StreamReplicas").Value);
            // The Service in front of the ready servers: any of them, the client learns the others from it.
            Assert.EndsWith("@nats:4222", Assert.Single(env, e => e.Name == "ConnectionStrings__nats").Value);
        }
    }

    [Fact]
    public async Task One_nats_node_is_the_single_server_of_before_and_two_are_refused()
    {
        var single = folder.Objects(folder.IngressDirectory); // --nats-nodes 1
        var nats = Nats(single);
        Assert.Equal(1, nats.Spec.Replicas);
        Assert.Null(nats.Spec.PodManagementPolicy);
        Assert.DoesNotContain(single.OfType<V1Service>(), s => s.Metadata.Name == "nats-headless");
        Assert.DoesNotContain(single.OfType<V1PodDisruptionBudget>(), b => b.Metadata.Name == "nats");
        Assert.DoesNotContain("cluster {", Assert.Single(single.OfType<V1ConfigMap>(), c => c.Metadata.Name == "nats-config").Data["nats.conf"]);
        Assert.All(single.OfType<V1Deployment>(), d =>
            Assert.Equal("1", Assert.Single(d.Spec.Template.Spec.Containers[0].Env, e => e.Name == "Nats__StreamReplicas").Value));

        var (exit, output) = await folder.TryPublishAsync("--nats-nodes", "2");
        Assert.NotEqual(0, exit);
        Assert.Contains("--nats-nodes must be 1 or at least 3", output);
    }

    [Fact]
    public async Task The_otlp_collector_and_its_protocol_reach_every_service_pod_and_its_port_is_open()
    {
        var objects = folder.Objects(folder.IngressDirectory);
        var deployments = objects.OfType<V1Deployment>().ToList();
        Assert.Equal(folder.Projects.Order(), deployments.Select(d => d.Metadata.Name).Order());
        foreach (var deployment in deployments)
        {
            var env = deployment.Spec.Template.Spec.Containers[0].Env;
            Assert.Equal(PublishedFolder.OtlpEndpoint, Assert.Single(env, e => e.Name == "OTEL_EXPORTER_OTLP_ENDPOINT").Value);
            Assert.Equal("http/protobuf", Assert.Single(env, e => e.Name == "OTEL_EXPORTER_OTLP_PROTOCOL").Value);
            Assert.Equal(deployment.Metadata.Name, Assert.Single(env, e => e.Name == "OTEL_SERVICE_NAME").Value);
            Assert.Equal("json", Assert.Single(env, e => e.Name == "Logging__Console__FormatterName").Value);
            var policy = Assert.Single(objects.OfType<V1NetworkPolicy>(), p => p.Metadata.Name == deployment.Metadata.Name);
            Assert.Contains(policy.Spec.Egress, r => r.To is null && r.Ports.Single().Port.Value == "4318");
        }
        // No collector given: no exporter configured (ServiceDefaults exports only when the endpoint is set).
        Assert.All(Objects.OfType<V1Deployment>(), d => Assert.DoesNotContain(d.Spec.Template.Spec.Containers[0].Env, e => e.Name.StartsWith("OTEL_EXPORTER_OTLP", StringComparison.Ordinal)));

        var (exit, output) = await folder.TryPublishAsync("--otlp-endpoint", "otel-collector:4317");
        Assert.NotEqual(0, exit);
        Assert.Contains("--otlp-endpoint must be an absolute http:// or https:// URL", output);
    }

    [Fact]
    public void An_external_database_is_one_secret_that_every_database_service_reads_and_no_postgres_is_deployed()
    {
        var objects = folder.Objects(folder.ExternalDatabaseDirectory);
        Assert.DoesNotContain(objects.OfType<V1StatefulSet>(), s => s.Metadata.Name == "postgres");
        Assert.DoesNotContain(objects.OfType<V1Service>(), s => s.Metadata.Name == "postgres");
        Assert.DoesNotContain(objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == "postgres-init");
        Assert.False(File.Exists(Path.Combine(folder.ExternalDatabaseDirectory, "postgres.yaml")));
        var example = File.ReadAllText(Path.Combine(folder.ExternalDatabaseDirectory, "secrets.env.example"));
        Assert.DoesNotContain("db-password-", example); // no roles of ours, no password of ours
        Assert.DoesNotContain("postgres-password", example);

        var deployments = objects.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        foreach (var name in folder.Projects.Where(p => p != "gateway"))
        {
            var pod = deployments[name].Spec.Template.Spec;
            var connection = Assert.Single(pod.Containers[0].Env, e => e.Name == "ConnectionStrings__quanttrader");
            Assert.Null(connection.Value);
            Assert.Equal(PublishedFolder.ExternalDatabaseSecret, connection.ValueFrom.SecretKeyRef.Name);
            Assert.Equal("connection-string", connection.ValueFrom.SecretKeyRef.Key);
            Assert.DoesNotContain(pod.InitContainers ?? [], c => c.Name == "wait-for-postgres");
            // Its address is in the Secret: out to any destination on the database port.
            var policy = Assert.Single(objects.OfType<V1NetworkPolicy>(), p => p.Metadata.Name == name);
            Assert.Contains(policy.Spec.Egress, r => r.To is null && r.Ports.Single().Port.Value == "5432");
        }
        Assert.DoesNotContain(deployments["gateway"].Spec.Template.Spec.Containers[0].Env, e => e.Name == "ConnectionStrings__quanttrader");
        Assert.DoesNotContain(objects.OfType<V1NetworkPolicy>(), p => p.Metadata.Name == "postgres");
    }

    [Fact]
    public async Task A_cloudnativepg_cluster_replaces_the_statefulset_and_services_use_its_primary_and_its_app_secret()
    {
        var objects = folder.Objects(folder.CnpgDirectory);
        Assert.DoesNotContain(objects.OfType<V1StatefulSet>(), s => s.Metadata.Name == "postgres");
        var cluster = Assert.Single(objects.OfType<CnpgCluster>());
        Assert.Equal("postgresql.cnpg.io/v1", cluster.ApiVersion);
        Assert.Equal("Cluster", cluster.Kind);
        Assert.Equal("postgres", cluster.Metadata.Name);
        Assert.Equal("3", cluster.Spec["instances"].ToString());
        var storage = (IDictionary<object, object>)cluster.Spec["storage"];
        Assert.Equal("10Gi", storage["size"]);
        Assert.Equal("fast-ssd", storage["storageClass"]);
        var initdb = (IDictionary<object, object>)((IDictionary<object, object>)cluster.Spec["bootstrap"])["initdb"];
        Assert.Equal("quanttrader", initdb["database"]);

        var deployments = objects.OfType<V1Deployment>().ToDictionary(d => d.Metadata.Name);
        foreach (var name in folder.Projects.Where(p => p != "gateway"))
        {
            var env = deployments[name].Spec.Template.Spec.Containers[0].Env;
            var connection = Assert.Single(env, e => e.Name == "ConnectionStrings__quanttrader").Value;
            Assert.Equal("Host=postgres-rw;Port=5432;Username=$(QT_DB_USERNAME);Password=$(QT_DB_PASSWORD);Database=quanttrader", connection);
            foreach (var (variable, key) in new[] { ("QT_DB_USERNAME", "username"), ("QT_DB_PASSWORD", "password") })
            {
                var secret = Assert.Single(env, e => e.Name == variable);
                Assert.Equal("postgres-app", secret.ValueFrom.SecretKeyRef.Name); // generated by the operator
                Assert.Equal(key, secret.ValueFrom.SecretKeyRef.Key);
                Assert.True(env.IndexOf(secret) < env.IndexOf(env.Single(e => e.Name == "ConnectionStrings__quanttrader")));
            }
        }
        Assert.Contains(deployments["persistence"].Spec.Template.Spec.InitContainers,
            c => c.Name == "wait-for-postgres" && c.Command[^1].Contains("nc -z postgres-rw 5432"));

        // The instances under the default deny: PostgreSQL from the services and each other, status from the operator.
        var policy = Assert.Single(objects.OfType<V1NetworkPolicy>(), p => p.Metadata.Name == "postgres-cnpg");
        Assert.Equal("postgres", policy.Spec.PodSelector.MatchLabels["cnpg.io/cluster"]);
        var sources = policy.Spec.Ingress.Single(r => r.Ports.Single().Port.Value == "5432").FromProperty;
        Assert.Contains(sources, f => f.PodSelector.MatchLabels.TryGetValue("app.kubernetes.io/name", out var n) && n == "persistence");
        Assert.Contains(sources, f => f.PodSelector.MatchLabels.ContainsKey("cnpg.io/cluster"));
        Assert.Contains(policy.Spec.Ingress, r => r.Ports.Single().Port.Value == "8000" && r.FromProperty.Single().NamespaceSelector is not null);
        var kline = Assert.Single(objects.OfType<V1NetworkPolicy>(), p => p.Metadata.Name == "kline");
        Assert.Contains(kline.Spec.Egress, r => r.Ports.Single().Port.Value == "5432" && r.To.Single().PodSelector.MatchLabels["cnpg.io/cluster"] == "postgres");

        var (exit, output) = await PublishedFolder.RunAsync("kubectl", ["kustomize", folder.CnpgDirectory]);
        Assert.True(exit == 0, output);
        Assert.Contains("kind: Cluster", output);
    }

    [Theory]
    [InlineData("--database external", "--database external needs --database-secret NAME")]
    [InlineData("--database cnpg --database-secret pg", "--database-secret is for --database external only")]
    [InlineData("--database mysql", "--database must be 'postgres'")]
    [InlineData("--database-secret Bad_Name", "--database-secret must be a Kubernetes Secret name")]
    [InlineData("--cnpg-instances 0", "--cnpg-instances must be a positive whole number")]
    public async Task Database_options_are_checked_with_an_error_that_names_them(string arguments, string error)
    {
        var (exit, output) = await folder.TryPublishAsync(arguments.Split(' '));
        Assert.NotEqual(0, exit);
        Assert.Contains(error, output);
    }
}
