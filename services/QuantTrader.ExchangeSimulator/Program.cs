using QuantTrader.ExchangeSimulator.Binance;
using QuantTrader.ExchangeSimulator.Control;
using QuantTrader.ExchangeSimulator.Market;
using QuantTrader.ExchangeSimulator.Okx;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.Configure<SimulatorOptions>(builder.Configuration.GetSection("Simulator"));
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SimMarket>();
builder.Services.AddHostedService<TradeGenerator>();

var app = builder.Build();

app.UseWebSockets();
app.MapDefaultEndpoints();
app.MapBinance();
app.MapOkx();
app.MapControlApi();

app.Run();
