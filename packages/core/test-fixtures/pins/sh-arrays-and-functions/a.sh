args=(--rm "alpine:3.19")
setup() {
  docker pull debian:12
}
if true; then cargo build; fi
