using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenViduHa.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class PendingSecrets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ProtectedPendingSecrets",
                table: "Clusters",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ProtectedPendingSecrets",
                table: "Clusters");
        }
    }
}
