namespace QuantTrader.Contracts.Messaging;

/// <summary>
/// Headers of a message on <see cref="Subjects.DeadLetter"/>: the payload is the original message's, unchanged;
/// these say why it was refused and where it came from, so it can be inspected and replayed.
/// </summary>
public static class DeadLetterHeaders
{
    /// <summary>Why the consumer refused the message (a person-readable sentence).</summary>
    public const string Reason = "QuantTrader-DeadLetter-Reason";

    /// <summary>The subject the message was originally published on.</summary>
    public const string OriginalSubject = "QuantTrader-Original-Subject";

    /// <summary>The stream and stream sequence it was read from (<c>MARKET_RAW:1234</c>).</summary>
    public const string OriginalSequence = "QuantTrader-Original-Sequence";

    /// <summary>The consumer (and table) that refused it.</summary>
    public const string Consumer = "QuantTrader-DeadLetter-Consumer";
}
