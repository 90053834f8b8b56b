"""Product images in S3-compatible object storage (MEDIA_STORAGE=s3): two backend replicas
of the production stack upload to one bucket on a real S3 HTTP server (moto's), the API
returns presigned URLs a client fetches straight from it, and the image checks still
refuse what is not an image before the bucket sees a byte."""

import json
import socket
import struct
import subprocess
import uuid
import zlib

import boto3
import pytest

from tests.stack.stack import REPO_DIR, demo_staff_login, http, run, wait_for

S3_PORT = 18105  # no stack's port (edge_env and conftest.py give each stack four)
BUCKET = "desideliver-media"
REPLICAS = 2


def png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG (what the upload checks decode), gray pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    header = struct.pack("!IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = png()


def edge_gateway(stack) -> str:
    """The host's address on the stack's edge network: the backends reach it, and so does the host."""
    network = json.loads(run(["docker", "network", "inspect", f"{stack.project}_edge"]).stdout)[0]
    return network["IPAM"]["Config"][0]["Gateway"]


@pytest.fixture(scope="module")
def s3_media(prod_stack, tmp_path_factory):
    gateway = edge_gateway(prod_stack)
    endpoint = f"http://{gateway}:{S3_PORT}"
    server = subprocess.Popen(
        [str(REPO_DIR / ".venv-stack" / "bin" / "moto_server"), "-H", gateway, "-p", str(S3_PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        bucket = boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="media", aws_secret_access_key="x"
        )
        wait_for(lambda: socket.create_connection((gateway, S3_PORT), timeout=1).close() or True, timeout=30, what="S3")
        bucket.create_bucket(Bucket=BUCKET)
        # The secret key as a Docker secret file, as an operator would give it.
        secret = tmp_path_factory.mktemp("s3") / "media_s3_secret_access_key"
        secret.write_text("stack-test-media-secret-key\n")
        secret.chmod(0o644)
        env = {
            **prod_stack.env,
            "BACKEND_REPLICAS": str(REPLICAS),
            "GUNICORN_ACCESS_LOG": "true",
            "MEDIA_STORAGE": "s3",
            "MEDIA_S3_BUCKET": BUCKET,
            "MEDIA_S3_ENDPOINT_URL": endpoint,
            "MEDIA_S3_REGION": "us-east-1",
            "MEDIA_S3_ADDRESSING_STYLE": "path",
            "MEDIA_S3_PREFIX": "media",
            "MEDIA_S3_ACCESS_KEY_ID": "media",
            "MEDIA_S3_SECRET_ACCESS_KEY_FILE": str(secret),
        }
        prod_stack.compose("up", "--detach", "--wait", "backend", env=env)
        yield bucket
    finally:
        prod_stack.compose("up", "--detach", "--wait", "backend")  # back to the volume, one replica
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def staff(prod_stack, s3_media) -> tuple[str, int]:
    """A staff token and a category to file new products under."""
    prod_stack.exec("backend", "python", "manage.py", "seed_demo", "--allow-production")
    return demo_staff_login(prod_stack), http("GET", prod_stack.url("/api/categories/")).json()[0]["id"]


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{filename}"\r\n'
        "Content-Type: image/png\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(stack, token: str, category: int, content: bytes, marker: str):
    slug = f"s3-{uuid.uuid4().hex[:10]}"
    fields = {
        "name": slug,
        "slug": slug,
        "category": str(category),
        "price": "10.00",
        "unit": "piece",
        "stock": "5",
        "is_active": "true",
    }
    body, content_type = multipart(fields, "../../photo.png", content)
    headers = {"Content-Type": content_type, "User-Agent": marker}
    return http("POST", stack.url("/api/products/"), body=body, token=token, headers=headers)


def objects(bucket) -> list[str]:
    return [item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_uploads_from_every_replica_land_in_the_bucket_and_their_urls_serve_them(prod_stack, s3_media, staff):
    token, category = staff
    marker = uuid.uuid4().hex
    replicas = prod_stack.compose("ps", "-q", "backend").stdout.split()
    assert len(replicas) == REPLICAS

    def served_by_each_replica() -> bool:
        return all(marker in run(["docker", "logs", replica]).stdout for replica in replicas)

    created = []

    def upload_one() -> bool:
        response = upload(prod_stack, token, category, PNG, marker)
        assert response.status == 201, response.body
        created.append(response.json())
        return served_by_each_replica()

    wait_for(upload_one, timeout=60, interval=0, what="an upload through each replica")
    for product in created:
        url = product["image"]
        # A random name under the prefix; nothing of the client's filename.
        assert url.startswith(f"{s3_media.meta.endpoint_url}/{BUCKET}/media/products/"), url
        assert "photo" not in url and ".." not in url
        assert "X-Amz-Signature=" in url, "a private bucket: the API hands out presigned URLs"
        fetched = http("GET", url)
        assert fetched.status == 200 and fetched.body == PNG
        headers = {name.lower(): value for name, value in fetched.headers.items()}
        assert headers["content-type"] == "image/png", "stored with its type, so browsers show it as an image"
        assert headers["cache-control"] == "public, max-age=86400"
        # The same product read back (any replica) points at the same object.
        detail = http("GET", prod_stack.url(f"/api/products/{product['id']}/")).json()
        assert detail["image"].split("?")[0] == url.split("?")[0]
    unsigned = http("GET", created[0]["image"].split("?")[0])
    assert unsigned.status == 403, "the bucket is private: only a presigned URL reads it"
    keys = objects(s3_media)
    assert len(keys) == len(created)
    stored_locally = prod_stack.exec("backend", "sh", "-c", "ls /app/media/products 2>/dev/null || true").stdout.split()
    assert not set(stored_locally) & {key.rsplit("/", 1)[-1] for key in keys}, "S3 on: nothing in the volume"


def test_what_is_not_an_image_is_refused_and_never_reaches_the_bucket(prod_stack, s3_media, staff):
    token, category = staff
    before = objects(s3_media)
    for content in (b"<script>alert(1)</script>", PNG[:40], b"GIF89a" + b"\0" * 64):
        response = upload(prod_stack, token, category, content, "not-an-image")
        assert response.status == 400, response.body
        assert "image" in response.json()
    assert objects(s3_media) == before
