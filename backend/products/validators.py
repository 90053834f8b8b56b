from django.core.exceptions import ValidationError

# Leading bytes of the image formats a product photo may use.
IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
}
MAX_IMAGE_BYTES = 5 * 1024 * 1024


def validate_image_file(upload) -> None:
    """Accepts JPEG, PNG, GIF and WebP files up to 5 MB, judged by content, not name."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError("Images may be at most 5 MB.")
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(12)
    upload.seek(position)
    is_webp = head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if not is_webp and not any(head.startswith(signature) for signature in IMAGE_SIGNATURES):
        raise ValidationError("Upload a JPEG, PNG, GIF or WebP image.")
