namespace OpenViduHa.Web.Components.Pages.Clusters;

/// <summary>What a form field asks its page: the messages to show at a validator field path (empty when none).</summary>
public interface IFieldErrors
{
    IReadOnlyList<string> For(string field);
}
