using Microsoft.Playwright;

namespace QuantTrader.IntegrationTests;

/// <summary>
/// Debian's Chromium (/usr/bin/chromium, installed by scripts/setup.sh; Playwright never downloads a browser here)
/// driven by Playwright against the web app the running system's gateway serves. One browser per test class (it costs
/// ~1 s to start); every test opens its own context, so sessionStorage and its API key are the test's own.
/// </summary>
public sealed class AppBrowser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private AppBrowser(IPlaywright playwright, IBrowser browser, Uri gateway)
    {
        _playwright = playwright;
        Browser = browser;
        Gateway = gateway;
    }

    public IBrowser Browser { get; }

    public Uri Gateway { get; }

    /// <summary>Where each page's screenshot goes: TestResults/ui/ beside the run's other results.</summary>
    public static string ScreenshotDirectory { get; } = Path.Combine(RepositoryRoot(), "TestResults", "ui");

    public static async Task<AppBrowser> LaunchAsync(SystemFixture system)
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // As root there is no sandbox; the machine's network is closed, so Chromium's own background traffic
            // (component updates, sync, QUIC probes) only produces refused connections: switched off.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
        var gateway = system.Gateway.BaseAddress!;
        return new AppBrowser(playwright, browser, gateway);
    }

    /// <summary>A new tab (own context) at 1280×800, or at 375 px wide for <paramref name="mobile"/>.</summary>
    public async Task<AppPage> OpenAsync(bool mobile = false)
    {
        var context = await Browser.NewContextAsync(new()
        {
            BaseURL = Gateway.ToString(),
            ViewportSize = mobile ? new ViewportSize { Width = 375, Height = 740 } : new ViewportSize { Width = 1280, Height = 800 },
            ColorScheme = ColorScheme.Dark,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        return new AppPage(context, page);
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "QuantTrader.sln")))
            {
                return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }
}

/// <summary>One tab of the web app: navigation by route, the console errors it logged, screenshots.</summary>
public sealed class AppPage : IAsyncDisposable
{
    private readonly List<string> _consoleErrors = [];
    private readonly IBrowserContext _context;
    public AppPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_consoleErrors)
                {
                    _consoleErrors.Add($"{message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_consoleErrors)
            {
                _consoleErrors.Add($"uncaught: {error}");
            }
        };
    }

    public IPage Page { get; }

    /// <summary>Errors the page logged (console.error, failed loads, uncaught exceptions).</summary>
    public IReadOnlyList<string> ConsoleErrors
    {
        get
        {
            lock (_consoleErrors)
            {
                return [.. _consoleErrors];
            }
        }
    }

    /// <summary>Opens a route (<c>trade</c>, <c>chart/binance/BTCUSDT?interval=5m</c>) and waits until the page drew it.</summary>
    public async Task GoAsync(string route)
    {
        var name = route.Split('/', '?')[0];
        var target = $"/#/{route}";
        if (Page.Url.EndsWith(target, StringComparison.Ordinal))
        {
            await Page.ReloadAsync();
        }
        else
        {
            await Page.GotoAsync(target);
        }
        await Page.WaitForSelectorAsync($"main[data-page='{name}'][data-ready='true']");
    }

    /// <summary>Signs in through the sign-in form, as a person pasting a key.</summary>
    public async Task SignInAsync(string apiKey)
    {
        await GoAsync("signin");
        await Page.GetByLabel("API key", new() { Exact = true }).FillAsync(apiKey);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Page.WaitForSelectorAsync("main[data-page='markets'][data-ready='true']");
    }

    /// <summary>Evaluates a script in the page and reads its JSON-serialized value as <typeparamref name="T"/>.</summary>
    public async Task<T> JsonAsync<T>(string script)
        => System.Text.Json.JsonSerializer.Deserialize<T>(await Page.EvaluateAsync<string>($"JSON.stringify({script})"), System.Text.Json.JsonSerializerOptions.Web)!;

    public async Task ScreenshotAsync(string name)
    {
        Directory.CreateDirectory(AppBrowser.ScreenshotDirectory);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(AppBrowser.ScreenshotDirectory, $"{name}.png"), FullPage = true });
    }

    public void AssertNoConsoleErrors() => Assert.True(ConsoleErrors.Count == 0, "The page logged errors:\n" + string.Join('\n', ConsoleErrors));

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
