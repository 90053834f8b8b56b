"""Flower, Celery's web UI: open on 127.0.0.1 in the development stack, where a browser
sees the worker online; in production an opt-in profile that will not start without a
login and answers nothing without it."""

import base64
import json
import re

from tests.stack.browser import rendered_dom
from tests.stack.stack import http, wait_for

LOGIN = "ops:a-long-flower-password"


def test_the_development_flower_shows_the_worker_online_in_a_browser(dev_stack):
    url = f"http://127.0.0.1:{dev_stack.extra_env['FLOWER_WEB_PORT']}/"
    worker = dev_stack.exec("worker", "hostname").stdout.strip()

    def online() -> bool:
        dom = rendered_dom(url)
        return 'id="workers-online">1<' in dom and f"celery@{worker}" in dom

    wait_for(online, timeout=60, what="the worker online in Flower's dashboard")


def flower_refusal(prod_stack, **env: str) -> str:
    started = prod_stack.compose("--profile", "flower", "run", "--rm", "--no-deps", "flower",
                                 env={**prod_stack.env, **env}, check=False)  # fmt: skip
    assert started.returncode == 1, started.stdout + started.stderr
    return started.stderr.strip().splitlines()[-1]


def test_production_flower_does_not_start_without_a_login(prod_stack):
    assert flower_refusal(prod_stack, FLOWER_BASIC_AUTH="") == (
        "configuration error: FLOWER_BASIC_AUTH is not set: Flower needs a login, user:password "
        "(or FLOWER_BASIC_AUTH_FILE; see deploy/production.env.example)"
    )
    assert flower_refusal(prod_stack, FLOWER_BASIC_AUTH="ops:short") == (
        "configuration error: FLOWER_BASIC_AUTH must be user:password (comma-separated for several), "
        "each password 12 characters or more"
    )


def test_production_flower_answers_only_with_its_login(prod_stack):
    env = {**prod_stack.env, "FLOWER_BASIC_AUTH": LOGIN}
    prod_stack.compose("--profile", "flower", "up", "--detach", "--wait", "--no-deps", "flower", env=env)
    try:
        base = f"http://127.0.0.1:{prod_stack.extra_env['FLOWER_WEB_PORT']}"
        for path in ("/", "/workers", "/api/workers", "/tasks"):
            assert http("GET", base + path).status == 401, path
        wrong = {"Authorization": "Basic " + base64.b64encode(b"ops:not-the-password").decode()}
        assert http("GET", base + "/api/workers", headers=wrong).status == 401
        login = {"Authorization": "Basic " + base64.b64encode(LOGIN.encode()).decode()}

        def workers() -> list[str]:
            answer = http("GET", base + "/api/workers?refresh=1", headers=login)
            assert answer.status == 200, answer.body
            return list(json.loads(answer.body))

        wait_for(lambda: any(re.fullmatch(r"celery@\w+", name) for name in workers()), timeout=60,
                 what="the worker listed")  # fmt: skip
        published = prod_stack.inspect("flower")["HostConfig"]["PortBindings"]
        assert published == {"5555/tcp": [{"HostIp": "127.0.0.1", "HostPort": prod_stack.extra_env["FLOWER_WEB_PORT"]}]}
    finally:
        prod_stack.compose("--profile", "flower", "rm", "--stop", "--force", "flower")
