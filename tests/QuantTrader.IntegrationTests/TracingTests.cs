using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.IntegrationTests;

[Collection(SystemCollection.Name)]
public sealed class TracingTests(SystemFixture system)
{
    [Fact]
    public async Task A_JetStream_message_carries_the_publishers_trace_to_the_consumer()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == QuantTraderTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);

        // Two processes' worth of wiring, each built the way every service builds it.
        var natsUrl = await system.ConnectionStringAsync("nats");
        using var publisher = BuildService("publisher", natsUrl);
        using var consumer = BuildService("consumer", natsUrl);

        var stream = $"TRACE_{Guid.NewGuid():N}";
        var subject = $"trace.{stream}";
        var publisherJs = publisher.Services.GetRequiredService<INatsJSContext>();
        await publisherJs.CreateStreamAsync(new StreamConfig(stream, [subject]), cts.Token);

        string publishedTraceId;
        using (var operation = QuantTraderTelemetry.ActivitySource.StartActivity("place order"))
        {
            publishedTraceId = operation!.TraceId.ToHexString();
            var headers = new NatsHeaders();
            using var publish = NatsTracing.StartPublish(subject, headers);
            var ack = await publisherJs.PublishAsync(subject, "hello", headers: headers, cancellationToken: cts.Token);
            ack.EnsureSuccess();
        }

        var consumerJs = consumer.Services.GetRequiredService<INatsJSContext>();
        var durable = await consumerJs.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig("reader"), cts.Token);
        var message = await durable.NextAsync<string>(cancellationToken: cts.Token);
        Assert.NotNull(message);
        string consumedTraceId;
        using (var process = NatsTracing.StartProcess(subject, message.Headers))
        {
            consumedTraceId = process!.TraceId.ToHexString();
            await message.AckAsync(cancellationToken: cts.Token);
        }

        Assert.Equal(publishedTraceId, consumedTraceId);
        Assert.Equal(publishedTraceId, NatsTracing.TraceIdOf(message.Headers));
        await publisherJs.DeleteStreamAsync(stream, CancellationToken.None);
    }

    private static IHost BuildService(string name, string natsUrl)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = name });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:nats"] = natsUrl });
        builder.AddBasicServiceDefaults();
        builder.AddNatsClient();
        return builder.Build();
    }
}
