"""scripts/slim-venv.sh trims the image's virtualenv (this suite runs on the same
trimmed one): what the app loads from each trimmed package must still be there."""

import importlib.util
import io
from pathlib import Path

import boto3
import pytest
from django.utils import translation
from PIL import Image, features

SITE = Path(boto3.__file__).parent.parent


def test_s3_and_sts_clients_still_load_and_presign_offline():
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret", region_name="ap-south-1"
    )
    url = session.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": "b", "Key": "k.png"}, ExpiresIn=60
    )
    assert "X-Amz-Signature=" in url
    assert session.client("sts").meta.service_model.service_name == "sts"
    # The trim is real: other services' models are gone.
    assert not (SITE / "botocore" / "data" / "ec2").exists()


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_every_accepted_photo_format_still_decodes(image_format):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "orange").save(buffer, image_format)
    buffer.seek(0)
    with Image.open(buffer) as image:
        image.load()
        assert image.format == image_format


def test_no_avif_decoder_is_exposed_to_uploads():
    assert not features.check("avif")


def test_the_served_language_keeps_its_translations_and_formats():
    with translation.override("en-in"):
        assert translation.get_language() == "en-in"
        assert translation.gettext("This field is required.") == "This field is required."
    assert (SITE / "django" / "conf" / "locale" / "en" / "formats.py").exists()
    assert not (SITE / "django" / "conf" / "locale" / "de").exists()
    assert importlib.util.find_spec("django.contrib.gis") is None


def test_swagger_ui_assets_are_whole_and_name_no_missing_source_map():
    dist = SITE / "drf_spectacular_sidecar" / "static" / "drf_spectacular_sidecar" / "swagger-ui-dist"
    for name in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"):
        assert (dist / name).stat().st_size > 0, name
    for asset in (*dist.glob("*.js"), *dist.glob("*.css")):
        assert "sourceMappingURL=" not in asset.read_text(), asset.name
    assert not list(dist.glob("*.map"))


def test_the_build_collects_every_static_file_the_project_serves():
    """settings/build.py collects without the project's apps: none may hold static files."""
    from django.apps import apps
    from django.conf import settings

    for label in settings.LOCAL_APPS:
        config = next(c for c in apps.get_app_configs() if c.name == label)
        assert not (Path(config.path) / "static").exists(), f"{label} has static files the image would not collect"


def test_flower_still_builds_its_web_app_and_words_its_durations():
    import asyncio

    import humanize
    from celery import Celery
    from flower.app import Flower
    from tornado.platform.asyncio import AsyncIOLoop

    loop = asyncio.new_event_loop()
    try:
        app = Flower(capp=Celery(), io_loop=AsyncIOLoop(asyncio_loop=loop))  # built, never started
        assert len(app.wildcard_router.rules) > 10  # Tornado's web app and its routes
    finally:
        loop.close()
    assert humanize.naturaldelta(60) == "a minute"
    assert not (SITE / "tornado" / "test").exists() and not (SITE / "humanize" / "locale").exists()


def test_libpq_and_pythons_ssl_share_the_systems_openssl(db):
    import ssl  # noqa: F401  (Python's OpenSSL, loaded before the query)

    from django.db import connection

    with connection.cursor() as cursor:  # libpq is loaded and connected
        cursor.execute("SELECT 1")
    mapped = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if ".so" in line}
    openssl = {Path(path).resolve() for path in mapped if Path(path).name.startswith(("libssl", "libcrypto"))}
    assert {path.name for path in openssl} == {"libssl.so.3", "libcrypto.so.3"}, openssl
    assert all(not str(path).startswith(str(SITE)) for path in openssl), openssl
