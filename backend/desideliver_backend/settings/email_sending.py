"""Outgoing email, and the shop pages its links open."""

from desideliver_backend import env

EMAIL_BACKEND = env.string("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "DesiDeliver <orders@desideliver.in>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_HOST = env.string("EMAIL_HOST", "localhost")
EMAIL_PORT = env.integer("EMAIL_PORT", 25, minimum=1)
EMAIL_TIMEOUT = 10

# Where password-reset emails send people: the shop's page that reads uid and token
# and posts them to /api/auth/password/reset/confirm/.
PASSWORD_RESET_URL = env.string("PASSWORD_RESET_URL", "https://desideliver.in/reset-password")
# Where verification emails send people: the page that posts uid and token to /api/auth/email/verify/.
EMAIL_VERIFY_URL = env.string("EMAIL_VERIFY_URL", "https://desideliver.in/verify-email")
