# One Dockerfile: base -> deps -> development | production (which takes its virtualenv
# and static files from the stages runtime-venv and collected). Both targets share the
# base image and the runtime dependencies.
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
# scripts/slim-venv.sh then drops, in the same layer, what the app never loads (other
# clouds' botocore models, unused translations, source maps); DJANGO_LOCALES keeps more
# of Django's languages for a deployment that serves them.
FROM base AS deps
ARG UV_VERSION=0.13.9
ARG DJANGO_LOCALES="en"
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never UV_NO_CACHE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv
RUN python3 -m venv /opt/uv \
 && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv==$UV_VERSION"
COPY pyproject.toml uv.lock scripts/slim-venv.sh /tmp/project/
RUN /opt/uv/bin/uv sync --project /tmp/project --locked --no-dev --python "$(command -v python3)" \
 && /tmp/project/slim-venv.sh "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

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

# collected: production's static files, hashed names only (WHITENOISE_KEEP_ONLY_HASHED_FILES),
# gathered from the dependencies' own static/ directories. Only the settings package is
# copied (settings/build.py says why), so an app's code change collects nothing again.
FROM deps AS collected
WORKDIR /app
COPY backend/manage.py /app/
COPY backend/desideliver_backend/ /app/desideliver_backend/
RUN DJANGO_SETTINGS_MODULE=desideliver_backend.settings.build python manage.py collectstatic --noinput -v 0

# runtime-venv: production's virtualenv without the Django apps' static/ directories,
# which only collectstatic reads (the image serves the collected copies), and without the
# debugging symbols some wheels' shared libraries carry (about 8 MB; a stack trace of
# a crash still names each library's exported functions). A stage of its own so that a
# source change leaves this layer, the image's largest, as it was; binutils stays here.
FROM deps AS runtime-venv
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils \
 && find /opt/venv -type d -name static -prune -execdir test -f apps.py \; -exec rm -rf {} + \
 && find /opt/venv -type f -name '*.so*' -exec strip --strip-unneeded {} +

# production: runtime dependencies and the source only; root owns the code and the
# app user (always uid 1000 here) can write nothing but media. The source comes last,
# after the image's settings, so a code change rebuilds only its own layer.
FROM base AS production
COPY --from=runtime-venv /opt/venv /opt/venv
COPY scripts/docker-entrypoint.sh /usr/local/bin/
COPY --from=collected /app/staticfiles /app/staticfiles
WORKDIR /app
RUN install -d -o app -g app /app/media
ENV DJANGO_SETTINGS_MODULE=desideliver_backend.settings.production \
    PORT=8000
EXPOSE 8000
# The probe is bash's /dev/tcp, not Python: about 1.5 ms of CPU instead of 40, every
# interval, in every replica.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>\"/dev/tcp/127.0.0.1/$PORT\" && printf 'GET /health/live/ HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && read -r -t 2 status <&3 && [[ $status == 'HTTP/1.'?' 200 '* ]]"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["gunicorn"]
COPY backend/ /app/
RUN python -m compileall -q /app
USER 1000:1000
