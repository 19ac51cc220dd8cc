"""audit sealing: entries are inserted unsealed and chained afterwards by one sealer

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 15:50:00

An entry gets an insertion id at once; its place in the chain (seq, prev_hash, hash) is filled in
later, exactly once, by the sealer. The triggers keep the table append-only: an entry is inserted
unsealed, and the only change let through is that one sealing of an unsealed row, with every
recorded field unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDED = "id, at, actor_id, actor, role, action, entity, entity_id, outcome, status, request_id, detail"
RECORDED_OLD = ", ".join(f"OLD.{c}" for c in RECORDED.split(", "))
RECORDED_NEW = ", ".join(f"NEW.{c}" for c in RECORDED.split(", "))

SEAL_ONCE = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.seq IS NULL THEN
        RETURN NEW;  -- entries arrive unsealed: only the sealer gives them a place in the chain
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
        AND ({RECORDED_NEW}) IS NOT DISTINCT FROM ({RECORDED_OLD}) THEN
        RETURN NEW;  -- the one sealing of an unsealed entry
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

REFUSE_ALL = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    op.add_column("audit_log", sa.Column("id", sa.BigInteger(), nullable=True))
    op.execute("UPDATE audit_log SET id = seq")
    op.execute("CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id")
    op.execute("SELECT setval('audit_log_id_seq', coalesce(max(id), 0) + 1, false) FROM audit_log")
    op.alter_column("audit_log", "id", nullable=False, server_default=sa.text("nextval('audit_log_id_seq')"))
    op.drop_constraint("pk_audit_log", "audit_log", type_="primary")
    op.create_primary_key(op.f("pk_audit_log"), "audit_log", ["id"])
    op.add_column("audit_log", sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE audit_log SET sealed_at = at")
    for column in ("seq", "prev_hash", "hash"):
        op.alter_column("audit_log", column, nullable=True)
    op.create_unique_constraint(op.f("uq_audit_log_seq"), "audit_log", ["seq"])
    op.create_check_constraint(
        op.f("ck_audit_log_sealed_whole"),
        "audit_log",
        "(seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL)"
        " AND (seq IS NULL) = (sealed_at IS NULL)",
    )
    op.create_index(
        op.f("ix_audit_log_unsealed"),
        "audit_log",
        ["id"],
        unique=False,
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.execute(SEAL_ONCE)
    op.execute(
        "CREATE TRIGGER audit_log_insert_unsealed BEFORE INSERT ON audit_log"
        " FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )
    op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")


def downgrade() -> None:
    """Back to a chain written at commit time; entries not yet sealed cannot go back and are refused."""
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM audit_log WHERE seq IS NULL) THEN "
        "RAISE EXCEPTION 'audit entries wait to be sealed: run the service until they are'; END IF; END $$"
    )
    op.execute("DROP TRIGGER audit_log_insert_unsealed ON audit_log")
    op.execute(REFUSE_ALL)
    op.drop_index(op.f("ix_audit_log_unsealed"), table_name="audit_log")
    op.drop_constraint(op.f("ck_audit_log_sealed_whole"), "audit_log", type_="check")
    op.drop_constraint(op.f("uq_audit_log_seq"), "audit_log", type_="unique")
    for column in ("seq", "prev_hash", "hash"):
        op.alter_column("audit_log", column, nullable=False)
    op.drop_constraint("pk_audit_log", "audit_log", type_="primary")
    op.create_primary_key(op.f("pk_audit_log"), "audit_log", ["seq"])
    op.drop_column("audit_log", "sealed_at")
    op.drop_column("audit_log", "id")
