using System.Net.Sockets;
using Npgsql;

namespace QuantTrader.ServiceDefaults.Storage;

/// <summary>
/// Whether a failure is PostgreSQL being away — down, restarting, recovering, unreachable — rather than a refusal of what
/// was asked. An outage is waited out (the work is retried with backoff and the process stays up); a refusal is a bug or
/// bad input and is not retried forever.
/// </summary>
public static class DatabaseOutage
{
    public static bool Is(Exception ex) => ex switch
    {
        // A server error is an outage only when it says so: 08 connection, 57P shutdown / starting up, or what Npgsql
        // deems transient (53 insufficient resources, 40001 serialization, …).
        PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal),
        // Not a PostgresException: the connection itself failed.
        NpgsqlException => true,
        TimeoutException or SocketException or IOException => true,
        _ => false,
    };
}
