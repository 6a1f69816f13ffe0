# pmsync as a container: `docker run ... pmsync sync`. Config at /config/config.toml, state in /data.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY syncer ./syncer
COPY connectors ./connectors
COPY rules ./rules
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin pmsync \
    && mkdir -p /config /data && chown pmsync /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV PMSYNC_CONFIG=/config/config.toml \
    PMSYNC_STATE_DIR=/data \
    PYTHONUNBUFFERED=1
USER pmsync
WORKDIR /data
VOLUME ["/config", "/data"]
ENTRYPOINT ["pmsync"]
CMD ["sync"]
