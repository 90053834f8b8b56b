"""/api/docs/ works offline: Swagger UI's files come from the image, not a CDN."""

import re

from tests.stack.browser import rendered_dom
from tests.stack.stack import http


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
