"""families: households, caregivers, training, reminders, placements in homes

A placement is now in a bed or in a household (exactly one). Downgrading deletes placements in
households, which the older schema cannot hold.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 20:04:47.218442
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_series",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "audience IN ('caregiver', 'caseworker')", name=op.f("ck_training_series_audience_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_series")),
        sa.UniqueConstraint("code", name=op.f("uq_training_series_code")),
    )
    op.create_table(
        "training_modules",
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("duration_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("validity_months", sa.SmallInteger(), nullable=True),
        sa.Column("available_from", sa.Date(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "duration_minutes BETWEEN 1 AND 6000", name=op.f("ck_training_modules_duration_range")
        ),
        sa.CheckConstraint("position >= 1", name=op.f("ck_training_modules_position_positive")),
        sa.CheckConstraint(
            "validity_months IS NULL OR validity_months BETWEEN 1 AND 120",
            name=op.f("ck_training_modules_validity_range"),
        ),
        sa.ForeignKeyConstraint(
            ["series_id"], ["training_series.id"], name=op.f("fk_training_modules_series_id_training_series")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_modules")),
        sa.UniqueConstraint("code", name=op.f("uq_training_modules_code")),
        sa.UniqueConstraint("series_id", "position", name=op.f("uq_training_modules_series_id_position")),
    )
    op.create_index(op.f("ix_training_modules_series_id"), "training_modules", ["series_id"], unique=False)
    op.create_table(
        "households",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("licence_status", sa.String(length=20), nullable=False),
        sa.Column("licence_expires_on", sa.Date(), nullable=True),
        sa.Column("capacity", sa.SmallInteger(), nullable=False),
        sa.Column("capacity_waiver_reason", sa.Text(), nullable=True),
        sa.Column("min_age", sa.SmallInteger(), nullable=False),
        sa.Column("max_age", sa.SmallInteger(), nullable=False),
        sa.Column("genders", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("services", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("languages", postgresql.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("takes_sibling_groups", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("municipality_id", sa.Uuid(), nullable=False),
        sa.Column("street_address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("availability", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("paused_until", sa.Date(), nullable=True),
        sa.Column("availability_note", sa.Text(), nullable=True),
        sa.Column("availability_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(availability = 'paused') = (paused_until IS NOT NULL)",
            name=op.f("ck_households_paused_has_end"),
        ),
        sa.CheckConstraint(
            "availability IN ('open', 'paused', 'closed')", name=op.f("ck_households_availability_known")
        ),
        sa.CheckConstraint(
            "kind IN ('foster', 'kin', 'intensive_foster', 'biological')",
            name=op.f("ck_households_kind_known"),
        ),
        sa.CheckConstraint(
            "licence_status IN ('licensed', 'provisional', 'pending', 'suspended', 'revoked')",
            name=op.f("ck_households_licence_status_known"),
        ),
        sa.CheckConstraint(
            "capacity BETWEEN 1 AND 6 AND (capacity <= 4 OR capacity_waiver_reason IS NOT NULL)",
            name=op.f("ck_households_capacity_waived"),
        ),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name=op.f("ck_households_position")
        ),
        sa.CheckConstraint(
            "min_age >= 0 AND max_age <= 25 AND min_age <= max_age", name=op.f("ck_households_age_range")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_households_municipality_id_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
    )
    op.create_index(op.f("ix_households_municipality_id"), "households", ["municipality_id"], unique=False)
    op.create_table(
        "readiness_rules",
        sa.Column("level", sa.String(length=40), nullable=False),
        sa.Column("module_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["training_modules.id"],
            name=op.f("fk_readiness_rules_module_id_training_modules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("level", "module_id", name=op.f("pk_readiness_rules")),
    )
    op.create_table(
        "caregivers",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('primary', 'secondary')", name=op.f("ck_caregivers_role_known")),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_caregivers_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_caregivers_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_caregivers")),
        sa.UniqueConstraint("user_id", name=op.f("uq_caregivers_user_id")),
    )
    op.create_index(op.f("ix_caregivers_household_id"), "caregivers", ["household_id"], unique=False)
    op.create_table(
        "household_youth",
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("youth_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_household_youth_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["youth_id"], ["youth.id"], name=op.f("fk_household_youth_youth_id_youth"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("household_id", "youth_id", name=op.f("pk_household_youth")),
    )
    op.create_index(op.f("ix_household_youth_youth_id"), "household_youth", ["youth_id"], unique=False)
    op.create_table(
        "completions",
        sa.Column("caregiver_id", sa.Uuid(), nullable=False),
        sa.Column("module_id", sa.Uuid(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "source IN ('self_reported', 'staff_entered')", name=op.f("ck_completions_source_known")
        ),
        sa.CheckConstraint(
            "(verified_at IS NULL) = (verified_by IS NULL)", name=op.f("ck_completions_verified_by_someone")
        ),
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on > completed_on",
            name=op.f("ck_completions_expires_after_completion"),
        ),
        sa.ForeignKeyConstraint(
            ["caregiver_id"],
            ["caregivers.id"],
            name=op.f("fk_completions_caregiver_id_caregivers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["module_id"], ["training_modules.id"], name=op.f("fk_completions_module_id_training_modules")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_completions_recorded_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["verified_by"], ["users.id"], name=op.f("fk_completions_verified_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completions")),
        sa.UniqueConstraint(
            "caregiver_id",
            "module_id",
            "completed_on",
            name=op.f("uq_completions_caregiver_id_module_id_completed_on"),
        ),
    )
    op.create_index(op.f("ix_completions_module_id"), "completions", ["module_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("caregiver_id", sa.Uuid(), nullable=False),
        sa.Column("household_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "reason IN ('completion_expiring', 'licence_expiring', 'availability_stale')",
            name=op.f("ck_notifications_reason_known"),
        ),
        sa.ForeignKeyConstraint(
            ["caregiver_id"],
            ["caregivers.id"],
            name=op.f("fk_notifications_caregiver_id_caregivers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_notifications_household_id_households"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "caregiver_id",
            "reason",
            "subject_id",
            "due_on",
            name=op.f("uq_notifications_caregiver_id_reason_subject_id_due_on"),
        ),
    )
    op.create_index(op.f("ix_notifications_household_id"), "notifications", ["household_id"], unique=False)
    op.add_column(
        "youth",
        sa.Column("excluded_household_ids", postgresql.ARRAY(sa.Uuid()), server_default="{}", nullable=False),
    )
    op.add_column("placements", sa.Column("household_id", sa.Uuid(), nullable=True))
    op.alter_column("placements", "bed_id", existing_type=sa.UUID(), nullable=True)
    op.create_index(op.f("ix_placements_household_id"), "placements", ["household_id"], unique=False)
    op.create_foreign_key(
        op.f("fk_placements_household_id_households"),
        "placements",
        "households",
        ["household_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_check_constraint(
        op.f("ck_placements_bed_or_household"), "placements", "(bed_id IS NULL) <> (household_id IS NULL)"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_placements_bed_or_household"), "placements", type_="check")
    op.execute("DELETE FROM placements WHERE household_id IS NOT NULL")
    op.drop_constraint(op.f("fk_placements_household_id_households"), "placements", type_="foreignkey")
    op.drop_index(op.f("ix_placements_household_id"), table_name="placements")
    op.alter_column("placements", "bed_id", existing_type=sa.UUID(), nullable=False)
    op.drop_column("placements", "household_id")
    op.drop_column("youth", "excluded_household_ids")
    op.drop_index(op.f("ix_notifications_household_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_completions_module_id"), table_name="completions")
    op.drop_table("completions")
    op.drop_index(op.f("ix_household_youth_youth_id"), table_name="household_youth")
    op.drop_table("household_youth")
    op.drop_index(op.f("ix_caregivers_household_id"), table_name="caregivers")
    op.drop_table("caregivers")
    op.drop_table("readiness_rules")
    op.drop_index(op.f("ix_households_municipality_id"), table_name="households")
    op.drop_table("households")
    op.drop_index(op.f("ix_training_modules_series_id"), table_name="training_modules")
    op.drop_table("training_modules")
    op.drop_table("training_series")
