using System.Runtime.InteropServices;
using System.Text;
using OssuaryNet.Identity;

namespace OssuaryNet.Native;

/// <summary>The C entry points (ossuary.h). Every one catches everything: no exception ever crosses into C.</summary>
internal static unsafe partial class Exports
{
    private const int Major = 1, Minor = 2;
    private static readonly byte* VersionText = Allocate("1.2.0");

    private static byte* Allocate(string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text + "\0");
        byte* memory = (byte*)NativeMemory.Alloc((nuint)bytes.Length);
        bytes.CopyTo(new Span<byte>(memory, bytes.Length));
        return memory;
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_version_string")]
    public static byte* VersionString() => VersionText;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_library_version_major")]
    public static int VersionMajor() => Major;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_library_version_minor")]
    public static int VersionMinor() => Minor;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_public_key_bytes")]
    public static nuint PublicKeyBytes() => 32;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_secret_key_bytes")]
    public static nuint SecretKeyBytes() => 32;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_fingerprint_bytes")]
    public static nuint FingerprintBytes() => 40;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_public_key_text_bytes")]
    public static nuint PublicKeyTextBytes() => 45;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_max_frame_bytes")]
    public static nuint MaxFrameBytes() => (nuint)OssuaryConnection.GetFrameSize(OssuaryConnection.MaxRecordPayload);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_record_overhead_bytes")]
    public static nuint RecordOverheadBytes() => (nuint)OssuaryConnection.GetFrameSize(0);

    [UnmanagedCallersOnly(EntryPoint = "ossuary_handshake_hash_max_bytes")]
    public static nuint HandshakeHashMaxBytes() => 64;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_last_error")]
    public static byte* LastErrorMessage() => LastError.Pointer;

    [UnmanagedCallersOnly(EntryPoint = "ossuary_generate_keypair")]
    public static int GenerateKeypair(byte* secretKey, byte* publicKey)
    {
        try
        {
            Span<byte> secret = Boundary.KeyOut(secretKey, "secret_key");
            Span<byte> pub = Boundary.KeyOut(publicKey, "public_key");
            using OssuaryKeyPair key = OssuaryKeyPair.Generate();
            key.CopyPrivateKeyTo(secret);
            key.PublicKey.Bytes.CopyTo(pub);
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_public_key_from_secret")]
    public static int PublicKeyFromSecret(byte* secretKey, byte* publicKey)
    {
        try
        {
            using OssuaryKeyPair key = OssuaryKeyPair.FromPrivateKey(Boundary.Key(secretKey, "secret_key"));
            key.PublicKey.Bytes.CopyTo(Boundary.KeyOut(publicKey, "public_key"));
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_fingerprint")]
    public static int Fingerprint(byte* publicKey, byte* output, nuint outputLength)
    {
        try
        {
            var key = new OssuaryPublicKey(Boundary.Key(publicKey, "public_key"));
            Boundary.WriteText(key.Fingerprint, output, outputLength, "fingerprint buffer");
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_public_key_to_text")]
    public static int PublicKeyToText(byte* publicKey, byte* output, nuint outputLength)
    {
        try
        {
            var key = new OssuaryPublicKey(Boundary.Key(publicKey, "public_key"));
            Boundary.WriteText(key.ToString(), output, outputLength, "text buffer");
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_public_key_from_text")]
    public static int PublicKeyFromText(byte* text, byte* publicKey)
    {
        try
        {
            OssuaryPublicKey key = OssuaryPublicKey.Parse(Boundary.Utf8(text, "text"));
            key.Bytes.CopyTo(Boundary.KeyOut(publicKey, "public_key"));
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_keypair_load")]
    public static int KeypairLoad(byte* path, byte* secretKey, byte* publicKey)
    {
        try
        {
            Span<byte> secret = Boundary.KeyOut(secretKey, "secret_key");
            Span<byte> pub = Boundary.KeyOut(publicKey, "public_key");
            using OssuaryKeyPair key = OssuaryKeyPair.Load(Boundary.Path(path, "path"));
            key.CopyPrivateKeyTo(secret);
            key.PublicKey.Bytes.CopyTo(pub);
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ossuary_keypair_save")]
    public static int KeypairSave(byte* path, byte* secretKey, int overwrite)
    {
        try
        {
            using OssuaryKeyPair key = OssuaryKeyPair.FromPrivateKey(Boundary.Key(secretKey, "secret_key"));
            key.Save(Boundary.Path(path, "path"), overwrite != 0);
            return NativeStatus.Ok;
        }
        catch (Exception e)
        {
            return LastError.From(e);
        }
    }
}
