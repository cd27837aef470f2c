using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// A webhook receiver that does what docs/notifications.md tells receivers to do: it acts once per idempotency key and
/// drops a second request with a key it has acted on. It records every request that reached it (the wire) apart from
/// the effects, can refuse with a status (<see cref="RefuseWith"/>) and can hold each request before answering
/// (<see cref="Hold"/>: a slow receiver, so a test can kill the sender while requests are in flight).
/// </summary>
internal sealed class IdempotentReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _refuseWith;

    private IdempotentReceiver(WebApplication app) => _app = app;

    public sealed record Request(Guid HeaderKey, Guid BodyKey, Guid EventId, string Body, string Timestamp, string Signature, bool Refused);

    public string Url { get; private set; } = "";

    /// <summary>How long each request is held before the answer (after the effect).</summary>
    public TimeSpan Hold { get; set; }

    /// <summary>0: accept; else the HTTP status every request is answered with, without effect.</summary>
    public int RefuseWith
    {
        get => Volatile.Read(ref _refuseWith);
        set => Volatile.Write(ref _refuseWith, value);
    }

    /// <summary>Every request that reached the receiver, in arrival order.</summary>
    public ConcurrentQueue<Request> Wire { get; } = new();

    /// <summary>Effects, per idempotency key: the event id acted on (once).</summary>
    public ConcurrentDictionary<Guid, Guid> Effects { get; } = new();

    /// <summary>Accepted requests whose key had been acted on already: recognised and dropped.</summary>
    public int DuplicatesDropped => Wire.Count(r => !r.Refused) - Effects.Count;

    public static async Task<IdempotentReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new IdempotentReceiver(app);
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            var json = JsonDocument.Parse(body).RootElement;
            var refuse = receiver.RefuseWith;
            receiver.Wire.Enqueue(new Request(
                Guid.Parse(request.Headers["Idempotency-Key"].ToString()), json.GetProperty("idempotencyKey").GetGuid(), json.GetProperty("eventId").GetGuid(),
                body, request.Headers["X-QuantTrader-Timestamp"].ToString(), request.Headers["X-QuantTrader-Signature"].ToString(), refuse != 0));
            if (refuse != 0)
            {
                return Results.StatusCode(refuse);
            }

            // The effect happens at most once per key (the signed body's key); a repeat is answered 200 and dropped.
            receiver.Effects.TryAdd(json.GetProperty("idempotencyKey").GetGuid(), json.GetProperty("eventId").GetGuid());
            await Task.Delay(receiver.Hold);
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = app.Urls.First().TrimEnd('/') + "/hook";
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
