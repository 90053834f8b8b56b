"""Error tracking (desideliver_backend/error_tracking.py): on when SENTRY_DSN is set."""

from desideliver_backend import env

# A project's DSN, e.g. https://<key>@o1.ingest.sentry.io/2 or a GlitchTip one; empty: off.
SENTRY_DSN = env.string("SENTRY_DSN", "")
SENTRY_ENVIRONMENT = env.string("SENTRY_ENVIRONMENT", "production")
# Which build an error came from, e.g. the image tag the servers run.
SENTRY_RELEASE = env.string("SENTRY_RELEASE", "")

if SENTRY_DSN:
    import sentry_sdk.utils

    from desideliver_backend import error_tracking

    try:
        error_tracking.start(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=SENTRY_RELEASE)
    except sentry_sdk.utils.BadDsn as error:
        raise env.ConfigurationError("SENTRY_DSN", f"is not a DSN ({error})") from None
