"""Gunicorn holds an idle connection longer than the proxies in front of it do.

Whichever side gives up on an idle connection first must be the proxy: if
Gunicorn closes it while the proxy still counts it as ready, a request sent on it
at that moment fails, and the proxy does not retry a POST (Go's transport, under
Caddy, retries only requests that are safe to repeat). The race is a matter of
microseconds, so it is checked here as the rule it follows."""

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def gunicorn_keepalive(monkeypatch, value: str | None = None) -> int:
    monkeypatch.delenv("GUNICORN_KEEPALIVE", raising=False)
    if value is not None:
        monkeypatch.setenv("GUNICORN_KEEPALIVE", value)
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1")  # the Docker defaults read /proc/net/route
    return runpy.run_path(str(ROOT / "backend" / "desideliver_backend" / "runtime" / "gunicorn_conf.py"))["keepalive"]


def test_gunicorn_keeps_idle_connections_longer_than_the_edge(monkeypatch):
    caddyfile = (ROOT / "deploy" / "caddy" / "Caddyfile").read_text()
    transport = re.search(r"transport http \{(.*?)\}", caddyfile, re.S).group(1)
    edge_seconds = int(re.search(r"^\s*keepalive (\d+)s$", transport, re.M).group(1))
    assert gunicorn_keepalive(monkeypatch) > edge_seconds


def test_the_charts_gunicorn_outlasts_an_ingress():
    values = (ROOT / "deploy" / "helm" / "desideliver" / "values.yaml").read_text()
    keepalive = int(re.search(r"^    keepalive: (\d+)$", values, re.M).group(1))
    assert keepalive > 60  # ingress-nginx's upstream-keepalive-timeout and AWS ALB's idle timeout


def test_the_keepalive_is_a_setting(monkeypatch):
    assert gunicorn_keepalive(monkeypatch, "120") == 120
