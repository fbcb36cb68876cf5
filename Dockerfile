# ingest-api and processor, run from source with tsx exactly as `npm start` runs them.
# docker-compose.yml builds this once and picks the service with `command`.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY . .
# The API keys' volume (docker-compose.yml): created here so it belongs to the user the services run as.
RUN mkdir -p /keys && chown node:node /keys
USER node
# Listen on all interfaces inside the container (the defaults are 127.0.0.1).
ENV TXPIPE_INGEST_HOST=0.0.0.0 TXPIPE_PROCESSOR_HOST=0.0.0.0
EXPOSE 8080 9464
CMD ["node", "--max-semi-space-size=32", "--import", "tsx", "ingest-api/main.ts"]
