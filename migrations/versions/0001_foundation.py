"""foundation: users, audit, reference, safe houses, youth, placements

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:28:23.105129
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = (
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END;
    $$
    """,
    """
    CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("entity", sa.String(length=60), nullable=False),
        sa.Column("entity_id", sa.String(length=80), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=True),
        sa.Column("request_id", sa.String(length=80), nullable=True),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    for statement in APPEND_ONLY:
        op.execute(statement)
    op.create_index(op.f("ix_audit_log_actor_id_at"), "audit_log", ["actor_id", "at"], unique=False)
    op.create_index(op.f("ix_audit_log_entity_entity_id"), "audit_log", ["entity", "entity_id"], unique=False)
    op.create_table(
        "counties",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counties")),
        sa.UniqueConstraint("name", name=op.f("uq_counties_name")),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("body_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False)
    op.create_table(
        "regions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("name", name=op.f("uq_regions_name")),
    )
    op.create_table(
        "users",
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "role IN ('placement_staff', 'caseworker', 'caregiver', 'program_lead', 'admin')",
            name=op.f("ck_users_role_known"),
        ),
        sa.CheckConstraint("username = lower(username)", name=op.f("ck_users_username_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_access_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_access_tokens")),
    )
    op.create_index(op.f("ix_access_tokens_user_id"), "access_tokens", ["user_id"], unique=False)
    op.create_table(
        "municipalities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("county_id", sa.Uuid(), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["county_id"], ["counties.id"], name=op.f("fk_municipalities_county_id_counties")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["regions.id"], name=op.f("fk_municipalities_region_id_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_municipalities")),
        sa.UniqueConstraint("county_id", "name", name=op.f("uq_municipalities_county_id_name")),
    )
    op.create_index(op.f("ix_municipalities_county_id"), "municipalities", ["county_id"], unique=False)
    op.create_index(op.f("ix_municipalities_region_id"), "municipalities", ["region_id"], unique=False)
    op.create_table(
        "safe_houses",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("street_address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("municipality_id", sa.Uuid(), nullable=False),
        sa.Column("min_age", sa.SmallInteger(), nullable=False),
        sa.Column("max_age", sa.SmallInteger(), nullable=False),
        sa.Column("genders", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("services", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("languages", postgresql.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name=op.f("ck_safe_houses_position")
        ),
        sa.CheckConstraint(
            "min_age >= 0 AND max_age <= 25 AND min_age <= max_age", name=op.f("ck_safe_houses_age_range")
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_safe_houses_municipality_id_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safe_houses")),
        sa.UniqueConstraint("name", name=op.f("uq_safe_houses_name")),
    )
    op.create_index(op.f("ix_safe_houses_municipality_id"), "safe_houses", ["municipality_id"], unique=False)
    op.create_table(
        "youth",
        sa.Column("case_reference", sa.String(length=40), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(length=20), nullable=False),
        sa.Column("origin_municipality_id", sa.Uuid(), nullable=False),
        sa.Column("origin_lat", sa.Float(), nullable=False),
        sa.Column("origin_lon", sa.Float(), nullable=False),
        sa.Column("languages", postgresql.ARRAY(sa.String(length=10)), nullable=False),
        sa.Column("required_services", postgresql.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("specialised_care", sa.Boolean(), nullable=False),
        sa.Column("sibling_group", sa.String(length=40), nullable=True),
        sa.Column("urgency", sa.SmallInteger(), nullable=False),
        sa.Column("max_distance_km", sa.Integer(), nullable=False),
        sa.Column("danger_zones", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("excluded_safe_house_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("caseworker_id", sa.Uuid(), nullable=False),
        sa.Column("exited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exit_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(exited_at IS NULL) = (exit_reason IS NULL)", name=op.f("ck_youth_exit_has_reason")
        ),
        sa.CheckConstraint("max_distance_km BETWEEN 1 AND 500", name=op.f("ck_youth_max_distance_range")),
        sa.CheckConstraint("urgency BETWEEN 1 AND 5", name=op.f("ck_youth_urgency_range")),
        sa.ForeignKeyConstraint(["caseworker_id"], ["users.id"], name=op.f("fk_youth_caseworker_id_users")),
        sa.ForeignKeyConstraint(
            ["origin_municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_youth_origin_municipality_id_municipalities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_youth")),
        sa.UniqueConstraint("case_reference", name=op.f("uq_youth_case_reference")),
    )
    op.create_index(op.f("ix_youth_caseworker_id"), "youth", ["caseworker_id"], unique=False)
    op.create_index(op.f("ix_youth_sibling_group"), "youth", ["sibling_group"], unique=False)
    op.create_table(
        "beds",
        sa.Column("safe_house_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("out_of_service_reason", sa.Text(), nullable=True),
        sa.Column("out_of_service_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(out_of_service_reason IS NULL) = (out_of_service_since IS NULL)",
            name=op.f("ck_beds_out_of_service_has_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["safe_house_id"],
            ["safe_houses.id"],
            name=op.f("fk_beds_safe_house_id_safe_houses"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beds")),
        sa.UniqueConstraint("safe_house_id", "label", name=op.f("uq_beds_safe_house_id_label")),
    )
    op.create_index(op.f("ix_beds_safe_house_id"), "beds", ["safe_house_id"], unique=False)
    op.create_table(
        "placements",
        sa.Column("youth_id", sa.Uuid(), nullable=False),
        sa.Column("bed_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.String(length=40), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status IN ('held', 'active')) = (closed_at IS NULL)",
            name=op.f("ck_placements_closed_when_not_live"),
        ),
        sa.CheckConstraint(
            "status IN ('held', 'active', 'ended', 'cancelled', 'expired')",
            name=op.f("ck_placements_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["bed_id"], ["beds.id"], name=op.f("fk_placements_bed_id_beds"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_placements_created_by_users")),
        sa.ForeignKeyConstraint(
            ["youth_id"], ["youth.id"], name=op.f("fk_placements_youth_id_youth"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placements")),
    )
    op.create_index(op.f("ix_placements_bed_id"), "placements", ["bed_id"], unique=False)
    op.create_index(
        "ix_placements_held_until",
        "placements",
        ["held_until"],
        unique=False,
        postgresql_where=sa.text("status = 'held'"),
    )
    op.create_index(op.f("ix_placements_youth_id"), "placements", ["youth_id"], unique=False)
    op.create_index(
        "uq_placements_live_bed",
        "placements",
        ["bed_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('held', 'active')"),
    )
    op.create_index(
        "uq_placements_live_youth",
        "placements",
        ["youth_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('held', 'active')"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_placements_live_youth",
        table_name="placements",
        postgresql_where=sa.text("status IN ('held', 'active')"),
    )
    op.drop_index(
        "uq_placements_live_bed",
        table_name="placements",
        postgresql_where=sa.text("status IN ('held', 'active')"),
    )
    op.drop_index(op.f("ix_placements_youth_id"), table_name="placements")
    op.drop_index(
        "ix_placements_held_until", table_name="placements", postgresql_where=sa.text("status = 'held'")
    )
    op.drop_index(op.f("ix_placements_bed_id"), table_name="placements")
    op.drop_table("placements")
    op.drop_index(op.f("ix_beds_safe_house_id"), table_name="beds")
    op.drop_table("beds")
    op.drop_index(op.f("ix_youth_sibling_group"), table_name="youth")
    op.drop_index(op.f("ix_youth_caseworker_id"), table_name="youth")
    op.drop_table("youth")
    op.drop_index(op.f("ix_safe_houses_municipality_id"), table_name="safe_houses")
    op.drop_table("safe_houses")
    op.drop_index(op.f("ix_municipalities_region_id"), table_name="municipalities")
    op.drop_index(op.f("ix_municipalities_county_id"), table_name="municipalities")
    op.drop_table("municipalities")
    op.drop_index(op.f("ix_access_tokens_user_id"), table_name="access_tokens")
    op.drop_table("access_tokens")
    op.drop_table("users")
    op.drop_table("regions")
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("counties")
    op.drop_index(op.f("ix_audit_log_entity_entity_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor_id_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
