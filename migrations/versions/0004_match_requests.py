"""match requests: requests, batches, and the instances the engine solved

Downgrading drops every match request, batch and stored instance.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 01:54:59.028782
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "match_instances",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_match_instances")),
    )
    op.create_table(
        "match_batches",
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("engine", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("instance_digest", sa.String(length=64), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'solving', 'solved', 'failed', 'accepted')",
            name=op.f("ck_match_batches_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["instance_digest"],
            ["match_instances.digest"],
            name=op.f("fk_match_batches_instance_digest_match_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_match_batches_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_batches")),
    )
    op.create_index(
        "uq_match_batches_running",
        "match_batches",
        [sa.literal_column("(true)")],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'solving')"),
    )
    op.create_table(
        "match_requests",
        sa.Column("youth_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("kinds", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("max_distance_km", sa.Float(), nullable=True),
        sa.Column("proposal_limit", sa.SmallInteger(), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("weights", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("engine", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("instance_digest", sa.String(length=64), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("banded_result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("accepted_rank", sa.SmallInteger(), nullable=True),
        sa.Column("placement_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'solving', 'proposed', 'no_match', 'failed', 'accepted', 'cancelled', 'expired')",
            name=op.f("ck_match_requests_status_known"),
        ),
        sa.CheckConstraint(
            "cardinality(youth_ids) BETWEEN 1 AND 12", name=op.f("ck_match_requests_members_range")
        ),
        sa.CheckConstraint(
            "proposal_limit BETWEEN 1 AND 50", name=op.f("ck_match_requests_proposal_limit_range")
        ),
        sa.ForeignKeyConstraint(
            ["instance_digest"],
            ["match_instances.digest"],
            name=op.f("fk_match_requests_instance_digest_match_instances"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_match_requests_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_requests")),
    )
    op.create_index(
        "ix_match_requests_open",
        "match_requests",
        ["updated_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'solving', 'proposed', 'no_match')"),
    )
    op.create_index(
        "ix_match_requests_youth_ids", "match_requests", ["youth_ids"], unique=False, postgresql_using="gin"
    )


def downgrade() -> None:
    op.drop_index("ix_match_requests_youth_ids", table_name="match_requests", postgresql_using="gin")
    op.drop_index(
        "ix_match_requests_open",
        table_name="match_requests",
        postgresql_where=sa.text("status IN ('queued', 'solving', 'proposed', 'no_match')"),
    )
    op.drop_table("match_requests")
    op.drop_index(
        "uq_match_batches_running",
        table_name="match_batches",
        postgresql_where=sa.text("status IN ('queued', 'solving')"),
    )
    op.drop_table("match_batches")
    op.drop_table("match_instances")
