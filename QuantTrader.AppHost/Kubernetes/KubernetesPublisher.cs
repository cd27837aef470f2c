using Aspire.Hosting.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace QuantTrader.AppHost.Kubernetes;

public static class KubernetesPublisher
{
    public const string PublisherName = "kubernetes";
    public const string StepName = "publish-kubernetes";

    /// <summary>
    /// <c>--publisher kubernetes --output-path DIR</c>: writes Kubernetes manifests for this app model and exits,
    /// in the style of Aspire's own <c>--publisher manifest</c>. It is one step of Aspire's publish pipeline, and
    /// selecting it runs only that step: nothing is started, built or pushed. In any other mode it adds nothing.
    /// </summary>
    public static IDistributedApplicationBuilder AddKubernetesPublisher(this IDistributedApplicationBuilder builder)
    {
        var step = builder.Configuration["Pipeline:Step"];
        var selected = string.Equals(builder.ExecutionContext.PublisherName, PublisherName, StringComparison.OrdinalIgnoreCase)
            || string.Equals(step, StepName, StringComparison.Ordinal);
        if (!builder.ExecutionContext.IsPublishMode || !selected)
        {
            return builder;
        }
        if (string.IsNullOrEmpty(step))
        {
            // Without this Aspire would run its whole default pipeline (manifest, image build, push).
            builder.Configuration["Pipeline:Step"] = StepName;
        }

        var options = KubernetesOptions.From(builder.Configuration);
        builder.Pipeline.AddStep(StepName, async context =>
        {
            var outputDirectory = context.Services.GetRequiredService<IPipelineOutputService>().GetOutputDirectory();
            var generator = new KubernetesManifestGenerator(context.Model, context.ExecutionContext, options,
                builder.Configuration, context.Logger);
            var written = await generator.WriteAsync(outputDirectory, context.CancellationToken);
            context.Logger.LogInformation("Kubernetes manifests for {Count} resources written to {Directory}; deploy with: kubectl apply -k {Directory}",
                written, outputDirectory, outputDirectory);
        });
        return builder;
    }
}
