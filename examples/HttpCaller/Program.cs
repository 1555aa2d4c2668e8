// An HttpClient whose connections are OssuaryNet channels to a service whose key it pins.
// Usage: HttpCaller key                       prints this caller's public key (give it to HttpService)
//        HttpCaller URL SERVICE-PUBLIC-KEY    e.g. HttpCaller http://127.0.0.1:5080/hello <key HttpService printed>
using OssuaryNet;
using OssuaryNet.Identity;
using OssuaryNet.Trust;

using OssuaryKeyPair key = OssuaryKeyPair.LoadOrCreate(ExampleFiles.PathOf("http-caller.key")); // made 0600 on first use, under ExampleFiles.Directory
if (args is ["key"])
{
    Console.WriteLine(key.PublicKey);
    return 0;
}
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: HttpCaller key | HttpCaller URL SERVICE-PUBLIC-KEY");
    return 1;
}
if (!Uri.TryCreate(args[0], UriKind.Absolute, out Uri? url) || url.Scheme != Uri.UriSchemeHttp)
{
    // https:// would run TLS inside the channel, which an OssuaryNet service does not speak: the channel is the protection.
    Console.Error.WriteLine($"HttpCaller: '{args[0]}' is not an http:// URL; use http://, which the OssuaryNet channel protects (https:// would ask for TLS inside it).");
    return 1;
}
if (!OssuaryPublicKey.TryParse(args[1], out OssuaryPublicKey? service))
{
    Console.Error.WriteLine($"HttpCaller: '{args[1]}' is not a public key (44 characters of base64, as HttpService prints it).");
    return 1;
}
var options = new OssuaryClientOptions
{
    StaticKeyPair = key,
    PeerVerifier = PeerVerifier.Pinned(service),
    ServerKey = service, // known in advance: IK, one round trip
    PostQuantum = OssuaryPostQuantum.Preferred,
};
using var client = new HttpClient(OssuaryHttp.CreateHandler(options));
try
{
    Console.Write(await client.GetStringAsync(url)); // an http:// URI: the channel, not TLS, protects it
    return 0;
}
catch (HttpRequestException e)
{
    // The channel's own failure (a refused key, a service that holds another key, nothing listening) is the cause.
    Console.Error.WriteLine($"HttpCaller: {e.InnerException?.Message ?? e.Message}");
    return 1;
}
