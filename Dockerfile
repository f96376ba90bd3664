# syntax=docker/dockerfile:1
#
# Runxin 润心 — the service image (docs/deploy.md).
#
#   docker build -t runxin:0.1.0 .
#   docker run --rm --env-file .env -p 127.0.0.1:8000:8000 runxin:0.1.0
#
# Stage 1 builds a wheel of this checkout and installs it, with the versions pinned in
# requirements.lock, into a virtual environment. Stage 2 copies only that environment onto a
# clean python:3.11-slim: no compilers, no source tree, no pip caches. Every dependency ships a
# binary wheel for CPython 3.11 on x86_64 and arm64, so neither stage needs a compiler.
# The final image adds Debian's PostgreSQL client (pg_dump, pg_restore: `runxin backup` and
# `runxin restore` on PostgreSQL), which must be of the server's major version or newer: the
# Debian release is pinned (trixie: PostgreSQL 17 client) and docker-compose.yml runs
# postgres:17.
# No secret is baked in: RUNXIN_SECRET_KEY, RUNXIN_DATABASE_URL and the rest come from the
# environment at run time (deploy/env.example).

ARG PYTHON_IMAGE=python:3.11-slim-trixie

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY instruments ./instruments
COPY scoring ./scoring
COPY triage ./triage
COPY survey_service ./survey_service
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/runxin \
    && /opt/runxin/bin/pip install -c requirements.lock /wheels/runxin-*.whl \
    && /opt/runxin/bin/pip check \
    && /opt/runxin/bin/runxin --help > /dev/null

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="Runxin 润心" \
      org.opencontainers.image.description="School mental-health screening with risk triage" \
      org.opencontainers.image.licenses="Apache-2.0"
# Pango and HarfBuzz lay out PDF reports (WeasyPrint); WenQuanYi Micro Hei is the Chinese font
# they embed (survey_service/reports/pdf.py finds it; RUNXIN_REPORT_FONT may name another).
RUN apt-get update \
    && apt-get install --yes --no-install-recommends postgresql-client \
       libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
# A system account with a fixed id (10001): files it writes in volumes keep one owner, and
# orchestrators that require a numeric non-root user (runAsNonRoot) accept the image.
RUN groupadd --system --gid 10001 runxin \
    && useradd --system --uid 10001 --gid runxin --home-dir /var/lib/runxin --create-home \
       --shell /usr/sbin/nologin runxin
COPY --from=build /opt/runxin /opt/runxin
ENV PATH=/opt/runxin/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# The working directory is the account's own (a SQLite file, if used, goes here or in a volume).
WORKDIR /var/lib/runxin
USER 10001:10001
EXPOSE 8000
# Liveness of `runxin serve` (slim has no curl). Other commands (worker, db upgrade) serve no
# HTTP: docker-compose.yml turns this check off for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["runxin"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
