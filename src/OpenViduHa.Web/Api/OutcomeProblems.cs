using OpenViduHa.Core;

namespace OpenViduHa.Web.Api;

/// <summary>
/// How one group of endpoints titles its refusals. Field errors have no message of their own, so they also get a
/// detail (what to do with <c>errors</c>); the other refusals' detail is the outcome's message. A null title is
/// ASP.NET's default for the status.
/// </summary>
public sealed record ProblemTitles(string NotFound, string Conflict, string? Invalid = null, string? InvalidDetail = null, string? Refused = null);

/// <summary>The one mapping from an outcome that did not succeed to RFC 7807 problem details.</summary>
public static class OutcomeProblems
{
    public static IResult ToProblem(this Outcome outcome, ProblemTitles titles) => outcome.Kind switch
    {
        OutcomeKind.Invalid => TypedResults.ValidationProblem(outcome.Errors.ToDictionary(), detail: titles.InvalidDetail, title: titles.Invalid),
        OutcomeKind.Refused => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: titles.Refused, detail: outcome.Message),
        OutcomeKind.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: titles.NotFound, detail: outcome.Message),
        OutcomeKind.Conflict => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: titles.Conflict, detail: outcome.Message),
        OutcomeKind.PreconditionFailed => TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "Changed meanwhile.", detail: outcome.Message),
        _ => throw new ArgumentException("A successful outcome is no problem: answer it at the endpoint.", nameof(outcome)),
    };
}
