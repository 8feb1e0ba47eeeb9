sh -c "$(curl -fsSL https://x.example)"
