module libgoaccel.dev/go/goaccel

go 1.19
