import os
import sys

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desideliver_backend.settings.production")

django.setup(set_prefix=False)
# Before the middleware chain is built (desideliver_backend/tracing.py).
from desideliver_backend import tracing  # noqa: E402

tracing.instrument_django()
application = get_wsgi_application()
# Gunicorn's master loads this module and forks: each worker starts tracing after the fork
# (runtime/gunicorn_conf.py, post_fork). A server that serves from the process that
# loaded it (runserver in development) starts it here.
if "gunicorn.arbiter" not in sys.modules:
    tracing.start("backend")
