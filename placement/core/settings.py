"""Settings read once from the environment and passed explicitly to the app, worker and CLI."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "PLACEMENT_"


def asyncpg_url(url: str) -> str:
    """Return a SQLAlchemy URL that uses the asyncpg driver for any PostgreSQL URL."""
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
        return urlunsplit(parts._replace(scheme="postgresql+asyncpg"))
    raise ValueError(f"DATABASE_URL must be a postgresql:// URL, not {parts.scheme}://")


def plain_postgres_url(url: str) -> str:
    """Return a libpq-style URL (for asyncpg.connect) from any PostgreSQL URL."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


LOG_FORMATS = ("text", "json")


def parse_log_format(raw: str) -> str:
    """`text` or `json`, whatever the case; anything else is refused at start-up."""
    chosen = raw.strip().lower()
    if chosen not in LOG_FORMATS:
        raise ValueError(f"PLACEMENT_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {raw!r}")
    return chosen


def parse_timezone(raw: str) -> str:
    """An IANA time zone name (e.g. America/New_York); anything else is refused at start-up."""
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"PLACEMENT_TIMEZONE must be an IANA time zone such as America/New_York, not {raw!r}"
        ) from None
    return raw


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the service needs to know about its environment.

    With `database_url` or `redis_url` unset, `placement serve`/`demo` start embedded servers
    in `data_dir` and fill them in before building the app.
    """

    database_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path(".placement-data")
    # Sign-in: a token dies after this much idle time, and after this absolute lifetime.
    token_idle_minutes: int = 30
    token_lifetime_hours: int = 12
    # Login throttling: this many failures per username (or per client address, times four)
    # inside the window answer 429 until the window has passed.
    login_max_failures: int = 5
    login_window_seconds: int = 900
    # A bed hold lasts this long unless the request names its own deadline (at most the max).
    hold_hours: int = 24
    hold_max_hours: int = 168
    db_pool_size: int = 10
    # The program's time zone: "today" (licences, pauses, ages, completions, reminders) is its day.
    timezone: str = "America/New_York"
    # A household whose availability was not confirmed for this many days is flagged stale.
    stale_after_days: int = 30
    # Readiness counts verified completions only, or (True) self-reported ones as well.
    readiness_counts_self_reported: bool = False
    # Load shedding: at most `max_in_flight` requests are served at once and `max_queued` more wait;
    # past that a request is answered 503 with Retry-After at once. Each wait — for a turn, and for
    # each database connection a request takes (a token not seen for a minute is checked on one of
    # its own before the request's) — lasts at most `queue_wait_seconds`, then 503.
    max_in_flight: int = 20
    max_queued: int = 100
    queue_wait_seconds: float = 2.0
    # A secret that keys the audit chain (HMAC-SHA-256). Without it the chain is plain SHA-256:
    # edits still show, but someone able to rewrite the table could recompute every hash.
    # Set it before the first entry is written; changing it later breaks verification.
    audit_key: str | None = None
    # Pages: the secret their forms' CSRF tokens are signed with (by default one made once in
    # `data_dir`), and whether their cookies are marked Secure (set when served over HTTPS).
    page_secret: str | None = None
    secure_cookies: bool = False
    # Match requests: proposals older than this read as expired (the data has moved on); a request
    # or batch queued or solving this long with no live solve is enqueued again by the sweep; and
    # the solver runs in this many processes beside the worker (off its event loop).
    match_valid_minutes: int = 60
    match_sweep_after_seconds: int = 60
    solver_processes: int = 1
    # Run the arq worker inside the API process (the embedded, one-process mode).
    run_worker_inline: bool = False
    # Database statements logged (debugging only).
    echo_sql: bool = False
    # Log lines as plain text, or ("json") as one JSON object a line carrying the request id.
    log_format: str = "text"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from the environment (`DATABASE_URL`, `REDIS_URL`, `PLACEMENT_*`)."""
        env = os.environ if env is None else env

        def number(name: str, default: int) -> int:
            raw = env.get(ENV_PREFIX + name)
            return default if raw in (None, "") else int(raw)

        def seconds(name: str, default: float) -> float:
            raw = env.get(ENV_PREFIX + name)
            return default if raw in (None, "") else float(raw)

        defaults = cls()
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            redis_url=env.get("REDIS_URL") or None,
            data_dir=Path(env.get(ENV_PREFIX + "DATA_DIR") or defaults.data_dir),
            token_idle_minutes=number("TOKEN_IDLE_MINUTES", defaults.token_idle_minutes),
            token_lifetime_hours=number("TOKEN_LIFETIME_HOURS", defaults.token_lifetime_hours),
            login_max_failures=number("LOGIN_MAX_FAILURES", defaults.login_max_failures),
            login_window_seconds=number("LOGIN_WINDOW_SECONDS", defaults.login_window_seconds),
            hold_hours=number("HOLD_HOURS", defaults.hold_hours),
            hold_max_hours=number("HOLD_MAX_HOURS", defaults.hold_max_hours),
            db_pool_size=number("DB_POOL_SIZE", defaults.db_pool_size),
            timezone=parse_timezone(env.get(ENV_PREFIX + "TIMEZONE") or defaults.timezone),
            stale_after_days=number("STALE_AFTER_DAYS", defaults.stale_after_days),
            readiness_counts_self_reported=env.get(ENV_PREFIX + "READINESS_COUNTS_SELF_REPORTED", "") == "1",
            max_in_flight=number("MAX_IN_FLIGHT", defaults.max_in_flight),
            max_queued=number("MAX_QUEUED", defaults.max_queued),
            queue_wait_seconds=seconds("QUEUE_WAIT_SECONDS", defaults.queue_wait_seconds),
            match_valid_minutes=number("MATCH_VALID_MINUTES", defaults.match_valid_minutes),
            match_sweep_after_seconds=number("MATCH_SWEEP_AFTER_SECONDS", defaults.match_sweep_after_seconds),
            solver_processes=number("SOLVER_PROCESSES", defaults.solver_processes),
            echo_sql=env.get(ENV_PREFIX + "ECHO_SQL", "") == "1",
            audit_key=env.get(ENV_PREFIX + "AUDIT_KEY") or None,
            page_secret=env.get(ENV_PREFIX + "PAGE_SECRET") or None,
            secure_cookies=env.get(ENV_PREFIX + "SECURE_COOKIES", "") == "1",
            log_format=parse_log_format(env.get(ENV_PREFIX + "LOG_FORMAT") or defaults.log_format),
        )

    def with_servers(self, database_url: str, redis_url: str) -> Settings:
        return replace(self, database_url=database_url, redis_url=redis_url)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def sqlalchemy_url(self) -> str:
        if not self.database_url:
            raise RuntimeError("DATABASE_URL is not set and no embedded server was started")
        return asyncpg_url(self.database_url)

    @property
    def redis(self) -> str:
        if not self.redis_url:
            raise RuntimeError("REDIS_URL is not set and no embedded server was started")
        return self.redis_url
