using QuantTrader.PaperEngine.Engine;

namespace QuantTrader.PaperEngine.Tests;

public sealed class EngineActorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_request_runs_and_returns_its_result()
    {
        var actor = new EngineActor();
        actor.Start(_ => { });

        Assert.Equal(42, await actor.RunAsync(() => 42, CancellationToken.None).WaitAsync(Patience));
        await actor.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Requests_go_ahead_of_queued_trades_and_trades_keep_their_order()
    {
        var actor = new EngineActor();
        var ran = new List<string>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        actor.Start(_ => { });

        // The first trade step holds the actor until the rest is queued.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await actor.EnqueueTradeStepAsync(async () => { started.SetResult(); await gate.Task; ran.Add("trade 1"); }, CancellationToken.None);
        await started.Task.WaitAsync(Patience);
        await actor.EnqueueTradeStepAsync(() => { ran.Add("trade 2"); return Task.CompletedTask; }, CancellationToken.None);
        await actor.EnqueueTradeStepAsync(() => { ran.Add("trade 3"); return Task.CompletedTask; }, CancellationToken.None);
        var request = actor.RunAsync(() => { ran.Add("order"); return true; }, CancellationToken.None);
        gate.SetResult();
        await request.WaitAsync(Patience);
        await actor.StopAsync(CancellationToken.None);

        Assert.Equal(["trade 1", "order", "trade 2", "trade 3"], ran);
    }

    [Fact]
    public async Task Steps_never_run_at_the_same_time()
    {
        var actor = new EngineActor();
        actor.Start(_ => { });
        var running = 0;
        var overlaps = 0;
        var steps = Enumerable.Range(0, 200).Select(_ => actor.RunAsync(async () =>
        {
            if (Interlocked.Increment(ref running) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            await Task.Yield();
            Interlocked.Decrement(ref running);
            return true;
        }, CancellationToken.None));

        await Task.WhenAll(steps).WaitAsync(Patience);
        await actor.StopAsync(CancellationToken.None);
        Assert.Equal(0, overlaps);
    }

    [Fact]
    public async Task A_failing_request_fails_its_caller_and_the_actor_goes_on()
    {
        var actor = new EngineActor();
        Exception? failed = null;
        actor.Start(ex => failed = ex);

        Func<bool> refused = () => throw new InvalidOperationException("refused");
        await Assert.ThrowsAsync<InvalidOperationException>(() => actor.RunAsync(refused, CancellationToken.None));
        Assert.True(await actor.RunAsync(() => true, CancellationToken.None).WaitAsync(Patience));
        await actor.StopAsync(CancellationToken.None);
        Assert.Null(failed);
    }

    [Fact]
    public async Task A_failing_trade_step_reports_the_failure_and_runs_nothing_after_it()
    {
        var actor = new EngineActor();
        var failed = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ranAfter = false;
        actor.Start(ex => failed.TrySetResult(ex));

        await actor.EnqueueTradeStepAsync(() => throw new InvalidOperationException("half applied"), CancellationToken.None);
        await actor.EnqueueTradeStepAsync(() => { ranAfter = true; return Task.CompletedTask; }, CancellationToken.None);

        Assert.Equal("half applied", (await failed.Task.WaitAsync(Patience)).Message);
        await actor.StopAsync(CancellationToken.None);
        Assert.False(ranAfter);
    }

    [Fact]
    public async Task Stopping_runs_the_steps_already_queued_first()
    {
        var actor = new EngineActor();
        var ran = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        actor.Start(_ => { });
        await actor.EnqueueTradeStepAsync(async () => { await gate.Task; ran++; }, CancellationToken.None);
        for (var i = 0; i < 5; i++)
        {
            await actor.EnqueueTradeStepAsync(() => { ran++; return Task.CompletedTask; }, CancellationToken.None);
        }

        var stopped = actor.StopAsync(CancellationToken.None);
        gate.SetResult();
        await stopped.WaitAsync(Patience);

        Assert.Equal(6, ran);
        await Assert.ThrowsAnyAsync<Exception>(() => actor.RunAsync(() => true, CancellationToken.None));
    }
}
