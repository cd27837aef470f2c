using System.Diagnostics;
using NATS.Client.Core;

namespace QuantTrader.ServiceDefaults.Messaging;

/// <summary>
/// W3C trace context across NATS: the publisher writes <c>traceparent</c>/<c>tracestate</c> into the message
/// headers, the consumer starts its processing activity as a child of them, so one trade can be followed from
/// the connector to the stored row in the dashboard.
/// </summary>
public static class NatsTracing
{
    /// <summary>Starts a producer activity for <paramref name="subject"/> and writes its context into <paramref name="headers"/>.</summary>
    public static Activity? StartPublish(string subject, NatsHeaders headers)
    {
        var activity = QuantTraderTelemetry.ActivitySource.StartActivity($"{subject} publish", ActivityKind.Producer);
        // Tags only on activities that are recorded: an unsampled one only propagates its context.
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("messaging.system", "nats");
            activity.SetTag("messaging.destination.name", subject);
        }

        Inject(activity ?? Activity.Current, headers);
        return activity;
    }

    public static void Inject(Activity? activity, NatsHeaders headers)
    {
        if (activity is null)
        {
            return;
        }
        DistributedContextPropagator.Current.Inject(activity, headers, static (carrier, key, value) =>
        {
            if (carrier is NatsHeaders h && value is not null)
            {
                h[key] = value;
            }
        });
    }

    /// <summary>Starts a consumer activity whose parent is the trace context carried by the message headers.</summary>
    public static Activity? StartProcess(string subject, NatsHeaders? headers)
    {
        ActivityContext parent = default;
        if (headers is not null)
        {
            DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (object? carrier, string name, out string? value, out IEnumerable<string>? values) =>
            {
                values = null;
                value = carrier is NatsHeaders h && h.TryGetValue(name, out var v) ? v.ToString() : null;
            }, out var traceParent, out var traceState);
            if (traceParent is not null)
            {
                ActivityContext.TryParse(traceParent, traceState, isRemote: true, out parent);
            }
        }
        var activity = QuantTraderTelemetry.ActivitySource.StartActivity($"{subject} process", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "nats");
        activity?.SetTag("messaging.destination.name", subject);
        return activity;
    }

    /// <summary>
    /// <see cref="StartProcess"/> for consumers of every market-data message: nothing is started when the publisher's
    /// trace was not sampled (<c>traceparent</c> flags 00). The parent-based sampler would drop that activity anyway;
    /// creating it only to propagate an unsampled context cost a measurable share of a consumer's CPU per trade.
    /// A message without trace context starts a root activity as <see cref="StartProcess"/> does.
    /// </summary>
    public static Activity? StartProcessIfSampled(string subject, NatsHeaders? headers)
    {
        if (headers is not null && headers.TryGetValue("traceparent", out var traceParent)
            && ActivityContext.TryParse(traceParent.ToString(), null, isRemote: true, out var parent)
            && (parent.TraceFlags & ActivityTraceFlags.Recorded) == 0)
        {
            return null;
        }

        return StartProcess(subject, headers);
    }

    /// <summary>The trace id carried by the headers, or null (for tests and logs).</summary>
    public static string? TraceIdOf(NatsHeaders? headers)
    {
        if (headers is null || !headers.TryGetValue("traceparent", out var tp))
        {
            return null;
        }
        return ActivityContext.TryParse(tp.ToString(), null, out var ctx) ? ctx.TraceId.ToHexString() : null;
    }
}
