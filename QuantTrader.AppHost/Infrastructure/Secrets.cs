using System.Security.Cryptography;

namespace QuantTrader.AppHost.Infrastructure;

public static class Secrets
{
    /// <summary>
    /// The key the gateway signs callers' identities with, shared with every service. A secret parameter
    /// (<c>Parameters:identity-signing-key</c>); when running locally without one, a random key is generated once
    /// and kept in the data folder (mode 600), never in the repository.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddIdentitySigningKey(this IDistributedApplicationBuilder builder, string dataDirectory)
    {
        const string name = "identity-signing-key";
        if (builder.ExecutionContext.IsPublishMode)
        {
            // A deployment generates its own key (the Kubernetes publisher writes it into the gitignored
            // secrets.env); nothing local is read or written.
            return builder.AddParameter(name, new GenerateParameterDefault { MinLength = 64, Special = false }, secret: true);
        }
        if (builder.ExecutionContext.IsRunMode && string.IsNullOrEmpty(builder.Configuration[$"Parameters:{name}"]))
        {
            builder.Configuration[$"Parameters:{name}"] = SecretFile(dataDirectory, "identity-signing.key", 32);
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
        if (builder.Configuration["QuantTrader:StripeApiBase"] is { Length: > 0 } apiBase)
        {
            accounts.WithEnvironment("Stripe__ApiBase", apiBase);
        }
        return accounts;
    }

    internal static string SecretFile(string dataDirectory, string fileName, int bytes)
    {
        Directory.CreateDirectory(dataDirectory);
        var file = Path.Combine(dataDirectory, fileName);
        if (!File.Exists(file))
        {
            File.WriteAllText(file, Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        return File.ReadAllText(file).Trim();
    }
}
