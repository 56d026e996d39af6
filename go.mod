module github.com/dcwp-go/dcwp

go 1.26.0

require (
	github.com/nlpodyssey/safetensors v0.0.0-20250209183917-bfb01cc25f7c
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/stretchr/testify v1.9.0 // indirect
	golang.org/x/image v0.48.0
)
