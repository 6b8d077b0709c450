# un: one image for every role. `docker compose` (docker-compose.yml) runs it as
# the api, the workers and the scanner; the role is the command's `--role`.
#
#   docker build -t un .
#   docker run --rm -e UN_REDIS_URL=redis://host:6379 un --role worker
#
# Dependencies are fetched at build time (`deno cache`, checked against
# deno.lock), so a container starts without reaching any registry.
FROM denoland/deno:2.9.6

WORKDIR /app
RUN chown deno:deno /app
USER deno

# The manifest and lockfile first: code edits then reuse this layer of npm packages.
COPY --chown=deno:deno deno.json deno.lock ./
RUN deno install --frozen
COPY --chown=deno:deno . .
# main.ts's graph includes every scanner kind (they are imported on demand at run time).
RUN deno cache --frozen main.ts

# Every role serves the control plane (GET /health) on 4242; only the api binds
# beyond loopback (UN_API_HOST=0.0.0.0 needs UN_API_TOKEN).
EXPOSE 4242
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:4242/health'); await r.body?.cancel(); Deno.exit(r.ok ? 0 : 1)"]

ENTRYPOINT ["deno", "run", "-A", "--cached-only", "--unstable-no-legacy-abort", "--v8-flags=--no-memory-reducer,--expose-gc,--no-flush-bytecode", "main.ts", "start"]
CMD ["--role", "all"]
