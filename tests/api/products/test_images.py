"""Product photos are decoded before they are stored; nothing else gets in."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(image_format: str, size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, format=image_format)
    return buffer.getvalue()


def upload(staff_api, product, name: str, content: bytes):
    file = SimpleUploadedFile(name, content, content_type="image/png")
    return staff_api.patch(f"/api/products/{product.pk}/", {"image": file}, format="multipart")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.parametrize(("image_format", "extension"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_real_images_are_stored_under_a_random_name(staff_api, onion, media, image_format, extension):
    content = image_bytes(image_format)
    response = upload(staff_api, onion, "../../etc/onion.png", content)
    assert response.status_code == 200, response.content
    stored = response.json()["image"]
    assert re.search(rf"/media/products/[0-9a-f]{{32}}\.{extension}$", stored), stored
    assert (media / "products" / stored.rsplit("/", 1)[1]).read_bytes() == content


@pytest.mark.parametrize(
    "content",
    [
        b"GIF89a<html><script>alert(document.cookie)</script></html>",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # a PNG signature and nothing behind it
        b"<?php system($_GET['c']); ?>",
        image_bytes("PNG")[:40],  # truncated
    ],
    ids=["html-as-gif", "png-signature-only", "php", "truncated-png"],
)
def test_files_that_are_not_whole_images_are_refused(staff_api, onion, media, content):
    response = upload(staff_api, onion, "photo.png", content)
    assert response.status_code == 400
    assert "image" in response.json()
    assert not (media / "products").exists() or not any((media / "products").iterdir())


def test_gif_and_other_real_formats_are_refused(staff_api, onion, media):
    response = upload(staff_api, onion, "photo.gif", image_bytes("GIF"))
    assert response.status_code == 400
    assert response.json()["image"] == ["Upload a JPEG, PNG or WebP image."]


def test_images_over_the_size_limit_are_refused(staff_api, onion, media):
    response = upload(staff_api, onion, "big.png", image_bytes("PNG") + b"\x00" * (5 * 1024 * 1024))
    assert response.status_code == 400
    assert response.json()["image"] == ["Images may be at most 5 MB."]


def test_served_media_never_runs_as_a_page(staff_api, api, onion, media):
    stored = upload(staff_api, onion, "onion.png", image_bytes("PNG")).json()["image"]
    response = api.get(stored)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "sandbox" in response["Content-Security-Policy"]
