# The vpsorg-emulator container image, built by goreleaser (dockers_v2 in
# .goreleaser.yml) from the static binary it has already built: no Go
# toolchain in here. distroless/static:nonroot is a few MB, has /tmp and CA
# certificates, no shell, and runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot

# dockers_v2 puts each platform's binaries under <os>/<arch>/.
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/vpsorg-emulator /usr/local/bin/vpsorg-emulator

USER 65532:65532
EXPOSE 8443

# A service container is reached by host name, so it serves https with a
# certificate for the usual service names; the CA is at
# /tmp/vpsorg-emulator-ca.pem and GET /_emulator/ca.pem. Override CMD to
# change names, tokens or faults; set VPSORG_EMULATOR_ADMIN_TOKEN to reach
# the control API from other containers.
ENTRYPOINT ["/usr/local/bin/vpsorg-emulator"]
CMD ["-listen", "0.0.0.0:8443", "-allow-remote", "-tls", "-tls-names", "localhost,127.0.0.1,vpsorg-emulator,emulator", "-tls-ca-file", "/tmp/vpsorg-emulator-ca.pem", "-address-file", "/tmp/vpsorg-emulator-address"]

# No curl in the image: the binary checks itself, through the address file
# it writes once listening.
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 \
  CMD ["/usr/local/bin/vpsorg-emulator", "health", "-address-file", "/tmp/vpsorg-emulator-address", "-ca-file", "/tmp/vpsorg-emulator-ca.pem"]
