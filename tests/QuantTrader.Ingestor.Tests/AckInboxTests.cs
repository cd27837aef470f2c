using NATS.Client.Core;
using QuantTrader.Ingestor.Publishing;

namespace QuantTrader.Ingestor.Tests;

/// <summary>The ack side of the ingestor's publisher: which replies count as "stored", and batch bookkeeping.</summary>
public sealed class AckInboxTests
{
    [Theory]
    [InlineData("""{"stream":"MARKET_RAW","seq":42}""", true)]
    [InlineData("""{"stream":"MARKET_RAW", "seq":42,"duplicate": true}""", true)]
    [InlineData("""{"stream":"MARKET_RAW","domain":"hub","seq":7}""", true)]
    [InlineData("""{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"MARKET_RAW","seq":0}""", false)]
    [InlineData("""{"stream":"MARKET_RAW"}""", false)]
    [InlineData("""not json""", false)]
    [InlineData("", false)]
    public void Only_an_ack_with_a_sequence_and_no_error_means_stored(string body, bool stored)
    {
        Assert.Equal(stored, AckInbox.IsStored(System.Text.Encoding.UTF8.GetBytes(body), headers: null));
    }

    [Fact]
    public void A_no_responders_status_is_not_stored()
    {
        var headers = new NatsHeaders();
        typeof(NatsHeaders).GetProperty(nameof(NatsHeaders.Code))!.SetValue(headers, 503);
        Assert.False(AckInbox.IsStored([], headers));
    }

    [Theory]
    [InlineData("_INBOX.abc.12.0", 12L, 0)]
    [InlineData("_INBOX.abc.3.1023", 3L, 1023)]
    public void A_reply_subject_names_its_batch_and_index(string subject, long batch, int index)
    {
        Assert.True(AckInbox.TryParseReply(subject, "_INBOX.abc".Length, out var b, out var i));
        Assert.Equal((batch, index), (b, i));
    }

    [Theory]
    [InlineData("_INBOX.abc")]
    [InlineData("_INBOX.abc.12")]
    [InlineData("_INBOX.abc.x.1")]
    [InlineData("_INBOX.abc.1.-1")]
    public void Anything_else_is_not_a_reply(string subject)
    {
        Assert.False(AckInbox.TryParseReply(subject, "_INBOX.abc".Length, out _, out _));
    }

    [Fact]
    public async Task A_batch_completes_when_every_message_is_answered_once_and_remembers_which_were_stored()
    {
        var batch = new PendingBatch(1, 3, "_INBOX.abc.1.");
        Assert.Equal("_INBOX.abc.1.2", batch.ReplyTo(2));
        batch.Complete(0, stored: true);
        batch.Complete(0, stored: false); // a second answer for the same message does not count
        batch.Complete(2, stored: false);
        Assert.False(await batch.WaitAsync(TimeSpan.FromMilliseconds(50), CancellationToken.None));
        batch.Complete(1, stored: true);
        batch.Complete(7, stored: true); // out of range: ignored
        Assert.True(await batch.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.True(batch.IsStored(0));
        Assert.True(batch.IsStored(1));
        Assert.False(batch.IsStored(2));
    }
}
