"""Point-in-time recovery's costs (docs/DEPLOY.md, "Scheduled backups and point-in-time
recovery"): order creation with PostgreSQL archiving its WAL against the same stack with
backups off, in the same run, and how long a base backup and a checked restore take
for the demo data and for 100,000 generated orders."""

import time

from .common import PROD_ENV, REPO, report, sh
from .production import GUNICORN_PORT, PROD_PROJECT, order_flow, prod_compose, prod_stack_up

# 100,000 delivered orders of one line each, for the first user and product.
GENERATED_ORDERS = """
WITH shopper AS (SELECT id FROM users_user ORDER BY id LIMIT 1),
     product AS (SELECT id, name, unit, price FROM products_product ORDER BY id LIMIT 1),
     placed AS (
       INSERT INTO orders_order (user_id, status, total, delivery_name, delivery_phone, delivery_address, note,
                                 request_fingerprint, created_at, updated_at)
       SELECT shopper.id, 'delivered', product.price, 'Bench Shopper', '', '1 Bench Rd, Pune 411001', '', '',
              now(), now()
       FROM shopper, product, generate_series(1, 100000)
       RETURNING id)
INSERT INTO orders_orderitem (order_id, product_id, product_name, unit, unit_price, quantity)
SELECT placed.id, product.id, product.name, product.unit, product.price, 1 FROM placed, product
"""


def psql(sql: str) -> str:
    script = 'exec psql -XAtq -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "$1"'
    return prod_compose("exec", "-T", "db", "sh", "-c", script, "sh", sql, direct=True).stdout.strip()


def archiving(on: bool) -> None:
    """The database (re)started with WAL archiving on or off; the backend ready again."""
    prod_compose(
        "up", "-d", "--wait", "--no-build", "db", "backup", env={"BACKUPS": "on" if on else "off"}, direct=True
    )
    assert psql("SHOW archive_mode") == ("on" if on else "off")
    prod_compose("up", "-d", "--wait", "--no-build", "backend", direct=True)


def base_backup_seconds() -> float:
    started = time.monotonic()
    prod_compose(
        "exec", "-T", "backup", "pgbackrest-entrypoint.sh",
        "as-postgres", "pgbackrest", "backup", "--type=full",
        direct=True,
    )  # fmt: skip
    return time.monotonic() - started


def restore_seconds() -> float:
    """scripts/db's checked restore into a scratch volume (the live database untouched)."""
    started = time.monotonic()
    sh(
        str(REPO / "scripts" / "db"),
        "--prod",
        "restore",
        "--latest",
        env={**PROD_ENV, "COMPOSE_PROJECT_NAME": PROD_PROJECT},
    )
    return time.monotonic() - started


def section_recovery(args) -> None:
    prod_stack_up(direct=True)
    seconds, users = (5, 5) if args.quick else (20, 10)
    base = f"http://127.0.0.1:{GUNICORN_PORT}"
    flows = {}
    for on in (False, True):
        archiving(on)
        flows[on] = order_flow(base, users=users, seconds=seconds)
    report(
        "add to cart + create order, WAL archived (ARCHIVE_TIMEOUT 60 s)",
        f"{flows[True]['flows']:.1f} orders/s, p99 {flows[True]['p99']:.0f} ms, {flows[True]['errors']} errors",
        f"{flows[False]['flows']:.1f} orders/s, p99 {flows[False]['p99']:.0f} ms with BACKUPS=off: "
        f"{flows[True]['flows'] / flows[False]['flows']:.2f}x",
        ">= 0.9x",
        f"{users} users, {seconds} s each, straight to one Gunicorn; archiving to the local repository",
        measured=flows[True]["flows"] / flows[False]["flows"],
    )
    for label in ("the demo data", "100,000 more orders"):
        if label != "the demo data":
            psql(GENERATED_ORDERS)
        size = psql("SELECT pg_size_pretty(pg_database_size(current_database()))")
        backup, restore = base_backup_seconds(), restore_seconds()
        report(
            f"base backup, then checked restore: {label} ({size})",
            f"{backup:.1f} s, {restore:.1f} s",
            method="pgbackrest backup --type=full; scripts/db --prod restore --latest"
            " (scratch volume, replayed, counted)",
        )
