docker run --rm nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef nginx -t
docker pull alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
docker build -t x .
docker run --rm "$IMAGE"
