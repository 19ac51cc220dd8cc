"""capacity: snapshots of the counts, the program's targets, and what-if scenarios

Downgrading drops every snapshot, target and scenario.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 06:18:41.228879
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capacity_snapshots",
        sa.Column("period", sa.String(length=4), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(length=10), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("counts", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("by IN ('region', 'county', 'kind')", name=op.f("ck_capacity_snapshots_by_known")),
        sa.CheckConstraint("period IN ('hour', 'day')", name=op.f("ck_capacity_snapshots_period_known")),
        sa.CheckConstraint("source IN ('live', 'backfill')", name=op.f("ck_capacity_snapshots_source_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_snapshots")),
        sa.UniqueConstraint(
            "period", "by", "period_start", name=op.f("uq_capacity_snapshots_period_by_period_start")
        ),
    )
    op.create_table(
        "capacity_targets",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=60), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("county_id", sa.Uuid(), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(scope = 'region') = (region_id IS NOT NULL) AND (scope = 'county') = (county_id IS NOT NULL)",
            name=op.f("ck_capacity_targets_scope_names_its_place"),
        ),
        sa.CheckConstraint(
            "scope IN ('statewide', 'region', 'county')", name=op.f("ck_capacity_targets_scope_known")
        ),
        sa.ForeignKeyConstraint(
            ["county_id"], ["counties.id"], name=op.f("fk_capacity_targets_county_id_counties")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_capacity_targets_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_capacity_targets_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_targets")),
    )
    op.create_table(
        "capacity_what_ifs",
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("scenario", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'solving', 'answered', 'failed')",
            name=op.f("ck_capacity_what_ifs_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_capacity_what_ifs_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_what_ifs")),
    )


def downgrade() -> None:
    op.drop_table("capacity_what_ifs")
    op.drop_table("capacity_targets")
    op.drop_table("capacity_snapshots")
