using System.Threading.Channels;

namespace QuantTrader.PaperEngine.Engine;

/// <summary>
/// The engine's one thread of control: runs steps one after another, never two at once, so the state they share needs
/// no locks. Scheduling only — what a step does is its own business.
/// <para>
/// Two lanes: requests (orders, cancels, reads, checkpoints) go ahead of queued trades, so an order does not wait
/// behind a backlog of prints; trades stay in stream order among themselves. Why an order that overtakes queued prints
/// still never fills on them: see <see cref="ExchangeLoop.SubmitAsync"/>.
/// </para>
/// </summary>
public sealed class EngineActor
{
    private readonly Channel<Func<Task>> _requests = Channel.CreateBounded<Func<Task>>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Channel<Func<Task>> _trades = Channel.CreateBounded<Func<Task>>(new BoundedChannelOptions(10_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    // Rung after every write to either lane; the loop waits on it when both are empty. One waiter on one channel: a
    // wait on each lane would leave a pending waiter on the quiet lane every time, piling up while only the other moves.
    private readonly Channel<bool> _doorbell = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private Task? _runner;

    /// <summary>
    /// Starts running steps. <paramref name="stepFailed"/> is called once when a step throws; the actor then runs
    /// nothing more. A step that throws may have left the state half-changed, so going on from there is not safe; nor
    /// may the loop just end quietly: nobody would drain the lanes, their writers would block on them — a silent hang.
    /// </summary>
    public void Start(Action<Exception> stepFailed)
    {
        _runner = Task.Run(() => RunAsync(stepFailed), CancellationToken.None);
    }

    /// <summary>Takes no more steps, runs those already queued and returns when they are done (or when a step failed).</summary>
    public async Task StopAsync(CancellationToken ct)
    {
        _requests.Writer.TryComplete();
        _trades.Writer.TryComplete();
        _doorbell.Writer.TryComplete();
        if (_runner is not null)
        {
            await _runner.WaitAsync(ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Runs <paramref name="step"/> in the request lane and returns its result (or its exception).</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> step, CancellationToken ct)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _requests.Writer.WriteAsync(async () =>
        {
            try
            {
                done.TrySetResult(await step());
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        }, ct);
        _doorbell.Writer.TryWrite(true);
        return await done.Task.WaitAsync(ct);
    }

    /// <inheritdoc cref="RunAsync{T}(Func{Task{T}}, CancellationToken)"/>
    public Task<T> RunAsync<T>(Func<T> step, CancellationToken ct) => RunAsync(() => Task.FromResult(step()), ct);

    /// <summary>
    /// Queues <paramref name="step"/> in the trade lane and returns once it is queued (waiting while the lane is full).
    /// An exception it throws is a failure of the engine (<see cref="Start"/>), since nobody waits for its result.
    /// </summary>
    public async ValueTask EnqueueTradeStepAsync(Func<Task> step, CancellationToken ct)
    {
        await _trades.Writer.WriteAsync(step, ct);
        _doorbell.Writer.TryWrite(true);
    }

    private async Task RunAsync(Action<Exception> stepFailed)
    {
        while (true)
        {
            if (_requests.Reader.TryRead(out var step) || _trades.Reader.TryRead(out step))
            {
                try
                {
                    await step();
                }
                catch (Exception ex)
                {
                    stepFailed(ex);
                    return;
                }

                continue;
            }

            // Both lanes empty: wait for the next write. Once stopping (doorbell completed), end when both are drained.
            if (await _doorbell.Reader.WaitToReadAsync(CancellationToken.None))
            {
                _doorbell.Reader.TryRead(out _);
            }
            else if (_requests.Reader.Count == 0 && _trades.Reader.Count == 0)
            {
                return;
            }
        }
    }
}
