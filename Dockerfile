# One multi-stage build for every program of the repository: the manager and the three shop
# services. `docker build --build-arg PROGRAM=backend -t littleecom/backend:0.1.0 .`
# The result is a static binary on an empty base, running as an unprivileged user.
ARG GO_IMAGE=golang:1.26
FROM ${GO_IMAGE} AS build
ARG PROGRAM=manager
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app ./cmd/${PROGRAM} \
 && mkdir -p /out/tmp && chmod 1777 /out/tmp

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/app /app
COPY --from=build /out/tmp /tmp
USER 65532:65532
ENTRYPOINT ["/app"]
