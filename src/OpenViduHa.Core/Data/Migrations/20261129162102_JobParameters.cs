using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenViduHa.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class JobParameters : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Parameters",
                table: "Jobs",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Parameters",
                table: "Jobs");
        }
    }
}
