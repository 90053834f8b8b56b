"""Where uploaded product images are stored: the media volume, or S3-compatible object storage.

MEDIA_STORAGE=local (the default, for one server and development) writes to MEDIA_ROOT,
which the edge serves at /media/. MEDIA_STORAGE=s3 writes to a bucket every replica, every
Swarm node and every pod can reach, through django-storages; the API then returns the
object's URL (presigned by default, or public through MEDIA_S3_CUSTOM_DOMAIN / a public
bucket). Validation (products.validators) happens before the storage sees a byte, so it
holds on both. Backing up the bucket: docs/DEPLOY.md, "Media".
"""

from desideliver_backend import env

from .cache import CATALOGUE_CACHE_SECONDS

MEDIA_STORAGE = env.choice("MEDIA_STORAGE", ("local", "s3"), "local")

if MEDIA_STORAGE == "s3":
    MEDIA_S3_PRESIGNED_URLS = env.boolean("MEDIA_S3_PRESIGNED_URLS", default=True)
    MEDIA_S3_URL_SECONDS = env.integer("MEDIA_S3_URL_SECONDS", 3600, minimum=60)
    # The cached product list carries the URLs: one that expires while still cached is a broken image.
    if MEDIA_S3_PRESIGNED_URLS and MEDIA_S3_URL_SECONDS < 2 * CATALOGUE_CACHE_SECONDS:
        raise env.ConfigurationError(
            "MEDIA_S3_URL_SECONDS",
            f"must be at least twice CATALOGUE_CACHE_SECONDS ({2 * CATALOGUE_CACHE_SECONDS}), "
            "or cached product lists hand out expired image links",
        )
    _s3 = {
        "bucket_name": env.string("MEDIA_S3_BUCKET"),
        # Empty: AWS itself. MinIO, Ceph, R2, Spaces and the like: their https:// endpoint.
        "endpoint_url": env.string("MEDIA_S3_ENDPOINT_URL", "") or None,
        "region_name": env.string("MEDIA_S3_REGION", "") or None,
        # Unset: boto3's own chain (an instance profile, IRSA or workload identity on Kubernetes).
        "access_key": env.string("MEDIA_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": env.string("MEDIA_S3_SECRET_ACCESS_KEY", "") or None,
        "location": env.string("MEDIA_S3_PREFIX", "").strip("/"),
        "custom_domain": env.string("MEDIA_S3_CUSTOM_DOMAIN", "") or None,
        "addressing_style": env.choice("MEDIA_S3_ADDRESSING_STYLE", ("auto", "path", "virtual"), "auto"),
        "querystring_auth": MEDIA_S3_PRESIGNED_URLS,
        "querystring_expire": MEDIA_S3_URL_SECONDS,
        "signature_version": "s3v4",
        # Names are random (products.validators.product_image_path); never replace an object.
        "file_overwrite": False,
        # The bucket's policy decides who may read; no per-object ACLs (most providers refuse them).
        "default_acl": None,
        # As the edge says for the volume (deploy/caddy/Caddyfile, /media/*).
        "object_parameters": {"CacheControl": "public, max-age=86400"},
    }
    if bool(_s3["access_key"]) != bool(_s3["secret_key"]):
        raise env.ConfigurationError("MEDIA_S3_SECRET_ACCESS_KEY", "and MEDIA_S3_ACCESS_KEY_ID must be set together")
    MEDIA_STORAGE_BACKEND = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3}
else:
    MEDIA_STORAGE_BACKEND = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
