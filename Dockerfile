# One Dockerfile, four stages: base -> deps -> development | production.
# Both targets share the base image and the runtime dependency layer.
# The base image is a build argument so a mirror or an air-gapped network can
# substitute its own (see scripts/base-images/build). No BuildKit-only syntax
# (RUN --mount): `docker build` works with the legacy builder too (Engine 20.10).
ARG PYTHON_IMAGE=python:3.13-slim@sha256:7c61056e61ac89e852de05f3dc6fa51a6dd2181797bceed46aa725dd7cb2cd3b

# base: the interpreter, the environment every stage shares and the app user.
FROM ${PYTHON_IMAGE} AS base
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
RUN groupadd --gid 1000 app \
 && useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash app

# deps: the runtime virtualenv, exactly as uv.lock pins it (hashes checked; a lock out
# of step with pyproject.toml fails the build). Rebuilt only when those two files change
# (the tools' settings in pyproject.toml count: they share the file).
FROM base AS deps
ARG UV_VERSION=0.13.9
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never UV_NO_CACHE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN python3 -m venv /opt/uv \
 && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==$UV_VERSION"
COPY pyproject.toml uv.lock /tmp/project/
RUN /opt/uv/bin/uv sync --project /tmp/project --locked --no-dev --python "$(command -v python3)"

# development: runtime plus dev dependencies and the tools a developer uses in
# the container (git, psql, redis-cli, debugpy, pre-commit, ruff, pytest).
# The source is bind-mounted at /workspace, not copied. The image is the same for
# every host user: started as root (docker-compose.yml does), the entrypoint gives
# the app user the checkout owner's uid and gid, then drops to it.
FROM deps AS development
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      git openssh-client postgresql-client redis-tools shellcheck \
      procps less curl bash-completion \
 && rm -rf /var/lib/apt/lists/* \
 && git config --system --add safe.directory /workspace
RUN /opt/uv/bin/uv sync --project /tmp/project --locked
COPY scripts/docker-entrypoint.sh scripts/dev-server /usr/local/bin/
# PYTHONDONTWRITEBYTECODE (from base) keeps __pycache__ out of the bind-mounted
# checkout; the venv's bytecode was compiled at build time and is read as it is.
ENV HISTFILE=/home/app/.history/bash_history \
    PRE_COMMIT_HOME=/home/app/.cache/pre-commit
USER 1000:1000
RUN mkdir -p /home/app/.cache /home/app/.history
WORKDIR /workspace/backend
EXPOSE 8000 5678
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["dev-server"]

# production: runtime dependencies and the source only; root owns the code and the
# app user (always uid 1000 here) can write nothing but media. Static files are
# collected at build time (not ReDoc's: the docs page is Swagger UI).
FROM base AS production
COPY --from=deps /opt/venv /opt/venv
COPY scripts/docker-entrypoint.sh /usr/local/bin/
WORKDIR /app
COPY backend/ /app/
RUN python -m compileall -q -j 0 /app \
 && DJANGO_SETTINGS_MODULE=desideliver_backend.settings.build python manage.py collectstatic --noinput -v 0 --ignore redoc \
 && install -d -o app -g app /app/media
ENV DJANGO_SETTINGS_MODULE=desideliver_backend.settings.production \
    PORT=8000
USER 1000:1000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; u.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health/live/', timeout=2)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["gunicorn"]
