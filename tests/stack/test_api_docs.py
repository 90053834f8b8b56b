"""/api/docs/ works offline: Swagger UI's files come from the image, not a CDN."""

import re
import shutil
import subprocess

import pytest

from tests.stack.stack import http


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not binary:
        pytest.fail("the docs test needs a headless browser: apt-get install chromium (.ci/run does)", pytrace=False)
    return binary


def rendered_dom(url: str) -> str:
    """The page as headless Chromium renders it with no internet: every request that
    is not to 127.0.0.1 goes to a proxy that does not exist."""
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--proxy-server=http://127.0.0.1:9",
            "--virtual-time-budget=20000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_docs_page_renders_its_operations_in_a_browser_offline(dev_stack):
    dom = rendered_dom(dev_stack.url("/api/docs/"))
    assert "swagger-ui" in dom
    operations = set(re.findall(r'data-path="([^"]+)"', dom))
    assert "/api/products/" in operations, dom[-2000:]
    assert "/api/orders/create/" in operations
    assert len(re.findall(r'class="opblock ', dom)) >= 30


def test_production_serves_the_docs_assets_itself(prod_stack):
    page = http("GET", prod_stack.url("/api/docs/"))
    assert page.status == 200
    html = page.body.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
    assert assets, html
    for asset in assets:
        assert asset.startswith("/static/"), f"loaded from elsewhere: {asset}"
        served = http("GET", prod_stack.url(asset))
        assert served.status == 200, asset
    assert "cdn" not in html.lower()
