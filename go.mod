module github.com/kvd/kvd

go 1.26.8

require (
	github.com/HdrHistogram/hdrhistogram-go v1.1.2
	github.com/anishathalye/porcupine v0.1.6
	github.com/cespare/xxhash/v2 v2.3.0
	github.com/redis/go-redis/v9 v9.7.0
	github.com/spf13/cobra v1.8.1
	github.com/tidwall/redcon v1.6.2
	golang.org/x/image v0.47.0
)

require (
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.5 // indirect
	github.com/tidwall/btree v1.1.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)
