using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace QuantTrader.Alert.Channels;

/// <summary>
/// Encrypts a channel's settings (bot tokens, webhook URLs) before they are stored, with ASP.NET Core Data Protection
/// (authenticated encryption, key rotation) rather than crypto of our own. The key ring lives in PostgreSQL
/// (<see cref="PostgresKeyRing"/>), so every replica decrypts what another wrote.
/// </summary>
public sealed class ChannelSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("QuantTrader.Alert.Channels.Settings.v1");

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string protectedText) => _protector.Unprotect(protectedText);

    public static void AddTo(IHostApplicationBuilder builder)
    {
        builder.Services.AddDataProtection().SetApplicationName(PostgresKeyRing.Application);
        builder.Services.AddOptions<KeyManagementOptions>()
            .Configure<NpgsqlDataSource>((options, dataSource) => options.XmlRepository = new PostgresKeyRing(dataSource));
        builder.Services.AddSingleton<ChannelSecrets>();
    }
}

/// <summary>The Data Protection key ring in <c>data_protection_keys</c> (migration 0306). Data Protection's
/// repository interface is synchronous.</summary>
public sealed class PostgresKeyRing(NpgsqlDataSource dataSource) : IXmlRepository
{
    public const string Application = "quanttrader-alert";

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var command = dataSource.CreateCommand("SELECT xml FROM data_protection_keys WHERE application = $1 ORDER BY created_at");
        command.Parameters.Add(new() { Value = Application });
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }

        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var command = dataSource.CreateCommand("INSERT INTO data_protection_keys (application, name, xml) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING");
        command.Parameters.Add(new() { Value = Application });
        command.Parameters.Add(new() { Value = friendlyName });
        command.Parameters.Add(new() { Value = element.ToString(SaveOptions.DisableFormatting) });
        command.ExecuteNonQuery();
    }
}
