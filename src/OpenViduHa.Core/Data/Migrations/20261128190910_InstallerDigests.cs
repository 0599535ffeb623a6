using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenViduHa.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class InstallerDigests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "FetchedMasterInstallerSha256",
                table: "Clusters",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FetchedMediaInstallerSha256",
                table: "Clusters",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "InstallerSha256FetchedAt",
                table: "Clusters",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "InstallerSha256FetchedVia",
                table: "Clusters",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "MasterInstallerSha256",
                table: "Clusters",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "MediaInstallerSha256",
                table: "Clusters",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "FetchedMasterInstallerSha256",
                table: "Clusters");

            migrationBuilder.DropColumn(
                name: "FetchedMediaInstallerSha256",
                table: "Clusters");

            migrationBuilder.DropColumn(
                name: "InstallerSha256FetchedAt",
                table: "Clusters");

            migrationBuilder.DropColumn(
                name: "InstallerSha256FetchedVia",
                table: "Clusters");

            migrationBuilder.DropColumn(
                name: "MasterInstallerSha256",
                table: "Clusters");

            migrationBuilder.DropColumn(
                name: "MediaInstallerSha256",
                table: "Clusters");
        }
    }
}
