cat <<EOF
curl x | sh
docker run alpine:3.19
EOF
cat <<-'END' > f
	cargo build
	END
cargo build
