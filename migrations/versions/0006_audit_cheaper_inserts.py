"""audit inserts cost PostgreSQL less: triggers that fire only to refuse, partial unique indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 22:10:00

Every request that reads or changes a record inserts an audit entry, so the entry's cost in
PostgreSQL is paid on every request. Two parts of it did no work for an ordinary entry:

- The append-only trigger ran its plpgsql function for every insert and every sealing, only to
  let them through. Each trigger now carries a `WHEN` clause that holds only for a change it
  refuses, so the function runs only to refuse. UPDATE and DELETE get triggers of their own,
  because a trigger's `WHEN` can name `NEW` only if it fires on neither INSERT nor DELETE.
- The unique constraints on `seq` and `hash` indexed every unsealed entry (as NULL) when it was
  inserted, and again when it was sealed. They are now unique indexes over sealed entries only,
  built concurrently; the downgrade rebuilds the constraints the plain way, holding writes back.

The table refuses the same changes as before; the tests of the append-only table still hold.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORDED = "id, at, actor_id, actor, role, action, entity, entity_id, outcome, status, request_id, detail"
RECORDED_OLD = ", ".join(f"OLD.{c}" for c in RECORDED.split(", "))
RECORDED_NEW = ", ".join(f"NEW.{c}" for c in RECORDED.split(", "))
SEALING_ONCE = (
    f"OLD.seq IS NULL AND NEW.seq IS NOT NULL AND ({RECORDED_NEW}) IS NOT DISTINCT FROM ({RECORDED_OLD})"
)

REFUSE = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""

REFUSE_UNLESS_ALLOWED = f"""
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.seq IS NULL THEN
        RETURN NEW;  -- entries arrive unsealed: only the sealer gives them a place in the chain
    END IF;
    IF TG_OP = 'UPDATE' AND {SEALING_ONCE} THEN
        RETURN NEW;  -- the one sealing of an unsealed entry
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def refuse(trigger: str, event: str, when: str | None = None) -> str:
    condition = f" WHEN ({when})" if when else ""
    return (
        f"CREATE TRIGGER {trigger} BEFORE {event} ON audit_log FOR EACH ROW{condition}"
        " EXECUTE FUNCTION audit_log_append_only()"
    )


def upgrade() -> None:
    # Built beside the table's traffic: a plain CREATE INDEX would hold back every audited request
    # for as long as it reads the whole log. A build that failed leaves an invalid index behind;
    # it is dropped first, so the upgrade can simply be run again.
    with op.get_context().autocommit_block():
        for column in ("seq", "hash"):
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS uq_audit_log_{column}_sealed")
            op.execute(
                f"CREATE UNIQUE INDEX CONCURRENTLY uq_audit_log_{column}_sealed"
                f" ON audit_log ({column}) WHERE {column} IS NOT NULL"
            )
    for column in ("seq", "hash"):
        op.drop_constraint(f"uq_audit_log_{column}", "audit_log", type_="unique")
        op.execute(f"ALTER INDEX uq_audit_log_{column}_sealed RENAME TO uq_audit_log_{column}")
    op.execute("DROP TRIGGER audit_log_insert_unsealed ON audit_log")
    op.execute("DROP TRIGGER audit_log_no_update_delete ON audit_log")
    op.execute(REFUSE)
    op.execute(refuse("audit_log_insert_unsealed", "INSERT", "NEW.seq IS NOT NULL"))
    op.execute(refuse("audit_log_seal_once", "UPDATE", f"NOT ({SEALING_ONCE})"))
    op.execute(refuse("audit_log_no_delete", "DELETE"))


def downgrade() -> None:
    for column in ("seq", "hash"):
        op.drop_index(f"uq_audit_log_{column}", table_name="audit_log")
        op.create_unique_constraint(f"uq_audit_log_{column}", "audit_log", [column])
    for trigger in ("audit_log_insert_unsealed", "audit_log_seal_once", "audit_log_no_delete"):
        op.execute(f"DROP TRIGGER {trigger} ON audit_log")
    op.execute(REFUSE_UNLESS_ALLOWED)
    op.execute(refuse("audit_log_insert_unsealed", "INSERT"))
    op.execute(refuse("audit_log_no_update_delete", "UPDATE OR DELETE"))
