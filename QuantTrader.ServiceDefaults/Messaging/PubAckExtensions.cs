using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace QuantTrader.ServiceDefaults.Messaging;

public static class PubAckExtensions
{
    /// <summary>
    /// Throws unless the message is in the stream. Unlike NATS.Net's <c>EnsureSuccess</c>, a duplicate counts as
    /// stored: every QuantTrader publish carries a <c>Nats-Msg-Id</c> so that a retry after a crash or a lost ack is
    /// safe, and "duplicate" is the server saying the first attempt already landed. Treating it as a failure turns
    /// that retry into an endless loop (an outbox that never drains, a publisher that retries forever).
    /// </summary>
    public static void EnsureStored(this PubAckResponse ack)
    {
        if (ack.Duplicate)
        {
            return;
        }

        ack.EnsureSuccess();
    }
}
