# pmsync as a container. Default: the loop (`pmsync run`); `run --once` for CronJobs.
# Config at /config/config.toml (read-only), state in the /data volume; the root filesystem may
# be read-only. Build: docker build -t pmsync .
FROM python:3.12-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY syncer ./syncer
COPY connectors ./connectors
COPY rules ./rules
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim-bookworm
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="pmsync" \
      org.opencontainers.image.description="Post-mortem action items into tracked issues, followed up until done" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin pmsync \
    && mkdir -p /config /data && chown 10001:10001 /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-compile /wheels/*.whl && rm -rf /wheels
# Nothing is written outside /data: no bytecode, caches under the state volume.
ENV PMSYNC_CONFIG=/config/config.toml \
    PMSYNC_STATE_DIR=/data \
    HOME=/data \
    XDG_CACHE_HOME=/data/.cache \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PMSYNC_SERVE__HOST=0.0.0.0
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# `run --serve`: tracker webhooks at /webhooks/<tracker>, /healthz and /metrics.
EXPOSE 8080
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 CMD ["pmsync", "health"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["pmsync"]
CMD ["run", "--serve"]
