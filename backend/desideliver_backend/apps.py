from django.apps import AppConfig


class DesideliverBackendConfig(AppConfig):
    """The project's own app (its management commands); loads the Celery app with Django,
    so shared tasks bind to it. Not on the package's import: importing the package must
    stay cheap for the server processes' first statement (runtime/startup.py)."""

    name = "desideliver_backend"

    def ready(self) -> None:
        from desideliver_backend.runtime import celery  # noqa: F401
