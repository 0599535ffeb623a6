using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core;

public enum OutcomeKind
{
    Ok,

    /// <summary>Fields that are wrong, in <see cref="Outcome.Errors"/>: nothing was stored.</summary>
    Invalid,

    /// <summary>Well formed but not possible as asked (a job that needs a node, a quorum it would break).</summary>
    Refused,

    NotFound,

    /// <summary>Something in the way that may pass: a job changing the cluster, another pinned key, a job already ended.</summary>
    Conflict,

    /// <summary>The request was made against a revision that is no longer the stored one: read again, then change.</summary>
    PreconditionFailed,
}

/// <summary>
/// How an operator's request ended, whichever service carried it out: the API turns it into problem details in one
/// place (Web's <c>OutcomeProblems</c>) and a page shows it without knowing which service answered.
/// </summary>
public sealed record Outcome
{
    private Outcome(OutcomeKind kind, string? message, ValidationErrors errors)
    {
        Kind = kind;
        Message = message;
        Errors = errors;
    }

    public OutcomeKind Kind { get; }

    public bool Succeeded => Kind == OutcomeKind.Ok;

    /// <summary>What was created, changed or queued (a cluster, a node, a job), when it has an id to show.</summary>
    public int? Id { get; private init; }

    /// <summary>Why it did not succeed, in one line for the operator.</summary>
    public string? Message { get; }

    /// <summary>
    /// Why, by field (RFC 7807's <c>errors</c>). A refusal of the whole request is at the empty field, so that a form
    /// shows a running job the way it shows a wrong field.
    /// </summary>
    public ValidationErrors Errors { get; }

    /// <summary>Allowed but worth a second look (mediasoup is experimental), reported whether or not anything was stored.</summary>
    public IReadOnlyList<ValidationWarning> Warnings { get; private init; } = [];

    public static Outcome Ok(int? id = null, IReadOnlyList<ValidationWarning>? warnings = null) =>
        new(OutcomeKind.Ok, null, new ValidationErrors()) { Id = id, Warnings = warnings ?? [] };

    public static Outcome Invalid(ValidationErrors errors, IReadOnlyList<ValidationWarning>? warnings = null) =>
        new(OutcomeKind.Invalid, errors.ToString(), errors) { Warnings = warnings ?? [] };

    /// <summary>One wrong field: its message alone is the one line.</summary>
    public static Outcome Invalid(string field, string message) => new(OutcomeKind.Invalid, message, One(field, message));

    public static Outcome Refused(string message) => new(OutcomeKind.Refused, message, One("", message));

    public static Outcome NotFound(string message) => new(OutcomeKind.NotFound, message, One("", message));

    public static Outcome Conflict(string message) => new(OutcomeKind.Conflict, message, One("", message));

    public static Outcome PreconditionFailed(string message) => new(OutcomeKind.PreconditionFailed, message, One("", message));

    private static ValidationErrors One(string field, string message)
    {
        var errors = new ValidationErrors();
        errors.Add(field, message);
        return errors;
    }
}
