docker run --rm \
  -v "$PWD:/src" \
  alpine:3.19 make
