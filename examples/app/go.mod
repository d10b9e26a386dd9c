module example.com/goaccel/orders

go 1.22

require (
	github.com/dustin/go-humanize v1.0.1
	github.com/google/uuid v1.6.0
	github.com/spf13/pflag v1.0.6
)
