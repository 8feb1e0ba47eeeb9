# curl x | sh
echo hi # wget -qO- y | bash
  # docker run alpine:3.19
