using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Net;
using QuantTrader.Contracts.Messaging;
using QuantTrader.ServiceDefaults.Partitioning;

namespace QuantTrader.Partitioning.Tests;

/// <summary>Reading one partition of a stream on the nats-server we run (2.9), which honours one filter subject per consumer.</summary>
public sealed class PartitionConsumerTests
{
    private static readonly (string Exchange, string Symbol)[] Markets = [("binance", "BTCUSDT"), ("binance", "ETHUSDT"), ("okx", "SOLUSDT"), ("okx", "DOGEUSDT")];

    [Fact]
    public async Task A_partition_consumer_reads_only_its_partitions_messages_in_order_from_a_sequence_and_counts_the_replay()
    {
        await using var server = await NatsServerProcess.StartAsync();
        await using var nats = new NatsConnection(new NatsOpts { Url = server.Url });
        var js = nats.CreateJetStreamContext();
        var partition = Partitions.OfMarket("okx", "SOLUSDT");
        var mine = (await PublishAsync(js))[partition].ToList();

        var consumer = new PartitionConsumer(js, Streams.MarketRaw().Name!, Subjects.MarketRawPartition(partition), "test", NullLogger.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var read = new List<ulong>();
        await foreach (var msg in consumer.ReadAsync(afterSequence: mine[2], fromTime: null, timeout.Token))
        {
            Assert.EndsWith($".{partition}", msg.Subject, StringComparison.Ordinal);
            read.Add(msg.Metadata!.Value.Sequence.Stream);
            if (read.Count == mine.Count - 3)
            {
                break;
            }
        }

        // From right after the given sequence, every message of the partition and no other, and the replay's length known.
        Assert.Equal(mine.Skip(3), read);
        Assert.Equal((ulong)(mine.Count - 3), consumer.PendingAtStart);
    }

    [Fact]
    public async Task NATS_Nets_ordered_consumer_is_not_filtered_by_this_server_which_is_why_partitions_read_through_their_own()
    {
        await using var server = await NatsServerProcess.StartAsync();
        await using var nats = new NatsConnection(new NatsOpts { Url = server.Url });
        var js = nats.CreateJetStreamContext();
        await PublishAsync(js);
        var partition = Partitions.OfMarket("okx", "SOLUSDT");

        // It sends filter_subjects (2.10+), which 2.9 ignores: the consumer would read every partition.
        var ordered = await js.CreateOrderedConsumerAsync(Streams.MarketRaw().Name!, new NatsJSOrderedConsumerOpts { FilterSubjects = [Subjects.MarketRawPartition(partition)] });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var msg in ordered.ConsumeAsync<byte[]>(cancellationToken: timeout.Token))
        {
            Assert.Equal((ulong)(Markets.Length * 5), ordered.Info.NumPending);
            break;
        }
    }

    /// <summary>Five rounds of one message per market; the stream sequences of each partition's messages.</summary>
    private static async Task<ILookup<int, ulong>> PublishAsync(INatsJSContext js)
    {
        await js.CreateStreamAsync(Streams.MarketRaw());
        var stored = new List<(int Partition, ulong Seq)>();
        for (var i = 0; i < 5; i++)
        {
            foreach (var (exchange, symbol) in Markets)
            {
                var ack = await js.PublishAsync(Subjects.MarketRaw(exchange, symbol), new byte[] { 1 });
                ack.EnsureSuccess();
                stored.Add((Partitions.OfMarket(exchange, symbol), ack.Seq));
            }
        }
        return stored.ToLookup(s => s.Partition, s => s.Seq);
    }
}
