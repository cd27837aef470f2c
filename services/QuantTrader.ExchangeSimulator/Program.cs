using QuantTrader.ExchangeSimulator.Binance;
using QuantTrader.ExchangeSimulator.Control;
using QuantTrader.ExchangeSimulator.Market;
using QuantTrader.ExchangeSimulator.Okx;
using QuantTrader.ExchangeSimulator.Replay;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.Configure<SimulatorOptions>(builder.Configuration.GetSection("Simulator"));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SimMarket>();
builder.Services.AddHostedService<SimState>(); // before the generator: the stored ids apply before the first print
builder.Services.AddHostedService<TradeGenerator>();
builder.Services.AddSingleton<ReplayPlayer>();
builder.Services.AddHostedService<StartupReplays>();

var app = builder.Build();

app.UseWebSockets();
app.MapDefaultEndpoints();
app.MapBinance();
app.MapOkx();
app.MapControlApi();
app.MapReplay();

app.Run();
