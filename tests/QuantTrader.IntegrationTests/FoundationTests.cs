using System.Net;
using Npgsql;
using QuantTrader.Storage;

namespace QuantTrader.IntegrationTests;

[Collection(SystemCollection.Name)]
public sealed class FoundationTests(SystemFixture system)
{
    [Fact]
    public async Task Gateway_answers_its_own_health()
    {
        using var response = await system.Gateway.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Every_service_health_is_reachable_through_the_gateway()
    {
        foreach (var service in SystemFixture.Services)
        {
            using var response = await system.Gateway.GetAsync($"/health/{service}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service}: {(int)response.StatusCode}");
            Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task An_unknown_route_is_a_problem_details_404()
    {
        using (var response = await system.Gateway.GetAsync("/no-such-thing"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        // Under /api a key is needed before anything else is revealed; with one, an unknown route is a 404.
        var (_, _, client) = await system.CreateUserAsync();
        using (var response = await client.GetAsync("/api/v1/no-such-thing"))
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Schema_migrations_are_idempotent()
    {
        // Persistence migrated at start-up; applying again must change nothing and fail nothing.
        await using var dataSource = NpgsqlDataSource.Create(await system.ConnectionStringAsync("postgres"));
        var migrator = new SchemaMigrator(dataSource);

        Assert.Empty(await migrator.MigrateAsync());
        Assert.Empty(await migrator.MigrateAsync());

        await using var command = dataSource.CreateCommand("SELECT array_agg(version ORDER BY version) FROM schema_migrations");
        var applied = (int[])(await command.ExecuteScalarAsync())!;
        Assert.Equal(SchemaMigrator.Migrations.Select(m => m.Version), applied);
    }
}
