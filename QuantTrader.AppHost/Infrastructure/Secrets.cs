using QuantTrader.AppHost.Kubernetes;

namespace QuantTrader.AppHost.Infrastructure;

public static class Secrets
{
    /// <summary>
    /// The key the gateway signs callers' identities with, shared with every service. A secret parameter
    /// (<c>Parameters:identity-signing-key</c>); when running locally without one, a random key is generated once
    /// and kept in the data folder (mode 600), never in the repository.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddIdentitySigningKey(this IDistributedApplicationBuilder builder, string dataDirectory)
        => builder.AddGeneratedSecret("identity-signing-key", dataDirectory, "identity-signing.key", minLength: 64);

    /// <summary>
    /// A secret parameter that needs no one to choose it. Publishing (Kubernetes) generates it into the deployment's
    /// secrets.env and reads nothing local; a local run takes <c>Parameters:{name}</c> when set, else a random value
    /// generated once and kept in <paramref name="fileName"/> under the data folder (mode 600), never in the repository.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddGeneratedSecret(this IDistributedApplicationBuilder builder, string name,
        string dataDirectory, string fileName, int minLength = 32)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return builder.AddParameter(name, new GenerateParameterDefault { MinLength = minLength, Special = false }, secret: true);
        }
        if (builder.ExecutionContext.IsRunMode && string.IsNullOrEmpty(builder.Configuration[$"Parameters:{name}"]))
        {
            builder.Configuration[$"Parameters:{name}"] = SecretFile(dataDirectory, fileName, minLength / 2);
        }
        return builder.AddParameter(name, secret: true);
    }

    /// <summary>Stripe keys are optional: without them billing answers 503 and everything else works.</summary>
    public static IResourceBuilder<ProjectResource> WithOptionalStripe(this IResourceBuilder<ProjectResource> accounts, IDistributedApplicationBuilder builder)
    {
        foreach (var (parameter, variable) in new[] { ("stripe-secret-key", "Stripe__SecretKey"), ("stripe-webhook-secret", "Stripe__WebhookSecret") })
        {
            if (!builder.ExecutionContext.IsRunMode || !string.IsNullOrEmpty(builder.Configuration[$"Parameters:{parameter}"]))
            {
                accounts.WithEnvironment(variable, builder.AddParameter(parameter, secret: true));
            }
        }
        // Stripe's API (a deployment's NetworkPolicy: public addresses, HTTPS only).
        accounts.WithExternalEgress("Stripe API", 443);
        if (builder.Configuration["QuantTrader:StripeApiBase"] is { Length: > 0 } apiBase)
        {
            accounts.WithEnvironment("Stripe__ApiBase", apiBase);
        }
        return accounts;
    }

    internal static string SecretFile(string dataDirectory, string fileName, int bytes)
        => SecretFiles.ReadOrGenerate(Path.Combine(dataDirectory, fileName), bytes);
}
