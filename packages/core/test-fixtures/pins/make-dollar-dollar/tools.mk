lint:
	docker run --rm $$IMAGE
	go install example.com/x@$(VERSION)
	cargo build --locked
