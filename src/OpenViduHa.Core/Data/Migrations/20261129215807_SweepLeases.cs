using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenViduHa.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class SweepLeases : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "Sweeps",
                table: "PanelInstances",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "StatusSnapshots",
                columns: table => new
                {
                    ClusterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Owner = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SweptAt = table.Column<long>(type: "INTEGER", nullable: false),
                    Json = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_StatusSnapshots", x => x.ClusterId);
                    table.ForeignKey(
                        name: "FK_StatusSnapshots_Clusters_ClusterId",
                        column: x => x.ClusterId,
                        principalTable: "Clusters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SweepLeases",
                columns: table => new
                {
                    ClusterId = table.Column<int>(type: "INTEGER", nullable: false),
                    Owner = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SweepLeases", x => x.ClusterId);
                    table.ForeignKey(
                        name: "FK_SweepLeases_Clusters_ClusterId",
                        column: x => x.ClusterId,
                        principalTable: "Clusters",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "StatusSnapshots");

            migrationBuilder.DropTable(
                name: "SweepLeases");

            migrationBuilder.DropColumn(
                name: "Sweeps",
                table: "PanelInstances");
        }
    }
}
