using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenViduHa.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class NodeLeaving : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "LeavingSince",
                table: "Nodes",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "LeavingSince",
                table: "Nodes");
        }
    }
}
