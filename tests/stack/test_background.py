"""Celery on real containers: worker and beat healthy and hardened, emails reaching
the mail catcher, orders that outlive a Redis outage with every email delivered after
it, and a second beat that schedules nothing."""

import json
import re
import time
import urllib.request

from tests.stack.stack import http, place_order, register_and_login, run, wait_for


def healthy(stack, service: str) -> bool:
    return stack.inspect(service)["State"].get("Health", {}).get("Status") == "healthy"


def outbox(stack, where: str = "true") -> dict[str, int]:
    rows = stack.psql(f"SELECT status, count(*) FROM notifications_outboxemail WHERE {where} GROUP BY status")
    return {status: int(count) for status, count in (line.split("|") for line in rows.split())}


def test_dev_worker_and_beat_are_healthy(dev_stack):
    for service in ("worker", "beat"):
        wait_for(lambda: healthy(dev_stack, service), timeout=90, what=f"{service} healthy")  # noqa: B023


def test_worker_and_beat_are_healthy_and_hardened(prod_stack):
    for service in ("worker", "beat"):
        wait_for(lambda: healthy(prod_stack, service), timeout=90, what=f"{service} healthy")  # noqa: B023
    for service in ("worker", "beat"):
        host = prod_stack.inspect(service)["HostConfig"]
        assert host["ReadonlyRootfs"] is True, service
        assert host["CapDrop"] == ["ALL"], service
        assert "no-new-privileges:true" in host["SecurityOpt"], service
        assert host["Memory"] > 0 and host["RestartPolicy"]["Name"] == "unless-stopped", service
    assert prod_stack.inspect("worker")["Config"]["User"] == "1000:1000"


def test_an_order_email_reaches_the_mail_catcher(dev_stack):
    dev_stack.exec("backend", "python", "manage.py", "seed_demo", user="app")
    token = register_and_login(dev_stack, f"mail-{time.time_ns()}@example.in")
    address = http(
        "POST",
        dev_stack.url("/api/auth/me/addresses/"),
        token=token,
        body={"line1": "1 MG Road", "city": "Pune", "state": "Maharashtra", "pin_code": "411001"},
    ).json()["id"]
    product = http("GET", dev_stack.url("/api/products/?search=Onion")).json()["results"][0]["id"]
    status, order = place_order(dev_stack, (token, address, product))
    assert status == 201
    mail_ui = f"http://127.0.0.1:{dev_stack.extra_env['MAIL_WEB_PORT']}/email"

    def caught():
        with urllib.request.urlopen(mail_ui, timeout=5) as response:
            subjects = [message["subject"] for message in json.load(response)]
        return f"DesiDeliver order #{order['id']} received" in subjects

    wait_for(caught, timeout=30, what="the order email in MailDev")


def test_orders_placed_while_redis_is_down_succeed_and_their_emails_follow(prod_stack, shopper):
    prod_stack.compose("stop", "redis")
    try:
        placed = [place_order(prod_stack, shopper) for _ in range(3)]
    finally:
        prod_stack.compose("start", "redis")
    assert [status for status, _ in placed] == [201, 201, 201]
    ids = ",".join(str(order["id"]) for _, order in placed)
    mine = f"subject ~ 'order #({ids.replace(',', '|')}) received'"
    assert outbox(prod_stack, mine) == {"pending": 3}, "the emails must wait in the outbox, not be lost"
    # The sweep (every OUTBOX_SWEEP_SECONDS) finds them once the broker is back.
    wait_for(lambda: outbox(prod_stack, mine) == {"sent": 3}, timeout=180, interval=2, what="the emails sent")


def sweeps_sent_per_beat(stack, since: str) -> dict[str, int]:
    counts = {}
    for container in stack.compose("ps", "-q", "beat").stdout.split():
        logs = run(["docker", "logs", "--since", since, container])
        counts[container] = len(re.findall(r"Sending due task outbox-sweep", logs.stdout + logs.stderr))
    return counts


def test_a_second_beat_stands_by_and_schedules_nothing(prod_stack):
    prod_stack.compose("up", "--detach", "--no-recreate", "--scale", "beat=2", "beat")
    try:
        wait_for(lambda: len(prod_stack.compose("ps", "-q", "beat").stdout.split()) == 2, timeout=30, what="2 beats")
        period = int(prod_stack.env["OUTBOX_SWEEP_SECONDS"])
        window = 3 * period + period // 2
        time.sleep(window)  # the observation window: three periods of the outbox sweep
        counts = sorted(sweeps_sent_per_beat(prod_stack, f"{window}s").values())
        assert counts[0] == 0, counts  # the standby sent nothing
        assert counts[1] in (3, 4), counts  # the leader, once a period
    finally:
        prod_stack.compose("up", "--detach", "--no-recreate", "--scale", "beat=1", "beat")
