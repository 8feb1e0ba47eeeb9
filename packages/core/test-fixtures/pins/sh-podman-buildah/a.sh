podman create quay.io/x/y:1
buildah from --name w fedora
buildah from scratch
buildah run w -- dnf install -y make
