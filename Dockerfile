# The wallet's API and worker image (same image, different command). Used by docker-compose.yml.
FROM node:20-bookworm-slim
WORKDIR /app
# openssl: docker-compose.yml's temporal-certs job makes the cluster's certificates with it.
RUN apt-get update && apt-get install -y --no-install-recommends openssl && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --no-save
COPY . .
ENV NODE_ENV=production HOST=0.0.0.0
USER node
CMD ["node", "--import", "tsx", "app/main.ts", "api"]
