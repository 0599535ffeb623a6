using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Tests;

public sealed class OutcomeTests
{
    [Fact]
    public void Succeeded_EveryKind_OnlyOk()
    {
        // Arrange
        var errors = new ValidationErrors();
        errors.Add("name", "x");

        // Act
        var outcomes = (Outcome.Ok(1).Succeeded, Outcome.Ok().Succeeded, Outcome.Invalid(errors).Succeeded, Outcome.Refused("x").Succeeded,
            Outcome.NotFound("x").Succeeded, Outcome.Conflict("x").Succeeded);

        // Assert
        Assert.Equal((true, true, false, false, false, false), outcomes);
    }

    [Fact]
    public void Conflict_WholeRequest_MessageAlsoAtTheEmptyField()
    {
        // Act
        var outcome = Outcome.Conflict("Job 3 (install) is changing this cluster.");

        // Assert
        Assert.Equal("Job 3 (install) is changing this cluster.", outcome.Message);
        Assert.Equal([""], outcome.Errors.Fields);
        Assert.Equal(["Job 3 (install) is changing this cluster."], outcome.Errors.For(""));
    }

    [Fact]
    public void Invalid_FieldErrors_MessageNamesEachField()
    {
        // Arrange
        var errors = new ValidationErrors();
        errors.Add("master", "Not hex.");
        errors.Add("media", "Too short.");

        // Act
        var outcome = Outcome.Invalid(errors, [new("rtcEngine", "Experimental.")]);

        // Assert
        Assert.Equal("master: Not hex.; media: Too short.", outcome.Message);
        Assert.Equal([new ValidationWarning("rtcEngine", "Experimental.")], outcome.Warnings);
        Assert.Null(outcome.Id);
    }

    [Fact]
    public void Invalid_OneField_MessageIsItsMessageAlone()
    {
        // Act
        var outcome = Outcome.Invalid("fingerprint", "Give the SHA256 fingerprint.");

        // Assert
        Assert.Equal("Give the SHA256 fingerprint.", outcome.Message);
        Assert.Equal(["Give the SHA256 fingerprint."], outcome.Errors.For("fingerprint"));
    }
}
