using NATS.Client.JetStream;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Messaging;

namespace QuantTrader.Alert.Runtime;

/// <summary>The streams the alert service reads and writes, created (or updated) once per process before any partition starts.</summary>
public sealed class AlertStreams(INatsJSContext js, ILogger<AlertStreams> logger)
{
    private readonly SemaphoreSlim _once = new(1, 1);
    private volatile bool _ready;

    public bool Ready => _ready;

    public async Task EnsureAsync(CancellationToken ct)
    {
        if (_ready)
        {
            return;
        }

        await _once.WaitAsync(ct);
        try
        {
            if (!_ready)
            {
                foreach (var stream in new[] { Streams.MarketRaw(), Streams.MarketKline(), Streams.Alerts(), Streams.DeadLetters() })
                {
                    await StreamSetup.EnsureAsync(js, stream, logger, ct);
                }

                _ready = true;
            }
        }
        finally
        {
            _once.Release();
        }
    }

    /// <summary>The stream's last sequence: where a partition that has never been evaluated starts (after it).</summary>
    public async Task<ulong> LastSequenceAsync(string stream, CancellationToken ct) =>
        (await js.GetStreamAsync(stream, cancellationToken: ct)).Info.State.LastSeq;
}
