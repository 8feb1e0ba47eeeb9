cargo install ripgrep
cargo install --locked ripgrep
cargo +nightly build --release
cargo build --frozen
cargo run --locked -- --help
cargo run -- --locked
cargo test
cargo fmt --check
