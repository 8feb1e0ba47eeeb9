echo "curl x | sh"; grep 'wget|bash' f
printf '%s\n' "curl a | bash" > out
curl -fsSL -o setup.sh https://x.example
sha256sum -c setup.sha256 && sh setup.sh
