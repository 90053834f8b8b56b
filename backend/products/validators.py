"""Product photos: real JPEG, PNG or WebP images, judged by decoding them, never by name or first bytes."""

import uuid
from pathlib import PurePath

from django.core.exceptions import ValidationError
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a small file may still decode to a huge bitmap


def _image_format(upload) -> str:
    position = upload.tell() if hasattr(upload, "tell") else 0
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ValidationError("Images may be at most 40 megapixels.")
            image_format = image.format
            image.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()  # verify() checks structure; load() decodes every byte
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError("Upload a JPEG, PNG or WebP image; this file is not a readable image.") from None
    finally:
        upload.seek(position)
    return image_format


def validate_image_file(upload) -> None:
    """Accepts JPEG, PNG and WebP images up to 5 MB."""
    if getattr(upload, "_committed", False):
        return  # already stored and checked when it was uploaded (its size, in S3, is a request away)
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError("Images may be at most 5 MB.")
    if _image_format(upload) not in ALLOWED_FORMATS:
        raise ValidationError("Upload a JPEG, PNG or WebP image.")


def product_image_path(instance, filename: str) -> str:
    """A random name: an upload never chooses, guesses or overwrites a stored file's name."""
    decoded = getattr(getattr(instance.image, "file", None), "image", None)  # set by forms.ImageField
    if decoded is not None and decoded.format in ALLOWED_FORMATS:
        extension = ALLOWED_FORMATS[decoded.format]
    else:
        extension = PurePath(filename).suffix.lower().lstrip(".").replace("jpeg", "jpg")
        extension = extension if extension in ALLOWED_FORMATS.values() else "img"
    return f"products/{uuid.uuid4().hex}.{extension}"
