"""Headless Chromium, for pages whose content is drawn by their JavaScript."""

import shutil
import subprocess

import pytest


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not binary:
        pytest.fail("this test needs a headless browser: apt-get install chromium (.ci/run does)", pytrace=False)
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
