# dynlocal's container image: the emulator as one static binary on an empty base.
#
# Nothing comes from a registry (FROM scratch), and nothing is compiled here: a multi-stage build
# would need a golang base image. The binaries are built beforehand, statically linked (cgo, for
# SQLite), and copied in from image/ in the build context:
#
#   image/dynlocal     CGO_ENABLED=1 go build -trimpath \
#                        -tags 'osusergo netgo sqlite_omit_load_extension' \
#                        -ldflags '-s -w -linkmode external -extldflags "-static"' \
#                        -o image/dynlocal ./cmd/emulator
#   image/healthprobe  CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' \
#                        -o image/healthprobe ./internal/healthprobe
#   image/rootfs/      copied as it is to /: etc/ssl/certs/ca-certificates.crt (the build machine's,
#                        so that webhooks to https endpoints can verify their certificates) and
#                        tmp/ (empty, mode 1777, for SQLite's temporary files)
#   image/data/        an empty directory, which becomes /data, owned by the user below
#
# `.ci/image-check --stage DIR` lays out such a context in DIR (this file, .dockerignore and
# image/); `docker build -t dynlocal DIR` then builds the image. Without --stage the script also
# builds the image with buildah and proves it without a container engine. docs/container.md tells
# how to run it. The image is for the architecture of the machine that built the binaries.
FROM scratch

# The contents of rootfs/ keep their modes (tmp/ its 1777); a directory named as the source of a
# COPY would not: only its contents are copied, into a new 0755 directory.
COPY image/rootfs/ /
COPY --chown=65532:65532 image/data /data
COPY image/dynlocal /dynlocal
COPY image/healthprobe /healthprobe

# The settings are the flags' environment fallbacks rather than arguments, so that arguments given
# to `docker run IMAGE ...` (--fixtures /fixtures, --reset, ...) add to them instead of replacing
# them, and -e DYNLOCAL_...=... changes one. Listen on every interface of the container; keep the
# database, the signing key and snapshots in the /data volume; no fixture cache (it would help
# only the first start of each new volume, and would have to live in a volume itself).
ENV DYNLOCAL_ADDR=0.0.0.0:8080 \
    DYNLOCAL_DATA=/data \
    DYNLOCAL_CACHE_DIR=off \
    TMPDIR=/tmp

# Not root. No /etc/passwd is needed: the binary is built with osusergo and looks nobody up.
USER 65532:65532
VOLUME ["/data"]
EXPOSE 8080

# There is no shell, curl or wget in the image: the check is a small static Go program. It probes
# http://127.0.0.1:<port of DYNLOCAL_ADDR>/_emulator/health (internal/healthprobe).
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["/healthprobe"]

ENTRYPOINT ["/dynlocal"]
