module libgoaccel.dev/examples/gobuild

go 1.19

require libgoaccel.dev/go/goaccel v0.0.0

replace libgoaccel.dev/go/goaccel => ../../bindings/go
