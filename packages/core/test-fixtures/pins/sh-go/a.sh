go install golang.org/x/tools/cmd/stringer@v0.20.0
go install honnef.co/go/tools/cmd/staticcheck@latest
go run example.com/tool@main
go build ./...
