using System.Text;
using NATS.Client.Core;
using QuantTrader.Alert.Rules;
using QuantTrader.Contracts.Messaging;

namespace QuantTrader.Alert.Partitioning;

/// <summary>
/// Carries a rule change from the replica that served the REST call to the owner of the rule's market partition
/// (core NATS request/reply on <see cref="Subjects.AlertRulesChanged"/>, payload: the rule id). The owner reloads the
/// rule from the database and answers once its engine has it, so a rule is evaluated from the moment its 201 is
/// returned, whichever replica answered it. With no owner (a partition being handed over) nobody answers: the next
/// owner loads the partition's rules from the database when it starts, after it has begun listening.
/// </summary>
public sealed class RuleAnnouncements(INatsConnection nats, ILogger<RuleAnnouncements> logger)
{
    /// <summary>How long the REST call waits for the owner (it is answered either way: the rule is stored).</summary>
    public static readonly TimeSpan OwnerTimeout = TimeSpan.FromSeconds(5);

    public Task AnnounceAsync(AlertRule rule, CancellationToken ct) => AnnounceAsync((rule.Id, rule.Exchange, rule.Symbol), ct);

    /// <summary>Tells the owner of the rule's market that the rule was stored or deleted; returns once it has applied it (or nobody answered).</summary>
    public async Task AnnounceAsync((Guid Id, string Exchange, string Symbol) rule, CancellationToken ct)
    {
        var partition = Partitions.OfMarket(rule.Exchange, rule.Symbol);
        try
        {
            await nats.RequestAsync<byte[], byte[]>(Subjects.AlertRulesChanged(partition), Encoding.ASCII.GetBytes(rule.Id.ToString()),
                replyOpts: new NatsSubOpts { Timeout = OwnerTimeout }, cancellationToken: ct);
        }
        catch (Exception ex) when (ex is NatsNoRespondersException or NatsNoReplyException or TimeoutException)
        {
            logger.LogInformation("No owner of alert partition {Partition} answered for rule {RuleId} ({Reason}); its next owner loads it from the database",
                partition, rule.Id, ex.GetType().Name);
        }
    }

    /// <summary>The owner's side: the changes of one partition, from now on (subscribe before loading the rules).</summary>
    public async Task<INatsSub<byte[]>> ListenAsync(int partition, CancellationToken ct) =>
        await nats.SubscribeCoreAsync<byte[]>(Subjects.AlertRulesChanged(partition), cancellationToken: ct);

    public static Guid? RuleIdOf(NatsMsg<byte[]> message) =>
        message.Data is { } data && Guid.TryParse(Encoding.ASCII.GetString(data), out var id) ? id : null;
}
