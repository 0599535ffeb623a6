namespace OpenViduHa.Core.Artifacts;

public static class ContentTypes
{
    public const string ShellScript = "text/x-shellscript";
    public const string PlainText = "text/plain";
    public const string Json = "application/json";
}
