# kubelantern's image: the SPA built with Node, the wheel built with Python, and a slim
# runtime holding only the installed wheel (no Node, no compilers, no pip cache), run as a
# non-root user. Build: docker build -t kubelantern:0.1.0 .

# 1. The frontend, built into src/kubelantern/web/static/.
FROM node:22-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# 2. The wheel (the build hook sees the built SPA and does not need npm).
FROM python:3.11-slim-bookworm AS wheel
WORKDIR /src
COPY pyproject.toml README.md hatch_build.py ./
COPY src/ src/
COPY --from=frontend /src/src/kubelantern/web/static/ src/kubelantern/web/static/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# 3. The runtime: the wheel and its dependencies (all on PyPI as binary wheels), nothing else.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 kubelantern \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin kubelantern
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir --only-binary=:all: /tmp/dist/*.whl \
 && rm -rf /tmp/dist \
 && pip uninstall -y pip setuptools wheel 2>/dev/null || true
USER 10001:10001
EXPOSE 4477
ENTRYPOINT ["kubelantern"]
CMD ["serve", "--host", "0.0.0.0", "--port", "4477", "--in-cluster"]
