module github.com/net-mesh/net/go

go 1.24
