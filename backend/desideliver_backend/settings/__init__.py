"""Settings modules, chosen by DJANGO_SETTINGS_MODULE.

- ``local``: development (manage.py's default); runs with no .env at all.
- ``test``: local plus fast hashing and an isolated cache prefix (pytest's default).
- ``production``: everything secret is required (wsgi/asgi default).
- ``build``: image build steps such as collectstatic, which touch no secret or service.
"""
