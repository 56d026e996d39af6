module github.com/dcwp-go/dcwp

go 1.26
